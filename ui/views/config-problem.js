// The banner for a config file Presently could not use: what is wrong and
// where (file, line, key), with a button that opens the file. Everything
// else in the window goes on working with the settings in force.

import * as ipc from '../ipc.js';
import * as M from '../model.js';
import { $, el, redraw, setText } from '../dom.js';
import { icon } from '../icons.js';
import { store } from '../store.js';

/** "config.toml, line 4, key quiet_hours.start": where the problem is. */
function whereText(problem) {
  const parts = [problem.file];
  if (problem.line != null) parts.push(`line ${problem.line}`);
  if (problem.key) parts.push(`key ${problem.key}`);
  return parts.filter(Boolean).join(', ');
}

async function openConfigFile() {
  setText($('config-problem-error'), '');
  try {
    await ipc.openConfigFile();
  } catch (err) {
    setText($('config-problem-error'), M.errorMessage(err));
  }
}

export function renderConfigProblem() {
  const box = $('config-problem');
  const problem = store.state.configProblem;
  if (!redraw(box, problem)) return;
  box.replaceChildren();
  box.className = problem ? 'banner banner-error' : 'banner';
  if (!problem) return;
  const body = el(
    'div',
    { class: 'banner-body' },
    el('p', { class: 'banner-text', text: problem.message || 'The config file could not be read.' }),
    el('p', { id: 'config-problem-where', class: 'banner-detail', text: whereText(problem) }),
    el('p', { id: 'config-problem-error', class: 'banner-fail', role: 'alert' }),
  );
  box.append(
    icon('warning', 'banner-icon'),
    body,
    el('button', { type: 'button', id: 'open-config-file', class: 'btn small', text: 'Open config file', onclick: openConfigFile }),
  );
}
