// The banner for "when they will be free": the sign-in may not read
// calendars yet, with Allow (a browser sign-in again, asking for that too),
// or reading them fails for now, in the engine's words (it tries again by
// itself). Off or reading: nothing to say.

import * as ipc from '../ipc.js';
import * as M from '../model.js';
import { $, el, redraw } from '../dom.js';
import { icon } from '../icons.js';
import { store } from '../store.js';
import { startBrowserSignIn } from './signin.js';

async function allowCalendar(button) {
  // The window shows the sign-in in the browser at once; until then, and
  // if it fails and this banner is back, one press is enough.
  button.disabled = true;
  try {
    await startBrowserSignIn($('calendar-error'), ipc.allowCalendar);
  } finally {
    button.disabled = false;
  }
}

export function renderCalendar() {
  const box = $('calendar-banner');
  const notice = M.calendarNotice(store.state.calendar, store.state.signIn.state);
  if (!redraw(box, notice)) return;
  box.replaceChildren();
  box.className = notice ? `banner banner-calendar-${notice.kind}` : 'banner';
  if (!notice) return;
  const body = el('div', { class: 'banner-body' }, el('p', { id: 'calendar-text', class: 'banner-text', text: notice.text }));
  if (notice.detail) body.append(el('p', { id: 'calendar-detail', class: 'banner-detail', text: notice.detail }));
  body.append(el('p', { id: 'calendar-error', class: 'banner-fail', role: 'alert' }));
  box.append(icon(notice.allow ? 'info' : 'warning', 'banner-icon'), body);
  if (notice.allow) {
    box.append(
      el('button', { type: 'button', id: 'calendar-allow', class: 'btn small', text: 'Allow', onclick: (e) => allowCalendar(e.currentTarget) }),
    );
  }
}
