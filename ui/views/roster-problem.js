// The note for a roster file that could not be read at start: the engine
// kept it aside (as roster.toml.broken-<time>) and says where; shown until
// the person has read it.

import { $, el, redraw } from '../dom.js';
import { icon } from '../icons.js';
import { rosterProblemDismissed, store } from '../store.js';

export function renderRosterProblem() {
  const box = $('roster-problem');
  const problem = store.state.rosterProblem;
  if (!redraw(box, problem)) return;
  box.replaceChildren();
  box.className = problem ? 'banner banner-error' : 'banner';
  if (!problem) return;
  const dismiss = () => {
    store.update(rosterProblemDismissed);
    renderRosterProblem();
  };
  box.append(
    icon('warning', 'banner-icon'),
    el('div', { class: 'banner-body' }, el('p', { id: 'roster-problem-text', class: 'banner-text', text: problem })),
    el('button', { type: 'button', id: 'roster-problem-ok', class: 'btn small', text: 'OK', onclick: dismiss }),
  );
}
