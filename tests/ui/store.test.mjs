// The window's state and its reducers (ui/store.js): plain functions, tested
// without a page.
//   node --test tests/ui/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshCopy } from './ui-modules.mjs';

const S = await import(freshCopy('store.js'));

const teammate = (id, statusText, extra = {}) => ({ id, displayName: id, statusText, kind: 'busy', statusRank: 1, favorite: false, notify: false, ...extra });
const signedIn = { state: 'signed_in', message: null, account: { displayName: 'Debra' }, code: null, browserUrl: null };

/** A state as get_state leaves it, signed in with two teammates. */
function loaded() {
  return S.stateLoaded(
    S.initialState(),
    {
      signIn: signedIn,
      roster: [teammate('a', 'Busy · In a meeting'), teammate('b', 'Away', { kind: 'away', statusRank: 3 })],
      status: { state: 'ok' },
      settings: { intervalSecs: 30 },
      trayAvailable: false,
      notificationsPausedUntil: null,
      me: null,
      configProblem: null,
    },
    1000,
  );
}

/** Every reducer leaves the state it was given as it was. */
function frozen(state) {
  Object.freeze(state);
  Object.freeze(state.signIn);
  return state;
}

test('get_state fills the store', () => {
  const s = loaded();
  assert.equal(s.signIn.state, 'signed_in');
  assert.equal(s.engineSignIn, s.signIn);
  assert.deepEqual([...s.roster.keys()], ['a', 'b']);
  assert.equal(s.statusAt, 1000);
  assert.equal(s.trayAvailable, false);
  assert.equal(s.configProblem, null);
  // A state without a sign-in keeps the one known.
  assert.equal(S.stateLoaded(s, { roster: [] }, 2000).signIn.state, 'signed_in');
});

test('presence changes merge into the roster and say whose words changed', () => {
  const s = frozen(loaded());
  const list = [teammate('a', 'Available', { kind: 'available', statusRank: 0 }), teammate('b', 'Away', { kind: 'away' }), teammate('gone', 'Busy')];
  assert.deepEqual(S.statusTextChanged(s, list), ['a']);
  const next = S.presenceChanged(s, list);
  assert.equal(next.roster.get('a').statusText, 'Available');
  assert.equal(next.roster.get('a').kind, 'available');
  assert.equal(next.roster.has('gone'), false, 'someone not in the roster is not added');
  assert.equal(s.roster.get('a').statusText, 'Busy · In a meeting', 'the old state is left alone');
});

test('new words about time: those teammates only, the rest of each as it was', () => {
  const outlook = { busyUntil: null, freeAt: null, words: ['until 14:30'], outsideWorkingHours: true, utcOffsetMinutes: 60 };
  const s = frozen(
    S.presenceChanged(loaded(), [
      teammate('a', 'Busy · In a meeting', { sinceWords: 'for 25 min', calendar: outlook }),
      teammate('b', 'Away', { sinceWords: 'for 3 h' }),
    ]),
  );
  const next = S.timeWordsChanged(s, [
    { id: 'a', sinceWords: 'as of 14:05', calendarWords: ['until 14:30', 'outside working hours (22:10 there)'] },
    { id: 'gone', sinceWords: 'for 1 min', calendarWords: null },
  ]);
  const a = next.roster.get('a');
  assert.equal(a.sinceWords, 'as of 14:05');
  assert.deepEqual(a.calendar.words, ['until 14:30', 'outside working hours (22:10 there)']);
  assert.deepEqual(a.calendar, { ...outlook, words: a.calendar.words }, 'the outlook keeps its other fields');
  assert.equal(a.statusText, 'Busy · In a meeting', 'nothing else changes');
  assert.equal(next.roster.get('b'), s.roster.get('b'), 'someone not in the event is left alone');
  assert.equal(next.roster.has('gone'), false, 'someone not in the roster is not added');
  assert.equal(s.roster.get('a').sinceWords, 'for 25 min', 'the old state is left alone');
  assert.deepEqual(s.roster.get('a').calendar.words, ['until 14:30']);
  assert.equal(S.timeWordsChanged(next, [{ id: 'a', sinceWords: '', calendarWords: [] }]).roster.get('a').sinceWords, '', 'no presence known: no words');
  assert.equal(S.timeWordsChanged(next, [{ id: 'a', sinceWords: null, calendarWords: [] }]).roster.get('a').sinceWords, '');
  // Kept by what comes next: a presence change without words, a flag.
  const later = S.flagSet(S.presenceChanged(next, [{ id: 'a', statusText: 'Available' }]), 'a', 'favorite', true);
  assert.equal(later.roster.get('a').sinceWords, 'as of 14:05');
  assert.deepEqual(later.roster.get('a').calendar.words, ['until 14:30', 'outside working hours (22:10 there)']);
});

test('null calendar words clear them; a teammate without a calendar outlook does not get one', () => {
  const outlook = { busyUntil: null, freeAt: null, words: ['until 14:30'], outsideWorkingHours: false, utcOffsetMinutes: null };
  const s = frozen(
    S.presenceChanged(loaded(), [teammate('a', 'Busy', { calendar: outlook }), teammate('b', 'Away', { sinceWords: 'for 3 h', calendar: null })]),
  );
  const cleared = S.timeWordsChanged(s, [{ id: 'a', sinceWords: 'for 1 h', calendarWords: null }]);
  assert.deepEqual(cleared.roster.get('a').calendar, { ...outlook, words: [] });
  // The calendar comes with the teammate (roster-changed, presence-changed),
  // never from words about time alone.
  const words = ['outside working hours (22:10 there)'];
  const b = S.timeWordsChanged(s, [{ id: 'b', sinceWords: 'for 4 h', calendarWords: words }]).roster.get('b');
  assert.equal(b.calendar, null);
  assert.equal(b.sinceWords, 'for 4 h', 'their words for how long still change');
  const none = S.rosterReplaced(s, [teammate('c', 'Away')]);
  assert.equal('calendar' in S.timeWordsChanged(none, [{ id: 'c', sinceWords: '', calendarWords: words }]).roster.get('c'), false);
});

test('a flag is set at once, then the engine has the last word', () => {
  const s = frozen(loaded());
  const set = S.flagSet(s, 'a', 'favorite', true);
  assert.equal(set.roster.get('a').favorite, true);
  assert.equal(s.roster.get('a').favorite, false);
  const answered = S.teammateUpdated(set, 'a', { ...teammate('a', 'Busy'), favorite: true, notify: true });
  assert.equal(answered.roster.get('a').notify, true);
  // Someone removed meanwhile stays removed.
  const removed = S.rosterReplaced(set, [teammate('b', 'Away')]);
  assert.equal(S.teammateUpdated(removed, 'a', teammate('a', 'Busy')), removed);
  assert.equal(S.flagSet(removed, 'a', 'notify', true), removed);
});

test('a sign-in start shows at once; its failure goes back to what the engine said', () => {
  const s = frozen(S.stateLoaded(S.initialState(), { signIn: S.SIGNED_OUT }, 0));
  const attempt = S.newAttempt('in_browser');
  const started = S.startBegun(s, attempt);
  assert.equal(started.signIn.state, 'in_browser');
  assert.deepEqual(started.browser, { url: null, opened: null, showUrl: false });
  assert.ok(S.isCurrentStart(started, attempt));
  assert.ok(!S.isCurrentStart(started, S.newAttempt('signing_in')), 'a later attempt is another');
  const failed = S.startFailed(started);
  assert.equal(failed.signIn, S.SIGNED_OUT);
  assert.equal(failed.starting, null);
  assert.equal(failed.browser, null);
  assert.equal(S.startCancelled(started).starting.cancelled, true);
  assert.equal(started.starting.cancelled, false);
});

test('while a start is under way, the engine ending the old sign-in is kept but not shown', () => {
  const attempt = S.newAttempt('in_browser');
  const started = frozen(S.startBegun(S.initialState(), attempt));
  const old = { ...S.SIGNED_OUT };
  const next = S.signInChanged(started, old);
  assert.equal(next.engineSignIn, old);
  assert.equal(next.signIn, started.signIn);
  const url = 'https://login.example/authorize';
  const shown = S.signInChanged(started, { state: 'in_browser', message: null, browserUrl: url });
  assert.equal(shown.signIn.state, 'in_browser');
  assert.equal(shown.browser.url, url);
});

test('the browser answer and the address toggle', () => {
  const started = S.startBegun(S.initialState(), S.newAttempt('in_browser'));
  const opened = S.browserOpened(started, { url: 'https://x', opened: false });
  assert.deepEqual(opened.browser, { url: 'https://x', opened: false, showUrl: false });
  assert.equal(opened.signIn.browserUrl, 'https://x');
  assert.equal(S.browserUrlToggled(opened).browser.showUrl, true);
  // The same sign-in told again keeps what the window knows; another address is another sign-in.
  assert.equal(S.signInAdopted(opened, { state: 'in_browser', browserUrl: 'https://x' }).browser.opened, false);
  assert.equal(S.signInAdopted(opened, { state: 'in_browser', browserUrl: 'https://y' }).browser.opened, null);
  const code = { userCode: 'ABC' };
  const coded = S.codeReceived(S.startBegun(S.initialState(), S.newAttempt('signing_in')), code);
  assert.equal(coded.code, code);
  assert.equal(S.signInAdopted(coded, { state: 'signing_in', code: null }).code, code, 'a code once shown stays');
});

test('pause, status, own presence, filter, settings and the config problem', () => {
  const s = frozen(loaded());
  assert.equal(S.pauseChanged(s, undefined).pausedUntil, null);
  assert.equal(S.pauseChanged(s, '2026-11-30T10:00:00Z').pausedUntil, '2026-11-30T10:00:00Z');
  const status = S.statusChanged(s, { state: 'offline', retryAfterS: 20 }, 5000);
  assert.equal(status.status.state, 'offline');
  assert.equal(status.statusAt, 5000);
  assert.equal(S.meChanged(s, teammate('me', 'Available')).me.statusText, 'Available');
  assert.equal(S.filterChanged(s, 'meg').filter, 'meg');
  assert.deepEqual(S.settingsLoaded(s, { intervalSecs: 60 }).settings, { intervalSecs: 60 });
  const problem = { file: '/x/config.toml', key: null, line: 3, message: 'Bad.' };
  assert.equal(S.configProblemChanged(s, problem).configProblem, problem);
  assert.equal(S.configProblemChanged(S.configProblemChanged(s, problem), null).configProblem, null);
  assert.equal(S.configProblemChanged(s, undefined).configProblem, null);
});

test('a roster problem, once dismissed, stays dismissed when the state is loaded again', () => {
  const app = { signIn: signedIn, roster: [], rosterProblem: 'The roster file could not be read.' };
  const s = S.stateLoaded(S.initialState(), app, 1);
  assert.equal(s.rosterProblem, app.rosterProblem);
  const dismissed = S.rosterProblemDismissed(s);
  assert.equal(dismissed.rosterProblem, null);
  assert.equal(S.stateLoaded(dismissed, app, 2).rosterProblem, null);
  // Another problem is news.
  const other = { ...app, rosterProblem: 'Again, line 9.' };
  assert.equal(S.stateLoaded(dismissed, other, 3).rosterProblem, other.rosterProblem);
});

test('where "when they will be free" stands: from get_state, then by event', () => {
  assert.deepEqual(S.initialState().calendar, { state: 'off', message: null });
  const s = frozen(loaded());
  assert.equal(s.calendar.state, 'off', 'a state without it: off');
  const permission = { state: 'needs_permission', message: null };
  const asked = S.stateLoaded(S.initialState(), { signIn: signedIn, roster: [], calendar: permission }, 1);
  assert.equal(asked.calendar, permission);
  const problem = { state: 'problem', message: 'Could not read calendars.' };
  const next = S.calendarChanged(s, problem);
  assert.equal(next.calendar, problem);
  assert.equal(s.calendar.state, 'off', 'the old state is left alone');
  assert.equal(S.calendarChanged(next, null).calendar.state, 'off');
});

test('a teammate\'s calendar outlook comes and goes with the engine\'s teammate', () => {
  const outlook = { busyUntil: '2026-12-01T13:30:00Z', freeAt: null, words: ['until 14:30'], outsideWorkingHours: false, utcOffsetMinutes: 60 };
  const s = frozen(S.rosterReplaced(loaded(), [teammate('a', 'Busy', { calendar: outlook }), teammate('b', 'Away', { calendar: null })]));
  assert.deepEqual(s.roster.get('a').calendar, outlook);
  const later = { ...outlook, words: ['until 15:00'] };
  const moved = S.presenceChanged(s, [teammate('a', 'Busy', { calendar: later }), teammate('b', 'Away', { calendar: outlook })]);
  assert.deepEqual(moved.roster.get('a').calendar.words, ['until 15:00']);
  assert.deepEqual(moved.roster.get('b').calendar, outlook);
  // Turned off: the engine sends null, and the outlook is gone.
  assert.equal(S.presenceChanged(moved, [teammate('a', 'Busy', { calendar: null })]).roster.get('a').calendar, null);
  assert.deepEqual(S.teammateUpdated(moved, 'a', { ...moved.roster.get('a'), favorite: true }).roster.get('a').calendar.words, ['until 15:00']);
});

test('the store moves on by reducers', () => {
  const store = S.createStore();
  assert.equal(store.state.signIn, S.SIGNED_OUT);
  const before = store.state;
  store.update(S.filterChanged, 'x');
  assert.equal(store.state.filter, 'x');
  assert.equal(before.filter, '');
});
