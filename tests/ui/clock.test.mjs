// The window with a big roster stays idle: the clock wakes only when a
// countdown of its own changes and leaves every word about a teammate's time
// ("for 5 min", "outside working hours (22:10 there)") to the engine, whose
// time-words-changed touches only the labels it names; a presence change
// redraws its own row, and a burst of events one frame.
//   node --test tests/ui/
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeEvent } from './fake-dom.mjs';
import { openWindow } from './harness.mjs';
import { freshCopy } from './ui-modules.mjs';

const { createClock, LONGEST_WAIT_MS } = await import(freshCopy('clock.js'));

let w = null;
const open = async (query) => (w = await openWindow(query));
afterEach(() => w?.close());

const rows = () => [...w.$('roster-list').children];
const row = (name) => rows().find((li) => li.querySelector('.name').textContent === name);

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

const MIN = 60000;

test('the clock sets one timer for the next change, sooner when told, and waits at most a minute', () => {
  const set = [];
  const cleared = [];
  const timers = {
    setTimeout: (fn, ms) => set.push({ fn, ms }) - 1,
    clearTimeout: (id) => cleared.push(id),
  };
  const clock = createClock(timers);
  let next = Date.now() + 40_000;
  const ticks = [];
  clock.start((now) => ticks.push(now), () => next);
  assert.equal(set.length, 1);
  assert.ok(set[0].ms > 39_000 && set[0].ms <= 40_000, `${set[0].ms}`);
  clock.changed(); // nothing new: the same timer stays
  assert.equal(set.length, 1);
  assert.deepEqual(cleared, []);
  next = Date.now() + 2_000;
  clock.changed();
  assert.equal(set.length, 2);
  assert.deepEqual(cleared, [0]);
  assert.ok(set[1].ms <= 2_000);
  next = Infinity; // nothing shown changes by itself: a minute at most, for a clock that was set
  set[1].fn();
  assert.equal(ticks.length, 1);
  assert.equal(set.length, 3);
  assert.ok(set[2].ms > LONGEST_WAIT_MS - 1000 && set[2].ms <= LONGEST_WAIT_MS, `${set[2].ms}`);
});

const sinceOf = (li) => li.querySelector('.since').textContent;
const calendarOf = (li) => li.querySelector('.calendar-words').textContent;
const outlook = (words, extra = {}) => ({ busyUntil: null, freeAt: null, words, outsideWorkingHours: false, utcOffsetMinutes: null, ...extra });

/**
 * Opens the roster with calendars (calendar=on) away from a minute's turn,
 * when the mock, as the engine, words Lee's and Lynne's time of day there
 * afresh (time-words-changed) and would redraw their rows.
 */
async function openWithCalendars() {
  const left = MIN - (Date.now() % MIN);
  if (left < 3000) await sleep(left + 100);
  return open('calendar=on');
}

test('time-words-changed rewrites the since and calendar words of the rows it names, and nothing else', async () => {
  await openWithCalendars();
  const order = rows();
  const alex = row('Alex Wilber');
  const lee = row('Lee Gu');
  const labels = new Map(order.flatMap((li) => ['.since', '.calendar-words'].map((sel) => [li.querySelector(sel), watch(li.querySelector(sel))])));
  const others = order.filter((li) => li !== alex && li !== lee).flatMap((li) => ['.status-words', '.name'].map((sel) => watch(li.querySelector(sel))));
  w.mock.emit('time-words-changed', [
    { id: alex.dataset.id, sinceWords: 'for 41 min', calendarWords: ['until Tue 8 Dec 14:30', 'free at Tue 8 Dec 15:00'] },
    { id: lee.dataset.id, sinceWords: 'as of 14:05', calendarWords: ['outside working hours (03:07 there)'] },
    { id: 'someone-not-in-the-roster', sinceWords: 'for 1 h', calendarWords: ['until 14:30'] },
  ]);
  await w.settle(40);
  assert.equal(sinceOf(alex), 'for 41 min');
  assert.equal(calendarOf(alex), 'until Tue 8 Dec 14:30 · free at Tue 8 Dec 15:00');
  assert.equal(alex.querySelector('.calendar-words').title, 'until Tue 8 Dec 14:30 · free at Tue 8 Dec 15:00');
  assert.equal(sinceOf(lee), 'as of 14:05');
  assert.equal(calendarOf(lee), 'outside working hours (03:07 there)');
  const touched = [...labels].filter(([, seen]) => seen.reads + seen.writes > 0).map(([node]) => node);
  const named = [alex, lee].flatMap((li) => [li.querySelector('.since'), li.querySelector('.calendar-words')]);
  assert.deepEqual(touched, named, 'only the labels named were read or written');
  for (const node of named) assert.equal(labels.get(node).writes, 1);
  for (const seen of others) assert.equal(seen.reads + seen.writes, 0, 'no other row was redrawn');
  assert.deepEqual(rows(), order, 'nothing moved');
  assert.equal(rows().length, 10, 'nobody was added');
});

test('the store keeps the new words: a later redraw of the row, or of the list, shows them', async () => {
  await openWithCalendars();
  const lee = row('Lee Gu');
  const megan = row('Megan Bowen');
  const type = (text) => {
    w.$('filter').value = text;
    w.$('filter').dispatchEvent(new FakeEvent('input', { bubbles: true }));
  };
  // Megan is hidden by the filter when her words change.
  type('Lee');
  w.mock.emit('time-words-changed', [
    { id: lee.dataset.id, sinceWords: 'for 4 h', calendarWords: ['outside working hours (03:07 there)'] },
    { id: megan.dataset.id, sinceWords: 'as of 14:05', calendarWords: ['until 16:00'] },
  ]);
  await w.settle(40);
  assert.equal(sinceOf(lee), 'for 4 h');
  assert.equal(calendarOf(lee), 'outside working hours (03:07 there)');
  // A presence change without new words redraws Lee's row from the store.
  w.mock.emit('presence-changed', [{ id: lee.dataset.id, statusText: 'Away · Back at 3' }]);
  await w.settle(40);
  assert.equal(lee.querySelector('.status-words').textContent, 'Away · Back at 3');
  assert.equal(sinceOf(lee), 'for 4 h');
  assert.equal(calendarOf(lee), 'outside working hours (03:07 there)');
  // The whole list drawn again.
  type('');
  assert.equal(rows().length, 10);
  assert.equal(sinceOf(row('Lee Gu')), 'for 4 h');
  assert.equal(calendarOf(row('Lee Gu')), 'outside working hours (03:07 there)');
  assert.equal(sinceOf(row('Megan Bowen')), 'as of 14:05');
  assert.equal(calendarOf(row('Megan Bowen')), 'until 16:00');
  // The engine's next words for them win, whichever way they come.
  w.mock.emit('presence-changed', [{ id: lee.dataset.id, sinceWords: 'just now', calendar: outlook(['free at 09:00']) }]);
  await w.settle(40);
  assert.equal(sinceOf(row('Lee Gu')), 'just now');
  assert.equal(calendarOf(row('Lee Gu')), 'free at 09:00');
});

test('null calendar words clear the row\'s calendar line, and a redraw leaves it clear', async () => {
  await openWithCalendars();
  const lynne = row('Lynne Robbins');
  assert.notEqual(calendarOf(lynne), '');
  w.mock.emit('time-words-changed', [{ id: lynne.dataset.id, sinceWords: 'for 8 min', calendarWords: null }]);
  await w.settle(40);
  assert.equal(calendarOf(lynne), '');
  assert.equal(lynne.querySelector('.calendar-words').title, '');
  assert.equal(sinceOf(lynne), 'for 8 min');
  w.mock.emit('presence-changed', [{ id: lynne.dataset.id, statusText: 'Busy · Presenting' }]);
  await w.settle(40);
  assert.equal(calendarOf(row('Lynne Robbins')), '');
  // Words again, for the calendar she still has.
  w.mock.emit('time-words-changed', [{ id: lynne.dataset.id, sinceWords: 'for 9 min', calendarWords: ['free at 15:00'] }]);
  await w.settle(40);
  assert.equal(calendarOf(row('Lynne Robbins')), 'free at 15:00');
});

test('calendar words for a teammate without a calendar outlook grow no calendar line', async () => {
  // Calendars off: nobody has an outlook.
  await open('');
  const lee = row('Lee Gu');
  w.mock.emit('time-words-changed', [{ id: lee.dataset.id, sinceWords: 'for 4 h', calendarWords: ['outside working hours (03:07 there)'] }]);
  await w.settle(40);
  assert.equal(sinceOf(lee), 'for 4 h', 'their words for how long still change');
  assert.equal(calendarOf(lee), '');
  // Nor does a later redraw of the row, or of the list, find one.
  w.mock.emit('presence-changed', [{ id: lee.dataset.id, statusText: 'Away · Back at 3' }]);
  await w.settle(40);
  assert.equal(calendarOf(row('Lee Gu')), '');
  w.$('filter').value = 'x';
  w.$('filter').dispatchEvent(new FakeEvent('input', { bubbles: true }));
  w.$('filter').value = '';
  w.$('filter').dispatchEvent(new FakeEvent('input', { bubbles: true }));
  assert.equal(calendarOf(row('Lee Gu')), '');
  assert.equal(sinceOf(row('Lee Gu')), 'for 4 h');
});

test('the window\'s clock changes no words about time: an hour later, with the clock ticking, they are as the engine gave them', async () => {
  const realNow = Date.now;
  try {
    await open('');
    // An outlook saying their time of day, given by an event the mock engine
    // does not know of, so that only the window could change its words.
    const lee = row('Lee Gu');
    const words = ['until 14:30', 'outside working hours (22:10 there)'];
    w.mock.emit('presence-changed', [{ id: lee.dataset.id, calendar: outlook(words, { outsideWorkingHours: true, utcOffsetMinutes: 540 }) }]);
    await w.settle(40);
    const before = rows().map((li) => [sinceOf(li), calendarOf(li)]);
    assert.ok(before.some(([since]) => since === 'for 25 min'), before.join(', '));
    assert.equal(calendarOf(lee), 'until 14:30 · outside working hours (22:10 there)');
    const labels = rows().flatMap((li) => [watch(li.querySelector('.since')), watch(li.querySelector('.calendar-words'))]);
    // An hour later for the window, and a countdown, so that its clock ticks every second.
    const skew = 60 * MIN;
    Date.now = () => realNow() + skew;
    w.mock.emit('status-changed', { state: 'throttled', detail: null, retryAfterS: 3 });
    assert.equal(w.text('banner'), 'Microsoft is throttling requests — next update in 3 s');
    await sleep(2300);
    assert.match(w.text('banner'), /next update in 1 s$/, 'the clock ticked');
    for (const seen of labels) assert.equal(seen.reads + seen.writes, 0, 'no since or calendar label was read or written');
    assert.deepEqual(rows().map((li) => [sinceOf(li), calendarOf(li)]), before, 'and every word is as it was');
  } finally {
    Date.now = realNow;
  }
});

test('a presence change redraws its own row only', async () => {
  await open('');
  const lee = row('Lee Gu');
  const others = rows().filter((li) => li !== lee);
  const seen = others.map((li) => [watch(li.querySelector('.status-words')), watch(li.querySelector('.name'))]);
  const order = rows();
  w.mock.emit('presence-changed', [{ id: lee.dataset.id, statusText: 'Away · Back at 3' }]);
  await w.settle(40);
  assert.equal(lee.querySelector('.status-words').textContent, 'Away · Back at 3');
  assert.ok(lee.classList.contains('changed'), 'the row lights up');
  assert.deepEqual(rows(), order, 'same rank: nothing moved');
  for (const [words, name] of seen) {
    assert.equal(words.reads + words.writes + name.reads + name.writes, 0, 'no other row was redrawn');
  }
});

test('a presence change that changes the order moves the row, and the count follows', async () => {
  await open('');
  assert.equal(w.text('roster-count'), '2 of 10 available');
  w.mock.change('Lee', 'Available', 'Available');
  await w.settle(40);
  const order = rows().map((li) => li.querySelector('.name').textContent);
  assert.ok(order.indexOf('Lee Gu') < order.indexOf('Alex Wilber'), order.join(', '));
  assert.equal(row('Lee Gu').querySelector('.status-words').textContent, 'Available');
  assert.equal(w.text('roster-count'), '3 of 10 available');
});

test('a change to someone the filter hides shows when the filter is cleared', async () => {
  await open('');
  const type = (text) => {
    w.$('filter').value = text;
    w.$('filter').dispatchEvent(new FakeEvent('input', { bubbles: true }));
  };
  const leeId = row('Lee Gu').dataset.id;
  type('Alex');
  assert.deepEqual(rows().map((li) => li.querySelector('.name').textContent), ['Alex Wilber']);
  w.mock.emit('presence-changed', [{ id: leeId, statusText: 'Away · Back at 3' }]);
  await w.settle(40);
  assert.deepEqual(rows().map((li) => li.querySelector('.name').textContent), ['Alex Wilber']);
  type('');
  assert.equal(row('Lee Gu').querySelector('.status-words').textContent, 'Away · Back at 3');
  assert.equal(rows().length, 10);
});

test('a burst of presence changes is drawn once, with the last word', async () => {
  await open('');
  const alex = row('Alex Wilber');
  const words = watch(alex.querySelector('.status-words'));
  const id = alex.dataset.id;
  const said = ['Busy · In a call', 'Available', 'Away', 'Busy · Presenting', 'Do not disturb · Focusing'];
  for (const statusText of said) w.mock.emit('presence-changed', [{ id, statusText }]);
  await w.settle(40);
  assert.equal(alex.querySelector('.status-words').textContent, 'Do not disturb · Focusing');
  assert.equal(words.writes, 1, 'written once, not once per event');
  assert.ok(alex.classList.contains('changed'));
});
