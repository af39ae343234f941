// The banner at the top: what the engine's status says is wrong (offline,
// throttled, signed out, an error) and when it tries again.

import * as M from '../model.js';
import { $, el, redraw, setText } from '../dom.js';
import { icon } from '../icons.js';
import { store } from '../store.js';
import { startBrowserSignIn } from './signin.js';

const BANNER_ICONS = { offline: 'offline', throttled: 'clock', signed_out: 'warning', error: 'warning', starting: 'info' };

function currentBanner(now) {
  const { status, signIn, statusAt } = store.state;
  if (!status) return null;
  // The sign-in screen explains a sign-out itself.
  if (status.state === 'signed_out' && signIn.state !== 'signed_in') return null;
  if (status.state === 'starting' && signIn.state !== 'signed_in') return null;
  return M.bannerFor(status, M.secondsLeft(status.retryAfterS, statusAt, now));
}

export function renderBanner() {
  const banner = $('banner');
  const now = Date.now();
  const b = currentBanner(now);
  if (!redraw(banner, b && [b.kind, b.lead, b.detail])) {
    updateBannerCountdown(now);
    return;
  }
  banner.className = b ? `banner banner-${b.kind}` : 'banner';
  banner.replaceChildren();
  if (!b) return;
  const text = el('p', { class: 'banner-text' }, el('span', { text: b.lead }));
  // The ticking seconds are not read out every second.
  if (b.when != null) text.append(' ', el('span', { id: 'banner-when', 'aria-live': 'off', text: b.when }));
  const body = el('div', { class: 'banner-body' }, text);
  if (b.detail) body.append(el('p', { class: 'banner-detail', text: b.detail }));
  body.append(el('p', { id: 'banner-error', class: 'banner-fail', role: 'alert' }));
  banner.append(icon(BANNER_ICONS[b.kind] ?? 'info', 'banner-icon'), body);
  if (b.signIn) {
    banner.append(el('button', { type: 'button', class: 'btn small', text: 'Sign in', onclick: () => startBrowserSignIn($('banner-error')) }));
  }
}

export function updateBannerCountdown(now) {
  const node = $('banner-when');
  const b = currentBanner(now);
  if (node && b?.when != null) setText(node, b.when);
}
