// The window with a big roster stays idle: the clock wakes only when a label
// of its own changes ("22:10 there", a countdown) and leaves "for 5 min" to
// the engine, whose time-words-changed touches only the labels it names; a
// presence change redraws its own row, and a burst of events one frame.
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

const ago = (ms) => new Date(Date.now() - ms).toISOString();
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

test('time-words-changed rewrites the words of the rows it names, and nothing else', async () => {
  await open('');
  const order = rows();
  const [first, second, ...rest] = order;
  const labels = new Map(order.map((li) => [li, watch(li.querySelector('.since'))]));
  const others = rest.flatMap((li) => ['.status-words', '.name', '.calendar-words'].map((sel) => watch(li.querySelector(sel))));
  w.mock.emit('time-words-changed', [
    { id: first.dataset.id, sinceWords: 'for 26 min' },
    { id: second.dataset.id, sinceWords: 'as of 14:05' },
    { id: 'someone-not-in-the-roster', sinceWords: 'for 1 h' },
  ]);
  await w.settle(40);
  assert.equal(sinceOf(first), 'for 26 min');
  assert.equal(sinceOf(second), 'as of 14:05');
  const touched = [...labels].filter(([, seen]) => seen.reads + seen.writes > 0).map(([li]) => li);
  assert.deepEqual(touched, [first, second], 'only the labels named were read or written');
  assert.equal(labels.get(first).writes, 1);
  for (const seen of others) assert.equal(seen.reads + seen.writes, 0, 'no other row was redrawn');
  assert.deepEqual(rows(), order, 'nothing moved');
  assert.equal(rows().length, 10, 'nobody was added');
});

test('the store keeps the new words: a later redraw of the row, or of the list, shows them', async () => {
  await open('');
  const lee = row('Lee Gu');
  const megan = row('Megan Bowen');
  const type = (text) => {
    w.$('filter').value = text;
    w.$('filter').dispatchEvent(new FakeEvent('input', { bubbles: true }));
  };
  // Megan is hidden by the filter when her words change.
  type('Lee');
  w.mock.emit('time-words-changed', [
    { id: lee.dataset.id, sinceWords: 'for 4 h' },
    { id: megan.dataset.id, sinceWords: 'as of 14:05' },
  ]);
  await w.settle(40);
  assert.equal(sinceOf(lee), 'for 4 h');
  // A presence change without new words redraws Lee's row from the store.
  w.mock.emit('presence-changed', [{ id: lee.dataset.id, statusText: 'Away · Back at 3' }]);
  await w.settle(40);
  assert.equal(lee.querySelector('.status-words').textContent, 'Away · Back at 3');
  assert.equal(sinceOf(lee), 'for 4 h');
  // The whole list drawn again.
  type('');
  assert.equal(rows().length, 10);
  assert.equal(sinceOf(row('Lee Gu')), 'for 4 h');
  assert.equal(sinceOf(row('Megan Bowen')), 'as of 14:05');
  // The engine's next words for them win.
  w.mock.emit('presence-changed', [{ id: lee.dataset.id, sinceWords: 'just now' }]);
  await w.settle(40);
  assert.equal(sinceOf(row('Lee Gu')), 'just now');
});

test('the window\'s clock leaves "for 25 min" alone: an hour later the words are as the engine gave them', async () => {
  const realNow = Date.now;
  try {
    await open('');
    const before = rows().map(sinceOf);
    assert.ok(before.includes('for 25 min'), before.join(', '));
    // An hour later for the window, a second and a half before a minute turns.
    const turn = Math.ceil((realNow() + 60 * MIN + 3000) / MIN) * MIN;
    const skew = turn - 1500 - realNow();
    Date.now = () => realNow() + skew;
    // A teammate's time of day there: the clock has a label to move when the minute turns.
    const lee = row('Lee Gu');
    const outside = { busyUntil: null, freeAt: null, words: [], outsideWorkingHours: true, utcOffsetMinutes: 540 };
    w.mock.emit('presence-changed', [{ id: lee.dataset.id, calendar: outside }]);
    await w.settle(40);
    const there = (ms) => new Date(ms + 540 * MIN).toISOString().slice(11, 16);
    assert.equal(lee.querySelector('.calendar-words').textContent, `outside working hours (${there(turn - MIN)} there)`);
    const labels = rows().map((li) => watch(li.querySelector('.since')));
    const left = turn - Date.now();
    assert.ok(left > 100, `${left} ms left: the window took too long`);
    await sleep(left + 300);
    assert.equal(lee.querySelector('.calendar-words').textContent, `outside working hours (${there(turn)} there)`, 'the clock ticked');
    for (const seen of labels) assert.equal(seen.reads + seen.writes, 0, 'no "for 25 min" label was read or written');
    assert.deepEqual(rows().map(sinceOf), before, 'and "for 25 min" is as it was');
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
