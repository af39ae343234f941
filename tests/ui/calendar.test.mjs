// "When they will be free": the words of a row's calendar outlook and of the
// calendar banner (ui/model.js), and the window showing them (the real page
// and modules on a fake DOM, mock-tauri.js as the Rust side: harness.mjs).
//   node --test tests/ui/
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openWindow } from './harness.mjs';
import { freshCopy } from './ui-modules.mjs';

const M = await import(freshCopy('model.js'));

const MIN = 60000;
const outlook = (extra = {}) => ({ busyUntil: null, freeAt: null, words: [], outsideWorkingHours: false, utcOffsetMinutes: null, ...extra });
const utc = (text) => Date.parse(`${text}Z`);

// ------------------------------------------------------------------ words

test('a row says the engine\'s words for their calendar, one after the other', () => {
  const now = utc('2026-12-01T12:00:00');
  assert.equal(M.calendarText(null, now), '');
  assert.equal(M.calendarText(undefined, now), '');
  assert.equal(M.calendarText(outlook(), now), '', 'nothing to say');
  assert.equal(M.calendarText(outlook({ words: ['until 14:30'] }), now), 'until 14:30');
  assert.equal(M.calendarText(outlook({ words: ['until 14:30', 'free at 15:00'], utcOffsetMinutes: 60 }), now), 'until 14:30 · free at 15:00');
});

test('outside working hours, with their time of day there', () => {
  const outside = (utcOffsetMinutes, words = []) => outlook({ outsideWorkingHours: true, utcOffsetMinutes, words });
  assert.equal(M.calendarText(outside(60), utc('2026-12-01T21:10:00')), 'outside working hours (22:10 there)');
  assert.equal(M.calendarText(outside(0), utc('2026-12-01T21:10:59')), 'outside working hours (21:10 there)');
  // Behind UTC, across midnight backwards.
  assert.equal(M.calendarText(outside(-300), utc('2026-12-01T03:30:00')), 'outside working hours (22:30 there)');
  assert.equal(M.calendarText(outside(-480), utc('2026-12-01T00:05:00')), 'outside working hours (16:05 there)');
  // Half and three-quarter hours, across midnight forwards.
  assert.equal(M.calendarText(outside(330), utc('2026-12-01T20:00:00')), 'outside working hours (01:30 there)');
  assert.equal(M.calendarText(outside(345), utc('2026-12-01T18:20:00')), 'outside working hours (00:05 there)');
  assert.equal(M.calendarText(outside(-570), utc('2026-12-01T08:00:00')), 'outside working hours (22:30 there)');
  // Their offset unknown: no time.
  assert.equal(M.calendarText(outside(null), utc('2026-12-01T21:10:00')), 'outside working hours');
  assert.equal(M.calendarText(outside(undefined), utc('2026-12-01T21:10:00')), 'outside working hours');
  // After the engine's words.
  assert.equal(M.calendarText(outside(-300, ['free at Wed 2 Dec 09:00']), utc('2026-12-01T23:15:00')), 'free at Wed 2 Dec 09:00 · outside working hours (18:15 there)');
});

test('their time of day next changes on the minute, and nothing else does by itself', () => {
  const outside = outlook({ outsideWorkingHours: true, utcOffsetMinutes: 330, words: ['until 14:30'] });
  const now = utc('2026-12-01T20:00:12.345');
  const next = M.nextCalendarTextChange(outside, now);
  assert.equal(next, utc('2026-12-01T20:01:00'));
  assert.equal(M.nextCalendarTextChange(outside, next), utc('2026-12-01T20:02:00'));
  // The words really do change then, and not a millisecond before.
  assert.equal(M.calendarText(outside, next - 1), M.calendarText(outside, now));
  assert.notEqual(M.calendarText(outside, next), M.calendarText(outside, now));
  assert.equal(M.nextCalendarTextChange(outlook({ words: ['until 14:30'], utcOffsetMinutes: 60 }), now), Infinity);
  assert.equal(M.nextCalendarTextChange(outlook({ outsideWorkingHours: true }), now), Infinity, 'no time shown');
  assert.equal(M.nextCalendarTextChange(null, now), Infinity);
});

test('the calendar banner: an offer to allow, a problem in the engine\'s words, else nothing', () => {
  const asked = M.calendarNotice({ state: 'needs_permission', message: null }, 'signed_in');
  assert.equal(asked.text, 'To show when teammates will be free, allow Presently to read their free/busy.');
  assert.equal(asked.allow, true);
  const problem = M.calendarNotice({ state: 'problem', message: 'Microsoft Graph answered 503.' }, 'signed_in');
  assert.equal(problem.allow, false);
  assert.equal(problem.detail, 'Microsoft Graph answered 503.');
  assert.equal(M.calendarNotice({ state: 'problem', message: null }, 'signed_in').detail, null);
  for (const state of ['off', 'on']) assert.equal(M.calendarNotice({ state, message: null }, 'signed_in'), null, state);
  assert.equal(M.calendarNotice(null, 'signed_in'), null);
  // The sign-in screen (the one Allow leads to among them) has nothing to allow.
  for (const signIn of ['signed_out', 'in_browser', 'signing_in', 'declined']) {
    assert.equal(M.calendarNotice({ state: 'needs_permission', message: null }, signIn), null, signIn);
  }
});

// ------------------------------------------------------------------ the window

let w = null;
const open = async (query) => (w = await openWindow(query));
afterEach(() => w?.close());

const rows = () => [...w.$('roster-list').children];
const row = (name) => rows().find((li) => li.querySelector('.name').textContent === name);
const calendarOf = (name) => row(name).querySelector('.calendar-words').textContent;
const clockThere = (offset, ms = Date.now()) => new Date(ms + offset * MIN).toISOString().slice(11, 16);

test('rows say when they will be free, after their status, as text', async () => {
  await open('calendar=on');
  assert.match(calendarOf('Alex Wilber'), /^until \d\d:\d\d · free at \d\d:\d\d$/);
  assert.match(calendarOf('Adele Vance'), /^until \d\d:\d\d$/);
  assert.equal(calendarOf('Lee Gu'), `outside working hours (${clockThere(540)} there)`);
  assert.equal(calendarOf('Isaiah Langer'), 'outside working hours');
  assert.match(calendarOf('Lynne Robbins'), /^free at \d\d:\d\d · outside working hours \(\d\d:\d\d there\)$/);
  assert.equal(calendarOf('Megan Bowen'), '', 'a free calendar says nothing');
  // On the status line, and read with the status by the row's first button.
  const alex = row('Alex Wilber');
  const line2 = alex.querySelector('.line2');
  assert.ok(line2.contains(alex.querySelector('.calendar-words')));
  assert.match(line2.textContent, /^Busy · In a meeting.*until \d\d:\d\d/);
  const described = alex.querySelector('.btn-chat').getAttribute('aria-describedby').split(' ');
  assert.deepEqual(described.map((id) => w.$(id).className), ['status-words', 'calendar-words']);
  // The engine's words are text, never markup.
  w.mock.emit('presence-changed', [{ id: alex.dataset.id, calendar: outlook({ words: ['<img src=x onerror=alert(1)>'] }) }]);
  await w.settle(40);
  assert.equal(calendarOf('Alex Wilber'), '<img src=x onerror=alert(1)>');
  assert.equal(alex.querySelector('.calendar-words').children.length, 0);
  // Turned off: the outlooks go.
  w.mock.calendar('off');
  await w.settle(40);
  assert.deepEqual(rows().map((li) => li.querySelector('.calendar-words').textContent).filter(Boolean), []);
});

/** Counts every read and write of `node.textContent` from now on. */
function watch(node) {
  let proto = Object.getPrototypeOf(node);
  while (!Object.getOwnPropertyDescriptor(proto, 'textContent')) proto = Object.getPrototypeOf(proto);
  const real = Object.getOwnPropertyDescriptor(proto, 'textContent');
  const seen = { reads: 0, writes: 0 };
  Object.defineProperty(node, 'textContent', {
    configurable: true,
    get() {
      seen.reads += 1;
      return real.get.call(this);
    },
    set(value) {
      seen.writes += 1;
      real.set.call(this, value);
    },
  });
  return seen;
}

test('their time of day there moves on with the minute, in their rows only', async () => {
  const realNow = Date.now;
  // The window's clock, two seconds before a minute turns.
  const turn = Math.ceil((realNow() + 2 * MIN) / MIN) * MIN;
  const skew = turn - 2000 - realNow();
  Date.now = () => realNow() + skew;
  try {
    await open('calendar=on');
    const lee = row('Lee Gu');
    w.mock.emit('presence-changed', [{ id: lee.dataset.id, calendar: outlook({ outsideWorkingHours: true, utcOffsetMinutes: -150 }) }]);
    await w.settle(40);
    const left = turn - Date.now();
    assert.ok(left > 100, `${left} ms left: the window took too long to open`);
    assert.equal(calendarOf('Lee Gu'), `outside working hours (${clockThere(-150, turn - MIN)} there)`);
    // Lynne's time moves on too; nobody else's words change by themselves.
    const others = rows().filter((li) => !['Lee Gu', 'Lynne Robbins'].includes(li.querySelector('.name').textContent));
    const seen = others.map((li) => watch(li.querySelector('.calendar-words')));
    await sleep(left + 300);
    assert.equal(calendarOf('Lee Gu'), `outside working hours (${clockThere(-150, turn)} there)`);
    assert.match(calendarOf('Lynne Robbins'), new RegExp(`\\(${clockThere(-330, turn)} there\\)$`));
    for (const s of seen) assert.equal(s.reads + s.writes, 0, 'no other row was redrawn');
  } finally {
    Date.now = realNow;
  }
});

test('Allow signs in again in the browser; once allowed, the banner goes and rows say when they will be free', async () => {
  await open('calendar=permission');
  assert.ok(w.shown('calendar-banner'));
  assert.equal(w.text('calendar-text'), 'To show when teammates will be free, allow Presently to read their free/busy.');
  assert.equal(calendarOf('Alex Wilber'), '');
  w.press('calendar-allow');
  // At once, before the engine answers.
  assert.ok(w.shown('signin-browser'), 'the sign-in in the browser');
  await w.until(() => w.invoked().includes('allow_calendar'), 'allow_calendar');
  assert.equal(w.$('calendar-banner').children.length, 0, 'no banner over the sign-in');
  await w.settle(250);
  assert.ok(!w.shown('browser-url-box'), 'a browser opened: the address waits behind its toggle');
  w.mock.approve();
  await w.until(() => w.shown('roster-screen'), 'the roster');
  await w.settle(150);
  assert.equal(w.$('calendar-banner').children.length, 0);
  assert.match(calendarOf('Alex Wilber'), /^until \d\d:\d\d · free at \d\d:\d\d$/);
});

test('when no browser opens for Allow, the window shows the address to open', async () => {
  await open('calendar=permission&browser=none');
  w.press('calendar-allow');
  await w.until(() => w.shown('browser-url-box'), 'the address');
  assert.match(w.text('browser-url'), /Calendars\.ReadBasic$/);
});

test('Allow can fail, and says why in the banner, ready to try again', async () => {
  await open('calendar=permission&fail=allow_calendar');
  w.press('calendar-allow');
  await w.until(() => w.document.getElementById('calendar-error')?.textContent, 'the error');
  assert.match(w.text('calendar-error'), /Could not reach/);
  assert.ok(w.shown('roster-screen'));
  assert.ok(!w.$('calendar-allow').disabled);
  assert.equal(w.text('signin-error'), '');
});

test('a problem reading calendars shows in the engine\'s words, without a button', async () => {
  await open('calendar=problem');
  assert.match(w.text('calendar-banner'), /could not read calendars/);
  assert.match(w.text('calendar-detail'), /503: Service unavailable/);
  assert.equal(w.document.getElementById('calendar-allow'), null);
});

test('the banner comes and goes with calendar-changed, on the roster only', async () => {
  await open('');
  assert.equal(w.$('calendar-banner').children.length, 0);
  w.mock.emit('calendar-changed', { state: 'needs_permission', message: null });
  assert.ok(w.shown('calendar-allow'));
  w.mock.emit('calendar-changed', { state: 'problem', message: 'Not <b>now</b>.' });
  assert.equal(w.text('calendar-detail'), 'Not <b>now</b>.', 'as text, not markup');
  w.mock.emit('calendar-changed', { state: 'on', message: null });
  assert.equal(w.$('calendar-banner').children.length, 0);
  w.close();

  await open('s=signin');
  w.mock.emit('calendar-changed', { state: 'needs_permission', message: null });
  assert.equal(w.$('calendar-banner').children.length, 0);
});
