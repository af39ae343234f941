// The header: your own presence, name and account, as the engine sends them;
// your status opens "Set your status" (views/my-status.js).

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
  // Your status opens "Set your status" where Microsoft lets you set it
  // (not in the China cloud: there it is only words).
  const words = me?.statusText ?? '';
  const canSet = store.state.canSetStatus;
  show($('me-status-button'), canSet);
  setText($('me-status-words'), canSet ? words || 'Set your status' : '');
  // Its name starts with what it shows, so that it can be named by voice
  // ("click Available"): WCAG 2.5.3, label in name.
  $('me-status-button').setAttribute('aria-label', words ? `${words}, set your status` : 'Set your status');
  setText($('me-status-plain'), canSet ? '' : words);
  const user = account?.username ?? '';
  setText($('me-user'), user && (canSet || words) ? ` · ${user}` : user);
  const line = [words, user].filter(Boolean).join(' · ');
  $('me-status').title = [line, me?.statusMessage, canSet ? null : store.state.cannotSetStatus].filter(Boolean).join('\n');
  // Another cloud than the global one is worth a glance: tokens do not cross clouds.
  const national = account?.cloud && account.cloud !== 'global';
  show($('me-cloud'), national);
  setText($('me-cloud'), national ? CLOUD_BADGES[account.cloud] ?? account.cloudName ?? account.cloud : '');
  $('me-cloud').title = national ? account.cloudName ?? '' : '';
}
