// Presently's window. It draws what the Rust side sends: one get_state at
// start (and after each sign-in), then events. No timer here ever calls
// invoke; the clock (clock.js) only redraws countdowns (a sign-in code's, a
// retry's) and the pause chip, when they change. Every phrase about a
// teammate's time, how long they have had their presence ("for 25 min", "as
// of 14:05") and what their calendar says ("until 14:30", "outside working
// hours (22:10 there)"), is the engine's to word and to keep current
// (time-words-changed): the window shows it as given. (The one call the
// window makes on its own is roster_painted, once per page.)
//
// Every string that comes from Microsoft Graph or from a person (names, job
// titles, status messages, out-of-office notes, error messages) reaches the
// page through textContent or a text node, never as markup.
//
// This module starts the window and wires the others together: ipc.js talks
// to Rust, store.js holds the state, views/ draw one feature each.

import * as ipc from './ipc.js';
import { clock } from './clock.js';
import * as M from './model.js';
import { $, keepFocus, setText, show } from './dom.js';
import { fillIcons, logo } from './icons.js';
import {
  calendarChanged,
  configProblemChanged,
  meChanged,
  pauseChanged,
  presenceChanged,
  rosterReplaced,
  signInChanged,
  stateLoaded,
  statusChanged,
  statusTextChanged,
  store,
  timeWordsChanged,
} from './store.js';
import { forgetAddPeople, wireAddPeople } from './views/add.js';
import { renderBanner, updateBannerCountdown } from './views/banner.js';
import { renderCalendar } from './views/calendar.js';
import { renderConfigProblem } from './views/config-problem.js';
import { renderRosterProblem } from './views/roster-problem.js';
import { wireDialogs } from './views/dialogs.js';
import { renderMe } from './views/me.js';
import { wireMenu } from './views/menu.js';
import { syncMyStatus, wireMyStatus } from './views/my-status.js';
import { renderPause, updatePause, wirePause } from './views/pause.js';
import {
  highlightRows,
  markRowsStale,
  patchRows,
  patchTimeWords,
  renderRoster,
  wireRoster,
} from './views/roster.js';
import { openSettings, wireSettings } from './views/settings.js';
import { renderSignIn, signInFocus, updateCodeCountdown, wireSignIn } from './views/signin.js';

// ---------------------------------------------------------------- start

async function boot() {
  fillIcons(document);
  $('brand-logo').replaceWith(logo());
  wireMenu();
  wireDialogs(() => (store.state.signIn.state === 'signed_in' ? $('filter') : signInFocus()));
  wireSignIn({ render, settings: openSettings });
  wireRoster();
  wirePause();
  wireAddPeople();
  wireSettings();
  wireMyStatus({ render });
  // Starting over is the simplest way to be sure that every listener is in place.
  $('boot-retry').addEventListener('click', () => window.location.reload());

  if (!ipc.available()) {
    bootFailed('This page is the window of the Presently app and only works inside it.', false);
    return;
  }

  // Listen first, so that nothing that happens during get_state is lost.
  const on = (name, handler) =>
    ipc.listen(name, (payload) => {
      if (pending) pending.push(() => handler(payload));
      else handler(payload);
    });
  try {
    await Promise.all([
      on(ipc.EVENTS.signInChanged, onSignInChanged),
      on(ipc.EVENTS.rosterChanged, onRosterChanged),
      on(ipc.EVENTS.presenceChanged, onPresenceChanged),
      on(ipc.EVENTS.timeWordsChanged, onTimeWordsChanged),
      on(ipc.EVENTS.statusChanged, onStatusChanged),
      on(ipc.EVENTS.meChanged, onMeChanged),
      on(ipc.EVENTS.pauseChanged, onPauseChanged),
      on(ipc.EVENTS.configProblem, onConfigProblem),
      on(ipc.EVENTS.calendarChanged, onCalendarChanged),
    ]);
  } catch (err) {
    bootFailed(M.errorMessage(err), true);
    return;
  }
  await loadState();
  clock.start(tick, nextTick);
}

// While get_state is under way, events wait here. Its answer may have been
// put together before an event the window has already been sent (a sign-in
// is followed at once by the first status and your own presence): applied
// after the answer, in order, each event leaves what is newest.
let pending = [];

async function loadState() {
  pending ??= [];
  try {
    store.update(stateLoaded, await ipc.getState(), Date.now());
    $('boot').classList.remove('failed');
    render();
  } catch (err) {
    bootFailed(M.errorMessage(err), true);
  }
  const waiting = pending;
  pending = null;
  for (const run of waiting) run();
}

function bootFailed(message, canRetry) {
  show($('boot'), true);
  $('boot').classList.add('failed');
  setText($('boot-text'), message);
  show($('boot-retry'), canRetry);
  show($('signin-screen'), false);
  show($('roster-screen'), false);
}

// ---------------------------------------------------------------- events

function onSignInChanged(view) {
  const shown = M.showsSignInChange(view, store.state.starting);
  const was = store.state.signIn.state;
  store.update(signInChanged, view);
  if (!shown) return;
  if (view.state === 'signed_in' && was !== 'signed_in') {
    // A new session, perhaps another account: everything starts over.
    forgetAddPeople();
    loadState();
    return;
  }
  render();
}

// The roster is drawn at most once a frame, however many events came since:
// the whole list after a roster change, else only the rows whose presence
// changed.
let rosterDue = null;

function drawRosterSoon() {
  if (rosterDue) return rosterDue;
  rosterDue = { whole: false, ids: new Set(), lit: new Set() };
  requestAnimationFrame(() => {
    const { whole, ids, lit } = rosterDue;
    rosterDue = null;
    if (whole) renderRoster();
    else patchRows(ids);
    highlightRows([...lit]);
  });
  return rosterDue;
}

function onRosterChanged(list) {
  store.update(rosterReplaced, list);
  drawRosterSoon().whole = true;
}

function onPresenceChanged(list) {
  const due = drawRosterSoon();
  for (const id of statusTextChanged(store.state, list)) due.lit.add(id);
  for (const t of list) due.ids.add(t.id);
  store.update(presenceChanged, list);
}

// Only the words about time change: "for 26 min" as time passes, "as of
// 14:05" while the engine gets no answers, a calendar's "(22:11 there)" each
// minute, its "until Tue 8 Dec 09:00" becoming "until 09:00" at midnight. A
// row not drawn (hidden by the filter) shows the store's words when it is.
function onTimeWordsChanged(list) {
  store.update(timeWordsChanged, list);
  patchTimeWords(list.map((t) => t.id));
}

function onStatusChanged(status) {
  const wasStale = M.isStale(store.state.status);
  store.update(statusChanged, status, Date.now());
  renderBanner();
  // Offline or back: every row dims, or no longer. Their words ("as of
  // 14:05") follow by time-words-changed.
  if (M.isStale(status) !== wasStale) markRowsStale(M.isStale(status));
  clock.changed();
}

function onMeChanged(me) {
  store.update(meChanged, me);
  renderMe();
}

function onPauseChanged(payload) {
  store.update(pauseChanged, payload?.pausedUntil);
  renderPause();
}

function onConfigProblem(problem) {
  store.update(configProblemChanged, problem);
  renderConfigProblem();
}

function onCalendarChanged(calendar) {
  store.update(calendarChanged, calendar);
  renderCalendar();
}

// ---------------------------------------------------------------- render

function render() {
  const { signIn, trayAvailable, roster } = store.state;
  const signedIn = signIn.state === 'signed_in';
  // Only a focus that was lost to a hidden element is moved; at start the
  // page leaves focus alone.
  const hadFocus = document.activeElement && document.activeElement !== document.body;
  show($('boot'), false);
  show($('signin-screen'), !signedIn);
  show($('roster-screen'), signedIn);
  show($('tray-note'), !trayAvailable);
  if (signedIn) {
    renderMe();
    renderRoster();
    renderPause();
    if (hadFocus) keepFocus(roster.size > 0 ? $('filter') : $('empty-add'));
  } else {
    renderSignIn();
    if (hadFocus) keepFocus(signInFocus());
  }
  renderBanner();
  renderConfigProblem();
  renderRosterProblem();
  renderCalendar();
  // A change to your status that waited for this sign-in goes on, or is given up.
  syncMyStatus();
  clock.changed();
}

/** The countdowns and the pause, when the clock says they change. Never calls invoke. */
function tick(now) {
  const { signIn, status } = store.state;
  if (signIn.state === 'signing_in') updateCodeCountdown(now);
  if (signIn.state === 'signed_in') updatePause(now);
  if (status?.retryAfterS != null) updateBannerCountdown(now);
}

/** When tick has something to redraw next (ms): every second while a countdown shows. */
function nextTick(now) {
  const { signIn, status, pausedUntil } = store.state;
  if (signIn.state === 'signing_in' || status?.retryAfterS != null) return now + 1000;
  if (signIn.state !== 'signed_in') return Infinity;
  return M.isPaused(pausedUntil, now) ? Date.parse(pausedUntil) : Infinity;
}

boot();
