// Runs the real window (ui/index.html, ui/main.js and its modules) in node
// on the fake DOM of fake-dom.mjs, with the preview's fake Tauri API
// (mock-tauri.js) as the Rust side, so that tests can press buttons and read what the window shows.
//
//   const w = await openWindow('s=signin');
//   w.press('signin-button');
//   await w.until(() => w.shown('signin-browser'), 'the browser panel');
//   w.close();
//
// One window at a time: the modules work on the global document, as in a page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { parseDocument } from './fake-dom.mjs';
import { UI, freshCopy } from './ui-modules.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PAGE = readFileSync(join(UI, 'index.html'), 'utf8');
const MOCK = readFileSync(join(HERE, 'mock-tauri.js'), 'utf8');

// The timers of the page (the app's ticker, the mock's delayed answers)
// end with its window; node's own timers do not go through these globals.
const realSetTimeout = globalThis.setTimeout;
const realSetInterval = globalThis.setInterval;
let current = null;
globalThis.setTimeout = (fn, ms, ...args) => {
  const t = realSetTimeout(fn, ms, ...args);
  current?.timers.push(t);
  return t;
};
globalThis.setInterval = (fn, ms, ...args) => {
  const t = realSetInterval(fn, ms, ...args);
  current?.timers.push(t);
  return t;
};
globalThis.requestAnimationFrame = (fn) => globalThis.setTimeout(() => fn(Date.now()), 16);

const never = () => new Promise(() => {});

/** Opens the window on a scenario of mock-tauri.js (its query string) and waits until it has started. */
export async function openWindow(query = '') {
  current?.close();
  const document = parseDocument(PAGE);
  const onLoad = [];
  const clipboard = [];
  const window = {
    location: { search: query ? `?${query}` : '', reload() {} },
    innerWidth: 420,
    innerHeight: 640,
    addEventListener(type, handler) {
      if (type === 'load') onLoad.push(handler);
    },
    getSelection: () => ({ removeAllRanges() {}, addRange() {} }),
  };
  const page = { timers: [], alive: true, afterEvent: [] };
  current = page;
  globalThis.window = window;
  globalThis.document = document;
  globalThis.location = window.location;
  Object.defineProperty(globalThis, 'navigator', {
    value: { clipboard: { writeText: async (text) => void clipboard.push(text) } },
    configurable: true,
    writable: true,
  });

  vm.runInThisContext(MOCK, { filename: join(HERE, 'mock-tauri.js') });
  // Once the window is closed nothing reaches it any more; each event
  // delivered is reported after the app has handled it.
  const tauri = window.__TAURI__;
  window.__TAURI__ = {
    core: {
      invoke: (cmd, args) =>
        tauri.core.invoke(cmd, args).then(
          (v) => (page.alive ? v : never()),
          (e) => (page.alive ? Promise.reject(e) : never()),
        ),
    },
    event: {
      listen: (name, handler) =>
        tauri.event.listen(name, (event) => {
          if (!page.alive) return;
          handler(event);
          for (const after of page.afterEvent) after(name, event.payload);
        }),
    },
  };

  await import(freshCopy('main.js'));
  const $ = (id) => {
    const node = document.getElementById(id);
    assert.ok(node, `#${id} is in the page`);
    return node;
  };
  const w = {
    document,
    window,
    mock: window.mock,
    clipboard,
    $,
    /** The commands invoked so far, by name. */
    invoked: () => window.mock.calls.map(([cmd]) => cmd),
    /** Shown: neither it nor a parent is hidden. */
    shown: (id) => $(id).getClientRects().length > 0,
    /** Its text with white space as a reader sees it. */
    text: (id) => $(id).textContent.replace(/\s+/g, ' ').trim(),
    focused: () => document.activeElement?.id || null,
    /** As a person does: only what is shown and enabled can be pressed. */
    press(target) {
      const node = typeof target === 'string' ? $(target) : target;
      assert.ok(node.getClientRects().length > 0, `${node.id || node.textContent.trim()} is shown`);
      assert.ok(!node.disabled, `${node.id || node.textContent.trim()} is enabled`);
      node.focus();
      node.click();
    },
    /** Runs `fn(name, payload)` after the window has handled each event. */
    afterEvent(fn) {
      page.afterEvent.push(fn);
    },
    async until(condition, what, ms = 2000) {
      const end = Date.now() + ms;
      while (!condition()) {
        if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
        await sleep(5);
      }
    },
    /** Lets the mock's pending answers and events (60 ms, 50 ms) arrive. */
    settle: (ms = 250) => sleep(ms),
    close() {
      page.alive = false;
      for (const t of page.timers) clearTimeout(t);
      if (current === page) current = null;
    },
  };
  await w.until(() => document.getElementById('boot').hidden, 'the window to start');
  for (const handler of onLoad) handler();
  return w;
}
