// "Set your status": your presence and how long it lasts, your status
// message and when it clears, opened from your status in the header. Save
// sends the form as typed; the engine makes only what changed. The first
// time, Microsoft asks in the browser for the permission to set it: the
// dialog says so and waits for that sign-in, which makes the change once
// through, and then sends what the engine left to make after it.

import * as ipc from '../ipc.js';
import * as M from '../model.js';
import { $, el, setText, show } from '../dom.js';
import { browserOpened, myStatusConsentBegun, myStatusConsentEnded, myStatusConsentSeen, store } from '../store.js';
import { openDialog } from './dialogs.js';
import { copyText, showCopied } from './signin.js';

// Set by wireMyStatus: the whole window's render.
let renderAll = () => {};

const STATUS_HINTS = {
  default: 'Microsoft’s default is a day for Busy and Do not disturb, 7 days for the others.',
  reset: 'Teams works out your status from your activity again.',
  none: 'Pick a status to set it for a while.',
};

function fillOptions(select, options, value) {
  select.replaceChildren(...options.map((o) => el('option', { value: o.value, text: o.label })));
  select.value = value;
}

/** Opens with your status and message as they are now; nothing is changed until Save. */
function openMyStatus(opener) {
  const dialog = $('my-status-dialog');
  if (dialog.open) return;
  const { me, statusChoices } = store.state;
  const keep = { value: '', label: me?.statusText ? `No change (${me.statusText})` : 'No change' };
  fillOptions($('my-status-choice'), [keep, ...statusChoices.map((c) => ({ value: c.word, label: c.label }))], '');
  fillOptions($('my-status-duration'), M.STATUS_DURATIONS, '');
  $('my-message').value = me?.statusMessage ?? '';
  $('my-message').removeAttribute('aria-invalid');
  fillOptions($('my-message-duration'), M.MESSAGE_DURATIONS, '');
  setText($('my-status-error'), '');
  syncFields();
  renderConsent();
  openDialog(dialog, opener, store.state.myStatusConsent ? null : $('my-status-choice'));
}

/** The durations only where they mean something. */
function syncFields() {
  const choice = $('my-status-choice').value;
  const lasts = Boolean(choice) && choice !== M.RESET_STATUS;
  $('my-status-duration').disabled = !lasts;
  setText($('my-status-duration-hint'), lasts ? STATUS_HINTS.default : choice ? STATUS_HINTS.reset : STATUS_HINTS.none);
  $('my-message-duration').disabled = !$('my-message').value.trim();
  $('my-message-clear').disabled = !$('my-message').value;
}

/** The form while nothing waits; what to do in the browser while a change waits for the permission there. */
function renderConsent() {
  const consent = store.state.myStatusConsent;
  const waiting = Boolean(consent);
  show($('my-status-fields'), !waiting);
  show($('my-status-consent-body'), waiting);
  // Without a browser the address is the way in, as on the sign-in screen.
  const manual = waiting && !consent.opened && Boolean(consent.url);
  setText(
    $('my-status-consent-text'),
    manual
      ? 'Presently could not open a browser. Open this address in your browser and allow Presently to set your status there; your status is set once you have.'
      : 'Allow Presently to set your status in the browser that opened; your status is set once you have.',
  );
  setText($('my-status-url'), manual ? consent.url : '');
  show($('my-status-url-box'), manual);
  show($('my-status-save'), !waiting);
  setText($('my-status-cancel'), waiting ? 'Close' : 'Cancel');
}

function readForm() {
  return {
    choice: $('my-status-choice').value,
    duration: $('my-status-duration').value,
    message: $('my-message').value,
    messageDuration: $('my-message-duration').value,
  };
}

/** True when the engine made all it was asked; false when a change waits for the permission, `rest` (what comes after it) with it. */
function answered(answer, rest) {
  if (answer?.state !== 'consent') return true;
  // The rest would start another sign-in: it waits for this one.
  store.update(myStatusConsentBegun, answer, rest);
  store.update(browserOpened, answer);
  renderAll();
  return false;
}

/** Sends what the engine left to make, in order; true when all were made, false when one waits for the permission (or failed, said in `errorNode`). */
async function send(calls, errorNode) {
  for (const [i, call] of calls.entries()) {
    let answer;
    try {
      answer = call.kind === 'status' ? await ipc.setMyStatus(call.choice, call.duration) : await ipc.setMyMessage(call.text, call.duration);
    } catch (err) {
      setText(errorNode, M.errorMessage(err));
      return false;
    }
    if (!answered(answer, calls.slice(i + 1))) return false;
  }
  return true;
}

/** The engine's refusal; the message marked and focused when it is about the message. */
function refused(err) {
  setText($('my-status-error'), M.errorMessage(err));
  if (err?.key !== 'message') return;
  $('my-message').setAttribute('aria-invalid', 'true');
  $('my-message').focus();
}

async function save() {
  const dialog = $('my-status-dialog');
  setText($('my-status-error'), '');
  $('my-message').removeAttribute('aria-invalid');
  const button = $('my-status-save');
  button.disabled = true;
  try {
    const answer = await ipc.saveMyStatus(readForm());
    if (answered(answer, answer?.rest ?? [])) dialog.close();
  } catch (err) {
    refused(err);
  } finally {
    button.disabled = false;
  }
  if (dialog.open && store.state.myStatusConsent) {
    renderConsent();
    (store.state.myStatusConsent.opened ? $('my-status-cancel') : $('copy-my-status-url')).focus();
  }
}

/**
 * After each render: a change that waited for the permission goes on once
 * signed in (with what was left to send), and is given up when that
 * sign-in ended otherwise (the sign-in screen says why).
 */
export function syncMyStatus() {
  if (store.state.signIn.state === 'in_browser') store.update(myStatusConsentSeen);
  const next = M.consentNext(store.state.myStatusConsent, store.state.signIn.state);
  if (next == null || next === 'wait') return;
  const { rest } = store.state.myStatusConsent;
  store.update(myStatusConsentEnded);
  const dialog = $('my-status-dialog');
  if (next === 'drop' || rest.length === 0) {
    dialog.close();
    return;
  }
  // The dialog may have been closed meanwhile: then a failure shows on the roster.
  const errorNode = dialog.open ? $('my-status-error') : $('roster-error');
  if (dialog.open) renderConsent();
  $('my-status-save').disabled = true;
  send(rest, errorNode).then((done) => {
    $('my-status-save').disabled = false;
    if (done) dialog.close();
    else if (dialog.open) renderConsent();
  });
}

async function copyUrl() {
  const url = store.state.myStatusConsent?.url;
  if (!url) return;
  if (await copyText(url, $('my-status-url'))) {
    showCopied($('copy-my-status-url'), $('copy-my-status-url-label'), $('copy-my-status-url-status'), 'Copy address', 'Address copied.');
  } else setText($('my-status-error'), 'Could not copy the address by itself. It is selected: press Ctrl+C to copy it.');
}

/** `render` draws the whole window. */
export function wireMyStatus({ render }) {
  renderAll = render;
  $('me-status-button').addEventListener('click', (e) => openMyStatus(e.currentTarget));
  $('my-status-choice').addEventListener('change', syncFields);
  $('my-message').addEventListener('input', syncFields);
  $('my-message-clear').addEventListener('click', () => {
    $('my-message').value = '';
    syncFields();
    $('my-message').focus();
  });
  $('copy-my-status-url').addEventListener('click', copyUrl);
  $('my-status-form').addEventListener('submit', (e) => {
    e.preventDefault();
    save();
  });
}
