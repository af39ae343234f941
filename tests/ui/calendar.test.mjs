// "When they will be free": a row's calendar outlook in the engine's words,
// shown as given, and the words of the calendar banner (ui/model.js), and
// the window showing them (the real page and modules on a fake DOM,
// mock-tauri.js as the Rust side: harness.mjs). How the engine words an
// outlook, and when those words change, is tested in core.
//   node --test tests/ui/
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openWindow } from './harness.mjs';
import { freshCopy } from './ui-modules.mjs';

const M = await import(freshCopy('model.js'));

const MIN = 60000;
const outlook = (extra = {}) => ({ busyUntil: null, freeAt: null, words: [], outsideWorkingHours: false, utcOffsetMinutes: null, ...extra });

// ------------------------------------------------------------------ words

test('a row says every part of their calendar the engine gives, one after the other', () => {
  assert.equal(M.calendarText(null), '');
  assert.equal(M.calendarText(undefined), '');
  assert.equal(M.calendarText(outlook()), '', 'nothing to say');
  assert.equal(M.calendarText({ busyUntil: null }), '', 'no words at all');
  assert.equal(M.calendarText(outlook({ words: ['until 14:30'] })), 'until 14:30');
  assert.equal(
    M.calendarText(outlook({ words: ['until 14:30', 'free at 15:00', 'outside working hours (22:10 there)'], outsideWorkingHours: true, utcOffsetMinutes: 60 })),
    'until 14:30 · free at 15:00 · outside working hours (22:10 there)',
  );
  assert.equal(M.calendarText(outlook({ words: ['outside working hours'], outsideWorkingHours: true })), 'outside working hours');
  assert.equal(M.calendarText(outlook({ words: ['', 'free at Wed 2 Dec 09:00', ''] })), 'free at Wed 2 Dec 09:00', 'empty parts are left out');
});

test('the window adds no words of its own: outside working hours and their offset are the engine\'s to word', () => {
  // Their time of day is not worked out here, nor "outside working hours" added.
  assert.equal(M.calendarText(outlook({ outsideWorkingHours: true, utcOffsetMinutes: 60 })), '');
  const given = outlook({ words: ['free at 09:00', 'outside working hours (22:10 there)'], outsideWorkingHours: true, utcOffsetMinutes: -300 });
  assert.equal(M.calendarText(given), 'free at 09:00 · outside working hours (22:10 there)', 'as given, whatever the time and the offset');
  assert.equal(M.calendarText.length, 1, 'no clock to be given');
  for (const gone of ['nextCalendarTextChange', 'clockAtOffset']) assert.equal(M[gone], undefined, gone);
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
  // As the mock words them, as the engine will: their time of day there, from their offset.
  assert.ok([clockThere(540), clockThere(540, Date.now() - 1000)].map((hm) => `outside working hours (${hm} there)`).includes(calendarOf('Lee Gu')), calendarOf('Lee Gu'));
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
  // Every part as given, the last one too, whatever the outlook's other fields say.
  const words = ['until Tue 8 Dec 14:30', 'free at Tue 8 Dec 15:00', 'outside working hours (22:10 there)'];
  w.mock.emit('presence-changed', [{ id: alex.dataset.id, calendar: outlook({ words, outsideWorkingHours: true, utcOffsetMinutes: -300 }) }]);
  await w.settle(40);
  assert.equal(calendarOf('Alex Wilber'), 'until Tue 8 Dec 14:30 · free at Tue 8 Dec 15:00 · outside working hours (22:10 there)');
  assert.equal(alex.querySelector('.calendar-words').title, calendarOf('Alex Wilber'), 'the whole line in its title');
  // The engine's words are text, never markup.
  w.mock.emit('presence-changed', [{ id: alex.dataset.id, calendar: outlook({ words: ['<img src=x onerror=alert(1)>', '<b>outside working hours</b>'] }) }]);
  await w.settle(40);
  assert.equal(calendarOf('Alex Wilber'), '<img src=x onerror=alert(1)> · <b>outside working hours</b>');
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

test('their time of day there moves on with the minute as the engine words it, in their rows only', async () => {
  const realNow = Date.now;
  // The window's clock (and the mock engine's), two seconds before a minute
  // turns; not midnight, when "until" words change too.
  let turn = Math.ceil((realNow() + 2 * MIN) / MIN) * MIN;
  if (new Date(turn).getHours() === 0 && new Date(turn).getMinutes() === 0) turn += MIN;
  const skew = turn - 2000 - realNow();
  Date.now = () => realNow() + skew;
  try {
    await open('calendar=on');
    const told = [];
    w.afterEvent((name, payload) => told.push([name, payload]));
    const left = turn - Date.now();
    assert.ok(left > 100, `${left} ms left: the window took too long to open`);
    assert.equal(calendarOf('Lee Gu'), `outside working hours (${clockThere(540, turn - MIN)} there)`);
    // Only Lee's and Lynne's words move on; nobody else's row is touched.
    const others = rows().filter((li) => !['Lee Gu', 'Lynne Robbins'].includes(li.querySelector('.name').textContent));
    const seen = others.map((li) => [watch(li.querySelector('.calendar-words')), watch(li.querySelector('.since'))]);
    await sleep(left + 300);
    assert.equal(calendarOf('Lee Gu'), `outside working hours (${clockThere(540, turn)} there)`);
    assert.match(calendarOf('Lynne Robbins'), new RegExp(`^free at \\d\\d:\\d\\d · outside working hours \\(${clockThere(-330, turn)} there\\)$`));
    for (const [calendar, since] of seen) assert.equal(calendar.reads + calendar.writes + since.reads + since.writes, 0, 'no other row was redrawn');
    // Told by the engine, in one time-words-changed for the two of them.
    const timeWords = told.filter(([name]) => name === 'time-words-changed');
    assert.equal(timeWords.length, 1, told.map(([name]) => name).join(', '));
    const named = timeWords[0][1];
    assert.deepEqual(named.map((t) => t.id).sort(), [row('Lee Gu').dataset.id, row('Lynne Robbins').dataset.id].sort());
    const lee = named.find((t) => t.id === row('Lee Gu').dataset.id);
    assert.deepEqual(lee.calendarWords, [`outside working hours (${clockThere(540, turn)} there)`]);
    assert.equal(lee.sinceWords, 'for 3 h');
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
