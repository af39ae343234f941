// The floating menu of a row's ⋯ button and of the pause button: one at a
// time, under its anchor, driven with the arrow keys.

import { $, el, show } from '../dom.js';
import { icon } from '../icons.js';

let menuAnchor = null;

/** Opens the menu under `anchor`; items are {label, action, checked?, danger?} or {separator: true}. */
export function openMenu(anchor, label, items) {
  closeMenu(false);
  const menu = $('menu');
  menu.replaceChildren();
  menu.setAttribute('aria-label', label);
  for (const item of items) {
    if (item.separator) {
      menu.append(el('div', { class: 'menu-sep', role: 'separator' }));
      continue;
    }
    const checkable = item.checked != null;
    const button = el(
      'button',
      {
        type: 'button',
        class: `menu-item${item.danger ? ' danger' : ''}`,
        role: checkable ? 'menuitemcheckbox' : 'menuitem',
        'aria-checked': checkable ? String(item.checked) : null,
        tabindex: '-1',
      },
      el('span', { class: 'menu-check' }, checkable && item.checked ? icon('check') : ''),
      el('span', { text: item.label }),
    );
    button.addEventListener('click', () => {
      closeMenu(true);
      item.action();
    });
    menu.append(button);
  }
  menuAnchor = anchor;
  anchor.setAttribute('aria-expanded', 'true');
  show(menu, true);
  placeMenu();
  menu.querySelector('.menu-item')?.focus({ preventScroll: true });
}

/** Under the anchor, right-aligned; above it when there is no room below. */
function placeMenu() {
  const menu = $('menu');
  if (menu.hidden || !menuAnchor) return;
  if (!menuAnchor.isConnected || menuAnchor.getClientRects().length === 0) {
    closeMenu(false);
    return;
  }
  const box = menuAnchor.getBoundingClientRect();
  const width = menu.offsetWidth;
  const height = menu.offsetHeight;
  const left = Math.max(8, Math.min(box.right - width, window.innerWidth - width - 8));
  const below = box.bottom + 4;
  const top = below + height > window.innerHeight - 8 ? Math.max(8, box.top - height - 4) : below;
  menu.style.left = `${left}px`;
  menu.style.top = `${top}px`;
}

export function closeMenu(returnFocus) {
  const menu = $('menu');
  if (menu.hidden) return;
  show(menu, false);
  menu.replaceChildren();
  if (menuAnchor) {
    menuAnchor.setAttribute('aria-expanded', 'false');
    if (returnFocus && menuAnchor.isConnected) menuAnchor.focus();
  }
  menuAnchor = null;
}

export function wireMenu() {
  const menu = $('menu');
  menu.addEventListener('keydown', (e) => {
    const items = [...menu.querySelectorAll('.menu-item')];
    const at = items.indexOf(document.activeElement);
    let next = null;
    if (e.key === 'ArrowDown') next = items[(at + 1) % items.length];
    else if (e.key === 'ArrowUp') next = items[(at - 1 + items.length) % items.length];
    else if (e.key === 'Home') next = items[0];
    else if (e.key === 'End') next = items[items.length - 1];
    else if (e.key === 'Escape' || e.key === 'Tab') {
      e.preventDefault();
      e.stopPropagation();
      closeMenu(true);
      return;
    } else return;
    e.preventDefault();
    next?.focus();
  });
  document.addEventListener(
    'pointerdown',
    (e) => {
      if (!menu.hidden && !menu.contains(e.target) && e.target !== menuAnchor && !menuAnchor?.contains(e.target)) closeMenu(false);
    },
    true,
  );
  // A click on the anchor while open closes the menu instead of reopening it.
  document.addEventListener(
    'click',
    (e) => {
      if (!menu.hidden && menuAnchor && menuAnchor.contains(e.target)) {
        e.stopPropagation();
        closeMenu(true);
      }
    },
    true,
  );
  window.addEventListener('resize', placeMenu);
  document.addEventListener('scroll', placeMenu, true);
}
