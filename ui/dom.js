// Small helpers for building and updating the page. Text always goes in as
// text (textContent, text nodes), never as markup.

import { avatarColour, initialsOf, safePhoto } from './model.js';

export const $ = (id) => document.getElementById(id);

/** createElement with text, attributes and listeners; children are nodes or text. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

export function setText(node, text) {
  const value = text ?? '';
  if (node.textContent !== value) node.textContent = value;
}

export function show(node, visible) {
  node.hidden = !visible;
}

/** What each node was last drawn from, so unchanged parts are left alone. */
const drawnFrom = new WeakMap();

/** True (and remembers `source`) when `node` was drawn from something else. */
export function redraw(node, source) {
  const key = JSON.stringify(source ?? null);
  if (drawnFrom.get(node) === key) return false;
  drawnFrom.set(node, key);
  return true;
}

/** The avatar: the photo if the engine sent one, else initials on a colour. */
export function avatar(person, size = '') {
  const photo = safePhoto(person?.photo);
  const box = el('div', { class: `avatar ${size} av-${avatarColour(person?.id)}`, 'aria-hidden': 'true' });
  if (photo) box.append(el('img', { src: photo, alt: '' }));
  else box.append(el('span', { class: 'initials', text: person?.initials || initialsOf(person?.displayName) }));
  return box;
}

export function focusables(root) {
  return [...root.querySelectorAll('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
    (node) => !node.disabled && node.getClientRects().length > 0,
  );
}

/** Focus moves somewhere sensible when the element that had it disappears. */
export function keepFocus(fallback) {
  const active = document.activeElement;
  if (!active || active === document.body || !active.isConnected || active.getClientRects().length === 0) {
    fallback?.focus();
  }
}
