// The roster and the config-problem banner as a person sees them: the real
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

const since = (name) => row(name).querySelector('.since').textContent;

test('rows say how long as the engine words it, as given', async () => {
  await open('');
  // The initial roster (get_state).
  assert.equal(since('Megan Bowen'), 'for 25 min');
  assert.equal(since('Lee Gu'), 'for 3 h');
  assert.equal(since('Isaiah Langer'), 'for 1 day');
  assert.equal(since('Nestor Wilke'), '', 'no presence known: no words');
  assert.match(row('Megan Bowen').querySelector('.line2').textContent, /^Available.*for 25 min$/);
  // presence-changed: the words, whatever the time it carries.
  const lee = row('Lee Gu').dataset.id;
  w.mock.emit('presence-changed', [{ id: lee, since: new Date().toISOString(), sinceWords: 'as of 14:05' }]);
  await w.settle(20);
  assert.equal(since('Lee Gu'), 'as of 14:05');
  w.mock.emit('presence-changed', [{ id: lee, since: null, sinceWords: 'for 3 days' }]);
  await w.settle(20);
  assert.equal(since('Lee Gu'), 'for 3 days');
  w.mock.emit('presence-changed', [{ id: lee, sinceWords: '' }]);
  await w.settle(20);
  assert.equal(since('Lee Gu'), '');
  // roster-changed, and the words are text, never markup.
  const someone = (id, displayName, sinceWords) => ({ id, displayName, statusText: 'Away', kind: 'away', statusRank: 3, dotLabel: 'Away', sinceWords });
  w.mock.emit('roster-changed', [someone('x1', 'Xena', '<b>for 2 h</b>'), someone('x2', 'Yann', 'as of 14:05'), someone('x3', 'Zoe', '')]);
  await w.settle(20);
  assert.equal(since('Xena'), '<b>for 2 h</b>');
  assert.equal(row('Xena').querySelector('.since').children.length, 0);
  assert.equal(since('Yann'), 'as of 14:05');
  assert.equal(since('Zoe'), '');
});

test('offline, rows dim and say "as of" the last answer; back, they say how long again', async () => {
  const opened = Date.now();
  await open('status=offline');
  const rows = () => [...w.$('roster-list').children];
  // The mock's last answer was three minutes before the page opened.
  const hhmm = (ms) => new Date(ms).toTimeString().slice(0, 5);
  const asOf = [opened, Date.now()].map((ms) => `as of ${hhmm(ms - 3 * 60000)}`);
  assert.ok(asOf.includes(since('Megan Bowen')), since('Megan Bowen'));
  assert.ok(rows().every((li) => li.classList.contains('stale')), 'every row dims');
  w.mock.status('ok');
  await w.settle(20);
  assert.equal(since('Megan Bowen'), 'for 25 min');
  assert.equal(since('Nestor Wilke'), '');
  assert.ok(rows().every((li) => !li.classList.contains('stale')), 'no row dims');
  // The words come from the engine: without them the row keeps its own.
  w.mock.emit('status-changed', { state: 'offline', detail: null, retryAfterS: 20, lastAnswerAt: new Date().toISOString() });
  await w.settle(20);
  assert.ok(rows().every((li) => li.classList.contains('stale')), 'every row dims');
  assert.equal(since('Megan Bowen'), 'for 25 min');
});

test('a change the mock makes carries the words the Rust side would send', async () => {
  await open('');
  w.mock.change('Lee', 'Busy', 'InACall');
  await w.settle(20);
  assert.equal(words('Lee Gu'), 'Busy · In a call');
  assert.equal(since('Lee Gu'), 'just now');
  w.mock.change('Lee', 'Offline', 'OffWork');
  await w.settle(20);
  assert.equal(words('Lee Gu'), 'Offline · Off work');
  assert.ok(row('Lee Gu').classList.contains('kind-offline'));
});

test('events that arrive while the state loads are not undone by it', async () => {
  await open('s=signin&status=starting');
  w.mock.approve();
  // The first status and your own presence follow a sign-in at once; the
  // state the window asks for then was put together before them.
  w.mock.emit('status-changed', { state: 'ok', detail: null, retryAfterS: null });
  w.mock.emit('me-changed', { id: 'me', displayName: 'Debra Berger', statusText: 'Busy · In a call', kind: 'busy', statusRank: 1, dotLabel: 'Busy' });
  await w.until(() => w.shown('roster-screen'), 'the roster');
  await w.settle(100);
  assert.equal(w.text('banner'), '');
  assert.match(w.text('me-status'), /^Busy · In a call · debra@/);
});

test('a problem in the config file is named, with a button that opens the file', async () => {
  await open('config=bad');
  assert.ok(w.shown('config-problem'));
  const text = w.text('config-problem');
  assert.match(text, /not a time of day/);
  assert.match(text, /config\.toml, line 7, key quiet_hours\.start/);
  // The rest of the window works as usual.
  assert.ok(w.shown('roster-screen'));
  assert.equal(words('Alex Wilber'), 'Busy · In a meeting');

  w.press(w.$('open-config-file'));
  await w.until(() => w.invoked().includes('open_config_file'), 'open_config_file');
  await w.settle(100);
  assert.equal(w.text('config-problem-error'), '');

  // Fixed: the event clears the banner; another problem shows again.
  w.mock.configProblem(null);
  assert.equal(w.$('config-problem').children.length, 0);
  w.mock.configProblem({ file: 'C:\\Users\\d\\config.toml', key: null, line: null, message: 'Not TOML <b>at all</b>.' });
  assert.equal(w.text('config-problem-where'), 'C:\\Users\\d\\config.toml');
  assert.match(w.text('config-problem'), /Not TOML <b>at all<\/b>\./, 'as text, not markup');
});

test('a roster file kept aside at start is told, until OK is pressed', async () => {
  await open('roster=broken');
  assert.ok(w.shown('roster-problem'));
  assert.match(w.text('roster-problem-text'), /kept as .*roster\.toml\.broken-20261130T061500Z/);
  assert.ok(w.shown('roster-screen'), 'the window works as usual');
  w.press(w.$('roster-problem-ok'));
  await w.settle(50);
  assert.equal(w.$('roster-problem').children.length, 0);
});

test('without a problem there is no roster note', async () => {
  await open('');
  assert.equal(w.$('roster-problem').children.length, 0);
});

test('the config problem shows on the sign-in screen too, and arrives by event', async () => {
  await open('s=signin');
  assert.equal(w.$('config-problem').children.length, 0);
  w.mock.configProblem();
  assert.ok(w.shown('config-problem'));
  assert.ok(w.shown('signin-screen'));
  assert.match(w.text('config-problem'), /line 7/);
});

test('opening the config file can fail, and says why', async () => {
  await open('config=bad&fail=open_config_file');
  w.press(w.$('open-config-file'));
  await w.until(() => w.text('config-problem-error') !== '', 'the error');
  assert.match(w.text('config-problem-error'), /Could not reach/);
});

test('an add or import says what it did in the engine\'s words, as given', async () => {
  await open('');
  w.press('add-button');
  const importing = (source) => w.$('add-dialog').querySelector(`[data-import="${source}"]`);
  w.press(importing('reports'));
  await w.until(() => w.text('add-report').startsWith('Added'), 'the report');
  assert.equal(w.text('add-report'), 'Added 3 people: Allan Deyoung, Emily Braun, Henrietta Mueller.');
  assert.equal(w.$('add-report').className, 'report ok');
  assert.ok(row('Emily Braun'), 'on the roster at once');
  w.press(importing('reports'));
  await w.until(() => w.text('add-report').startsWith('No one'), 'the second report');
  assert.equal(w.text('add-report'), 'No one new to add: they are all in your list already.');
});
