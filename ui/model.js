// Pure functions of the window: sorting, filtering, countdowns and the words
// of its own notices. No DOM and no Tauri here, so `node --test` can check
// them. A presence in words (statusText), its dot (kind, dotLabel), its
// place in a list (statusRank), how long it has lasted (sinceWords: "for 25
// min", "as of 14:05" while the engine gets no answers) and what their
// calendar says (calendar.words: "until 14:30", "outside working hours
// (22:10 there)") come from the engine with each teammate, and
// time-words-changed keeps the last two current.

// What localeCompare(b, undefined, options) would use, made once: a roster
// of 2,000 is sorted with some 20,000 comparisons.
const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** Compare two names as people expect (case and accents aside). */
export function compareNames(a, b) {
  return collator.compare(String(a ?? ''), String(b ?? ''));
}

/** Favorites first, then by status, then by name. */
export function compareTeammates(a, b) {
  if (Boolean(a.favorite) !== Boolean(b.favorite)) return a.favorite ? -1 : 1;
  // Out of reach (4) when the engine sent no rank.
  const rank = (a.statusRank ?? 4) - (b.statusRank ?? 4);
  if (rank !== 0) return rank;
  return compareNames(a.displayName, b.displayName) || compareNames(a.id, b.id);
}

export function sortRoster(list) {
  return [...list].sort(compareTeammates);
}

function fold(text) {
  return String(text ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** The filter box: every word must appear in the name, UPN, mail or job title. */
export function matchesFilter(t, filter) {
  const words = fold(filter).split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = fold([t.displayName, t.userPrincipalName, t.mail, t.jobTitle].join(' '));
  return words.every((w) => haystack.includes(w));
}

const MINUTE = 60000;

/** States in which the engine is not getting answers: presence shown is old. */
const STALE_STATES = new Set(['offline', 'error']);

/** True while the engine gets no answers: the presence rows show is old, and they dim. */
export function isStale(status) {
  return Boolean(status && STALE_STATES.has(status.state) && status.lastAnswerAt);
}

/** A countdown as "14:05" (minutes:seconds), never negative. */
export function formatCountdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** Seconds left of a retry announced `retryAfterS` seconds after `receivedMs`. */
export function secondsLeft(retryAfterS, receivedMs, nowMs) {
  if (retryAfterS == null) return null;
  return Math.max(0, Math.ceil(retryAfterS - (nowMs - receivedMs) / 1000));
}

function pad2(n) {
  return String(n).padStart(2, '0');
}

/** "14:05" today, "Tue 09:00" on another day. Local time, 24-hour clock. */
export function formatClock(iso, nowMs) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return '';
  const hm = `${pad2(when.getHours())}:${pad2(when.getMinutes())}`;
  const now = new Date(nowMs);
  if (when.toDateString() === now.toDateString()) return hm;
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][when.getDay()];
  return `${day} ${hm}`;
}

/**
 * A row's calendar outlook: every part as the engine words it and keeps it
 * current ("until 14:30", "free at 15:00", "outside working hours (22:10
 * there)"), one after the other; '' for no outlook.
 */
export function calendarText(calendar) {
  if (!calendar || !Array.isArray(calendar.words)) return '';
  return calendar.words.filter(Boolean).join(' · ');
}

/** True while a pause is in force. */
export function isPaused(pausedUntil, nowMs) {
  if (!pausedUntil) return false;
  const until = Date.parse(pausedUntil);
  return !Number.isNaN(until) && until > nowMs;
}

// ---------------------------------------------------------------- sign-in

/** After these the sign-in button says "Try again". */
export const SIGN_IN_RETRY = ['declined', 'expired', 'consent_required', 'blocked', 'browser_failed', 'error'];

/** A sign-in under way: with a code, or in the browser. */
export function isSignInUnderWay(state) {
  return state === 'signing_in' || state === 'in_browser';
}

/**
 * Whether the window shows a `sign-in-changed` event that arrives while one
 * of its own start commands still waits for its answer. `starting` is null
 * or `{kind, cancelled}`, `kind` being the state that start leads to
 * ('signing_in' for a code, 'in_browser'). The engine cancels the sign-in
 * under way before it starts another and says 'signed_out' for that: no news
 * to a window that already shows the new one starting. Nor is a sign-in of
 * the other kind (one the person has moved on from), or any sign-in after
 * they pressed Cancel.
 */
export function showsSignInChange(view, starting) {
  if (!starting) return true;
  if (view?.state === 'signed_out' && !view.message) return false;
  if (isSignInUnderWay(view?.state)) return !starting.cancelled && view.state === starting.kind;
  return true;
}

/**
 * The banner for the engine's status, or null when all is well:
 * `{kind, lead, when, detail, signIn}`. `when` ("in 20 s") is kept apart
 * because it ticks every second and is not read out each time.
 */
export function bannerFor(status, secondsToRetry) {
  if (!status) return null;
  const detail = status.detail || null;
  const when = secondsToRetry == null ? null : secondsToRetry > 0 ? `in ${secondsToRetry} s` : 'now…';
  switch (status.state) {
    case 'offline':
      return { kind: 'offline', lead: 'Offline — retrying', when: when ?? 'soon', detail, signIn: false };
    case 'throttled':
      return when
        ? { kind: 'throttled', lead: 'Microsoft is throttling requests — next update', when, detail, signIn: false }
        : { kind: 'throttled', lead: 'Microsoft is throttling requests — waiting before the next update', when: null, detail, signIn: false };
    case 'signed_out':
      return { kind: 'signed_out', lead: detail ? `Signed out: ${detail}` : 'Signed out.', when: null, detail: null, signIn: true };
    case 'error':
      return when
        ? { kind: 'error', lead: 'Something went wrong — retrying', when, detail, signIn: false }
        : { kind: 'error', lead: 'Something went wrong.', when: null, detail, signIn: false };
    case 'starting':
      return { kind: 'starting', lead: 'Getting everyone’s status…', when: null, detail: null, signIn: false };
    default:
      return null;
  }
}

/** The banner as one line of text. */
export function bannerText(banner) {
  if (!banner) return '';
  return banner.when ? `${banner.lead} ${banner.when}` : banner.lead;
}

/**
 * The calendar banner, or null: the sign-in may not read calendars yet
 * (`allow`: the window offers to ask for it), or reading them fails for now
 * (the engine's words; it tries again by itself). Only on the roster: a
 * sign-in under way, the one Allow starts among them, has its own screen.
 */
export function calendarNotice(calendar, signInState) {
  if (signInState !== 'signed_in') return null;
  switch (calendar?.state) {
    case 'needs_permission':
      return { kind: 'needs_permission', text: 'To show when teammates will be free, allow Presently to read their free/busy.', detail: null, allow: true };
    case 'problem':
      return { kind: 'problem', text: 'Presently could not read calendars to show when teammates will be free.', detail: calendar.message || null, allow: false };
    default:
      return null;
  }
}

/** Up to two initials from a name, for people the engine sent none for. */
export function initialsOf(name) {
  const words = String(name ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...words[0]][0] ?? '';
  const last = words.length > 1 ? [...words[words.length - 1]][0] ?? '' : '';
  return (first + last).toUpperCase();
}

export const AVATAR_COLOURS = 10;

/** A stable avatar colour (0..AVATAR_COLOURS-1) from an ID. */
export function avatarColour(id) {
  let h = 2166136261;
  for (const c of String(id ?? '')) {
    h ^= c.codePointAt(0);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % AVATAR_COLOURS;
}

/** The message of a rejected command: `{code, message}` or a bare string. */
export function errorMessage(err) {
  if (err == null) return 'Something went wrong.';
  if (typeof err === 'string') return err;
  if (typeof err.message === 'string' && err.message) return err.message;
  return String(err);
}

/** Only photos the app serves itself: its `photo` scheme (`photo://localhost/<id>`;
 * on Windows the host `photo.localhost` over plain HTTP), or a data: URL of an image. */
export function safePhoto(photo) {
  if (typeof photo !== 'string') return null;
  if (/^(photo:\/\/localhost|http:\/\/photo\.localhost)\/[0-9A-Za-z-]+$/.test(photo)) return photo;
  return /^data:image\/(png|jpe?g|gif|webp|bmp);base64,/i.test(photo) ? photo : null;
}

// ---------------------------------------------------------------- your own status

// How long a status you set lasts, as the engine reads it. '' is
// Microsoft's default (a day for Busy and Do not disturb, 7 days for the
// others); 'today' is until midnight here, which the engine works out when
// you save.
export const STATUS_DURATIONS = Object.freeze([
  { value: '', label: 'Microsoft’s default' },
  { value: '30m', label: '30 minutes' },
  { value: '1h', label: '1 hour' },
  { value: '2h', label: '2 hours' },
  { value: '4h', label: '4 hours' },
  { value: 'today', label: 'Today' },
  { value: '1d', label: '1 day' },
  { value: '7d', label: '7 days' },
]);

/** How long a status message lasts; '' keeps it until you change it. */
export const MESSAGE_DURATIONS = Object.freeze([
  { value: '', label: 'Until I change it' },
  { value: '1h', label: '1 hour' },
  { value: '4h', label: '4 hours' },
  { value: 'today', label: 'Today' },
  { value: '1d', label: '1 day' },
  { value: '7d', label: '7 days' },
]);

/** The choice that gives your status back to Teams (it works it out from your activity). */
export const RESET_STATUS = 'reset';

/**
 * What a status change that waits for Microsoft's permission does when the
 * sign-in is `signInState`: 'wait' while it is in the browser (or not seen
 * there yet), 'send' once signed in (what was left to send goes then),
 * 'drop' when the sign-in ended otherwise; null with nothing waiting.
 */
export function consentNext(consent, signInState) {
  if (!consent) return null;
  if (signInState === 'in_browser' || !consent.seen) return 'wait';
  return signInState === 'signed_in' ? 'send' : 'drop';
}
