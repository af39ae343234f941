// Presently's window. It draws what the Rust side sends: one get_state at
// start (and after each sign-in), then events. No timer here ever calls
// invoke; the one-second ticker only redraws countdowns and durations. (The
// one call the window makes on its own is roster_painted, once per page.)
//
// Every string that comes from Microsoft Graph or from a person (names, job
// titles, status messages, out-of-office notes, error messages) reaches the
// page through textContent or a text node, never as markup.

import * as M from './model.js';
import { fillIcons, icon, logo, statusDot } from './icons.js';

const $ = (id) => document.getElementById(id);
const tauri = window.__TAURI__;
const invoke = (cmd, args) => tauri.core.invoke(cmd, args);

const SIGNED_OUT = Object.freeze({ state: 'signed_out', message: null, account: null, code: null, browserUrl: null });

const state = {
  signIn: SIGNED_OUT,
  roster: new Map(),
  status: null,
  statusAt: 0,
  settings: null,
  trayAvailable: true,
  pausedUntil: null,
  me: null,
  code: null,
  // The browser sign-in under way: {url, opened, showUrl}. Only the answer
  // to start_browser_sign_in says whether a browser opened (null until then).
  browser: null,
  filter: '',
};

// What the engine last said about the sign-in, whatever the window shows
// meanwhile: a start that fails goes back to it.
let engineSignIn = SIGNED_OUT;
// The start command the window waits for: {kind, cancelled}, or null.
let starting = null;

// ---------------------------------------------------------------- helpers

/** createElement with text, attributes and listeners; children are nodes or text. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function setText(node, text) {
  const value = text ?? '';
  if (node.textContent !== value) node.textContent = value;
}

function show(node, visible) {
  node.hidden = !visible;
}

/** What each node was last drawn from, so unchanged parts are left alone. */
const drawnFrom = new WeakMap();

/** True (and remembers `source`) when `node` was drawn from something else. */
function redraw(node, source) {
  const key = JSON.stringify(source ?? null);
  if (drawnFrom.get(node) === key) return false;
  drawnFrom.set(node, key);
  return true;
}

/** The avatar: the photo if the engine sent one, else initials on a colour. */
function avatar(person, size = '') {
  const photo = M.safePhoto(person?.photo);
  const box = el('div', { class: `avatar ${size} av-${M.avatarColour(person?.id)}`, 'aria-hidden': 'true' });
  if (photo) box.append(el('img', { src: photo, alt: '' }));
  else box.append(el('span', { class: 'initials', text: person?.initials || M.initialsOf(person?.displayName) }));
  return box;
}

function focusables(root) {
  return [...root.querySelectorAll('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
    (node) => !node.disabled && node.getClientRects().length > 0,
  );
}

/** Focus moves somewhere sensible when the element that had it disappears. */
function keepFocus(fallback) {
  const active = document.activeElement;
  if (!active || active === document.body || !active.isConnected || active.getClientRects().length === 0) {
    fallback?.focus();
  }
}

// ---------------------------------------------------------------- start

async function boot() {
  fillIcons(document);
  $('brand-logo').replaceWith(logo());
  wireSignIn();
  wireRoster();
  wireDialogs();
  wireAddPeople();
  wireSettings();

  if (!tauri?.core?.invoke || !tauri?.event?.listen) {
    bootFailed('This page is the window of the Presently app and only works inside it.', false);
    return;
  }

  // Listen first, so that nothing that happens during get_state is lost;
  // what arrives before the state is applied waits in a queue.
  let ready = false;
  const queue = [];
  const on = (name, handler) =>
    tauri.event.listen(name, (event) => {
      if (ready) handler(event.payload);
      else queue.push(() => handler(event.payload));
    });
  try {
    await Promise.all([
      on('sign-in-changed', onSignInChanged),
      on('roster-changed', onRosterChanged),
      on('presence-changed', onPresenceChanged),
      on('status-changed', onStatusChanged),
      on('me-changed', onMeChanged),
      on('pause-changed', onPauseChanged),
    ]);
  } catch (err) {
    bootFailed(M.errorMessage(err), true);
    return;
  }
  await loadState();
  ready = true;
  for (const run of queue.splice(0)) run();
  setInterval(tick, 1000);
}

async function loadState() {
  try {
    applyState(await invoke('get_state'));
  } catch (err) {
    bootFailed(M.errorMessage(err), true);
  }
}

function bootFailed(message, canRetry) {
  show($('boot'), true);
  $('boot').classList.add('failed');
  setText($('boot-text'), message);
  show($('boot-retry'), canRetry);
  show($('signin-screen'), false);
  show($('roster-screen'), false);
}

function applyState(app) {
  engineSignIn = app.signIn ?? engineSignIn;
  adoptSignIn(engineSignIn);
  state.roster = new Map((app.roster ?? []).map((t) => [t.id, t]));
  state.status = app.status ?? null;
  state.statusAt = Date.now();
  state.settings = app.settings ?? null;
  state.trayAvailable = app.trayAvailable !== false;
  state.pausedUntil = app.notificationsPausedUntil ?? null;
  state.me = app.me ?? null;
  $('boot').classList.remove('failed');
  render();
}

// ---------------------------------------------------------------- events

function onSignInChanged(view) {
  engineSignIn = view;
  if (!M.showsSignInChange(view, starting)) return;
  const was = state.signIn.state;
  adoptSignIn(view);
  if (view.state === 'signed_in' && was !== 'signed_in') {
    // A new session, perhaps another account: everything starts over.
    forgetAddPeople();
    loadState();
    return;
  }
  render();
}

function onRosterChanged(list) {
  state.roster = new Map(list.map((t) => [t.id, t]));
  renderRoster();
}

function onPresenceChanged(list) {
  const changed = [];
  for (const t of list) {
    const before = state.roster.get(t.id);
    if (!before) continue;
    if (M.statusWords(before) !== M.statusWords(t)) changed.push(t.id);
    state.roster.set(t.id, { ...before, ...t });
  }
  renderRoster();
  for (const id of changed) {
    const row = rows.get(id)?.li;
    if (!row) continue;
    row.classList.remove('changed');
    void row.offsetWidth; // restart the highlight if it is still running
    row.classList.add('changed');
  }
}

function onStatusChanged(status) {
  state.status = status;
  state.statusAt = Date.now();
  renderBanner();
  // Offline or back: every row's "for 5 min" / "as of 14:05" changes.
  updateDurations(Date.now());
}

function onMeChanged(me) {
  state.me = me;
  renderMe();
}

function onPauseChanged(payload) {
  state.pausedUntil = payload?.pausedUntil ?? null;
  renderPause();
}

// ---------------------------------------------------------------- render

function render() {
  const signedIn = state.signIn.state === 'signed_in';
  // Only a focus that was lost to a hidden element is moved; at start the
  // page leaves focus alone.
  const hadFocus = document.activeElement && document.activeElement !== document.body;
  show($('boot'), false);
  show($('signin-screen'), !signedIn);
  show($('roster-screen'), signedIn);
  show($('tray-note'), !state.trayAvailable);
  if (signedIn) {
    renderMe();
    renderRoster();
    renderPause();
    if (hadFocus) keepFocus(state.roster.size > 0 ? $('filter') : $('empty-add'));
  } else {
    renderSignIn();
    if (hadFocus) keepFocus(signInFocus());
  }
  renderBanner();
}

// Sign-in -----------------------------------------------------------------

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

/** Takes the engine's word for the sign-in, with what only the window knows. */
function adoptSignIn(view) {
  state.signIn = view;
  state.code = view.state === 'signing_in' ? view.code ?? state.code : null;
  if (view.state !== 'in_browser') {
    state.browser = null;
    return;
  }
  // Another address is another sign-in (one started from the tray, say):
  // whether a browser opened for it is not known here.
  const known = state.browser && (!state.browser.url || !view.browserUrl || state.browser.url === view.browserUrl) ? state.browser : {};
  state.browser = { url: view.browserUrl ?? known.url ?? null, opened: known.opened ?? null, showUrl: Boolean(known.showUrl) };
}

/** Where focus goes on the sign-in screen when the control that had it is gone. */
function signInFocus() {
  switch (state.signIn.state) {
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
  const browser = state.browser;
  if (!browser?.url || (browser.opened == null && starting?.kind === 'in_browser')) return null;
  return browser.opened === false ? $('copy-browser-url') : $('reopen-browser');
}

function renderSignIn() {
  const view = state.signIn;
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
    const code = state.code;
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
  const { url, opened, showUrl } = state.browser ?? {};
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

function updateCodeCountdown(now) {
  const node = $('code-countdown');
  const code = state.code;
  if (!code || state.signIn.state !== 'signing_in') {
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
  const attempt = { kind, cancelled: false };
  starting = attempt;
  state.signIn = { ...state.signIn, state: kind, message: null, code: null, browserUrl: null };
  state.code = null;
  state.browser = kind === 'in_browser' ? { url: null, opened: null, showUrl: false } : null;
  render();
  return attempt;
}

/** True when the answer to `attempt` is still wanted. */
function endStart(attempt) {
  // Another start (the person changed their mind) has taken its place.
  if (starting !== attempt) return false;
  starting = null;
  if (attempt.cancelled) {
    // Cancel came while the engine was still starting, too early to stop
    // it: stop what it has started now.
    invoke('cancel_sign_in').catch(() => {});
    return false;
  }
  return true;
}

/** The start failed: back to what the engine last said, and why. */
function failStart(attempt, err) {
  if (starting !== attempt) return;
  starting = null;
  if (attempt.cancelled) return;
  adoptSignIn(engineSignIn);
  render();
  setText(state.signIn.state === 'signed_in' ? $('banner-error') ?? $('roster-error') : $('signin-error'), M.errorMessage(err));
}

/** The sign-in in the system browser: the way in unless a code is asked for. */
async function startBrowserSignIn(errorNode) {
  const attempt = beginStart('in_browser', errorNode);
  try {
    const answer = await invoke('start_browser_sign_in');
    // The sign-in-changed event may already have moved on.
    if (!endStart(attempt) || state.signIn.state !== 'in_browser') return;
    const url = answer?.url ?? state.browser?.url ?? null;
    state.browser = { ...state.browser, url, opened: answer?.opened !== false };
    state.signIn = { ...state.signIn, browserUrl: url };
    render();
    if (!document.activeElement?.closest('#signin-browser')) browserFocus()?.focus();
  } catch (err) {
    failStart(attempt, err);
  }
}

async function startSignIn(errorNode) {
  const attempt = beginStart('signing_in', errorNode);
  try {
    const code = await invoke('start_sign_in');
    // The sign-in-changed event may already have moved on (or carried the code).
    if (endStart(attempt) && state.signIn.state === 'signing_in') {
      state.code = code;
      state.signIn = { ...state.signIn, code };
      render();
      if (document.activeElement === document.body || !document.activeElement?.closest('#signin-code')) $('copy-code').focus();
    }
  } catch (err) {
    failStart(attempt, err);
  }
}

async function cancelSignIn() {
  setText($('signin-error'), '');
  if (starting) starting.cancelled = true;
  try {
    await invoke('cancel_sign_in');
    if (M.isSignInUnderWay(state.signIn.state)) {
      adoptSignIn(SIGNED_OUT);
      render();
    }
    $('signin-button').focus();
  } catch (err) {
    setText($('signin-error'), M.errorMessage(err));
  }
}

async function openSignInPage() {
  setText($('signin-error'), '');
  try {
    await invoke('open_verification_page');
  } catch (err) {
    setText($('signin-error'), M.errorMessage(err));
  }
}

/** Copies `text`; where the clipboard refuses, selects it in `node` and copies that. */
async function copyText(text, node) {
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
function showCopied(button, label, status, idle, said) {
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
  const code = state.code?.userCode;
  if (!code) return;
  if (await copyText(code, $('user-code'))) showCopied($('copy-code'), $('copy-label'), $('copy-status'), 'Copy', 'Code copied.');
  else setText($('signin-error'), 'Could not copy the code by itself. It is selected: press Ctrl+C to copy it.');
}

async function copyBrowserUrl() {
  const url = state.browser?.url;
  if (!url) return;
  if (await copyText(url, $('browser-url'))) showCopied($('copy-browser-url'), $('copy-url-label'), $('copy-url-status'), 'Copy address', 'Address copied.');
  else setText($('signin-error'), 'Could not copy the address by itself. It is selected: press Ctrl+C to copy it.');
}

function wireSignIn() {
  $('signin-button').addEventListener('click', () => startBrowserSignIn($('signin-error')));
  $('signin-code-button').addEventListener('click', () => startSignIn($('signin-error')));
  $('copy-code').addEventListener('click', copyCode);
  $('open-page').addEventListener('click', openSignInPage);
  $('cancel-sign-in').addEventListener('click', cancelSignIn);
  // Starting a sign-in ends the one under way, this old code among them.
  $('new-code').addEventListener('click', () => startSignIn($('signin-error')));
  $('reopen-browser').addEventListener('click', openSignInPage);
  $('show-browser-url').addEventListener('click', () => {
    if (!state.browser) return;
    state.browser = { ...state.browser, showUrl: !state.browser.showUrl };
    renderSignIn();
  });
  $('copy-browser-url').addEventListener('click', copyBrowserUrl);
  $('browser-use-code').addEventListener('click', () => startSignIn($('signin-error')));
  $('cancel-browser').addEventListener('click', cancelSignIn);
  $('signin-settings').addEventListener('click', (e) => openSettings(e.currentTarget));
  // Starting over is the simplest way to be sure that every listener is in place.
  $('boot-retry').addEventListener('click', () => window.location.reload());
}

// Banner ------------------------------------------------------------------

const BANNER_ICONS = { offline: 'offline', throttled: 'clock', signed_out: 'warning', error: 'warning', starting: 'info' };

function currentBanner(now) {
  const status = state.status;
  if (!status) return null;
  // The sign-in screen explains a sign-out itself.
  if (status.state === 'signed_out' && state.signIn.state !== 'signed_in') return null;
  if (status.state === 'starting' && state.signIn.state !== 'signed_in') return null;
  return M.bannerFor(status, M.secondsLeft(status.retryAfterS, state.statusAt, now));
}

function renderBanner() {
  const banner = $('banner');
  const now = Date.now();
  const b = currentBanner(now);
  if (!redraw(banner, b && [b.kind, b.lead, b.detail])) {
    updateBannerCountdown(now);
    return;
  }
  banner.className = b ? `banner banner-${b.kind}` : 'banner';
  banner.replaceChildren();
  if (!b) return;
  const text = el('p', { class: 'banner-text' }, el('span', { text: b.lead }));
  // The ticking seconds are not read out every second.
  if (b.when != null) text.append(' ', el('span', { id: 'banner-when', 'aria-live': 'off', text: b.when }));
  const body = el('div', { class: 'banner-body' }, text);
  if (b.detail) body.append(el('p', { class: 'banner-detail', text: b.detail }));
  body.append(el('p', { id: 'banner-error', class: 'banner-fail', role: 'alert' }));
  banner.append(icon(BANNER_ICONS[b.kind] ?? 'info', 'banner-icon'), body);
  if (b.signIn) {
    banner.append(el('button', { type: 'button', class: 'btn small', text: 'Sign in', onclick: () => startBrowserSignIn($('banner-error')) }));
  }
}

function updateBannerCountdown(now) {
  const node = $('banner-when');
  const b = currentBanner(now);
  if (node && b?.when != null) setText(node, b.when);
}

// Header: own presence and account ------------------------------------------

const CLOUD_BADGES = { usgov: 'GCC High', dod: 'DoD', china: '21Vianet' };

function renderMe() {
  const me = state.me;
  const account = state.signIn.account;
  const holder = $('me-avatar');
  const person = me ?? { id: account?.username ?? 'me', displayName: account?.displayName ?? 'You' };
  const kind = me ? M.presenceKind(me) : 'unknown';
  if (redraw(holder, [person.id, person.photo, person.initials, person.displayName, kind])) {
    holder.replaceChildren(avatar(person, 'medium'), statusDot(kind, me ? `Your status: ${M.dotLabel(me)}` : 'Your status is not known yet'));
  }
  setText($('me-name'), me?.displayName || account?.displayName || 'Signed in');
  const parts = [];
  if (me) parts.push(M.statusWords(me));
  if (account?.username) parts.push(account.username);
  setText($('me-status'), parts.join(' · '));
  $('me-status').title = [parts.join(' · '), me?.statusMessage].filter(Boolean).join('\n');
  // Another cloud than the global one is worth a glance: tokens do not cross clouds.
  const national = account?.cloud && account.cloud !== 'global';
  show($('me-cloud'), national);
  setText($('me-cloud'), national ? CLOUD_BADGES[account.cloud] ?? account.cloudName ?? account.cloud : '');
  $('me-cloud').title = national ? account.cloudName ?? '' : '';
}

// Pause --------------------------------------------------------------------

function renderPause() {
  const now = Date.now();
  const paused = M.isPaused(state.pausedUntil, now);
  show($('paused-chip'), paused);
  if (paused) setText($('paused-text'), `Notifications paused until ${M.formatClock(state.pausedUntil, now)}`);
  const button = $('pause-button');
  const want = paused ? 'bell-off' : 'bell';
  if (!button.querySelector(`.icon-${want}`)) button.replaceChildren(icon(want));
  button.classList.toggle('active', paused);
  button.title = paused ? 'Notifications are paused' : 'Pause notifications';
}

async function pauseFor(minutes) {
  setText($('roster-error'), '');
  try {
    const answer = await invoke('pause_notifications', { minutes });
    state.pausedUntil = answer?.pausedUntil ?? null;
    renderPause();
  } catch (err) {
    setText($('roster-error'), M.errorMessage(err));
  }
}

function openPauseMenu() {
  const paused = M.isPaused(state.pausedUntil, Date.now());
  const items = [];
  if (paused) items.push({ label: 'Resume notifications', action: () => pauseFor(0) });
  items.push(
    { label: 'Pause for 30 minutes', action: () => pauseFor(30) },
    { label: 'Pause for 1 hour', action: () => pauseFor(60) },
    { label: 'Pause for 4 hours', action: () => pauseFor(240) },
  );
  openMenu($('pause-button'), 'Pause notifications', items);
}

// Roster ---------------------------------------------------------------------

/** One row per teammate, kept across renders so focus stays where it was. */
const rows = new Map();
let rowSerial = 0;

function rowButton(action, iconName) {
  return el('button', { type: 'button', class: `icon-btn row-btn btn-${action}`, 'data-action': action }, icon(iconName));
}

function createRow(id) {
  rowSerial += 1;
  const wordsId = `status-${rowSerial}`;
  const r = {
    id,
    li: el('li', { class: 'row', 'data-id': id }),
    avatarWrap: el('div', { class: 'avatar-wrap' }),
    name: el('span', { class: 'name' }),
    job: el('span', { class: 'job' }),
    words: el('span', { class: 'status-words', id: wordsId }),
    since: el('span', { class: 'since' }),
    message: el('p', { class: 'status-message' }),
    messageText: el('span', { class: 'status-message-text' }),
    oof: el('p', { class: 'oof-note' }),
    oofText: el('span', { class: 'oof-note-text' }),
    error: el('p', { class: 'row-error', role: 'alert' }),
    chat: rowButton('chat', 'chat'),
    call: rowButton('call', 'call'),
    notify: rowButton('notify', 'bell'),
    favorite: rowButton('favorite', 'star'),
    more: rowButton('more', 'more'),
  };
  r.chat.setAttribute('aria-describedby', wordsId);
  r.more.setAttribute('aria-haspopup', 'menu');
  r.more.setAttribute('aria-expanded', 'false');
  r.message.append(el('span', { class: 'visually-hidden', text: 'Status message: ' }), icon('quote', 'note-icon'), r.messageText);
  r.oof.append(el('span', { class: 'visually-hidden', text: 'Out-of-office note: ' }), icon('arrow-out', 'note-icon'), r.oofText);
  // Name and buttons share the first line; status and notes get the full width below.
  const line1 = el('p', { class: 'line1' }, r.name, r.job);
  const line2 = el('p', { class: 'line2' }, r.words, r.since);
  const details = el('div', { class: 'row-details' }, line2, r.message, r.oof, r.error);
  const actions = el('div', { class: 'row-actions' }, r.chat, r.call, r.notify, r.favorite, r.more);
  r.li.append(r.avatarWrap, line1, actions, details);
  return r;
}

function updateRow(r, t, now) {
  const kind = M.presenceKind(t);
  if (redraw(r.avatarWrap, [t.photo, t.initials, t.displayName, kind, M.dotLabel(t)])) {
    r.avatarWrap.replaceChildren(avatar(t), statusDot(kind, M.dotLabel(t)));
    r.li.className = `row kind-${kind}`;
  }
  r.li.classList.toggle('is-favorite', Boolean(t.favorite));
  setText(r.name, t.displayName || t.userPrincipalName || 'Unknown person');
  setText(r.job, t.jobTitle ?? '');
  r.name.title = [t.displayName, t.jobTitle, t.mail || t.userPrincipalName].filter(Boolean).join('\n');
  setText(r.words, M.statusWords(t));
  setText(r.since, M.sinceText(t.since, state.status, now));
  r.li.classList.toggle('stale', M.isStale(state.status));

  const message = (t.statusMessage ?? '').trim();
  setText(r.messageText, message);
  show(r.message, Boolean(message));
  r.message.title = message;
  const oof = t.outOfOffice?.isOutOfOffice ? (t.outOfOffice.message ?? '').trim() : '';
  setText(r.oofText, oof);
  show(r.oof, Boolean(oof));
  r.oof.title = oof;

  if (redraw(r.more, t.displayName)) {
    const who = t.displayName || t.userPrincipalName || 'this person';
    r.chat.setAttribute('aria-label', `Chat with ${who} in Teams`);
    r.chat.title = 'Chat in Teams';
    r.call.setAttribute('aria-label', `Call ${who} in Teams`);
    r.call.title = 'Call in Teams';
    r.notify.setAttribute('aria-label', `Notify me when ${who} is available`);
    r.favorite.setAttribute('aria-label', `Favorite: ${who}`);
    r.more.setAttribute('aria-label', `More options for ${who}`);
    r.more.title = 'More options';
  }
  r.notify.setAttribute('aria-pressed', String(Boolean(t.notify)));
  r.notify.title = t.notify
    ? `Notifying you when ${t.notifyEveryChange ? 'their status changes' : 'available'} (click to stop)`
    : 'Notify me when available';
  r.favorite.setAttribute('aria-pressed', String(Boolean(t.favorite)));
  r.favorite.title = t.favorite ? 'Favorite (click to remove)' : 'Add to favorites';
  // A bell with waves: every change, not only "available".
  const bell = t.notifyEveryChange ? 'bell-ring' : 'bell';
  if (!r.notify.querySelector(`.icon-${bell}`)) r.notify.replaceChildren(icon(bell));
}

function renderRoster() {
  if (state.signIn.state !== 'signed_in') return;
  const list = $('roster-list');
  const now = Date.now();
  const active = document.activeElement;
  const activeRow = list.contains(active) ? active.closest('li.row') : null;
  const everyone = M.sortRoster([...state.roster.values()]);
  const visible = everyone.filter((t) => M.matchesFilter(t, state.filter));

  for (const [id, r] of rows) {
    if (!state.roster.has(id)) {
      r.li.remove();
      rows.delete(id);
    }
  }
  visible.forEach((t, i) => {
    let r = rows.get(t.id);
    if (!r) {
      r = createRow(t.id);
      rows.set(t.id, r);
    }
    updateRow(r, t, now);
    const here = list.children[i];
    if (here !== r.li) list.insertBefore(r.li, here ?? null);
  });
  while (list.children.length > visible.length) list.lastElementChild.remove();

  // Moving a row in the DOM drops its focus: put it back.
  if (active && active !== document.activeElement && active.isConnected && list.contains(active)) {
    active.focus({ preventScroll: true });
  } else if (activeRow && !activeRow.isConnected) {
    (list.querySelector('.row-btn') ?? $('filter')).focus();
  }

  const empty = state.roster.size === 0;
  show($('roster-empty'), empty);
  // Nothing to filter yet: the empty state has its own "Add people".
  show($('toolbar'), !empty);
  show($('filter-empty'), !empty && visible.length === 0);
  setText($('filter-echo'), state.filter.trim());
  const available = everyone.filter((t) => M.presenceKind(t) === 'available').length;
  setText($('roster-count'), empty ? '' : `${available} of ${everyone.length} available`);
  reportFirstPaint(visible);
}

// Once per page (the app makes a new one each time the window opens), when
// the roster first shows everyone's presence: tells the app after the frame
// that drew it has been painted (the next one starts), so that the app can
// log how long launch, or opening the window, to roster took (bench/app
// reads those lines).
let paintReported = false;
function reportFirstPaint(visible) {
  if (paintReported || visible.length === 0 || !visible.every((t) => t.since)) return;
  paintReported = true;
  requestAnimationFrame(() => requestAnimationFrame(() => invoke('roster_painted').catch(() => {})));
}

function updateDurations(now) {
  for (const r of rows.values()) {
    const t = state.roster.get(r.id);
    if (t && r.li.isConnected) {
      setText(r.since, M.sinceText(t.since, state.status, now));
      r.li.classList.toggle('stale', M.isStale(state.status));
    }
  }
}

function showRowError(id, message) {
  const r = rows.get(id);
  if (!r) {
    setText($('roster-error'), message);
    return;
  }
  setText(r.error, message);
  r.li.classList.add('has-error');
  setTimeout(() => {
    if (r.error.textContent === message) {
      setText(r.error, '');
      r.li.classList.remove('has-error');
    }
  }, 10000);
}

async function setFlag(id, flag, value) {
  const before = state.roster.get(id);
  if (!before) return;
  const args = { id, notify: null, favorite: null, notifyEveryChange: null };
  args[flag] = value;
  state.roster.set(id, { ...before, [flag]: value });
  renderRoster();
  try {
    const updated = await invoke('set_teammate_flags', args);
    if (updated && state.roster.has(id)) state.roster.set(id, { ...state.roster.get(id), ...updated });
  } catch (err) {
    if (state.roster.has(id)) state.roster.set(id, { ...state.roster.get(id), [flag]: before[flag] });
    showRowError(id, M.errorMessage(err));
  }
  renderRoster();
}

async function openTeams(id, action) {
  try {
    await invoke('open_teams', { id, action });
  } catch (err) {
    showRowError(id, M.errorMessage(err));
  }
}

function openRowMenu(id, anchor) {
  const t = state.roster.get(id);
  if (!t) return;
  openMenu(anchor, `Options for ${t.displayName}`, [
    {
      label: 'Notify me when available',
      checked: Boolean(t.notify),
      action: () => setFlag(id, 'notify', !t.notify),
    },
    {
      label: 'Notify me of every status change',
      checked: Boolean(t.notifyEveryChange),
      action: () => setFlag(id, 'notifyEveryChange', !t.notifyEveryChange),
    },
    {
      label: t.favorite ? 'Remove from favorites' : 'Add to favorites',
      action: () => setFlag(id, 'favorite', !t.favorite),
    },
    { separator: true },
    { label: 'Remove from list…', danger: true, action: () => confirmRemove(id, anchor) },
  ]);
}

function wireRoster() {
  const list = $('roster-list');
  list.addEventListener('click', (e) => {
    const button = e.target.closest('button[data-action]');
    const li = button?.closest('li.row');
    if (!li) return;
    const id = li.dataset.id;
    const t = state.roster.get(id);
    if (!t) return;
    switch (button.dataset.action) {
      case 'chat':
      case 'call':
        openTeams(id, button.dataset.action);
        break;
      case 'notify':
        setFlag(id, 'notify', !t.notify);
        break;
      case 'favorite':
        setFlag(id, 'favorite', !t.favorite);
        break;
      case 'more':
        openRowMenu(id, button);
        break;
      default:
    }
  });
  list.addEventListener('keydown', (e) => {
    const button = e.target.closest('button.row-btn');
    const li = button?.closest('li.row');
    if (!li) return;
    const controls = [...li.querySelectorAll('.row-btn')];
    const column = controls.indexOf(button);
    const all = [...list.children];
    const at = all.indexOf(li);
    let target = null;
    if (e.key === 'ArrowDown') target = all[at + 1]?.querySelectorAll('.row-btn')[column];
    else if (e.key === 'ArrowUp') target = all[at - 1]?.querySelectorAll('.row-btn')[column];
    else if (e.key === 'Home' && !e.ctrlKey) target = all[0]?.querySelectorAll('.row-btn')[column];
    else if (e.key === 'End' && !e.ctrlKey) target = all[all.length - 1]?.querySelectorAll('.row-btn')[column];
    else if (e.key === 'ArrowRight') target = controls[column + 1];
    else if (e.key === 'ArrowLeft') target = controls[column - 1];
    else if (e.key === 'ContextMenu' || (e.shiftKey && e.key === 'F10')) {
      e.preventDefault();
      openRowMenu(li.dataset.id, li.querySelector('.btn-more'));
      return;
    } else return;
    e.preventDefault();
    target?.focus();
    target?.scrollIntoView({ block: 'nearest' });
  });

  // A right click on a person opens the same menu as their ⋯ button.
  list.addEventListener('contextmenu', (e) => {
    const li = e.target.closest('li.row');
    if (!li) return;
    e.preventDefault();
    openRowMenu(li.dataset.id, li.querySelector('.btn-more'));
  });

  $('filter').addEventListener('input', (e) => {
    state.filter = e.target.value;
    renderRoster();
  });
  $('filter').addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && e.target.value) {
      e.preventDefault();
      e.target.value = '';
      state.filter = '';
      renderRoster();
    } else if (e.key === 'ArrowDown') {
      const first = list.querySelector('.row-btn');
      if (first) {
        e.preventDefault();
        first.focus();
      }
    }
  });
  $('clear-filter').addEventListener('click', () => {
    $('filter').value = '';
    state.filter = '';
    renderRoster();
    $('filter').focus();
  });
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f' && !$('roster-screen').hidden && !document.querySelector('dialog[open]')) {
      e.preventDefault();
      $('filter').focus();
      $('filter').select();
    }
  });
  $('add-button').addEventListener('click', (e) => openAddPeople(e.currentTarget));
  $('empty-add').addEventListener('click', (e) => openAddPeople(e.currentTarget));
  $('settings-button').addEventListener('click', (e) => openSettings(e.currentTarget));
  $('pause-button').addEventListener('click', openPauseMenu);
  $('resume-button').addEventListener('click', async () => {
    await pauseFor(0);
    keepFocus($('pause-button'));
  });
}

// Menu -----------------------------------------------------------------------

let menuAnchor = null;

function openMenu(anchor, label, items) {
  closeMenu(false);
  const menu = $('menu');
  menu.replaceChildren();
  menu.setAttribute('aria-label', label);
  for (const item of items) {
    if (item.separator) {
      menu.append(el('div', { class: 'menu-sep', role: 'separator' }));
      continue;
    }
    const checkable = item.checked != null;
    const button = el(
      'button',
      {
        type: 'button',
        class: `menu-item${item.danger ? ' danger' : ''}`,
        role: checkable ? 'menuitemcheckbox' : 'menuitem',
        'aria-checked': checkable ? String(item.checked) : null,
        tabindex: '-1',
      },
      el('span', { class: 'menu-check' }, checkable && item.checked ? icon('check') : ''),
      el('span', { text: item.label }),
    );
    button.addEventListener('click', () => {
      closeMenu(true);
      item.action();
    });
    menu.append(button);
  }
  menuAnchor = anchor;
  anchor.setAttribute('aria-expanded', 'true');
  show(menu, true);
  placeMenu();
  menu.querySelector('.menu-item')?.focus({ preventScroll: true });
}

/** Under the anchor, right-aligned; above it when there is no room below. */
function placeMenu() {
  const menu = $('menu');
  if (menu.hidden || !menuAnchor) return;
  if (!menuAnchor.isConnected || menuAnchor.getClientRects().length === 0) {
    closeMenu(false);
    return;
  }
  const box = menuAnchor.getBoundingClientRect();
  const width = menu.offsetWidth;
  const height = menu.offsetHeight;
  const left = Math.max(8, Math.min(box.right - width, window.innerWidth - width - 8));
  const below = box.bottom + 4;
  const top = below + height > window.innerHeight - 8 ? Math.max(8, box.top - height - 4) : below;
  menu.style.left = `${left}px`;
  menu.style.top = `${top}px`;
}

function closeMenu(returnFocus) {
  const menu = $('menu');
  if (menu.hidden) return;
  show(menu, false);
  menu.replaceChildren();
  if (menuAnchor) {
    menuAnchor.setAttribute('aria-expanded', 'false');
    if (returnFocus && menuAnchor.isConnected) menuAnchor.focus();
  }
  menuAnchor = null;
}

function wireMenu() {
  const menu = $('menu');
  menu.addEventListener('keydown', (e) => {
    const items = [...menu.querySelectorAll('.menu-item')];
    const at = items.indexOf(document.activeElement);
    let next = null;
    if (e.key === 'ArrowDown') next = items[(at + 1) % items.length];
    else if (e.key === 'ArrowUp') next = items[(at - 1 + items.length) % items.length];
    else if (e.key === 'Home') next = items[0];
    else if (e.key === 'End') next = items[items.length - 1];
    else if (e.key === 'Escape' || e.key === 'Tab') {
      e.preventDefault();
      e.stopPropagation();
      closeMenu(true);
      return;
    } else return;
    e.preventDefault();
    next?.focus();
  });
  document.addEventListener(
    'pointerdown',
    (e) => {
      if (!menu.hidden && !menu.contains(e.target) && e.target !== menuAnchor && !menuAnchor?.contains(e.target)) closeMenu(false);
    },
    true,
  );
  // A click on the anchor while open closes the menu instead of reopening it.
  document.addEventListener(
    'click',
    (e) => {
      if (!menu.hidden && menuAnchor && menuAnchor.contains(e.target)) {
        e.stopPropagation();
        closeMenu(true);
      }
    },
    true,
  );
  window.addEventListener('resize', placeMenu);
  document.addEventListener('scroll', placeMenu, true);
}

// Dialogs ----------------------------------------------------------------------

const openers = new WeakMap();
const focusAfterClose = new WeakMap();

function openDialog(dialog, opener, first) {
  closeMenu(false);
  openers.set(dialog, opener ?? document.activeElement);
  dialog.showModal();
  (first ?? focusables(dialog)[0])?.focus();
}

function wireDialogs() {
  wireMenu();
  for (const dialog of document.querySelectorAll('dialog')) {
    for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
    dialog.addEventListener('keydown', (e) => {
      if (e.key !== 'Tab') return;
      const list = focusables(dialog);
      if (list.length === 0) return;
      const first = list[0];
      const last = list[list.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    });
    // A click on the backdrop (outside the frame) closes, as Escape does.
    dialog.addEventListener('click', (e) => {
      if (e.target === dialog) dialog.close();
    });
    dialog.addEventListener('close', () => {
      const target = focusAfterClose.get(dialog) ?? openers.get(dialog);
      focusAfterClose.delete(dialog);
      if (target?.isConnected && target.getClientRects().length > 0) target.focus();
      else keepFocus(state.signIn.state === 'signed_in' ? $('filter') : signInFocus());
    });
  }
  $('confirm-ok').addEventListener('click', removeConfirmed);
}

// Remove -------------------------------------------------------------------------

let removing = null;

function confirmRemove(id, opener) {
  const t = state.roster.get(id);
  if (!t) return;
  removing = id;
  setText($('confirm-title'), `Remove ${t.displayName}?`);
  setText($('confirm-text'), 'You will no longer see their status or get notifications about them. You can add them again at any time.');
  setText($('confirm-error'), '');
  $('confirm-ok').disabled = false;
  openDialog($('confirm-dialog'), opener, $('confirm-cancel'));
}

async function removeConfirmed() {
  const id = removing;
  const dialog = $('confirm-dialog');
  if (!id) return;
  // Focus goes to the neighbour's same button once the row is gone.
  const li = rows.get(id)?.li;
  const neighbour = li?.nextElementSibling ?? li?.previousElementSibling;
  $('confirm-ok').disabled = true;
  try {
    const roster = await invoke('remove_teammate', { id });
    state.roster = new Map((roster ?? []).map((t) => [t.id, t]));
    focusAfterClose.set(dialog, neighbour?.querySelector('.btn-more') ?? $('filter'));
    removing = null;
    dialog.close();
    renderRoster();
  } catch (err) {
    setText($('confirm-error'), M.errorMessage(err));
    $('confirm-ok').disabled = false;
  }
}

// Add people ------------------------------------------------------------------------

let searchTimer = null;
let searchSerial = 0;
let groupsLoaded = false;

/** Search results and teams belong to one account. */
function forgetAddPeople() {
  groupsLoaded = false;
  searchSerial += 1;
  $('people-search').value = '';
  $('search-results').replaceChildren();
  setText($('search-status'), '');
  $('team-toggle').setAttribute('aria-expanded', 'false');
  show($('team-picker'), false);
}

function openAddPeople(opener) {
  setText($('add-report'), '');
  $('add-report').className = 'report';
  openDialog($('add-dialog'), opener, $('people-search'));
  $('people-search').select();
}

function personResult(p) {
  const added = Boolean(p.inRoster);
  const button = el(
    'button',
    {
      type: 'button',
      class: `btn small${added ? ' done' : ''}`,
      'aria-label': added ? `${p.displayName} is in your list` : `Add ${p.displayName}`,
      disabled: added,
    },
    added ? icon('check') : icon('plus'),
    el('span', { text: added ? 'Added' : 'Add' }),
  );
  button.addEventListener('click', () => addPeople([p.id], button));
  const sub = [p.jobTitle, p.mail || p.userPrincipalName].filter(Boolean).join(' · ');
  return el(
    'li',
    { class: 'person', 'data-id': p.id },
    avatar(p),
    el('div', { class: 'person-text' }, el('p', { class: 'name', text: p.displayName }), el('p', { class: 'sub', text: sub })),
    button,
  );
}

async function runSearch(text, serial) {
  try {
    const people = await invoke('search_people', { text });
    if (serial !== searchSerial) return;
    $('search-results').replaceChildren(...people.map(personResult));
    setText($('search-status'), people.length === 0 ? `No one found for “${text}”.` : people.length === 1 ? '1 person found.' : `${people.length} people found.`);
    $('search-status').classList.remove('error');
  } catch (err) {
    if (serial !== searchSerial) return;
    $('search-results').replaceChildren();
    setText($('search-status'), M.errorMessage(err));
    $('search-status').classList.add('error');
  }
}

function showReport(text, isError) {
  const node = $('add-report');
  node.className = `report ${isError ? 'error' : 'ok'}`;
  setText(node, text);
}

function applyReport(report) {
  if (Array.isArray(report?.roster)) {
    state.roster = new Map(report.roster.map((t) => [t.id, t]));
    renderRoster();
  }
  showReport(M.reportSummary(report), false);
}

async function addPeople(ids, button) {
  button.disabled = true;
  try {
    const report = await invoke('add_teammates', { ids });
    applyReport(report);
    button.classList.add('done');
    button.replaceChildren(icon('check'), el('span', { text: 'Added' }));
    button.setAttribute('aria-label', 'Added');
    // The focus stays in the list: move it back to the search box.
    $('people-search').focus();
  } catch (err) {
    button.disabled = false;
    showReport(M.errorMessage(err), true);
  }
}

function importButtons() {
  return [...document.querySelectorAll('#add-dialog .import'), $('team-import')];
}

async function runImport(source, groupId) {
  const buttons = importButtons();
  for (const b of buttons) b.disabled = true;
  showReport('Importing…', false);
  try {
    applyReport(await invoke('import_teammates', { source, groupId }));
  } catch (err) {
    showReport(M.errorMessage(err), true);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

async function toggleTeams() {
  const toggle = $('team-toggle');
  const open = toggle.getAttribute('aria-expanded') !== 'true';
  toggle.setAttribute('aria-expanded', String(open));
  show($('team-picker'), open);
  if (!open) return;
  if (groupsLoaded) {
    $('team-select').focus();
    return;
  }
  const select = $('team-select');
  select.replaceChildren(el('option', { value: '', text: 'Loading your teams…' }));
  select.disabled = true;
  $('team-import').disabled = true;
  try {
    const groups = await invoke('list_groups');
    const sorted = [...groups].sort((a, b) => M.compareNames(a.displayName, b.displayName));
    select.replaceChildren(...sorted.map((g) => el('option', { value: g.id, text: g.displayName, title: g.description || null })));
    groupsLoaded = sorted.length > 0;
    if (sorted.length === 0) {
      select.replaceChildren(el('option', { value: '', text: 'You are not in any team' }));
    } else {
      select.disabled = false;
      $('team-import').disabled = false;
      select.focus();
    }
  } catch (err) {
    select.replaceChildren(el('option', { value: '', text: 'Could not load your teams' }));
    showReport(M.errorMessage(err), true);
  }
}

function wireAddPeople() {
  $('people-search').addEventListener('input', (e) => {
    clearTimeout(searchTimer);
    searchSerial += 1;
    const text = e.target.value.trim();
    $('search-status').classList.remove('error');
    if (text.length < 2) {
      $('search-results').replaceChildren();
      setText($('search-status'), text ? 'Type at least two letters.' : '');
      return;
    }
    setText($('search-status'), 'Searching…');
    const serial = searchSerial;
    searchTimer = setTimeout(() => runSearch(text, serial), 300);
  });
  $('people-search').addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      const first = $('search-results').querySelector('button:not([disabled])');
      if (first) {
        e.preventDefault();
        first.focus();
      }
    }
  });
  for (const button of document.querySelectorAll('#add-dialog [data-import]')) {
    button.addEventListener('click', () => runImport(button.dataset.import, null));
  }
  $('team-toggle').addEventListener('click', toggleTeams);
  $('team-import').addEventListener('click', () => {
    const groupId = $('team-select').value;
    if (groupId) runImport('group', groupId);
  });
}

// Settings -----------------------------------------------------------------------------

let settingsEdited = false;

/** Opens at once with what is known, then shows the saved settings as they are now. */
async function openSettings(opener) {
  const dialog = $('settings-dialog');
  if (dialog.open) return;
  setText($('settings-error'), '');
  settingsEdited = false;
  fillSettings(state.settings);
  const signedIn = state.signIn.state === 'signed_in';
  show($('account-section'), signedIn);
  if (signedIn) {
    const a = state.signIn.account ?? {};
    setText($('account-name'), a.displayName || a.username || 'Signed in');
    setText($('account-user'), a.displayName ? a.username ?? '' : '');
    setText($('account-detail'), [a.cloudName || a.cloud, a.tenant].filter(Boolean).join(' · '));
  }
  openDialog(dialog, opener, $('set-cloud'));
  try {
    const settings = await invoke('get_settings');
    state.settings = settings;
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
  $('set-interval').value = s.intervalSecs ?? '';
  syncQuietFields();
  for (const input of $('settings-form').querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

function syncQuietFields() {
  const on = $('set-quiet').checked;
  $('set-quiet-start').disabled = !on;
  $('set-quiet-end').disabled = !on;
}

function invalid(input, message) {
  input.setAttribute('aria-invalid', 'true');
  setText($('settings-error'), message);
  input.focus();
  return null;
}

function readSettings() {
  for (const input of $('settings-form').querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  const interval = Number($('set-interval').value);
  if (!Number.isInteger(interval) || interval < 5) return invalid($('set-interval'), 'Check presence every 5 seconds or more (a whole number).');
  const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
  const quiet = $('set-quiet').checked;
  const start = $('set-quiet-start').value.slice(0, 5);
  const end = $('set-quiet-end').value.slice(0, 5);
  if (quiet && !hhmm.test(start)) return invalid($('set-quiet-start'), 'Enter the start of quiet hours as HH:MM.');
  if (quiet && !hhmm.test(end)) return invalid($('set-quiet-end'), 'Enter the end of quiet hours as HH:MM.');
  const base = state.settings ?? {};
  return {
    ...base,
    cloud: $('set-cloud').value,
    tenant: $('set-tenant').value.trim(),
    clientId: $('set-client-id').value.trim(),
    quietHours: {
      ...(base.quietHours ?? {}),
      enabled: quiet,
      start: hhmm.test(start) ? start : base.quietHours?.start ?? '18:00',
      end: hhmm.test(end) ? end : base.quietHours?.end ?? '08:00',
    },
    autostart: $('set-autostart').checked,
    intervalSecs: interval,
  };
}

function wireSettings() {
  $('set-quiet').addEventListener('change', syncQuietFields);
  $('settings-form').addEventListener('input', () => {
    settingsEdited = true;
  });
  $('settings-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    setText($('settings-error'), '');
    const settings = readSettings();
    if (!settings) return;
    const save = $('settings-save');
    save.disabled = true;
    try {
      state.settings = await invoke('save_settings', { settings });
      $('settings-dialog').close();
    } catch (err) {
      setText($('settings-error'), M.errorMessage(err));
    } finally {
      save.disabled = false;
    }
  });
  $('sign-out-button').addEventListener('click', async () => {
    setText($('settings-error'), '');
    try {
      await invoke('sign_out');
      focusAfterClose.set($('settings-dialog'), $('signin-button'));
      $('settings-dialog').close();
    } catch (err) {
      setText($('settings-error'), M.errorMessage(err));
    }
  });
}

// Ticker -------------------------------------------------------------------------------

/** Once a second: countdowns and "for 25 min". Never calls invoke. */
function tick() {
  const now = Date.now();
  if (state.signIn.state === 'signing_in') updateCodeCountdown(now);
  if (state.signIn.state === 'signed_in') {
    updateDurations(now);
    const paused = M.isPaused(state.pausedUntil, now);
    if (paused === $('paused-chip').hidden) renderPause();
  }
  if (state.status?.retryAfterS != null) updateBannerCountdown(now);
}

boot();
