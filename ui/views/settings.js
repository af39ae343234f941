// The settings dialog: cloud, tenant and app for sign-in, quiet hours, start
// at login, when they will be free, how often to check, publishing to MQTT;
// the account and Sign out.

import * as ipc from '../ipc.js';
import * as M from '../model.js';
import { $, setText, show } from '../dom.js';
import { settingsLoaded, store } from '../store.js';
import { focusOnClose, openDialog } from './dialogs.js';

let settingsEdited = false;

/** Opens at once with what is known, then shows the saved settings as they are now. */
export async function openSettings(opener) {
  const dialog = $('settings-dialog');
  if (dialog.open) return;
  setText($('settings-error'), '');
  settingsEdited = false;
  fillSettings(store.state.settings);
  const { signIn } = store.state;
  const signedIn = signIn.state === 'signed_in';
  show($('account-section'), signedIn);
  if (signedIn) {
    const a = signIn.account ?? {};
    setText($('account-name'), a.displayName || a.username || 'Signed in');
    setText($('account-user'), a.displayName ? a.username ?? '' : '');
    setText($('account-detail'), [a.cloudName || a.cloud, a.tenant].filter(Boolean).join(' · '));
  }
  openDialog(dialog, opener, $('set-cloud'));
  try {
    const settings = await ipc.getSettings();
    store.update(settingsLoaded, settings);
    if (dialog.open && !settingsEdited) fillSettings(settings);
  } catch (err) {
    if (dialog.open) setText($('settings-error'), M.errorMessage(err));
  }
}

function fillSettings(s) {
  if (!s) return;
  $('set-cloud').value = s.cloud ?? 'global';
  $('set-tenant').value = s.tenant ?? '';
  $('set-client-id').value = s.clientId ?? '';
  $('set-quiet').checked = Boolean(s.quietHours?.enabled);
  $('set-quiet-start').value = s.quietHours?.start ?? '';
  $('set-quiet-end').value = s.quietHours?.end ?? '';
  $('set-autostart').checked = Boolean(s.autostart);
  $('set-calendar').checked = Boolean(s.calendar);
  $('set-interval').value = s.intervalSecs ?? '';
  $('set-mqtt-broker').value = s.mqtt?.broker ?? '';
  $('set-mqtt-user').value = s.mqtt?.username ?? '';
  // The password goes one way: typed here, kept in the keyring, never shown.
  $('set-mqtt-password').value = '';
  $('set-mqtt-password').placeholder = s.mqtt?.username ? 'kept in the keyring' : '';
  $('set-mqtt-prefix').value = s.mqtt?.topicPrefix ?? '';
  // While the config file lets the password go in the clear: said, in the
  // app's words.
  const warning = s.mqtt?.plaintextWarning ?? '';
  setText($('mqtt-plaintext-warning'), warning);
  show($('mqtt-plaintext-warning'), Boolean(warning));
  syncQuietFields();
  clearInvalid();
}

function syncQuietFields() {
  const on = $('set-quiet').checked;
  $('set-quiet-start').disabled = !on;
  $('set-quiet-end').disabled = !on;
}

/** The form as typed: the engine cleans and checks it, and says what is wrong. */
function readSettings() {
  return {
    cloud: $('set-cloud').value,
    tenant: $('set-tenant').value,
    clientId: $('set-client-id').value,
    quietHours: {
      enabled: $('set-quiet').checked,
      start: $('set-quiet-start').value,
      end: $('set-quiet-end').value,
    },
    autostart: $('set-autostart').checked,
    calendar: $('set-calendar').checked,
    intervalSecs: $('set-interval').value,
    mqtt: {
      broker: $('set-mqtt-broker').value,
      username: $('set-mqtt-user').value,
      password: $('set-mqtt-password').value,
      topicPrefix: $('set-mqtt-prefix').value,
    },
  };
}

function clearInvalid() {
  for (const input of $('settings-form').querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** The engine's words, and the field they are about (its `key`, the input's data-setting) marked and focused. */
function showSaveError(err) {
  setText($('settings-error'), M.errorMessage(err));
  const key = err?.key;
  if (!key) return;
  const input = [...$('settings-form').querySelectorAll('[data-setting]')].find((i) => i.getAttribute('data-setting') === key);
  if (!input) return;
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}

export function wireSettings() {
  $('settings-button').addEventListener('click', (e) => openSettings(e.currentTarget));
  $('set-quiet').addEventListener('change', syncQuietFields);
  $('settings-form').addEventListener('input', () => {
    settingsEdited = true;
  });
  $('settings-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    setText($('settings-error'), '');
    clearInvalid();
    const save = $('settings-save');
    save.disabled = true;
    try {
      store.update(settingsLoaded, await ipc.saveSettings(readSettings()));
      $('settings-dialog').close();
    } catch (err) {
      showSaveError(err);
    } finally {
      save.disabled = false;
    }
  });
  $('sign-out-button').addEventListener('click', async () => {
    setText($('settings-error'), '');
    try {
      await ipc.signOut();
      focusOnClose($('settings-dialog'), $('signin-button'));
      $('settings-dialog').close();
    } catch (err) {
      setText($('settings-error'), M.errorMessage(err));
    }
  });
}
