// The sign-in screen as a person uses it: the real page and main.js on a
// fake DOM (fake-dom.mjs), the preview's fake Tauri API (mock-tauri.js) as
// the Rust side. See harness.mjs.
//   node --test tests/ui/
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { openWindow } from './harness.mjs';

const EVIL_URL = 'https://login.example/authorize?x="><img src=x onerror=alert(1)>';

let w = null;
const open = async (query) => (w = await openWindow(query));
afterEach(() => w?.close());

/** The panel of the sign-in screen that is shown. */
function panel() {
  const shown = ['signin-start', 'signin-code', 'signin-browser'].filter((id) => w.shown(id));
  assert.equal(shown.length, 1, `one sign-in panel at a time: ${shown}`);
  return shown[0];
}

const count = (cmd) => w.invoked().filter((c) => c === cmd).length;

test('Sign in starts the sign-in in the browser and waits for it', async () => {
  await open('s=signin');
  assert.match(w.text('signin-hint'), /sign-in page opens in your browser/);
  assert.match(w.text('signin-hint'), /Work or school accounts only/);
  let url = null;
  w.afterEvent((name, payload) => {
    if (name === 'sign-in-changed' && payload.state === 'in_browser') url = payload.browserUrl;
  });

  w.press('signin-button');
  // At once, before the app answers.
  assert.equal(panel(), 'signin-browser');
  assert.equal(w.text('browser-title'), 'Continue in your browser');
  assert.equal(w.text('browser-waiting-text'), 'Opening Microsoft’s sign-in page…');
  assert.equal(w.$('reopen-browser').disabled, true);

  await w.until(() => w.focused() === 'reopen-browser', 'focus on Open the page again');
  assert.deepEqual(w.invoked(), ['get_state', 'start_browser_sign_in']);
  assert.equal(w.text('browser-waiting-text'), 'Waiting for you to finish signing in in the browser…');
  assert.match(w.text('browser-lead'), /opens in your browser/);
  // The browser has the address: it is there to see, not in the way.
  assert.equal(w.shown('browser-url-box'), false);
  w.press('show-browser-url');
  assert.equal(w.shown('browser-url-box'), true);
  assert.equal(w.$('show-browser-url').getAttribute('aria-expanded'), 'true');
  assert.ok(url?.startsWith('https://login.microsoftonline.com/'), url);
  assert.equal(w.$('browser-url').textContent, url);

  w.press('reopen-browser');
  await w.until(() => count('open_verification_page') === 1, 'open_verification_page');
  await w.settle(100);
  assert.equal(w.text('signin-error'), '');

  w.mock.approve();
  await w.until(() => w.shown('roster-screen'), 'the roster once signed in');
});

test('without a browser the window shows the address to copy', async () => {
  await open('s=signin&browser=none');
  w.press('signin-button');
  await w.until(() => w.shown('browser-url-box'), 'the address');
  assert.match(w.text('browser-lead'), /could not open a browser/);
  assert.equal(w.shown('show-browser-url'), false, 'no toggle: the address is the way in');
  assert.equal(w.focused(), 'copy-browser-url');
  const url = w.$('browser-url').textContent;
  assert.ok(url.startsWith('https://login.microsoftonline.com/'), url);

  w.press('copy-browser-url');
  await w.until(() => w.text('copy-url-label') === 'Copied', 'Copied');
  assert.deepEqual(w.clipboard, [url]);
  assert.equal(w.text('copy-url-status'), 'Address copied.');
});

test('Use a code instead gets a code, and the code screen works as before', async () => {
  await open('s=signin');
  w.press('signin-code-button');
  assert.equal(panel(), 'signin-code');
  await w.until(() => w.text('user-code') === 'HX7QK2LM', 'the code');
  assert.deepEqual(w.invoked(), ['get_state', 'start_sign_in']);
  await w.until(() => w.focused() === 'copy-code', 'focus on Copy');
  assert.match(w.text('code-countdown'), /^Code expires in 14:/);
  assert.equal(w.text('verification-uri'), 'https://microsoft.com/devicelogin');

  w.press('copy-code');
  await w.until(() => w.text('copy-label') === 'Copied', 'Copied');
  assert.deepEqual(w.clipboard, ['HX7QK2LM']);

  w.press('open-page');
  await w.until(() => count('open_verification_page') === 1, 'open_verification_page');

  w.press('cancel-sign-in');
  await w.until(() => w.shown('signin-start'), 'the start again');
  assert.equal(count('cancel_sign_in'), 1);
  assert.equal(w.focused(), 'signin-button');
  assert.equal(w.text('signin-button'), 'Sign in');
});

test('from the browser panel a code instead, straight to the code', async () => {
  // A browser sign-in under way when the window opens.
  await open('s=browser');
  assert.equal(panel(), 'signin-browser');
  assert.ok(w.$('browser-url').textContent.startsWith('https://login.microsoftonline.com/'));
  // Whether a browser opened is not known here: the address waits behind the toggle.
  assert.equal(w.shown('show-browser-url'), true);

  // The engine ends the browser sign-in before it starts the code and says
  // so: the start panel must not flash up in between.
  const seen = [];
  w.afterEvent((name, payload) => {
    if (name === 'sign-in-changed') seen.push([payload.state, panel()]);
  });
  w.press('browser-use-code');
  assert.equal(panel(), 'signin-code');
  await w.until(() => seen.length === 2, 'the code under way');
  assert.equal(w.text('user-code'), 'HX7QK2LM');
  assert.deepEqual(seen, [
    ['signed_out', 'signin-code'],
    ['signing_in', 'signin-code'],
  ]);
  assert.equal(count('start_sign_in'), 1);
  assert.equal(count('start_browser_sign_in'), 0);
});

test('Cancel in the browser panel cancels the sign-in', async () => {
  await open('s=signin');
  w.press('signin-button');
  await w.until(() => w.focused() === 'reopen-browser', 'the browser sign-in');
  w.press('cancel-browser');
  await w.until(() => w.shown('signin-start'), 'the start again');
  assert.equal(count('cancel_sign_in'), 1);
  assert.equal(w.focused(), 'signin-button');
  assert.equal(w.text('signin-notice'), '');
  await w.settle();
  assert.equal(panel(), 'signin-start');
});

test('Cancel while the sign-in is still starting stops it once started', async () => {
  await open('s=signin');
  w.press('signin-button');
  w.press('cancel-browser');
  await w.settle(400);
  assert.equal(panel(), 'signin-start');
  const state = await w.window.__TAURI__.core.invoke('get_state');
  assert.equal(state.signIn.state, 'signed_out', 'the engine has no sign-in under way');
});

test('the sign-in address is shown as text, markup and all', async () => {
  await open('s=signin');
  w.mock.emit('sign-in-changed', { state: 'in_browser', message: null, account: null, code: null, browserUrl: EVIL_URL });
  assert.equal(panel(), 'signin-browser');
  w.press('show-browser-url');
  const node = w.$('browser-url');
  assert.equal(node.textContent, EVIL_URL);
  assert.equal(node.childNodes.length, 1);
  assert.equal(node.firstChild.nodeType, 3, 'a text node');
  assert.equal(node.children.length, 0, 'no element made from the address');
  assert.equal(w.document.querySelectorAll('img').length, 0);
  assert.equal(w.document.documentElement.dataset.alerts, '0');
});

test('blocked: codes are refused, the browser is the way in', async () => {
  await open('s=blocked');
  const notice = w.text('signin-notice');
  assert.match(notice, /Your organisation does not allow sign-in with a code/);
  assert.match(notice, /Sign in with your browser instead/);
  assert.match(notice, /AADSTS53003: Access has been blocked by Conditional Access policies/);
  assert.equal(w.text('signin-button'), 'Try again');
  assert.equal(w.shown('signin-code-button'), false, 'no code to offer');
  assert.equal(w.document.querySelector('#signin-notice button'), null);

  w.press('signin-button');
  assert.equal(panel(), 'signin-browser');
  assert.equal(w.text('signin-notice'), '');
  await w.until(() => count('start_browser_sign_in') === 1, 'the browser sign-in');
});

test('blocked arrives while a code is shown', async () => {
  await open('s=signin');
  w.press('signin-code-button');
  await w.until(() => w.text('user-code') === 'HX7QK2LM', 'the code');
  w.mock.block();
  assert.equal(panel(), 'signin-start');
  assert.match(w.text('signin-notice'), /does not allow sign-in with a code/);
  assert.equal(w.focused(), 'signin-button');
});

test('browser_failed: the notice says why and offers a code', async () => {
  await open('s=signin');
  w.press('signin-button');
  await w.until(() => w.focused() === 'reopen-browser', 'the browser sign-in');
  w.mock.browserFail();
  assert.equal(panel(), 'signin-start');
  const notice = w.text('signin-notice');
  assert.match(notice, /Sign-in in the browser did not finish/);
  assert.match(notice, /use a code instead/i);
  assert.match(notice, /no answer came back from the browser within 5 minutes/);
  assert.equal(w.text('signin-button'), 'Try again');
  // Offered once, in the notice.
  assert.equal(w.shown('signin-code-button'), false);

  w.press('notice-use-code');
  assert.equal(panel(), 'signin-code');
  await w.until(() => w.text('user-code') === 'HX7QK2LM', 'the code');
  assert.equal(count('start_sign_in'), 1);
});

test('an outcome that arrives before the answer to the start stands', async () => {
  await open('s=signin');
  let failed = false;
  w.afterEvent((name, payload) => {
    if (name === 'sign-in-changed' && payload.state === 'in_browser' && !failed) {
      failed = true;
      w.mock.browserFail();
    }
  });
  w.press('signin-button');
  await w.until(() => failed, 'the browser sign-in to start');
  await w.settle();
  assert.equal(panel(), 'signin-start');
  assert.match(w.text('signin-notice'), /did not finish/);
});

test('a start that fails goes back, and says why', async () => {
  await open('s=declined&fail=start_browser_sign_in');
  w.press('signin-button');
  assert.equal(panel(), 'signin-browser');
  await w.until(() => w.text('signin-error') !== '', 'the error');
  assert.match(w.text('signin-error'), /could not connect/);
  assert.equal(panel(), 'signin-start');
  assert.equal(w.text('signin-button'), 'Try again');
  assert.match(w.text('signin-notice'), /Sign-in was declined/);
});

test('the other notices still say what happened', async () => {
  for (const [scenario, title] of [
    ['declined', 'Sign-in was declined'],
    ['expired', 'The code expired'],
    ['consent', 'Your organisation has to approve Presently first'],
    ['error', 'Sign-in did not work'],
  ]) {
    await open(`s=${scenario}`);
    assert.match(w.text('signin-notice'), new RegExp(title), scenario);
    assert.equal(w.text('signin-button'), 'Try again', scenario);
    assert.equal(w.shown('signin-code-button'), true, scenario);
    w.close();
  }
  await open('s=signin');
  assert.equal(w.text('signin-notice'), '');
  assert.equal(w.text('signin-button'), 'Sign in');
});
