// The window's state and the plain functions that change it. A reducer takes
// the state and what happened and returns the next state, never changing
// the one it was given: `node --test` checks them without a page.
//
// Teammates are kept as the engine sends them (with their statusText, kind,
// statusRank, sinceWords and calendar outlook), in a Map by ID.

import { showsSignInChange } from './model.js';

export const SIGNED_OUT = Object.freeze({ state: 'signed_out', message: null, account: null, code: null, browserUrl: null });
export const CALENDAR_OFF = Object.freeze({ state: 'off', message: null });

export function initialState() {
  return {
    signIn: SIGNED_OUT,
    // What the engine last said about the sign-in, whatever the window shows
    // meanwhile: a start that fails goes back to it.
    engineSignIn: SIGNED_OUT,
    // The start command the window waits for: {serial, kind, cancelled}, or null.
    starting: null,
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
    // A config file Presently could not read: {file, key, line, message}.
    configProblem: null,
    // The roster file could not be read at start and was kept aside: the
    // engine's sentence, until dismissed.
    rosterProblem: null,
    rosterProblemDismissed: null,
    // Where "when they will be free" stands: {state: off | needs_permission | on | problem, message}.
    calendar: CALENDAR_OFF,
    // The statuses you may set yourself ([{word, label}], Teams' words), and
    // whether you may here at all (not in the China cloud), and if not why,
    // in the engine's words.
    statusChoices: [],
    canSetStatus: false,
    cannotSetStatus: null,
    // A change to your own status waiting for the browser sign-in that
    // allows it: {url, opened, rest (what is left to send then), seen (that
    // sign-in has been seen under way)}, or null.
    myStatusConsent: null,
  };
}

const byId = (list) => new Map((list ?? []).map((t) => [t.id, t]));

/** Takes the engine's word for the sign-in, with what only the window knows. */
export function signInAdopted(state, view) {
  const code = view.state === 'signing_in' ? view.code ?? state.code : null;
  if (view.state !== 'in_browser') return { ...state, signIn: view, code, browser: null };
  // Another address is another sign-in (one started from the tray, say):
  // whether a browser opened for it is not known here.
  const was = state.browser;
  const known = was && (!was.url || !view.browserUrl || was.url === view.browserUrl) ? was : {};
  const browser = { url: view.browserUrl ?? known.url ?? null, opened: known.opened ?? null, showUrl: Boolean(known.showUrl) };
  return { ...state, signIn: view, code, browser };
}

/** get_state's answer: everything at once. */
export function stateLoaded(state, app, now) {
  const engineSignIn = app.signIn ?? state.engineSignIn;
  return {
    ...signInAdopted({ ...state, engineSignIn }, engineSignIn),
    roster: byId(app.roster),
    status: app.status ?? null,
    statusAt: now,
    settings: app.settings ?? null,
    trayAvailable: app.trayAvailable !== false,
    pausedUntil: app.notificationsPausedUntil ?? null,
    me: app.me ?? null,
    configProblem: app.configProblem ?? null,
    rosterProblem:
      app.rosterProblem && app.rosterProblem !== state.rosterProblemDismissed ? app.rosterProblem : null,
    calendar: app.calendar ?? CALENDAR_OFF,
    statusChoices: app.statusChoices ?? [],
    canSetStatus: app.canSetStatus === true,
    cannotSetStatus: app.cannotSetStatus ?? null,
  };
}

/**
 * A sign-in-changed event. The engine's word is always kept; it is shown
 * unless a start of the window's own makes it no news (model.js).
 */
export function signInChanged(state, view) {
  const next = { ...state, engineSignIn: view };
  return showsSignInChange(view, state.starting) ? signInAdopted(next, view) : next;
}

export function rosterReplaced(state, list) {
  return { ...state, roster: byId(list) };
}

/** New presence for people in the roster; anyone else is not ours (any more). */
export function presenceChanged(state, list) {
  const roster = new Map(state.roster);
  for (const t of list) {
    const before = roster.get(t.id);
    if (before) roster.set(t.id, { ...before, ...t });
  }
  return { ...state, roster };
}

/**
 * time-words-changed: new words about time for some teammates, which the
 * engine keeps current: how long they have had their presence ("for 26
 * min", or "as of 14:05" while the engine gets no answers), and every part
 * of what their calendar says ("until 14:30", "outside working hours (22:10
 * there)"; null for none). A teammate without a calendar outlook does not
 * get one from here: that comes with the teammate. Anyone not in the roster
 * is not ours (any more).
 */
export function timeWordsChanged(state, list) {
  const roster = new Map(state.roster);
  for (const { id, sinceWords, calendarWords } of list ?? []) {
    const before = roster.get(id);
    if (!before) continue;
    const next = { ...before, sinceWords: sinceWords ?? '' };
    if (before.calendar) next.calendar = { ...before.calendar, words: calendarWords ?? [] };
    roster.set(id, next);
  }
  return { ...state, roster };
}

/** The IDs among `list` whose status reads differently from before: their rows light up. */
export function statusTextChanged(state, list) {
  return list.filter((t) => state.roster.has(t.id) && state.roster.get(t.id).statusText !== t.statusText).map((t) => t.id);
}

export function statusChanged(state, status, now) {
  return { ...state, status, statusAt: now };
}

export function meChanged(state, me) {
  return { ...state, me };
}

export function pauseChanged(state, pausedUntil) {
  return { ...state, pausedUntil: pausedUntil ?? null };
}

export function configProblemChanged(state, problem) {
  return { ...state, configProblem: problem ?? null };
}

export function calendarChanged(state, calendar) {
  return { ...state, calendar: calendar ?? CALENDAR_OFF };
}

/** "OK" on the roster problem: gone, and not shown again by a reload. */
export function rosterProblemDismissed(state) {
  return { ...state, rosterProblem: null, rosterProblemDismissed: state.rosterProblem };
}

export function filterChanged(state, filter) {
  return { ...state, filter };
}

export function settingsLoaded(state, settings) {
  return { ...state, settings };
}

// ------------------------------------------------------------ sign-in starts

let serial = 0;

/** A new attempt to start a sign-in of `kind` ('signing_in' or 'in_browser'). */
export function newAttempt(kind) {
  serial += 1;
  return { serial, kind, cancelled: false };
}

/** Shows the sign-in of the attempt under way at once, before the engine answers. */
export function startBegun(state, attempt) {
  return {
    ...state,
    starting: attempt,
    signIn: { ...state.signIn, state: attempt.kind, message: null, code: null, browserUrl: null },
    code: null,
    browser: attempt.kind === 'in_browser' ? { url: null, opened: null, showUrl: false } : null,
  };
}

/** True while `attempt` is the start the window waits for. */
export function isCurrentStart(state, attempt) {
  return state.starting?.serial === attempt.serial;
}

export function startEnded(state) {
  return { ...state, starting: null };
}

/** The start failed: back to what the engine last said. */
export function startFailed(state) {
  return signInAdopted({ ...state, starting: null }, state.engineSignIn);
}

/** Cancel pressed: the start under way (if any) is no longer wanted, nor is the sign-in shown. */
export function startCancelled(state) {
  return { ...state, starting: state.starting && { ...state.starting, cancelled: true } };
}

/** The answer to start_browser_sign_in: the address, and whether a browser opened. */
export function browserOpened(state, answer) {
  const url = answer?.url ?? state.browser?.url ?? null;
  return { ...state, browser: { ...state.browser, url, opened: answer?.opened !== false }, signIn: { ...state.signIn, browserUrl: url } };
}

/** The answer to start_sign_in: the code to show. */
export function codeReceived(state, code) {
  return { ...state, code, signIn: { ...state.signIn, code } };
}

export function browserUrlToggled(state) {
  return state.browser ? { ...state, browser: { ...state.browser, showUrl: !state.browser.showUrl } } : state;
}

// ------------------------------------------------------------ your own status

/**
 * save_my_status, set_my_status or set_my_message answered "consent": the
 * engine signs in again in the browser asking for the permission, and
 * makes that change once through; `rest`, what it left to make after it,
 * waits for it too.
 */
export function myStatusConsentBegun(state, answer, rest) {
  const consent = { url: answer?.url ?? null, opened: answer?.opened !== false, rest, seen: state.signIn.state === 'in_browser' };
  return { ...state, myStatusConsent: consent };
}

/** The sign-in that asks for the permission is under way. */
export function myStatusConsentSeen(state) {
  const consent = state.myStatusConsent;
  return consent && !consent.seen ? { ...state, myStatusConsent: { ...consent, seen: true } } : state;
}

export function myStatusConsentEnded(state) {
  return { ...state, myStatusConsent: null };
}

// ------------------------------------------------------------ teammates

/** One of a teammate's flags (notify, favorite, notifyEveryChange), set at once, before the engine answers. */
export function flagSet(state, id, flag, value) {
  const before = state.roster.get(id);
  if (!before) return state;
  return { ...state, roster: new Map(state.roster).set(id, { ...before, [flag]: value }) };
}

/** The engine's answer about one teammate; nothing if they have left the roster meanwhile. */
export function teammateUpdated(state, id, updated) {
  const before = state.roster.get(id);
  if (!before || !updated) return state;
  return { ...state, roster: new Map(state.roster).set(id, { ...before, ...updated }) };
}

// ------------------------------------------------------------ the store

/** Holds the state; `update(reducer, ...args)` moves it on. */
export function createStore(state = initialState()) {
  return {
    get state() {
      return state;
    },
    update(reducer, ...args) {
      state = reducer(state, ...args);
      return state;
    },
  };
}

/** The window's one store. */
export const store = createStore();
