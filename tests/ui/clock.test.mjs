// The window with a big roster stays idle: the clock wakes only when a
// "for 5 min" changes and then touches only the labels that changed, a
// presence change redraws its own row, and a burst of events one frame.
//   node --test tests/ui/
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeEvent } from './fake-dom.mjs';
import { openWindow } from './harness.mjs';
import { freshCopy } from './ui-modules.mjs';

const M = await import(freshCopy('model.js'));
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

test('the next change of "for N min": the next minute, hour or day of its own, never while "as of"', () => {
  const since = '2026-11-30T09:00:00.000Z';
  const start = Date.parse(since);
  assert.equal(M.nextSinceChange(since, start + 10_000), start + MIN); // "just now" until 1 min
  assert.equal(M.nextSinceChange(since, start + 5 * MIN + 1), start + 6 * MIN);
  assert.equal(M.nextSinceChange(since, start + 6 * MIN), start + 7 * MIN);
  assert.equal(M.nextSinceChange(since, start + 59 * MIN + 59_999), start + 60 * MIN);
  assert.equal(M.nextSinceChange(since, start + 125 * MIN), start + 180 * MIN); // "for 2 h"
  assert.equal(M.nextSinceChange(since, start + 30 * 60 * MIN), start + 48 * 60 * MIN); // "for 1 day"
  assert.equal(M.nextSinceChange(null, start), Infinity);
  assert.equal(M.nextSinceChange('not a time', start), Infinity);
  // The words really do change then, and not a millisecond before.
  for (const elapsed of [10_000, 5 * MIN + 1, 59 * MIN, 125 * MIN, 30 * 60 * MIN]) {
    const next = M.nextSinceChange(since, start + elapsed);
    assert.equal(M.formatSince(since, next - 1), M.formatSince(since, start + elapsed), `${elapsed}`);
    assert.notEqual(M.formatSince(since, next), M.formatSince(since, start + elapsed), `${elapsed}`);
  }
  const offline = { state: 'offline', lastAnswerAt: '2026-11-30T09:20:00Z' };
  assert.equal(M.nextSinceTextChange(since, offline, start + 25 * MIN), Infinity);
  assert.equal(M.nextSinceTextChange(since, { state: 'ok' }, start + 25 * MIN), start + 26 * MIN);
  assert.equal(M.nextSinceTextChange(since, { state: 'offline', lastAnswerAt: null }, start + 25 * MIN), start + 26 * MIN);
});

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

test('the clock touches only the "for N min" labels whose words changed, when they change', async () => {
  await open('');
  const [first, second, ...rest] = rows();
  // Two teammates: one whose "just now" becomes "for 1 min" in 300 ms, one
  // in the middle of a minute.
  w.mock.emit('presence-changed', [
    { id: first.dataset.id, since: ago(MIN - 300) },
    { id: second.dataset.id, since: ago(30_000) },
  ]);
  await w.settle(40);
  const soon = rows().find((li) => li.dataset.id === first.dataset.id);
  const later = rows().find((li) => li.dataset.id === second.dataset.id);
  assert.equal(soon.querySelector('.since').textContent, 'just now');
  assert.equal(later.querySelector('.since').textContent, 'just now');
  const watched = new Map(rows().map((li) => [li, watch(li.querySelector('.since'))]));
  await sleep(1500);
  assert.equal(soon.querySelector('.since').textContent, 'for 1 min');
  const touched = [...watched].filter(([, seen]) => seen.reads + seen.writes > 0).map(([li]) => li);
  assert.deepEqual(touched, [soon], 'only the label whose words changed was read or written');
  assert.equal(watched.get(soon).writes, 1);
  assert.equal(rest.length + 2, rows().length);
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
