// Pausing notifications: the bell in the header, its menu, and the chip that
// says until when.

import * as ipc from '../ipc.js';
import { clock } from '../clock.js';
import * as M from '../model.js';
import { $, keepFocus, setText, show } from '../dom.js';
import { icon } from '../icons.js';
import { pauseChanged, store } from '../store.js';
import { openMenu } from './menu.js';

export function renderPause() {
  const now = Date.now();
  const { pausedUntil } = store.state;
  const paused = M.isPaused(pausedUntil, now);
  show($('paused-chip'), paused);
  if (paused) setText($('paused-text'), `Notifications paused until ${M.formatClock(pausedUntil, now)}`);
  const button = $('pause-button');
  const want = paused ? 'bell-off' : 'bell';
  if (!button.querySelector(`.icon-${want}`)) button.replaceChildren(icon(want));
  button.classList.toggle('active', paused);
  button.title = paused ? 'Notifications are paused' : 'Pause notifications';
  // The chip goes when the pause ends.
  clock.changed();
}

/** The chip shows while a pause lasts: the clock asks whether that changed. */
export function updatePause(now) {
  const paused = M.isPaused(store.state.pausedUntil, now);
  if (paused === $('paused-chip').hidden) renderPause();
}

async function pauseFor(minutes) {
  setText($('roster-error'), '');
  try {
    const answer = await ipc.pauseNotifications(minutes);
    store.update(pauseChanged, answer?.pausedUntil);
    renderPause();
  } catch (err) {
    setText($('roster-error'), M.errorMessage(err));
  }
}

function openPauseMenu() {
  const paused = M.isPaused(store.state.pausedUntil, Date.now());
  const items = [];
  if (paused) items.push({ label: 'Resume notifications', action: () => pauseFor(0) });
  items.push(
    { label: 'Pause for 30 minutes', action: () => pauseFor(30) },
    { label: 'Pause for 1 hour', action: () => pauseFor(60) },
    { label: 'Pause for 4 hours', action: () => pauseFor(240) },
  );
  openMenu($('pause-button'), 'Pause notifications', items);
}

export function wirePause() {
  $('pause-button').addEventListener('click', openPauseMenu);
  $('resume-button').addEventListener('click', async () => {
    await pauseFor(0);
    keepFocus($('pause-button'));
  });
}
