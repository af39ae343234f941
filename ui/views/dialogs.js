// Modal dialogs: opening with focus inside, a focus trap, closing by Escape,
// the backdrop or a [data-close] button, and focus back where it belongs.

import { focusables, keepFocus } from '../dom.js';
import { closeMenu } from './menu.js';

const openers = new WeakMap();
const focusAfterClose = new WeakMap();

/** Shows `dialog` with focus on `first` (or its first control); `opener` gets focus back. */
export function openDialog(dialog, opener, first) {
  closeMenu(false);
  openers.set(dialog, opener ?? document.activeElement);
  dialog.showModal();
  (first ?? focusables(dialog)[0])?.focus();
}

/** Where focus goes when `dialog` next closes, instead of its opener. */
export function focusOnClose(dialog, target) {
  focusAfterClose.set(dialog, target);
}

/** `fallback()` gives the control for focus when neither the opener nor a chosen one is there. */
export function wireDialogs(fallback) {
  for (const dialog of document.querySelectorAll('dialog')) {
    for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
    dialog.addEventListener('keydown', (e) => {
      if (e.key !== 'Tab') return;
      const list = focusables(dialog);
      if (list.length === 0) return;
      const first = list[0];
      const last = list[list.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    });
    // A click on the backdrop (outside the frame) closes, as Escape does.
    dialog.addEventListener('click', (e) => {
      if (e.target === dialog) dialog.close();
    });
    dialog.addEventListener('close', () => {
      const target = focusAfterClose.get(dialog) ?? openers.get(dialog);
      focusAfterClose.delete(dialog);
      if (target?.isConnected && target.getClientRects().length > 0) target.focus();
      else keepFocus(fallback());
    });
  }
}
