// The header: your own presence, name and account, as the engine sends them.

import { $, avatar, redraw, setText, show } from '../dom.js';
import { statusDot } from '../icons.js';
import { store } from '../store.js';

const CLOUD_BADGES = { usgov: 'GCC High', dod: 'DoD', china: '21Vianet' };

export function renderMe() {
  const { me, signIn } = store.state;
  const account = signIn.account;
  const holder = $('me-avatar');
  const person = me ?? { id: account?.username ?? 'me', displayName: account?.displayName ?? 'You' };
  const kind = me?.kind ?? 'unknown';
  if (redraw(holder, [person.id, person.photo, person.initials, person.displayName, kind, me?.dotLabel])) {
    holder.replaceChildren(avatar(person, 'medium'), statusDot(kind, me ? `Your status: ${me.dotLabel}` : 'Your status is not known yet'));
  }
  setText($('me-name'), me?.displayName || account?.displayName || 'Signed in');
  const parts = [];
  if (me) parts.push(me.statusText);
  if (account?.username) parts.push(account.username);
  setText($('me-status'), parts.join(' · '));
  $('me-status').title = [parts.join(' · '), me?.statusMessage].filter(Boolean).join('\n');
  // Another cloud than the global one is worth a glance: tokens do not cross clouds.
  const national = account?.cloud && account.cloud !== 'global';
  show($('me-cloud'), national);
  setText($('me-cloud'), national ? CLOUD_BADGES[account.cloud] ?? account.cloudName ?? account.cloud : '');
  $('me-cloud').title = national ? account.cloudName ?? '' : '';
}
