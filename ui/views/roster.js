// The roster: one row per teammate with their status, how long they have
// had it and what their calendar says, all as the engine words them; the
// row's buttons and menu, the filter, and removing someone.

import * as ipc from '../ipc.js';
import * as M from '../model.js';
import { $, avatar, el, redraw, setText, show } from '../dom.js';
import { icon, statusDot } from '../icons.js';
import { filterChanged, flagSet, rosterReplaced, store, teammateUpdated } from '../store.js';
import { focusOnClose, openDialog } from './dialogs.js';
import { openMenu } from './menu.js';

/** One row per teammate, kept across renders so focus stays where it was. */
const rows = new Map();
let rowSerial = 0;

function rowButton(action, iconName) {
  return el('button', { type: 'button', class: `icon-btn row-btn btn-${action}`, 'data-action': action }, icon(iconName));
}

function createRow(id) {
  rowSerial += 1;
  const wordsId = `status-${rowSerial}`;
  const calendarId = `calendar-${rowSerial}`;
  const r = {
    id,
    li: el('li', { class: 'row', 'data-id': id }),
    avatarWrap: el('div', { class: 'avatar-wrap' }),
    name: el('span', { class: 'name' }),
    job: el('span', { class: 'job' }),
    words: el('span', { class: 'status-words', id: wordsId }),
    since: el('span', { class: 'since' }),
    calendar: el('span', { class: 'calendar-words', id: calendarId }),
    message: el('p', { class: 'status-message' }),
    messageText: el('span', { class: 'status-message-text' }),
    oof: el('p', { class: 'oof-note' }),
    oofText: el('span', { class: 'oof-note-text' }),
    error: el('p', { class: 'row-error', role: 'alert' }),
    chat: rowButton('chat', 'chat'),
    call: rowButton('call', 'call'),
    notify: rowButton('notify', 'bell'),
    favorite: rowButton('favorite', 'star'),
    more: rowButton('more', 'more'),
  };
  r.chat.setAttribute('aria-describedby', `${wordsId} ${calendarId}`);
  r.more.setAttribute('aria-haspopup', 'menu');
  r.more.setAttribute('aria-expanded', 'false');
  r.message.append(el('span', { class: 'visually-hidden', text: 'Status message: ' }), icon('quote', 'note-icon'), r.messageText);
  r.oof.append(el('span', { class: 'visually-hidden', text: 'Out-of-office note: ' }), icon('arrow-out', 'note-icon'), r.oofText);
  // Name and buttons share the first line; status and notes get the full width below.
  const line1 = el('p', { class: 'line1' }, r.name, r.job);
  const line2 = el('p', { class: 'line2' }, r.words, r.since, r.calendar);
  const details = el('div', { class: 'row-details' }, line2, r.message, r.oof, r.error);
  const actions = el('div', { class: 'row-actions' }, r.chat, r.call, r.notify, r.favorite, r.more);
  r.li.append(r.avatarWrap, line1, actions, details);
  return r;
}

function updateRow(r, t) {
  const { status } = store.state;
  const kind = t.kind ?? 'unknown';
  if (redraw(r.avatarWrap, [t.photo, t.initials, t.displayName, kind, t.dotLabel])) {
    r.avatarWrap.replaceChildren(avatar(t), statusDot(kind, t.dotLabel ?? ''));
    r.li.className = `row kind-${kind}`;
  }
  r.li.classList.toggle('is-favorite', Boolean(t.favorite));
  setText(r.name, t.displayName || t.userPrincipalName || 'Unknown person');
  setText(r.job, t.jobTitle ?? '');
  r.name.title = [t.displayName, t.jobTitle, t.mail || t.userPrincipalName].filter(Boolean).join('\n');
  setText(r.words, t.statusText);
  setText(r.since, t.sinceWords);
  updateCalendar(r, t);
  r.li.classList.toggle('stale', M.isStale(status));

  const message = (t.statusMessage ?? '').trim();
  setText(r.messageText, message);
  show(r.message, Boolean(message));
  r.message.title = message;
  const oof = t.outOfOffice?.isOutOfOffice ? (t.outOfOffice.message ?? '').trim() : '';
  setText(r.oofText, oof);
  show(r.oof, Boolean(oof));
  r.oof.title = oof;

  if (redraw(r.more, t.displayName)) {
    const who = t.displayName || t.userPrincipalName || 'this person';
    r.chat.setAttribute('aria-label', `Chat with ${who} in Teams`);
    r.chat.title = 'Chat in Teams';
    r.call.setAttribute('aria-label', `Call ${who} in Teams`);
    r.call.title = 'Call in Teams';
    r.notify.setAttribute('aria-label', `Notify me when ${who} is available`);
    r.favorite.setAttribute('aria-label', `Favorite: ${who}`);
    r.more.setAttribute('aria-label', `More options for ${who}`);
    r.more.title = 'More options';
  }
  r.notify.setAttribute('aria-pressed', String(Boolean(t.notify)));
  r.notify.title = t.notify
    ? `Notifying you when ${t.notifyEveryChange ? 'their status changes' : 'available'} (click to stop)`
    : 'Notify me when available';
  r.favorite.setAttribute('aria-pressed', String(Boolean(t.favorite)));
  r.favorite.title = t.favorite ? 'Favorite (click to remove)' : 'Add to favorites';
  // A bell with waves: every change, not only "available".
  const bell = t.notifyEveryChange ? 'bell-ring' : 'bell';
  if (!r.notify.querySelector(`.icon-${bell}`)) r.notify.replaceChildren(icon(bell));
}

/** The row's "until 14:30 · outside working hours (22:10 there)", as the engine words it. */
function updateCalendar(r, t) {
  const text = M.calendarText(t.calendar);
  setText(r.calendar, text);
  // The line ends in an ellipsis when the row is narrow.
  if (r.calendar.title !== text) r.calendar.title = text;
}

export function renderRoster() {
  const { signIn, roster, filter } = store.state;
  if (signIn.state !== 'signed_in') return;
  const list = $('roster-list');
  const active = document.activeElement;
  const activeRow = list.contains(active) ? active.closest('li.row') : null;
  const everyone = M.sortRoster([...roster.values()]);
  const visible = everyone.filter((t) => M.matchesFilter(t, filter));

  for (const [id, r] of rows) {
    if (!roster.has(id)) {
      r.li.remove();
      rows.delete(id);
    }
  }
  visible.forEach((t, i) => {
    let r = rows.get(t.id);
    if (!r) {
      r = createRow(t.id);
      rows.set(t.id, r);
    }
    updateRow(r, t);
    const here = list.children[i];
    if (here !== r.li) list.insertBefore(r.li, here ?? null);
  });
  while (list.children.length > visible.length) list.lastElementChild.remove();

  // Moving a row in the DOM drops its focus: put it back.
  if (active && active !== document.activeElement && active.isConnected && list.contains(active)) {
    active.focus({ preventScroll: true });
  } else if (activeRow && !activeRow.isConnected) {
    (list.querySelector('.row-btn') ?? $('filter')).focus();
  }

  const empty = roster.size === 0;
  show($('roster-empty'), empty);
  // Nothing to filter yet: the empty state has its own "Add people".
  show($('toolbar'), !empty);
  show($('filter-empty'), !empty && visible.length === 0);
  setText($('filter-echo'), filter.trim());
  const available = everyone.filter((t) => t.kind === 'available').length;
  setText($('roster-count'), empty ? '' : `${available} of ${everyone.length} available`);
  reportFirstPaint(visible);
}

/**
 * Redraws the rows of the teammates `ids` only (new presence), where a
 * presence change leaves them; anything more (a row to add, to hide or to
 * move) is left to renderRoster.
 */
export function patchRows(ids) {
  const { signIn, roster, filter } = store.state;
  if (signIn.state !== 'signed_in') return;
  const list = $('roster-list');
  const patched = [];
  for (const id of ids) {
    const t = roster.get(id);
    const r = rows.get(id);
    if (!t) continue; // gone from the roster
    if (M.matchesFilter(t, filter) !== (r?.li.parentNode === list)) {
      renderRoster();
      return;
    }
    if (r) patched.push([r, t]);
  }
  for (const [r, t] of patched) updateRow(r, t);
  // The list was in order before; it still is if every patched row is in
  // order with its neighbours.
  const inOrder = ([r, t]) => {
    const before = r.li.previousElementSibling;
    const after = r.li.nextElementSibling;
    return (
      (!before || M.compareTeammates(roster.get(before.dataset.id) ?? t, t) <= 0) &&
      (!after || M.compareTeammates(t, roster.get(after.dataset.id) ?? t) <= 0)
    );
  };
  if (!patched.every(inOrder)) {
    renderRoster();
    return;
  }
  let available = 0;
  for (const t of roster.values()) if (t.kind === 'available') available += 1;
  setText($('roster-count'), roster.size === 0 ? '' : `${available} of ${roster.size} available`);
  if (!paintReported) reportFirstPaint(M.sortRoster([...roster.values()]).filter((t) => M.matchesFilter(t, filter)));
}

/** Lights up the rows of `ids` for a moment: their status just changed. */
export function highlightRows(ids) {
  const lit = ids.map((id) => rows.get(id)?.li).filter(Boolean);
  if (lit.length === 0) return;
  for (const row of lit) row.classList.remove('changed');
  // Restarts a highlight still running: one layout for all the rows, not one each.
  void lit[0].offsetWidth;
  for (const row of lit) row.classList.add('changed');
}

// Once per page (the app makes a new one each time the window opens), when
// the roster first shows everyone's presence: tells the app after the frame
// that drew it has been painted (the next one starts), so that the app can
// log how long launch, or opening the window, to roster took (bench/app
// reads those lines).
let paintReported = false;
function reportFirstPaint(visible) {
  if (paintReported || visible.length === 0 || !visible.every((t) => t.since)) return;
  paintReported = true;
  requestAnimationFrame(() => requestAnimationFrame(() => ipc.rosterPainted().catch(() => {})));
}

/**
 * New words about time for `ids` ("for 26 min", "as of 14:05", their
 * calendar's), already in the store: those rows' words only, nothing moves.
 */
export function patchTimeWords(ids) {
  const { roster } = store.state;
  for (const id of ids) {
    const r = rows.get(id);
    const t = roster.get(id);
    if (!r || !t) continue;
    setText(r.since, t.sinceWords);
    updateCalendar(r, t);
  }
}

/** The engine gets no answers, or again: every row dims, or no longer. */
export function markRowsStale(stale) {
  for (const r of rows.values()) r.li.classList.toggle('stale', stale);
}

function showRowError(id, message) {
  const r = rows.get(id);
  if (!r) {
    setText($('roster-error'), message);
    return;
  }
  setText(r.error, message);
  r.li.classList.add('has-error');
  setTimeout(() => {
    if (r.error.textContent === message) {
      setText(r.error, '');
      r.li.classList.remove('has-error');
    }
  }, 10000);
}

async function setFlag(id, flag, value) {
  const before = store.state.roster.get(id);
  if (!before) return;
  const args = { id, notify: null, favorite: null, notifyEveryChange: null };
  args[flag] = value;
  store.update(flagSet, id, flag, value);
  renderRoster();
  try {
    store.update(teammateUpdated, id, await ipc.setTeammateFlags(args));
  } catch (err) {
    store.update(flagSet, id, flag, before[flag]);
    showRowError(id, M.errorMessage(err));
  }
  renderRoster();
}

async function openTeams(id, action) {
  try {
    await ipc.openTeams(id, action);
  } catch (err) {
    showRowError(id, M.errorMessage(err));
  }
}

function openRowMenu(id, anchor) {
  const t = store.state.roster.get(id);
  if (!t) return;
  openMenu(anchor, `Options for ${t.displayName}`, [
    {
      label: 'Notify me when available',
      checked: Boolean(t.notify),
      action: () => setFlag(id, 'notify', !t.notify),
    },
    {
      label: 'Notify me of every status change',
      checked: Boolean(t.notifyEveryChange),
      action: () => setFlag(id, 'notifyEveryChange', !t.notifyEveryChange),
    },
    {
      label: t.favorite ? 'Remove from favorites' : 'Add to favorites',
      action: () => setFlag(id, 'favorite', !t.favorite),
    },
    { separator: true },
    { label: 'Remove from list…', danger: true, action: () => confirmRemove(id, anchor) },
  ]);
}

// Remove -----------------------------------------------------------------------

let removing = null;

function confirmRemove(id, opener) {
  const t = store.state.roster.get(id);
  if (!t) return;
  removing = id;
  setText($('confirm-title'), `Remove ${t.displayName}?`);
  setText($('confirm-text'), 'You will no longer see their status or get notifications about them. You can add them again at any time.');
  setText($('confirm-error'), '');
  $('confirm-ok').disabled = false;
  openDialog($('confirm-dialog'), opener, $('confirm-cancel'));
}

async function removeConfirmed() {
  const id = removing;
  const dialog = $('confirm-dialog');
  if (!id) return;
  // Focus goes to the neighbour's same button once the row is gone.
  const li = rows.get(id)?.li;
  const neighbour = li?.nextElementSibling ?? li?.previousElementSibling;
  $('confirm-ok').disabled = true;
  try {
    store.update(rosterReplaced, await ipc.removeTeammate(id));
    focusOnClose(dialog, neighbour?.querySelector('.btn-more') ?? $('filter'));
    removing = null;
    dialog.close();
    renderRoster();
  } catch (err) {
    setText($('confirm-error'), M.errorMessage(err));
    $('confirm-ok').disabled = false;
  }
}

// Wiring -------------------------------------------------------------------------

function setFilter(text) {
  store.update(filterChanged, text);
  renderRoster();
}

export function wireRoster() {
  const list = $('roster-list');
  list.addEventListener('click', (e) => {
    const button = e.target.closest('button[data-action]');
    const li = button?.closest('li.row');
    if (!li) return;
    const id = li.dataset.id;
    const t = store.state.roster.get(id);
    if (!t) return;
    switch (button.dataset.action) {
      case 'chat':
      case 'call':
        openTeams(id, button.dataset.action);
        break;
      case 'notify':
        setFlag(id, 'notify', !t.notify);
        break;
      case 'favorite':
        setFlag(id, 'favorite', !t.favorite);
        break;
      case 'more':
        openRowMenu(id, button);
        break;
      default:
    }
  });
  list.addEventListener('keydown', (e) => {
    const button = e.target.closest('button.row-btn');
    const li = button?.closest('li.row');
    if (!li) return;
    const controls = [...li.querySelectorAll('.row-btn')];
    const column = controls.indexOf(button);
    const all = [...list.children];
    const at = all.indexOf(li);
    let target = null;
    if (e.key === 'ArrowDown') target = all[at + 1]?.querySelectorAll('.row-btn')[column];
    else if (e.key === 'ArrowUp') target = all[at - 1]?.querySelectorAll('.row-btn')[column];
    else if (e.key === 'Home' && !e.ctrlKey) target = all[0]?.querySelectorAll('.row-btn')[column];
    else if (e.key === 'End' && !e.ctrlKey) target = all[all.length - 1]?.querySelectorAll('.row-btn')[column];
    else if (e.key === 'ArrowRight') target = controls[column + 1];
    else if (e.key === 'ArrowLeft') target = controls[column - 1];
    else if (e.key === 'ContextMenu' || (e.shiftKey && e.key === 'F10')) {
      e.preventDefault();
      openRowMenu(li.dataset.id, li.querySelector('.btn-more'));
      return;
    } else return;
    e.preventDefault();
    target?.focus();
    target?.scrollIntoView({ block: 'nearest' });
  });

  // A right click on a person opens the same menu as their ⋯ button.
  list.addEventListener('contextmenu', (e) => {
    const li = e.target.closest('li.row');
    if (!li) return;
    e.preventDefault();
    openRowMenu(li.dataset.id, li.querySelector('.btn-more'));
  });

  $('filter').addEventListener('input', (e) => setFilter(e.target.value));
  $('filter').addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && e.target.value) {
      e.preventDefault();
      e.target.value = '';
      setFilter('');
    } else if (e.key === 'ArrowDown') {
      const first = list.querySelector('.row-btn');
      if (first) {
        e.preventDefault();
        first.focus();
      }
    }
  });
  $('clear-filter').addEventListener('click', () => {
    $('filter').value = '';
    setFilter('');
    $('filter').focus();
  });
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f' && !$('roster-screen').hidden && !document.querySelector('dialog[open]')) {
      e.preventDefault();
      $('filter').focus();
      $('filter').select();
    }
  });
  $('confirm-ok').addEventListener('click', removeConfirmed);
}
