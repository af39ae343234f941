// The sign-in screen: in the browser (the way in) or with a code, the
// notices after a sign-in that did not work, and the buttons of each.

import * as ipc from '../ipc.js';
import * as M from '../model.js';
import { $, el, redraw, setText, show } from '../dom.js';
import { icon } from '../icons.js';
import {
  SIGNED_OUT,
  browserOpened,
  browserUrlToggled,
  codeReceived,
  isCurrentStart,
  newAttempt,
  signInAdopted,
  startBegun,
  startCancelled,
  startEnded,
  startFailed,
  store,
} from '../store.js';

const SIGN_IN_NOTICES = {
  declined: {
    kind: 'warning',
    title: 'Sign-in was declined',
    showMessage: false,
    text: 'The request was turned down in the browser, so Presently is not signed in. If that was a mistake, try again.',
  },
  expired: {
    kind: 'warning',
    title: 'The code expired',
    showMessage: false,
    text: 'The code ran out before sign-in was finished. Try again, or use a new code and enter it before the countdown ends.',
  },
  consent_required: {
    kind: 'warning',
    title: 'Your organisation has to approve Presently first',
    text: 'An administrator must grant consent before Presently may read presence in your organisation. Ask your IT administrator, or register your own app and enter its client ID in Sign-in settings (see “Register your own app” in the README).',
  },
  blocked: {
    kind: 'warning',
    title: 'Your organisation does not allow sign-in with a code',
    text: 'Sign in with your browser instead: “Try again” opens Microsoft’s sign-in page there.',
  },
  browser_failed: {
    kind: 'warning',
    title: 'Sign-in in the browser did not finish',
    text: 'Try again, or use a code instead: you enter a short code on Microsoft’s sign-in page, in any browser.',
    offersCode: true,
  },
  error: {
    kind: 'error',
    title: 'Sign-in did not work',
    text: 'Check your network connection and the sign-in settings, then try again.',
  },
  signed_out: { kind: 'info', title: 'You were signed out', text: null },
};

// Set by wireSignIn: the whole window's render, and the settings dialog.
let renderAll = () => {};
let openSettings = () => {};

/** Where focus goes on the sign-in screen when the control that had it is gone. */
export function signInFocus() {
  switch (store.state.signIn.state) {
    case 'signing_in':
      return $('copy-code');
    case 'in_browser':
      return browserFocus();
    default:
      return $('signin-button');
  }
}

/**
 * In the browser panel: Copy when the address is the way in, else Open the
 * page again. Nothing while the window still waits to hear which it is.
 */
function browserFocus() {
  const { browser, starting } = store.state;
  if (!browser?.url || (browser.opened == null && starting?.kind === 'in_browser')) return null;
  return browser.opened === false ? $('copy-browser-url') : $('reopen-browser');
}

export function renderSignIn() {
  const view = store.state.signIn;
  const signingIn = view.state === 'signing_in';
  const inBrowser = view.state === 'in_browser';
  show($('signin-start'), !signingIn && !inBrowser);
  show($('signin-code'), signingIn);
  show($('signin-browser'), inBrowser);

  const notice = SIGN_IN_NOTICES[view.state];
  const box = $('signin-notice');
  const wanted = notice && (view.state !== 'signed_out' || view.message) ? [view.state, view.message] : null;
  if (redraw(box, wanted)) {
    box.replaceChildren();
    box.className = 'notice';
    if (wanted) {
      box.classList.add(`notice-${notice.kind}`);
      box.append(icon(notice.kind === 'info' ? 'info' : 'warning', 'notice-icon'));
      const body = el('div', { class: 'notice-body' }, el('p', { class: 'notice-title', text: notice.title }));
      if (notice.text) body.append(el('p', { text: notice.text }));
      // Declined and expired say all there is to say above; elsewhere the
      // engine's words (Microsoft's AADSTS text, the reason for a sign-out) help.
      if (view.message && notice.showMessage !== false) body.append(el('p', { class: 'notice-detail', text: view.message }));
      if (view.state === 'consent_required') {
        body.append(el('button', { type: 'button', class: 'link-btn', text: 'Open sign-in settings', onclick: (e) => openSettings(e.currentTarget) }));
      }
      if (notice.offersCode) {
        body.append(el('button', { type: 'button', id: 'notice-use-code', class: 'link-btn', text: 'Use a code instead', onclick: () => startSignIn($('signin-error')) }));
      }
      box.append(body);
    }
  }

  setText($('signin-button'), M.SIGN_IN_RETRY.includes(view.state) ? 'Try again' : 'Sign in');
  // Where the organisation refuses codes the link leads nowhere; after a
  // failed browser sign-in the notice offers it.
  show($('signin-code-button'), !notice?.offersCode && view.state !== 'blocked');

  if (signingIn) {
    const code = store.state.code;
    setText($('user-code'), code?.userCode ?? '········');
    $('user-code').classList.toggle('pending', !code);
    setText($('verification-uri'), code?.verificationUri ?? '');
    show($('verification-uri').parentElement, Boolean(code?.verificationUri));
    $('copy-code').disabled = !code;
    $('open-page').disabled = !code;
    setText($('waiting-text'), code ? 'Waiting for you to finish in the browser…' : 'Getting a code from Microsoft…');
    updateCodeCountdown(Date.now());
  }
  if (inBrowser) renderBrowser();
}

function renderBrowser() {
  const { url, opened, showUrl } = store.state.browser ?? {};
  // Without a browser the address is the way in; with one it is seldom
  // needed, and long, so it waits behind a toggle.
  const manual = opened === false;
  setText(
    $('browser-lead'),
    manual
      ? 'Presently could not open a browser. Open this address in your browser to sign in:'
      : 'Microsoft’s sign-in page opens in your browser. Sign in there: Presently carries on by itself when you are done.',
  );
  setText($('browser-waiting-text'), url ? 'Waiting for you to finish signing in in the browser…' : 'Opening Microsoft’s sign-in page…');
  $('reopen-browser').disabled = !url;
  setText($('browser-url'), url ?? '');
  const toggle = $('show-browser-url');
  show(toggle, Boolean(url) && !manual);
  toggle.setAttribute('aria-expanded', String(Boolean(showUrl)));
  setText(toggle, showUrl ? 'Hide the address' : 'Show the address');
  show($('browser-url-box'), Boolean(url) && (manual || Boolean(showUrl)));
}

export function updateCodeCountdown(now) {
  const node = $('code-countdown');
  const { code, signIn } = store.state;
  if (!code || signIn.state !== 'signing_in') {
    setText(node, '');
    show($('new-code'), false);
    return;
  }
  const left = Date.parse(code.expiresAt) - now;
  const expired = !(left > 0);
  setText(node, expired ? 'This code has expired.' : `Code expires in ${M.formatCountdown(left)}`);
  node.classList.toggle('soon', !expired && left < 60000);
  node.classList.toggle('over', expired);
  if ($('new-code').hidden === expired) show($('new-code'), expired);
}

/**
 * Shows the sign-in of `kind` ('signing_in' or 'in_browser') under way at
 * once, before the engine answers; returns the attempt to hand to
 * endStart or failStart.
 */
function beginStart(kind, errorNode) {
  setText(errorNode, '');
  const attempt = newAttempt(kind);
  store.update(startBegun, attempt);
  renderAll();
  return attempt;
}

/** True when the answer to `attempt` is still wanted. */
function endStart(attempt) {
  // Another start (the person changed their mind) has taken its place.
  if (!isCurrentStart(store.state, attempt)) return false;
  const { cancelled } = store.state.starting;
  store.update(startEnded);
  if (cancelled) {
    // Cancel came while the engine was still starting, too early to stop
    // it: stop what it has started now.
    ipc.cancelSignIn().catch(() => {});
    return false;
  }
  return true;
}

/** The start failed: back to what the engine last said, and why, where it was started from. */
function failStart(attempt, err, errorNode) {
  if (!isCurrentStart(store.state, attempt)) return;
  const { cancelled } = store.state.starting;
  if (cancelled) {
    store.update(startEnded);
    return;
  }
  store.update(startFailed);
  renderAll();
  setText(failureNode(errorNode), M.errorMessage(err));
}

/**
 * Where a failed start says why: the place it was started from when the
 * screen now shown has it (a banner is drawn anew meanwhile: found by its
 * ID), else that screen's own.
 */
function failureNode(errorNode) {
  const node = errorNode?.id ? document.getElementById(errorNode.id) : null;
  if (node && !node.closest('[hidden]')) return node;
  return store.state.signIn.state === 'signed_in' ? $('banner-error') ?? $('roster-error') : $('signin-error');
}

/**
 * The sign-in in the system browser: the way in unless a code is asked for.
 * `start` is the command that starts it (allow_calendar asks for more).
 */
export async function startBrowserSignIn(errorNode, start = ipc.startBrowserSignIn) {
  const attempt = beginStart('in_browser', errorNode);
  try {
    const answer = await start();
    // The sign-in-changed event may already have moved on.
    if (!endStart(attempt) || store.state.signIn.state !== 'in_browser') return;
    store.update(browserOpened, answer);
    renderAll();
    if (!document.activeElement?.closest('#signin-browser')) browserFocus()?.focus();
  } catch (err) {
    failStart(attempt, err, errorNode);
  }
}

async function startSignIn(errorNode) {
  const attempt = beginStart('signing_in', errorNode);
  try {
    const code = await ipc.startSignIn();
    // The sign-in-changed event may already have moved on (or carried the code).
    if (endStart(attempt) && store.state.signIn.state === 'signing_in') {
      store.update(codeReceived, code);
      renderAll();
      if (document.activeElement === document.body || !document.activeElement?.closest('#signin-code')) $('copy-code').focus();
    }
  } catch (err) {
    failStart(attempt, err, errorNode);
  }
}

async function cancelSignIn() {
  setText($('signin-error'), '');
  store.update(startCancelled);
  try {
    await ipc.cancelSignIn();
    if (M.isSignInUnderWay(store.state.signIn.state)) {
      store.update(signInAdopted, SIGNED_OUT);
      renderAll();
    }
    $('signin-button').focus();
  } catch (err) {
    setText($('signin-error'), M.errorMessage(err));
  }
}

async function openSignInPage() {
  setText($('signin-error'), '');
  try {
    await ipc.openVerificationPage();
  } catch (err) {
    setText($('signin-error'), M.errorMessage(err));
  }
}

/** Copies `text`; where the clipboard refuses, selects it in `node` and copies that. */
export async function copyText(text, node) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Older WebKit or no clipboard permission: copy the selected text instead.
    const range = document.createRange();
    range.selectNodeContents(node);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** "Copied" on the button for two seconds, and said once to screen readers. */
export function showCopied(button, label, status, idle, said) {
  setText(label, 'Copied');
  button.classList.add('done');
  setText(status, said);
  setTimeout(() => {
    setText(label, idle);
    button.classList.remove('done');
    setText(status, '');
  }, 2000);
}

async function copyCode() {
  const code = store.state.code?.userCode;
  if (!code) return;
  if (await copyText(code, $('user-code'))) showCopied($('copy-code'), $('copy-label'), $('copy-status'), 'Copy', 'Code copied.');
  else setText($('signin-error'), 'Could not copy the code by itself. It is selected: press Ctrl+C to copy it.');
}

async function copyBrowserUrl() {
  const url = store.state.browser?.url;
  if (!url) return;
  if (await copyText(url, $('browser-url'))) showCopied($('copy-browser-url'), $('copy-url-label'), $('copy-url-status'), 'Copy address', 'Address copied.');
  else setText($('signin-error'), 'Could not copy the address by itself. It is selected: press Ctrl+C to copy it.');
}

/** `render` draws the whole window; `settings(opener)` opens the settings dialog. */
export function wireSignIn({ render, settings }) {
  renderAll = render;
  openSettings = settings;
  $('signin-button').addEventListener('click', () => startBrowserSignIn($('signin-error')));
  $('signin-code-button').addEventListener('click', () => startSignIn($('signin-error')));
  $('copy-code').addEventListener('click', copyCode);
  $('open-page').addEventListener('click', openSignInPage);
  $('cancel-sign-in').addEventListener('click', cancelSignIn);
  // Starting a sign-in ends the one under way, this old code among them.
  $('new-code').addEventListener('click', () => startSignIn($('signin-error')));
  $('reopen-browser').addEventListener('click', openSignInPage);
  $('show-browser-url').addEventListener('click', () => {
    if (!store.state.browser) return;
    store.update(browserUrlToggled);
    renderSignIn();
  });
  $('copy-browser-url').addEventListener('click', copyBrowserUrl);
  $('browser-use-code').addEventListener('click', () => startSignIn($('signin-error')));
  $('cancel-browser').addEventListener('click', cancelSignIn);
  $('signin-settings').addEventListener('click', (e) => openSettings(e.currentTarget));
}
