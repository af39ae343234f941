// Setting your own status and publishing to MQTT: the window's own menus
// (ui/model.js; what Save makes of the form is the engine's, tested in
// core's my_status.rs, and the settings go as typed, the engine cleans
// them), the state kept meanwhile (ui/store.js), and the window used as a
// person would (the real page and modules on a fake DOM, mock-tauri.js as
// the Rust side: harness.mjs).
//   node --test tests/ui/
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { FakeEvent } from './fake-dom.mjs';
import { openWindow } from './harness.mjs';
import { freshCopy } from './ui-modules.mjs';

const M = await import(freshCopy('model.js'));
const S = await import(freshCopy('store.js'));

// ------------------------------------------------------------------ durations

test('the duration options: the default first, then durations as the engine reads them', () => {
  // my_status::parse_duration's words, or "today" (until midnight, worked out by the engine).
  const engine = /^(\d+)([mhd])$/;
  for (const [list, first] of [
    [M.STATUS_DURATIONS, 'Microsoft’s default'],
    [M.MESSAGE_DURATIONS, 'Until I change it'],
  ]) {
    assert.deepEqual(list[0], { value: '', label: first });
    for (const { value, label } of list.slice(1)) {
      if (value === 'today') continue;
      const [, n, unit] = value.match(engine) ?? assert.fail(`${label}: ${value}`);
      // At most 7 days, as the engine allows.
      assert.ok(Number(n) * { m: 1, h: 60, d: 1440 }[unit] <= 7 * 1440, label);
    }
    assert.ok(list.some((o) => o.value === 'today' && o.label === 'Today'));
    assert.equal(new Set(list.map((o) => o.label)).size, list.length, 'no label twice');
  }
  assert.deepEqual(
    M.STATUS_DURATIONS.map((o) => o.label),
    ['Microsoft’s default', '30 minutes', '1 hour', '2 hours', '4 hours', 'Today', '1 day', '7 days'],
  );
  assert.deepEqual(M.MESSAGE_DURATIONS.map((o) => o.label), ['Until I change it', '1 hour', '4 hours', 'Today', '1 day', '7 days']);
});

test('a change waiting for the permission waits for its sign-in, then goes on or is given up', () => {
  assert.equal(M.consentNext(null, 'signed_in'), null);
  const seen = { rest: [], seen: true };
  assert.equal(M.consentNext(seen, 'in_browser'), 'wait');
  assert.equal(M.consentNext(seen, 'signed_in'), 'send');
  for (const state of ['declined', 'browser_failed', 'signed_out', 'error', 'consent_required']) assert.equal(M.consentNext(seen, state), 'drop', state);
  // The answer came before the sign-in was seen under way: still signed in is not "through".
  assert.equal(M.consentNext({ rest: [], seen: false }, 'signed_in'), 'wait');
});

// ------------------------------------------------------------------ the store

const signedIn = { state: 'signed_in', message: null, account: null, code: null, browserUrl: null };
const inBrowser = { ...signedIn, state: 'in_browser', browserUrl: 'https://login.example/x' };

test('get_state says which statuses you may set, and whether you may here, and if not why', () => {
  const choices = [{ word: 'busy', label: 'Busy' }, { word: 'reset', label: 'Reset status' }];
  const s = S.stateLoaded(S.initialState(), { signIn: signedIn, statusChoices: choices, canSetStatus: true }, 0);
  assert.deepEqual(s.statusChoices, choices);
  assert.equal(s.canSetStatus, true);
  assert.equal(s.cannotSetStatus, null);
  const china = S.stateLoaded(S.initialState(), { signIn: signedIn, statusChoices: choices, canSetStatus: false, cannotSetStatus: 'Not here.' }, 0);
  assert.equal(china.canSetStatus, false);
  assert.equal(china.cannotSetStatus, 'Not here.');
  // An app that does not say offers nothing.
  const old = S.stateLoaded(S.initialState(), { signIn: signedIn }, 0);
  assert.deepEqual(old.statusChoices, []);
  assert.equal(old.canSetStatus, false);
});

test('a change waiting for the permission is kept, with what is left to send, until its sign-in ends', () => {
  const rest = [{ kind: 'message', text: 'Lunch', duration: '1h' }];
  const before = Object.freeze(S.stateLoaded(S.initialState(), { signIn: signedIn }, 0));
  // The answer came before the sign-in-changed event.
  const early = S.myStatusConsentBegun(before, { state: 'consent', url: 'https://login.example/x', opened: false }, rest);
  assert.deepEqual(early.myStatusConsent, { url: 'https://login.example/x', opened: false, rest, seen: false });
  assert.equal(before.myStatusConsent, null, 'the old state is left alone');
  const seen = S.myStatusConsentSeen(Object.freeze(early));
  assert.equal(seen.myStatusConsent.seen, true);
  assert.equal(S.myStatusConsentSeen(seen), seen, 'seen once is enough');
  assert.equal(S.myStatusConsentSeen(before), before, 'nothing waiting');
  // The event came first.
  const late = S.myStatusConsentBegun({ ...before, signIn: inBrowser }, { state: 'consent', url: 'u', opened: true }, []);
  assert.equal(late.myStatusConsent.seen, true);
  assert.equal(late.myStatusConsent.opened, true);
  // A reload after the sign-in keeps it: the window sends the rest then.
  assert.deepEqual(S.stateLoaded(seen, { signIn: signedIn }, 1).myStatusConsent, seen.myStatusConsent);
  assert.equal(S.myStatusConsentEnded(seen).myStatusConsent, null);
});

// ------------------------------------------------------------------ the window

let w = null;
const open = async (query) => (w = await openWindow(query));
const form = (typed = {}) => ({ choice: '', duration: '', message: '', messageDuration: '', ...typed });
afterEach(() => w?.close());

const calls = (cmd) => w.mock.calls.filter(([c]) => c === cmd).map(([, args]) => args);
const choose = (id, value) => {
  const select = w.$(id);
  assert.ok([...select.querySelectorAll('option')].some((o) => o.getAttribute('value') === value), `${id} offers ${value}`);
  select.value = value;
  select.dispatchEvent(new FakeEvent('change', { bubbles: true }));
};
const type = (id, text) => {
  w.$(id).value = text;
  w.$(id).dispatchEvent(new FakeEvent('input', { bubbles: true }));
};
const options = (id) => w.$(id).querySelectorAll('option').map((o) => o.textContent);
const dialogOpen = () => w.$('my-status-dialog').open;

async function openDialog(query = '') {
  await open(query);
  w.press('me-status-button');
  assert.ok(dialogOpen(), 'Set your status opens');
}

test('your status in the header opens "Set your status", filled in with your status as it is', async () => {
  await open('');
  const button = w.$('me-status-button');
  assert.equal(w.text('me-status-words'), 'Available');
  assert.equal(button.getAttribute('aria-label'), 'Available, set your status');
  assert.ok(button.getAttribute('aria-label').startsWith(w.text('me-status-words')), 'its name starts with what it shows (WCAG 2.5.3)');
  assert.equal(button.getAttribute('aria-haspopup'), 'dialog');
  assert.match(w.text('me-status'), /^Available · debra@contoso\.onmicrosoft\.com$/);
  assert.match(w.$('me-status').title, /Working from Lisbon this week/);
  w.press('me-status-button');
  assert.ok(dialogOpen());
  assert.equal(w.focused(), 'my-status-choice', 'focus starts on the status');
  assert.deepEqual(options('my-status-choice'), [
    'No change (Available)',
    'Available',
    'Busy',
    'Do not disturb',
    'Be right back',
    'Appear away',
    'Appear offline',
    'Reset status',
  ]);
  assert.equal(w.$('my-status-choice').value, '');
  assert.deepEqual(options('my-status-duration'), M.STATUS_DURATIONS.map((o) => o.label));
  assert.deepEqual(options('my-message-duration'), M.MESSAGE_DURATIONS.map((o) => o.label));
  assert.equal(w.$('my-message').value, 'Working from Lisbon this week');
  assert.equal(w.$('my-message').getAttribute('maxlength'), '280');
  // How long only means something for a status that is set.
  assert.equal(w.$('my-status-duration').disabled, true);
  choose('my-status-choice', 'busy');
  assert.equal(w.$('my-status-duration').disabled, false);
  assert.match(w.text('my-status-duration-hint'), /a day for Busy and Do not disturb, 7 days for the others/);
  choose('my-status-choice', 'reset');
  assert.equal(w.$('my-status-duration').disabled, true);
  assert.match(w.text('my-status-duration-hint'), /Teams works out your status/);
  // Nothing is sent on Cancel, and focus goes back to your status.
  w.press('my-status-cancel');
  assert.equal(dialogOpen(), false);
  assert.equal(w.focused(), 'me-status-button');
  await w.settle(100);
  assert.deepEqual(w.invoked().filter((c) => /my_(status|message)/.test(c)), []);
});

test('Save sets the status for as long as chosen, and the header shows it', async () => {
  await openDialog();
  choose('my-status-choice', 'busy');
  choose('my-status-duration', '1h');
  w.press('my-status-save');
  await w.until(() => !dialogOpen(), 'the dialog to close');
  assert.deepEqual(calls('save_my_status'), [{ form: form({ choice: 'busy', duration: '1h', message: 'Working from Lisbon this week' }) }], 'the form as typed');
  assert.deepEqual(calls('set_my_message'), [], 'nothing else');
  await w.until(() => w.text('me-status-words') === 'Busy', 'your new status in the header');
  assert.match(w.$('me-status').title, /Working from Lisbon this week/, 'the message as it was');
  assert.equal(w.focused(), 'me-status-button');
});

test('a new message, with when it clears; Clear message clears it', async () => {
  await openDialog();
  type('my-message', 'Back at 3');
  choose('my-message-duration', '4h');
  w.press('my-status-save');
  await w.until(() => !dialogOpen(), 'the dialog to close');
  assert.deepEqual(calls('save_my_status'), [{ form: form({ message: 'Back at 3', messageDuration: '4h' }) }]);
  await w.until(() => /Back at 3/.test(w.$('me-status').title), 'the new message');
  assert.equal(w.text('me-status-words'), 'Available', 'the status as it was');

  w.press('me-status-button');
  assert.equal(w.$('my-message').value, 'Back at 3', 'filled in with the message as it is now');
  w.press('my-message-clear');
  assert.equal(w.$('my-message').value, '');
  assert.equal(w.focused(), 'my-message');
  assert.equal(w.$('my-message-clear').disabled, true);
  assert.equal(w.$('my-message-duration').disabled, true, 'no message, nothing to clear later');
  w.press('my-status-save');
  await w.until(() => !dialogOpen(), 'the dialog to close');
  assert.deepEqual(calls('save_my_status').at(-1), { form: form() });
  await w.until(() => !/Back at 3/.test(w.$('me-status').title), 'the message gone');
});

test('both at once, in one Save; Save with nothing changed just closes', async () => {
  await openDialog();
  w.press('my-status-save');
  await w.until(() => !dialogOpen(), 'Save with nothing changed to just close');
  assert.equal(w.text('me-status-words'), 'Available');
  w.press('me-status-button');
  choose('my-status-choice', 'dnd');
  type('my-message', 'Focusing on the report');
  w.press('my-status-save');
  await w.until(() => !dialogOpen(), 'the dialog to close');
  assert.deepEqual(calls('save_my_status').at(-1), { form: form({ choice: 'dnd', message: 'Focusing on the report' }) });
  await w.until(() => w.text('me-status-words') === 'Do not disturb' && /Focusing on the report/.test(w.$('me-status').title), 'both in the header');
});

test('what the engine refuses is said in the dialog, which stays open', async () => {
  await openDialog('fail=save_my_status');
  choose('my-status-choice', 'away');
  type('my-message', 'Lunch');
  w.press('my-status-save');
  await w.until(() => w.text('my-status-error') !== '', 'the error');
  assert.match(w.text('my-status-error'), /could not connect/);
  assert.ok(dialogOpen());
  assert.equal(w.$('my-status-save').disabled, false, 'Save can be tried again');
  assert.equal(w.$('my-message').hasAttribute('aria-invalid'), false, 'not about the message');
  assert.notEqual(w.focused(), 'my-message');
  w.press('my-status-cancel');
  // A message too long for Microsoft: the engine's words, the field pointed at.
  w.close();
  await openDialog('');
  type('my-message', 'x'.repeat(300));
  w.press('my-status-save');
  await w.until(() => w.text('my-status-error') !== '', 'the refusal');
  assert.equal(w.text('my-status-error'), 'A status message is at most 280 characters: this one has 300.');
  assert.equal(calls('save_my_status')[0].form.message, 'x'.repeat(300), 'sent as typed');
  assert.ok(dialogOpen());
  assert.equal(w.$('my-message').getAttribute('aria-invalid'), 'true');
  assert.equal(w.focused(), 'my-message');
  // Opened again, it starts afresh.
  w.press('my-status-cancel');
  w.press('me-status-button');
  assert.equal(w.text('my-status-error'), '');
  assert.equal(w.$('my-message').hasAttribute('aria-invalid'), false);
});

test('the first time: allow it in the browser, and the change is made once through, the message after it', async () => {
  await openDialog('mystatus=consent');
  choose('my-status-choice', 'busy');
  choose('my-status-duration', '2h');
  type('my-message', 'In a workshop');
  w.press('my-status-save');
  await w.until(() => w.shown('my-status-consent-body'), 'the consent note');
  assert.equal(w.text('my-status-consent-text'), 'Allow Presently to set your status in the browser that opened; your status is set once you have.');
  assert.ok(!w.shown('my-status-fields'), 'the form makes way for it');
  assert.ok(!w.shown('my-status-save'));
  assert.equal(w.text('my-status-cancel'), 'Close');
  assert.ok(!w.shown('my-status-url-box'), 'a browser has the address');
  assert.equal(w.focused(), 'my-status-cancel');
  assert.deepEqual(calls('save_my_status'), [{ form: form({ choice: 'busy', duration: '2h', message: 'In a workshop' }) }]);
  assert.deepEqual(calls('set_my_message'), [], 'the message waits: another call now would start another sign-in');
  // Behind the dialog, the sign-in in the browser as for any other.
  assert.ok(w.shown('signin-browser'));

  w.mock.approve();
  await w.until(() => !dialogOpen(), 'the dialog to close once through');
  assert.ok(w.shown('roster-screen'));
  assert.deepEqual(calls('set_my_message'), [{ text: 'In a workshop', duration: null }]);
  await w.until(() => w.text('me-status-words') === 'Busy' && /In a workshop/.test(w.$('me-status').title), 'your new status and message');
  assert.equal(w.focused(), 'me-status-button');
  // Allowed once, it is done at once from then on.
  w.press('me-status-button');
  choose('my-status-choice', 'available');
  w.press('my-status-save');
  await w.until(() => !dialogOpen(), 'the dialog to close');
  assert.ok(w.shown('roster-screen'));
});

test('without a browser the dialog shows the address to open, as text, with Copy', async () => {
  await openDialog('mystatus=consent&browser=none');
  type('my-message', 'Lunch');
  w.press('my-status-save');
  await w.until(() => w.shown('my-status-url-box'), 'the address');
  assert.match(w.text('my-status-consent-text'), /could not open a browser/);
  const url = w.text('my-status-url');
  assert.match(url, /^https:\/\/login\.microsoftonline\.com\/.*Presence\.ReadWrite$/);
  assert.equal(w.focused(), 'copy-my-status-url');
  w.press('copy-my-status-url');
  await w.until(() => w.text('copy-my-status-url-label') === 'Copied', 'the copy');
  assert.deepEqual(w.clipboard, [url]);
  // The sign-in screen behind knows too: its address is the way in.
  w.press('my-status-cancel');
  assert.ok(w.shown('browser-url-box'));
  assert.equal(w.text('browser-url'), url);
  // Closed meanwhile, the change still waits for the sign-in.
  w.mock.approve();
  await w.until(() => /Lunch/.test(w.$('me-status').title), 'the message, set once through');
});

test('a sign-in that does not go through gives the change up, and the sign-in screen says why', async () => {
  await openDialog('mystatus=consent');
  choose('my-status-choice', 'brb');
  type('my-message', 'Back soon');
  w.press('my-status-save');
  await w.until(() => w.shown('my-status-consent-body'), 'the consent note');
  w.mock.decline();
  await w.until(() => !dialogOpen(), 'the dialog to close');
  assert.ok(w.shown('signin-notice'));
  assert.match(w.text('signin-notice'), /declined/);
  w.mock.approve();
  await w.settle(150);
  assert.deepEqual(calls('set_my_message'), [], 'given up');
  assert.equal(w.text('me-status-words'), 'Available');
});

test('where Microsoft does not let you set your status, your status is only words', async () => {
  await open('cloud=china');
  assert.ok(!w.shown('me-status-button'));
  assert.equal(w.text('me-status-plain'), 'Available');
  assert.match(w.text('me-status'), /^Available · debra@/);
  // Why, in the engine's words.
  assert.match(w.$('me-status').title, /\nSetting your own status is not available in the China \(21Vianet\) cloud: Microsoft Graph does not offer it there\. Set it in Teams instead\.$/);
});

// ------------------------------------------------------------------ settings: MQTT

async function openSettings(query) {
  await open(query);
  w.press('settings-button');
  await w.until(() => w.invoked().includes('get_settings'), 'the settings');
  await w.settle(100);
}

test('Publish to MQTT shows what is saved, never the password', async () => {
  await openSettings('mqtt=on');
  assert.equal(w.text('mqtt-settings-title'), 'Publish to MQTT');
  assert.equal(w.$('set-mqtt-broker').value, 'mqtt://homeassistant.local:1883');
  assert.equal(w.$('set-mqtt-broker').placeholder, 'mqtt://127.0.0.1:1883');
  assert.equal(w.$('set-mqtt-user').value, 'debra');
  assert.equal(w.$('set-mqtt-password').value, '');
  assert.equal(w.$('set-mqtt-password').type, 'password');
  assert.equal(w.$('set-mqtt-password').placeholder, 'kept in the keyring');
  assert.equal(w.$('set-mqtt-prefix').value, 'presently');
  assert.match(w.text('mqtt-hint'), /retained, to presently\/<tenant>\/…, with Home Assistant discovery of your own presence/);
  assert.equal(w.$('mqtt-plaintext-warning').hidden, true, 'nothing to warn of');
  // Saved without a new password: the one kept stays, and none is sent.
  w.press('settings-save');
  await w.until(() => !w.$('settings-dialog').open, 'the dialog to close');
  const sent = calls('save_settings')[0].settings.mqtt;
  assert.deepEqual(sent, { broker: 'mqtt://homeassistant.local:1883', username: 'debra', password: '', topicPrefix: 'presently' });
  assert.equal(w.mock.mqttPassword(), 'secret');
});

test('a password the config file lets go in the clear is warned of, in the app\'s words', async () => {
  await openSettings('mqtt=plain');
  const warning = w.$('mqtt-plaintext-warning');
  assert.equal(warning.hidden, false);
  assert.match(w.text('mqtt-plaintext-warning'), /^Your MQTT password goes to homeassistant\.local in the clear/);
});

test('a broker that is not mqtt:// or mqtts:// is refused by the engine, the field pointed at; a new password is sent once', async () => {
  await openSettings('');
  assert.equal(w.$('set-mqtt-broker').value, '', 'off');
  assert.equal(w.$('set-mqtt-password').placeholder, '', 'no password kept');
  type('set-mqtt-broker', ' broker.lan:1883 ');
  w.press('settings-save');
  await w.until(() => w.text('settings-error') !== '', 'the error');
  assert.equal(w.text('settings-error'), 'The broker’s address starts with mqtt:// or mqtts://, like mqtt://127.0.0.1:1883.');
  assert.equal(w.$('set-mqtt-broker').getAttribute('aria-invalid'), 'true');
  assert.equal(w.focused(), 'set-mqtt-broker');
  assert.ok(w.$('settings-dialog').open);
  // Sent as typed, and nothing saved.
  assert.equal(calls('save_settings')[0].settings.mqtt.broker, ' broker.lan:1883 ');
  assert.equal(w.mock.mqttPassword(), null);

  type('set-mqtt-broker', 'mqtts://broker.lan:8883');
  type('set-mqtt-user', 'debra');
  type('set-mqtt-password', 'hunter2');
  w.press('settings-save');
  await w.until(() => !w.$('settings-dialog').open, 'the dialog to close');
  assert.deepEqual(calls('save_settings')[1].settings.mqtt, { broker: 'mqtts://broker.lan:8883', username: 'debra', password: 'hunter2', topicPrefix: '' });
  assert.equal(w.mock.mqttPassword(), 'hunter2');

  // Opened again: the engine's topic prefix, the password kept and not shown.
  w.press('settings-button');
  await w.settle(150);
  assert.equal(w.$('set-mqtt-prefix').value, 'presently');
  assert.equal(w.$('set-mqtt-password').value, '');
  assert.equal(w.$('set-mqtt-password').placeholder, 'kept in the keyring');
  assert.equal(w.$('set-mqtt-broker').hasAttribute('aria-invalid'), false);
  // An empty broker turns publishing off.
  type('set-mqtt-broker', '');
  w.press('settings-save');
  await w.until(() => !w.$('settings-dialog').open, 'the dialog to close');
  assert.deepEqual(calls('save_settings')[2].settings.mqtt, { broker: '', username: 'debra', password: '', topicPrefix: 'presently' });
  await w.until(() => w.mock.mqttPassword() === 'hunter2', 'the password kept');
  w.press('settings-button');
  await w.settle(150);
  assert.equal(w.$('set-mqtt-user').value, '', 'publishing off');
});

test('the settings go as typed; the engine says what is wrong and which field, each time afresh', async () => {
  await openSettings('');
  type('set-tenant', ' contoso.com ');
  type('set-interval', '2');
  w.press('settings-save');
  await w.until(() => w.text('settings-error') !== '', 'the error');
  const sent = calls('save_settings')[0].settings;
  assert.equal(sent.intervalSecs, '2');
  assert.equal(sent.tenant, ' contoso.com ');
  assert.deepEqual(sent.quietHours, { enabled: true, start: '18:00', end: '08:00' });
  assert.equal(w.text('settings-error'), 'Check presence every 5 seconds or more (a whole number).');
  assert.equal(w.$('set-interval').getAttribute('aria-invalid'), 'true');
  assert.equal(w.focused(), 'set-interval');

  type('set-interval', '60');
  type('set-quiet-end', '');
  w.press('settings-save');
  await w.until(() => w.$('set-quiet-end').getAttribute('aria-invalid') === 'true', 'the end of quiet hours pointed at');
  assert.equal(w.text('settings-error'), 'Enter the end of quiet hours as HH:MM.');
  assert.equal(w.$('set-interval').hasAttribute('aria-invalid'), false, 'only the field refused now');
  assert.equal(w.focused(), 'set-quiet-end');

  // A refusal about no one field points at none.
  type('set-quiet-end', '08:00');
  type('set-client-id', 'not-a-guid');
  w.press('settings-save');
  await w.until(() => /client ID/.test(w.text('settings-error')), 'the client ID refused');
  assert.equal(w.$('settings-form').querySelectorAll('[aria-invalid]').length, 0);

  type('set-client-id', '14d82eec-204b-4c2f-b7e8-296a70dab67e');
  w.press('settings-save');
  await w.until(() => !w.$('settings-dialog').open, 'the dialog to close');
  w.press('settings-button');
  await w.settle(150);
  assert.equal(w.$('set-tenant').value, 'contoso.com', 'as the engine saved it');
  assert.equal(w.$('set-interval').value, '60');
});

test('what save_settings refuses about MQTT is said as the other errors are', async () => {
  await openSettings('');
  type('set-mqtt-broker', 'mqtt://broker.lan:1883/x/y');
  w.press('settings-save');
  await w.until(() => w.text('settings-error') !== '', 'the error');
  assert.match(w.text('settings-error'), /The MQTT broker must be/);
  assert.ok(w.$('settings-dialog').open);
});
