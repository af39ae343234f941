// Imports the window's ES modules (ui/) in node. ui/ has no package.json, and
// whether node then reads its files as ES modules depends on its version: a
// copy beside one that says so does not. Each copy is a page of its own, so
// that the state its modules keep (the store, the rows drawn) starts afresh.
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const UI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui');

let root = null;
let copies = 0;

/** The file URL of `file` (e.g. 'main.js') in a fresh copy of ui/. */
export function freshCopy(file) {
  if (!root) {
    root = mkdtempSync(join(tmpdir(), 'presently-ui-'));
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  }
  copies += 1;
  const dir = join(root, `page-${copies}`);
  cpSync(UI, dir, { recursive: true, filter: (src) => statSync(src).isDirectory() || src.endsWith('.js') });
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  return pathToFileURL(join(dir, file)).href;
}
