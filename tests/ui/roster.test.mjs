// The roster as a person sees it: the real
// page and modules on a fake DOM, mock-tauri.js as the Rust side (harness.mjs).
//   node --test tests/ui/
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { openWindow } from './harness.mjs';

let w = null;
const open = async (query) => (w = await openWindow(query));
afterEach(() => w?.close());

const row = (name) => [...w.$('roster-list').children].find((li) => li.querySelector('.name').textContent === name);
const words = (name) => row(name).querySelector('.status-words').textContent;
const dot = (name) => row(name).querySelector('.dot');

test('rows show the words and the dot the engine sent', async () => {
  await open('');
  assert.equal(words('Alex Wilber'), 'Busy · In a meeting');
  assert.ok(row('Alex Wilber').classList.contains('kind-busy'));
  assert.equal(words('Isaiah Langer'), 'Out of office');
  assert.ok(row('Isaiah Langer').classList.contains('kind-oof'));
  assert.equal(words('Johanna Lorenz'), 'Do not disturb · Focusing');
  assert.equal(w.text('roster-count'), '2 of 10 available');
  assert.match(w.text('me-status'), /^Available · debra@/);

  // The window shows what the engine says, in its words, and sorts by its rank.
  assert.equal(dot('Alex Wilber').getAttribute('aria-label'), 'Busy');
  const alex = row('Alex Wilber').dataset.id;
  w.mock.emit('presence-changed', [
    { id: alex, availability: 'Available', activity: 'Available', statusText: 'Free as a bird', kind: 'available', statusRank: 0, dotLabel: 'Free' },
  ]);
  await w.settle(20);
  assert.equal(words('Alex Wilber'), 'Free as a bird');
  assert.ok(row('Alex Wilber').classList.contains('kind-available'));
  assert.ok(row('Alex Wilber').classList.contains('changed'), 'the row lights up');
  assert.equal(w.text('roster-count'), '3 of 10 available');
  const order = [...w.$('roster-list').children].map((li) => li.querySelector('.name').textContent);
  assert.ok(order.indexOf('Alex Wilber') < order.indexOf('Lee Gu'), order.join(', '));
  assert.equal(dot('Alex Wilber').getAttribute('aria-label'), 'Free');
  assert.ok(dot('Alex Wilber').classList.contains('dot-available'));
});

test('a change the mock makes carries the words the Rust side would send', async () => {
  await open('');
  w.mock.change('Lee', 'Busy', 'InACall');
  await w.settle(20);
  assert.equal(words('Lee Gu'), 'Busy · In a call');
  w.mock.change('Lee', 'Offline', 'OffWork');
  await w.settle(20);
  assert.equal(words('Lee Gu'), 'Offline · Off work');
  assert.ok(row('Lee Gu').classList.contains('kind-offline'));
});
