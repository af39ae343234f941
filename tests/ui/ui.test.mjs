// Tests of the window's pure functions (ui/model.js) and of the rules the UI
// files must keep (no markup from strings, nothing the CSP would block). How
// a presence reads (statusText, kind) is the Rust side's: core/src/status.rs
// tests it; so are the words for how long it has lasted (sinceWords) and
// those of a calendar outlook (calendar.words) and what an add or import
// did (import::Report::summary), tested in core too.
//   node --test tests/ui/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui');
// Through a data: URL, so the test does not depend on how this Node version
// decides whether ui/model.js (no package.json beside it) is an ES module.
const source = readFileSync(join(UI, 'model.js'), 'utf8');
const M = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);

// A teammate as the engine sends one; `statusRank` is what sorting reads.
const person = (availability, activity, statusRank, extra = {}) => ({
  id: extra.id ?? `${availability}-${activity}`,
  displayName: extra.displayName ?? 'Someone',
  availability,
  activity,
  statusRank,
  favorite: false,
  outOfOffice: null,
  ...extra,
});

test('favorites first, then by status, then by name', () => {
  const list = [
    person('Offline', 'Offline', 4, { displayName: 'Zoe' }),
    person('Away', 'Away', 3, { displayName: 'Yann' }),
    person('Available', 'Available', 0, { displayName: 'bob' }),
    person('Available', 'Available', 0, { displayName: 'Ália' }),
    person('DoNotDisturb', 'Presenting', 2, { displayName: 'Dan' }),
    person('Busy', 'InAMeeting', 1, { displayName: 'Cleo' }),
    person('PresenceUnknown', 'PresenceUnknown', 4, { displayName: 'Abe' }),
    person('Available', 'Available', 4, { displayName: 'Olga', outOfOffice: { isOutOfOffice: true, message: null } }),
    person('BeRightBack', 'BeRightBack', 3, { displayName: 'Xavier' }),
    person('Offline', 'Offline', 4, { displayName: 'Fay', favorite: true }),
    person('Busy', 'Busy', 1, { displayName: 'Eve', favorite: true }),
  ];
  assert.deepEqual(
    M.sortRoster(list).map((t) => t.displayName),
    ['Eve', 'Fay', 'Ália', 'bob', 'Cleo', 'Dan', 'Xavier', 'Yann', 'Abe', 'Olga', 'Zoe'],
  );
  // sortRoster leaves its input alone.
  assert.equal(list[0].displayName, 'Zoe');
});

test('code countdown as minutes and seconds', () => {
  assert.equal(M.formatCountdown(14 * 60000 + 32000), '14:32');
  assert.equal(M.formatCountdown(5000), '0:05');
  assert.equal(M.formatCountdown(59200), '1:00');
  assert.equal(M.formatCountdown(-3000), '0:00');
});

test('the banner says what is wrong and what the app does about it', () => {
  const text = (status, left) => M.bannerText(M.bannerFor(status, left));
  assert.equal(text({ state: 'ok', detail: null, retryAfterS: null }, null), '');
  assert.equal(text({ state: 'offline', detail: 'x', retryAfterS: 20 }, 20), 'Offline — retrying in 20 s');
  assert.equal(text({ state: 'offline', detail: null, retryAfterS: 20 }, 0), 'Offline — retrying now…');
  assert.equal(text({ state: 'throttled', detail: null, retryAfterS: 45 }, 45), 'Microsoft is throttling requests — next update in 45 s');
  assert.equal(text({ state: 'signed_out', detail: 'your sign-in was revoked.', retryAfterS: null }, null), 'Signed out: your sign-in was revoked.');
  assert.equal(M.bannerFor({ state: 'signed_out', detail: null, retryAfterS: null }, null).signIn, true);
  assert.equal(text({ state: 'error', detail: 'boom', retryAfterS: 30 }, 12), 'Something went wrong — retrying in 12 s');
  assert.equal(M.bannerFor({ state: 'offline', detail: 'Could not connect', retryAfterS: 5 }, 5).detail, 'Could not connect');
});

test('seconds left count down from when the status arrived', () => {
  assert.equal(M.secondsLeft(null, 0, 5000), null);
  assert.equal(M.secondsLeft(20, 1000, 1000), 20);
  assert.equal(M.secondsLeft(20, 1000, 6500), 15);
  assert.equal(M.secondsLeft(20, 1000, 60000), 0);
});

test('pause times in local time, with the day when it is not today', () => {
  const now = new Date(2025, 0, 7, 9, 0).getTime(); // a Tuesday
  assert.equal(M.formatClock(new Date(2025, 0, 7, 14, 5).toISOString(), now), '14:05');
  assert.equal(M.formatClock(new Date(2025, 0, 8, 9, 0).toISOString(), now), 'Wed 09:00');
  assert.equal(M.isPaused(new Date(now + 60000).toISOString(), now), true);
  assert.equal(M.isPaused(new Date(now - 60000).toISOString(), now), false);
  assert.equal(M.isPaused(null, now), false);
});

test('the filter looks at name, UPN, mail and job title, ignoring case and accents', () => {
  const t = {
    displayName: 'José Álvarez',
    userPrincipalName: 'jalvarez@contoso.com',
    mail: 'jose.alvarez@contoso.com',
    jobTitle: 'Senior Engineer',
  };
  assert.equal(M.matchesFilter(t, ''), true);
  assert.equal(M.matchesFilter(t, '  '), true);
  assert.equal(M.matchesFilter(t, 'jose'), true);
  assert.equal(M.matchesFilter(t, 'ALVAREZ'), true);
  assert.equal(M.matchesFilter(t, 'jalvarez@'), true);
  assert.equal(M.matchesFilter(t, 'engineer senior'), true);
  assert.equal(M.matchesFilter(t, 'engineer manager'), false);
  assert.equal(M.matchesFilter({ displayName: 'Ann', jobTitle: null }, 'ann'), true);
});

test('avatars: stable colours, initials when none came', () => {
  const id = '00000000-0000-4000-8000-000000000001';
  assert.equal(M.avatarColour(id), M.avatarColour(id));
  const seen = new Set();
  for (let i = 0; i < 200; i += 1) {
    const c = M.avatarColour(`id-${i}`);
    assert.ok(Number.isInteger(c) && c >= 0 && c < M.AVATAR_COLOURS);
    seen.add(c);
  }
  assert.equal(seen.size, M.AVATAR_COLOURS);
  assert.equal(M.initialsOf('Megan Bowen'), 'MB');
  assert.equal(M.initialsOf('Cher'), 'C');
  assert.equal(M.initialsOf('  '), '?');
});

test('only photos the app serves, or image data URLs, are used', () => {
  const id = '8a1f2b3c-0d4e-4f5a-9b6c-7d8e9f0a1b2c';
  assert.equal(M.safePhoto(`photo://localhost/${id}`), `photo://localhost/${id}`);
  assert.equal(M.safePhoto(`http://photo.localhost/${id}`), `http://photo.localhost/${id}`);
  assert.equal(M.safePhoto('photo://localhost/../../etc/passwd'), null);
  assert.equal(M.safePhoto('photo://evil.example/x'), null);
  assert.equal(M.safePhoto('http://photo.localhost.evil.example/x'), null);
  assert.equal(M.safePhoto('data:image/png;base64,AAAA'), 'data:image/png;base64,AAAA');
  assert.equal(M.safePhoto('data:image/jpeg;base64,AAAA'), 'data:image/jpeg;base64,AAAA');
  assert.equal(M.safePhoto('data:image/svg+xml;base64,AAAA'), null);
  assert.equal(M.safePhoto('javascript:alert(1)'), null);
  assert.equal(M.safePhoto('https://example.com/a.png'), null);
  assert.equal(M.safePhoto(null), null);
});

test('errors from commands show their message', () => {
  assert.equal(M.errorMessage({ code: 'offline', message: 'No network.' }), 'No network.');
  assert.equal(M.errorMessage('invalid args `id` for command `remove_teammate`'), 'invalid args `id` for command `remove_teammate`');
  assert.equal(M.errorMessage(null), 'Something went wrong.');
});

test('while the window starts a sign-in, the engine\'s cancel of the old one is no news', () => {
  const view = (state, message = null) => ({ state, message });
  const code = { kind: 'signing_in', cancelled: false };
  const browser = { kind: 'in_browser', cancelled: false };
  // Nothing started by the window: every change shows.
  for (const state of ['signed_out', 'signing_in', 'in_browser', 'signed_in', 'blocked']) {
    assert.equal(M.showsSignInChange(view(state), null), true, state);
  }
  assert.equal(M.showsSignInChange(view('signed_out'), browser), false);
  // A sign-out with a reason is news.
  assert.equal(M.showsSignInChange(view('signed_out', 'Your sign-in was revoked.'), browser), true);
  // The sign-in asked for shows (with its code or address), the other kind does not.
  assert.equal(M.showsSignInChange(view('in_browser'), browser), true);
  assert.equal(M.showsSignInChange(view('signing_in'), browser), false);
  assert.equal(M.showsSignInChange(view('signing_in'), code), true);
  assert.equal(M.showsSignInChange(view('in_browser'), code), false);
  // Cancelled while starting: nothing under way is shown.
  assert.equal(M.showsSignInChange(view('in_browser'), { ...browser, cancelled: true }), false);
  // Outcomes always show.
  for (const state of ['signed_in', 'declined', 'blocked', 'browser_failed', 'error']) {
    assert.equal(M.showsSignInChange(view(state, 'x'), browser), true, state);
  }
});

test('after a failed sign-in the button offers to try again', () => {
  for (const state of ['declined', 'expired', 'consent_required', 'blocked', 'browser_failed', 'error']) {
    assert.ok(M.SIGN_IN_RETRY.includes(state), state);
  }
  for (const state of ['signed_out', 'signing_in', 'in_browser', 'signed_in']) {
    assert.ok(!M.SIGN_IN_RETRY.includes(state), state);
  }
  assert.equal(M.isSignInUnderWay('in_browser'), true);
  assert.equal(M.isSignInUnderWay('signing_in'), true);
  assert.equal(M.isSignInUnderWay('browser_failed'), false);
});

// ------------------------------------------------------------------ rules for the files

const files = readdirSync(UI, { recursive: true }).filter((f) => /\.(js|html|css)$/.test(f));
const read = (f) => readFileSync(join(UI, f), 'utf8');

test('no markup is built from strings', () => {
  for (const f of files.filter((f) => f.endsWith('.js'))) {
    const code = read(f);
    for (const banned of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'DOMParser', 'createContextualFragment']) {
      assert.ok(!code.includes(banned), `${f} uses ${banned}`);
    }
  }
});

test('nothing the strict CSP would block, nothing remote', () => {
  for (const f of files) {
    const text = read(f);
    // The SVG namespace is a name, not a request.
    const urls = (text.match(/\b(?:https?:|wss?:)\/\/[^\s'"`)]+/g) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg');
    assert.deepEqual(urls, [], `${f} refers to remote URLs`);
    if (f.endsWith('.html')) {
      assert.ok(!/\sstyle\s*=/.test(text), `${f} has a style attribute`);
      assert.ok(!/<style[\s>]/.test(text), `${f} has a <style> element`);
      assert.ok(!/\son[a-z]+\s*=/.test(text), `${f} has an inline event handler`);
      for (const tag of text.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\ssrc=/, `${f} has an inline script`);
    }
    if (f.endsWith('.css')) assert.ok(!/@import|url\(/.test(text), `${f} loads something`);
  }
});

test('the modules import downwards only: no cycles, nothing imports main.js', () => {
  const scripts = files.filter((f) => f.endsWith('.js'));
  const imports = new Map(
    scripts.map((f) => [f, [...read(f).matchAll(/from '([^']+)'/g)].map(([, to]) => join(dirname(f), to))]),
  );
  for (const [f, list] of imports) assert.ok(!list.includes('main.js'), `${f} imports main.js`);
  const done = new Set();
  const visit = (f, path) => {
    assert.ok(!path.includes(f), `an import cycle: ${[...path, f].join(' -> ')}`);
    if (done.has(f)) return;
    for (const to of imports.get(f) ?? []) visit(to, [...path, f]);
    done.add(f);
  };
  for (const f of scripts) visit(f, []);
});

test('no timer repeats: the clock wakes when a label changes, and never calls the Rust side', () => {
  const scripts = files.filter((f) => f.endsWith('.js'));
  const timers = scripts.flatMap((f) => read(f).match(/setInterval\([^)]*\)/g) ?? []);
  assert.deepEqual(timers, []);
  const main = read('main.js');
  assert.ok(main.includes('clock.start(tick, nextTick)'));
  const tick = main.slice(main.indexOf('function tick('));
  const body = tick.slice(0, tick.indexOf('\n}\n'));
  assert.ok(!body.includes('invoke') && !body.includes('ipc.'), 'tick() must not call the Rust side');
  const everything = scripts.map(read).join('\n');
  for (const name of body.match(/\b(update\w+|render\w+)\(/g) ?? []) {
    const fn = name.slice(0, -1);
    const start = everything.indexOf(`function ${fn}(`);
    assert.ok(start >= 0, `${fn} is defined`);
    const end = everything.indexOf('\n}\n', start);
    assert.ok(!/\binvoke\(|\bipc\./.test(everything.slice(start, end)), `${fn}, called by tick(), must not call the Rust side`);
  }
});

test('rows dim while the engine gets no answers and the presence they show is old', () => {
  const lastAnswerAt = '2026-11-30T09:20:00Z';
  assert.equal(M.isStale({ state: 'offline', lastAnswerAt }), true);
  assert.equal(M.isStale({ state: 'error', lastAnswerAt }), true);
  assert.equal(M.isStale({ state: 'offline', lastAnswerAt: null }), false, 'no answer yet: nothing old to show');
  assert.equal(M.isStale({ state: 'throttled', lastAnswerAt }), false);
  assert.equal(M.isStale({ state: 'ok', lastAnswerAt }), false);
  assert.equal(M.isStale(null), false);
});
