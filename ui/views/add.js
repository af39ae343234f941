// The Add people dialog: search the directory, import your manager, reports,
// frequent contacts or a team, and what was added, in the engine's words.

import * as ipc from '../ipc.js';
import * as M from '../model.js';
import { $, avatar, el, setText, show } from '../dom.js';
import { icon } from '../icons.js';
import { rosterReplaced, store } from '../store.js';
import { openDialog } from './dialogs.js';
import { renderRoster } from './roster.js';

let searchTimer = null;
let searchSerial = 0;
let groupsLoaded = false;

/** Search results and teams belong to one account. */
export function forgetAddPeople() {
  groupsLoaded = false;
  searchSerial += 1;
  $('people-search').value = '';
  $('search-results').replaceChildren();
  setText($('search-status'), '');
  $('team-toggle').setAttribute('aria-expanded', 'false');
  show($('team-picker'), false);
}

function openAddPeople(opener) {
  setText($('add-report'), '');
  $('add-report').className = 'report';
  openDialog($('add-dialog'), opener, $('people-search'));
  $('people-search').select();
}

function personResult(p) {
  const added = Boolean(p.inRoster);
  const button = el(
    'button',
    {
      type: 'button',
      class: `btn small${added ? ' done' : ''}`,
      'aria-label': added ? `${p.displayName} is in your list` : `Add ${p.displayName}`,
      disabled: added,
    },
    added ? icon('check') : icon('plus'),
    el('span', { text: added ? 'Added' : 'Add' }),
  );
  button.addEventListener('click', () => addPeople([p.id], button));
  const sub = [p.jobTitle, p.mail || p.userPrincipalName].filter(Boolean).join(' · ');
  return el(
    'li',
    { class: 'person', 'data-id': p.id },
    avatar(p),
    el('div', { class: 'person-text' }, el('p', { class: 'name', text: p.displayName }), el('p', { class: 'sub', text: sub })),
    button,
  );
}

async function runSearch(text, serial) {
  try {
    const people = await ipc.searchPeople(text);
    if (serial !== searchSerial) return;
    $('search-results').replaceChildren(...people.map(personResult));
    setText($('search-status'), people.length === 0 ? `No one found for “${text}”.` : people.length === 1 ? '1 person found.' : `${people.length} people found.`);
    $('search-status').classList.remove('error');
  } catch (err) {
    if (serial !== searchSerial) return;
    $('search-results').replaceChildren();
    setText($('search-status'), M.errorMessage(err));
    $('search-status').classList.add('error');
  }
}

function showReport(text, isError) {
  const node = $('add-report');
  node.className = `report ${isError ? 'error' : 'ok'}`;
  setText(node, text);
}

function applyReport(report) {
  if (Array.isArray(report?.roster)) {
    store.update(rosterReplaced, report.roster);
    renderRoster();
  }
  showReport(report?.summary, false);
}

async function addPeople(ids, button) {
  button.disabled = true;
  try {
    applyReport(await ipc.addTeammates(ids));
    button.classList.add('done');
    button.replaceChildren(icon('check'), el('span', { text: 'Added' }));
    button.setAttribute('aria-label', 'Added');
    // The focus stays in the list: move it back to the search box.
    $('people-search').focus();
  } catch (err) {
    button.disabled = false;
    showReport(M.errorMessage(err), true);
  }
}

function importButtons() {
  return [...document.querySelectorAll('#add-dialog .import'), $('team-import')];
}

async function runImport(source, groupId) {
  const buttons = importButtons();
  for (const b of buttons) b.disabled = true;
  showReport('Importing…', false);
  try {
    applyReport(await ipc.importTeammates(source, groupId));
  } catch (err) {
    showReport(M.errorMessage(err), true);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

async function toggleTeams() {
  const toggle = $('team-toggle');
  const open = toggle.getAttribute('aria-expanded') !== 'true';
  toggle.setAttribute('aria-expanded', String(open));
  show($('team-picker'), open);
  if (!open) return;
  if (groupsLoaded) {
    $('team-select').focus();
    return;
  }
  const select = $('team-select');
  select.replaceChildren(el('option', { value: '', text: 'Loading your teams…' }));
  select.disabled = true;
  $('team-import').disabled = true;
  try {
    const groups = await ipc.listGroups();
    const sorted = [...groups].sort((a, b) => M.compareNames(a.displayName, b.displayName));
    select.replaceChildren(...sorted.map((g) => el('option', { value: g.id, text: g.displayName, title: g.description || null })));
    groupsLoaded = sorted.length > 0;
    if (sorted.length === 0) {
      select.replaceChildren(el('option', { value: '', text: 'You are not in any team' }));
    } else {
      select.disabled = false;
      $('team-import').disabled = false;
      select.focus();
    }
  } catch (err) {
    select.replaceChildren(el('option', { value: '', text: 'Could not load your teams' }));
    showReport(M.errorMessage(err), true);
  }
}

export function wireAddPeople() {
  $('add-button').addEventListener('click', (e) => openAddPeople(e.currentTarget));
  $('empty-add').addEventListener('click', (e) => openAddPeople(e.currentTarget));
  $('people-search').addEventListener('input', (e) => {
    clearTimeout(searchTimer);
    searchSerial += 1;
    const text = e.target.value.trim();
    $('search-status').classList.remove('error');
    if (text.length < 2) {
      $('search-results').replaceChildren();
      setText($('search-status'), text ? 'Type at least two letters.' : '');
      return;
    }
    setText($('search-status'), 'Searching…');
    const serial = searchSerial;
    searchTimer = setTimeout(() => runSearch(text, serial), 300);
  });
  $('people-search').addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      const first = $('search-results').querySelector('button:not([disabled])');
      if (first) {
        e.preventDefault();
        first.focus();
      }
    }
  });
  for (const button of document.querySelectorAll('#add-dialog [data-import]')) {
    button.addEventListener('click', () => runImport(button.dataset.import, null));
  }
  $('team-toggle').addEventListener('click', toggleTeams);
  $('team-import').addEventListener('click', () => {
    const groupId = $('team-select').value;
    if (groupId) runImport('group', groupId);
  });
}
