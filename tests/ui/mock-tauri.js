// A fake window.__TAURI__ for previewing the UI in a browser, without the
// Rust side. Loaded before ui/main.js by serve.py. Not shipped.
//
// Query parameters (combine freely):
//   s=       signin | revoked | code | browser | declined | expired | consent | blocked |
//            browser-failed | error | roster (default) | empty
//   browser=none   no browser opens for the browser sign-in (the window shows the address)
//   status=  ok | offline | throttled | signed_out | error | starting (offline and error:
//            rows say "as of" the last answer, three minutes before the page opened)
//   tray=0   no system tray          paused=1   notifications paused
//   theme=   dark | light (forces the colour scheme by rewriting the media rules)
//   then=    add | search | team | settings | menu | pause | confirm | copy | filter | report |
//            signin (press Sign in) | address (press Sign in, then Show the address) |
//            mystatus (open Set your status)
//   fail=    a command name that rejects with {code, message}
//   live=1   random presence changes every 3 s (from the mock, not the UI)
//   cloud=   usgov etc. for the account
//   config=bad     the config file has a problem (the banner with "Open config file")
//   roster=broken  the roster file could not be read at start and was kept aside
//   calendar=      off (default) | permission (the banner with "Allow") | on (rows say
//                  when they will be free, "(22:10 there)" moving on each minute by
//                  time-words-changed) | problem
//   mystatus=consent  the first save_my_status (or set_my_status / set_my_message) answers "consent": a browser
//                  sign-in asks for Presence.ReadWrite (mock.approve() lets it through, and the
//                  change waiting for it is made); cloud=china: setting your status is refused
//   mqtt=on        settings have a broker, a user name (its password kept) and a topic prefix
//   mqtt=plain     the same, with allow_plaintext in the file: the app's warning comes with them
// Console: mock.emit(name, payload), mock.approve(), mock.decline(), mock.block(),
//          mock.browserFail(), mock.change(id, availability, activity),
//          mock.configProblem(problem or null), mock.calendar(state, message),
//          mock.calls (every invoke), mock.mqttPassword() (the one "kept in the keyring").
(function () {
  'use strict';
  const q = new URLSearchParams(location.search);
  const scenario = q.get('s') || 'roster';
  const PHOTO = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAIAAAAlC+aJAAAD6UlEQVR42t2WWU9TURSFz3/RBzVxSIwx8cEHJQ4x4BQTQ2RQnEBFjVITBFRAm9hSpdDb2xmVqFEqCMhQWgdQcQbH+Gp8MvojXMmNx0Yot2efLXhNvhit56z1rRbaik/3OxyN+JhJOBrnD/iQSTga8SGdcDTifTrhaJw/4N1I3NE4f8DbkTgXk6nY4BV3Z4vLOFPlc1V4TpbjT/wdj+Bx/C9jl0S8TcU1SQYaGqt2lhSsXLd43szgDE7ivH6pREym4jQmhmNGQ1XZ+lW23lPBLdxFArldQhzQFWg4tL2AoJ4NEpCjOwBPgyrXvK5defzA5ANykEZwkCgPGEi49Z/7P14HZNIHvBmOKRFoqNywdD7jAKQhU1VDojzg4olyRnsLZGoMGIopEahnfgXAkR3rVDUk4vVQTIn+uLtqWwH7i5AMnlU1sRCEO1c9bO9Cksqta4kDXg1GCfhO7dWXLly+IPufN1tPE0yIA06VbdZR37dx1fXmQ2mzLvtBZFIGvByMEihasUgWn91d9ONxBw3clTnIJJiIlwNRVXrCTdnP3PjVZvIA3M2OQrKqjHgxEFUl1HQ0+4eBbG+BBJmGZFUZygCvq0JWGq4yzQFIkGlIVh7w/F5EFffx35XpUJ3mACTINCSrylAGeGr2yMrPva2aA5Ag05CsPODZvYgqZlO1rPw2GtccgASZhmRVGfGsP6JK0myUlZr2Fr+/UJiNqjJivD9CoPDX5wDjK4BMgglxQE1pEfvvADJnb0DnpVr2dyFkUgY87QvTOLBlDePnANJoGvQBN9rqGT+JkUYc8KQvTOb8sVKW70LIITuIJ71hHU6WFGl+G0WCjoB43BvWBAaZUD3BHrdwV7OdYQAI1B38kjKV7HEet/SrxdjdEAupDvf3sUSe9jiJ8yy9bAPAxEDkayZia48zOMlVKkbvhhgZ7wvZv/P0cTaK0Z4QL7YDeOvEo54QL7YDeOucP+Bht8mL7QDeOucPeNBt8mI7gLfuPxhwx+TFfgBrnbh/x+TFdgBvHcOATDLYbrRXn2strPYtLfUuKLYBZ3AS53ELd3UHIIIMDPbUXl5ebi+dC9xFgrWEBnFAc4t/42Ef2XsqSEMmZUA6GVSixd/Gq/7HDOQr+Yh0VzBPujuNitrLf0k9G7SgK08rMdIVzAf8mBZU+mbB3gJdaMxHLK8BF3xty0q9s2ZvgUb02g9I3TZmpsnrX1g82/YW6EX7zHo2Azyt/iUlc2NvgXY4zDRg+LaRi0S0ffX+ljm0t4ADTHJJiuFbRi6Kay7Nub0FTHJJiqFbxrSc8/j/EXsL+EzrOf2A3huBTUd8/9QA+MBqqupPdOObpPMgikUAAAAASUVORK5CYII=';
  const now = Date.now();
  const MIN = 60000;
  const ago = (min) => new Date(now - min * MIN).toISOString();
  const guid = (n) => '00000000-0000-4000-8000-' + String(n).padStart(12, '0');

  const directory = [
    ['Megan Bowen', 'megan', 'Marketing Manager'],
    ['Alex Wilber', 'alex', 'Marketing Assistant'],
    ['Adele Vance', 'adele', 'Retail Manager'],
    ['Lee Gu', 'lee', 'Director of Engineering'],
    ['Diego Siciliani', 'diego', 'HR Manager'],
    ['Isaiah Langer', 'isaiah', 'Sales Rep'],
    ['Johanna Lorenz', 'johanna', 'Senior Engineer'],
    ['Lynne Robbins', 'lynne', 'Product Manager'],
    ['Nestor Wilke', 'nestor', 'Director of Operations'],
    ['Grady Archie', 'grady', 'Senior Designer, Research and Development Programme'],
    ['Patti Fernandez', 'patti', 'President'],
    ['Miriam Graham', 'miriam', 'Director'],
    ['Joni Sherman', 'joni', 'Paralegal'],
    ['Henrietta Mueller', 'henrietta', 'Developer'],
    ['Irvin Sayers', 'irvin', 'Director of Finance'],
    ['Christie Cline', 'christie', 'Buyer'],
    ['Enrico Cattaneo', 'enrico', 'Attorney'],
    ['Emily Braun', 'emily', 'Budget Analyst'],
    ['Allan Deyoung', 'allan', 'IT Admin'],
    ['Debra Berger', 'debra', 'Administrative Assistant'],
  ].map(([displayName, user, jobTitle], i) => ({
    id: guid(i + 1),
    displayName,
    userPrincipalName: user + '@contoso.onmicrosoft.com',
    mail: user + '@contoso.com',
    jobTitle,
    initials: displayName.split(' ').map((w) => w[0]).join('').slice(0, 2).toUpperCase(),
    photo: user === 'megan' ? PHOTO : null,
  }));
  const byName = (first) => directory.find((p) => p.displayName.startsWith(first));

  // What the engine adds to each teammate (core's status module): the words
  // under the name, the dot and where they sort. Only the values this mock
  // sends are in these tables; the Rust side knows them all.
  const AVAILABILITY = {
    Available: ['Available', 'available'],
    AvailableIdle: ['Available, idle', 'available'],
    Busy: ['Busy', 'busy'],
    DoNotDisturb: ['Do not disturb', 'dnd'],
    Away: ['Away', 'away'],
    BeRightBack: ['Be right back', 'away'],
    Offline: ['Offline', 'offline'],
    PresenceUnknown: ['Unknown', 'unknown'],
  };
  // Activities that say more than the availability; the others only repeat it.
  const ACTIVITY_DETAIL = { InAMeeting: 'In a meeting', InACall: 'In a call', Presenting: 'Presenting', Focusing: 'Focusing', OffWork: 'Off work' };
  const RANK = { available: 0, busy: 1, dnd: 2, away: 3 };
  function withStatus(t) {
    const [words, dot] = AVAILABILITY[t.availability] || [t.availability, 'unknown'];
    const detail = ACTIVITY_DETAIL[t.activity] || null;
    const oof = t.activity === 'OutOfOffice' || Boolean(t.outOfOffice && t.outOfOffice.isOutOfOffice);
    const kind = oof ? 'oof' : dot;
    const parts = oof ? ['Out of office', detail || (dot in RANK ? words : null)] : [words, detail];
    return Object.assign(t, {
      statusText: parts.filter(Boolean).join(' · '),
      kind,
      statusRank: kind in RANK ? RANK[kind] : 4,
      dotLabel: oof ? 'Out of office' : words,
    });
  }

  function teammate(first, availability, activity, minutes, extra) {
    const t = Object.assign(
      {},
      byName(first),
      {
        notify: false,
        notifyEveryChange: false,
        favorite: false,
        group: null,
        availability,
        activity,
        statusMessage: null,
        outOfOffice: { isOutOfOffice: false, message: null },
        since: minutes == null ? null : ago(minutes),
        calendar: null,
      },
      extra || {},
    );
    return withStatus(t);
  }

  let roster = [
    teammate('Megan', 'Available', 'Available', 25, { favorite: true, notify: true }),
    teammate('Alex', 'Busy', 'InAMeeting', 40, { statusMessage: 'Quarterly planning until 15:00' }),
    teammate('Adele', 'DoNotDisturb', 'Presenting', 12, { favorite: true }),
    teammate('Lee', 'Away', 'Away', 190),
    teammate('Diego', 'BeRightBack', 'BeRightBack', 4, { statusMessage: '<img src=x onerror=alert(1)>', notify: true }),
    teammate('Isaiah', 'Offline', 'OutOfOffice', 60 * 26, {
      outOfOffice: { isOutOfOffice: true, message: 'On holiday until 12 May. For anything urgent, please ask Nestor Wilke.' },
    }),
    teammate('Johanna', 'DoNotDisturb', 'Focusing', 50, { notify: true, notifyEveryChange: true }),
    teammate('Lynne', 'Busy', 'InACall', 7),
    teammate('Nestor', 'PresenceUnknown', 'PresenceUnknown', null),
    teammate('Grady', 'AvailableIdle', 'Available', 95),
  ];
  if (scenario === 'empty') roster = [];

  // "When they will be free", as the engine words it (core's calendar
  // words, in this machine's time zone): every part, "outside working hours
  // (22:10 there)" too, which the engine keeps current (time-words-changed).
  const pad2 = (n) => String(n).padStart(2, '0');
  const hhmm = (ms) => {
    const d = new Date(ms);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes());
  };
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  /** "14:30" on the day of `at`, "Tue 8 Dec 14:30" on another. */
  function clockOrDay(ms, at) {
    const d = new Date(ms);
    if (d.toDateString() === new Date(at).toDateString()) return hhmm(ms);
    return DAYS[d.getDay()] + ' ' + d.getDate() + ' ' + MONTHS[d.getMonth()] + ' ' + hhmm(ms);
  }
  /** "22:10": the time of day at `at` where the clock is `offset` minutes ahead of UTC. */
  function clockThere(offset, at) {
    const there = new Date(at + offset * MIN);
    return pad2(there.getUTCHours()) + ':' + pad2(there.getUTCMinutes());
  }
  const knowsOffset = (c) => Number.isInteger(c.utcOffsetMinutes);
  function calendarWordsOf(c, at) {
    const words = [];
    if (c.busyUntil) words.push('until ' + clockOrDay(Date.parse(c.busyUntil), at));
    if (c.freeAt && c.freeAt !== c.busyUntil) words.push('free at ' + clockOrDay(Date.parse(c.freeAt), at));
    if (c.outsideWorkingHours) {
      words.push(knowsOffset(c) ? 'outside working hours (' + clockThere(c.utcOffsetMinutes, at) + ' there)' : 'outside working hours');
    }
    return words;
  }
  /** When those words next change: the next minute while they say their time of day, else midnight here while they say a time. */
  function nextCalendarChange(c, at) {
    if (!c) return Infinity;
    // Offsets are whole minutes: their minute turns when UTC's does.
    if (c.outsideWorkingHours && knowsOffset(c)) return (Math.floor(at / MIN) + 1) * MIN;
    if (!c.busyUntil && !c.freeAt) return Infinity;
    const midnight = new Date(at);
    midnight.setHours(24, 0, 0, 0);
    return midnight.getTime();
  }
  const inMinutes = (min) => Math.ceil((now + min * MIN) / 1800000) * 1800000;
  const outlooks = {
    Alex: { busyUntil: inMinutes(20), freeAt: inMinutes(50), offset: 60 },
    Adele: { busyUntil: inMinutes(10), freeAt: null, offset: 60 },
    Lee: { busyUntil: null, freeAt: null, outside: true, offset: 540 },
    Isaiah: { busyUntil: null, freeAt: null, outside: true, offset: null },
    Lynne: { busyUntil: null, freeAt: inMinutes(40), outside: true, offset: -330 },
  };
  function outlook(o) {
    const c = {
      busyUntil: o.busyUntil ? new Date(o.busyUntil).toISOString() : null,
      freeAt: o.freeAt ? new Date(o.freeAt).toISOString() : null,
      words: [],
      outsideWorkingHours: Boolean(o.outside),
      utcOffsetMinutes: o.offset,
    };
    c.words = calendarWordsOf(c, Date.now());
    return c;
  }
  function readCalendars(on) {
    for (const t of roster) {
      const o = outlooks[t.displayName.split(' ')[0]];
      t.calendar = on ? (o ? outlook(o) : { busyUntil: null, freeAt: null, words: [], outsideWorkingHours: false, utcOffsetMinutes: 0 }) : null;
    }
  }
  const calendarStates = {
    off: { state: 'off', message: null },
    permission: { state: 'needs_permission', message: null },
    on: { state: 'on', message: null },
    problem: { state: 'problem', message: 'Could not read calendars: Microsoft Graph answered 503: Service unavailable. Trying again in a few minutes.' },
  };
  let calendar = calendarStates[q.get('calendar') || 'off'];
  readCalendars(calendar.state === 'on');
  // allow_calendar was called: the sign-in it started may read calendars.
  let allowing = false;

  const me = teammate('Debra', 'Available', 'Available', 80, { statusMessage: 'Working from Lisbon this week' });
  // The statuses you may set yourself, in Teams' words (get_state's statusChoices).
  const STATUS_CHOICES = [
    { word: 'available', label: 'Available' },
    { word: 'busy', label: 'Busy' },
    { word: 'dnd', label: 'Do not disturb' },
    { word: 'brb', label: 'Be right back' },
    { word: 'away', label: 'Appear away' },
    { word: 'offline', label: 'Appear offline' },
    { word: 'reset', label: 'Reset status' },
  ];
  // What Graph then says your presence is (reset: what Teams works out, here Available).
  const CHOSEN = {
    available: ['Available', 'Available'],
    busy: ['Busy', 'Busy'],
    dnd: ['DoNotDisturb', 'DoNotDisturb'],
    brb: ['BeRightBack', 'BeRightBack'],
    away: ['Away', 'Away'],
    offline: ['Offline', 'Offline'],
    reset: ['Available', 'Available'],
  };
  // Whether the sign-in may set your status (Presence.ReadWrite), and the
  // change that waits for the sign-in asking for it.
  let statusGranted = q.get('mystatus') !== 'consent';
  let statusAfterConsent = null;
  const mqttOn = q.get('mqtt') === 'on' || q.get('mqtt') === 'plain';
  const CANNOT_SET_STATUS = 'Setting your own status is not available in the China (21Vianet) cloud: Microsoft Graph does not offer it there. Set it in Teams instead.';
  let mqttPassword = mqttOn ? 'secret' : null;
  const account = {
    displayName: 'Debra Berger',
    username: 'debra@contoso.onmicrosoft.com',
    cloud: q.get('cloud') || 'global',
    cloudName: { global: 'Global', usgov: 'US Government L4 (GCC High)', dod: 'US Government L5 (DoD)', china: 'China (21Vianet)' }[q.get('cloud') || 'global'],
    tenant: 'contoso.onmicrosoft.com',
  };
  let settings = {
    cloud: account.cloud,
    tenant: 'organizations',
    clientId: '14d82eec-204b-4c2f-b7e8-296a70dab67e',
    quietHours: { enabled: true, start: '18:00', end: '08:00' },
    autostart: false,
    calendar: calendar.state !== 'off',
    intervalSecs: 30,
    mqtt: mqttOn ? { broker: 'mqtt://homeassistant.local:1883', username: 'debra', topicPrefix: 'presently' } : null,
  };
  if (q.get('mqtt') === 'plain') {
    settings.mqtt.plaintextWarning = 'Your MQTT password goes to homeassistant.local in the clear (allow_plaintext = true in config.toml): anyone on that network can read it. Use mqtts:// where the broker offers it.';
  }

  function newCode() {
    return {
      userCode: 'HX7QK2LM',
      verificationUri: 'https://microsoft.com/devicelogin',
      message: 'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code HX7QK2LM to authenticate.',
      expiresAt: new Date(Date.now() + 14 * 60000 + 32000).toISOString(),
    };
  }

  // Microsoft's authorize address as the engine builds it (PKCE, a loopback
  // redirect): long, which the window has to cope with.
  const BROWSER_URL =
    'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e' +
    '&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A53117%2F&response_mode=query' +
    '&scope=offline_access%20User.Read%20User.ReadBasic.All%20Presence.Read.All%20People.Read%20GroupMember.Read.All' +
    '&state=q0cDH5d2lYj9mYxW7pT3aA&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256' +
    '&prompt=select_account';

  // The payload of sign-in-changed (and get_state's signIn).
  const signInView = (state, extra) => Object.assign({ state, message: null, account: null, code: null, browserUrl: null }, extra || {});
  const signedOut = (message) => signInView('signed_out', { message: message || null });
  const signInScenarios = {
    signin: signedOut(),
    revoked: signedOut('You were signed out because your sign-in was revoked or has not been used for 90 days. Sign in again to continue.'),
    code: signInView('signing_in', { code: newCode() }),
    browser: signInView('in_browser', { browserUrl: BROWSER_URL }),
    declined: signInView('declined'),
    expired: signInView('expired'),
    consent: signInView('consent_required', {
      message: "AADSTS65001: The user or administrator has not consented to use the application with ID '14d82eec-204b-4c2f-b7e8-296a70dab67e' named 'Microsoft Graph Command Line Tools'.",
    }),
    blocked: signInView('blocked', {
      message: 'AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
    }),
    'browser-failed': signInView('browser_failed', {
      message: 'Sign-in in the browser did not complete: no answer came back from the browser within 5 minutes.',
    }),
    error: signInView('error', { message: 'Could not reach login.microsoftonline.com: could not connect. Check your network connection.' }),
  };
  let signIn = signInScenarios[scenario] || signInView('signed_in', { account });

  const statuses = {
    ok: { state: 'ok', detail: null, retryAfterS: null },
    starting: { state: 'starting', detail: null, retryAfterS: null },
    offline: { state: 'offline', detail: 'Getting presence: could not connect. Check your network connection.', retryAfterS: 20, lastAnswerAt: ago(3) },
    throttled: { state: 'throttled', detail: null, retryAfterS: 45 },
    signed_out: { state: 'signed_out', detail: 'your sign-in was revoked by an administrator.', retryAfterS: null },
    error: { state: 'error', detail: 'Microsoft Graph answered 503: Service unavailable', retryAfterS: 30, lastAnswerAt: ago(3) },
  };
  let status = statuses[q.get('status') || 'ok'];
  let pausedUntil = q.get('paused') === '1' ? new Date(now + 47 * 60000).toISOString() : null;
  const BAD_CONFIG = {
    file: '/home/debra/.config/presently/config.toml',
    key: 'quiet_hours.start',
    line: 7,
    message: 'Quiet hours start at "25:00", which is not a time of day (HH:MM).',
  };
  let configProblem = q.get('config') === 'bad' ? BAD_CONFIG : null;
  const BROKEN_ROSTER =
    'The roster file could not be read (expected `=`, line 3). It was kept as /home/debra/.config/presently/roster.toml.broken-20261130T061500Z and Presently started with an empty roster; fix that file and move it back to roster.toml to restore it.';

  // ------------------------------------------------------------------ events
  const listeners = new Map();
  let eventId = 0;
  function emit(name, payload) {
    for (const handler of listeners.get(name) || []) handler({ event: name, id: ++eventId, payload: JSON.parse(JSON.stringify(payload)) });
  }
  function listen(name, handler) {
    if (!listeners.has(name)) listeners.set(name, new Set());
    listeners.get(name).add(handler);
    return Promise.resolve(() => listeners.get(name).delete(handler));
  }

  // ------------------------------------------------------------------ words about time
  // As the engine does (core's how_long module): each teammate comes with the
  // words for how long they have had their presence, "for 25 min", or "as of
  // 14:05" (the last answer) while the engine gets none; '' when it is not
  // known. The engine keeps them current, and their calendar's words (above),
  // and tells the rows whose words changed with time-words-changed:
  // [{id, sinceWords, calendarWords}], calendarWords null for no calendar.
  const stale = () => (status.state === 'offline' || status.state === 'error') && Boolean(status.lastAnswerAt);
  function sinceWordsOf(since, at) {
    if (stale()) return 'as of ' + hhmm(Date.parse(status.lastAnswerAt));
    const start = Date.parse(since || '');
    if (Number.isNaN(start)) return '';
    const minutes = Math.floor((at - start) / MIN);
    if (minutes < 1) return 'just now';
    if (minutes < 60) return 'for ' + minutes + ' min';
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return 'for ' + hours + ' h';
    const days = Math.floor(hours / 24);
    return days === 1 ? 'for 1 day' : 'for ' + days + ' days';
  }
  function nextSinceChange(since, at) {
    const start = Date.parse(since || '');
    if (stale() || Number.isNaN(start)) return Infinity;
    const elapsed = at - start;
    if (elapsed < MIN) return start + MIN;
    const step = elapsed < 60 * MIN ? MIN : elapsed < 24 * 60 * MIN ? 60 * MIN : 24 * 60 * MIN;
    return start + (Math.floor(elapsed / step) + 1) * step;
  }
  function word(t) {
    const at = Date.now();
    t.sinceWords = sinceWordsOf(t.since, at);
    if (t.calendar) t.calendar.words = calendarWordsOf(t.calendar, at);
    return t;
  }
  let timeWordsTimer = null;
  /** Words every teammate's time afresh, tells the changes when `announce`, and waits for the next. */
  function keepTimeWords(announce) {
    const at = Date.now();
    const changed = [];
    let next = Infinity;
    for (const t of roster) {
      const sinceWords = sinceWordsOf(t.since, at);
      const calendarWords = t.calendar ? calendarWordsOf(t.calendar, at) : null;
      if (sinceWords !== t.sinceWords || (t.calendar && calendarWords.join('\n') !== t.calendar.words.join('\n'))) {
        t.sinceWords = sinceWords;
        if (t.calendar) t.calendar.words = calendarWords;
        changed.push({ id: t.id, sinceWords, calendarWords });
      }
      next = Math.min(next, nextSinceChange(t.since, at), nextCalendarChange(t.calendar, at));
    }
    if (announce && changed.length > 0) emit('time-words-changed', changed);
    clearTimeout(timeWordsTimer);
    timeWordsTimer = next === Infinity ? null : setTimeout(() => keepTimeWords(true), next - at);
  }
  keepTimeWords(false);

  // ------------------------------------------------------------------ commands
  // As the engine does: starting a sign-in, or cancelling, ends the one under
  // way, and only that is announced.
  function endSignInUnderWay() {
    if (signIn.state === 'signing_in' || signIn.state === 'in_browser') {
      signIn = signedOut();
      emit('sign-in-changed', signIn);
    }
  }

  const fail = new Set((q.get('fail') || '').split(',').filter(Boolean));
  const calls = [];
  const view = (t) => JSON.parse(JSON.stringify(t));
  const inRoster = (id) => roster.some((t) => t.id === id);
  const person = (p) => Object.assign({}, p, { inRoster: inRoster(p.id) });
  function addIds(ids) {
    const added = [];
    const unknown = [];
    for (const id of ids) {
      const p = directory.find((d) => d.id === id);
      if (!p) unknown.push(id);
      else if (!inRoster(id)) {
        roster.push(word(teammate(p.displayName.split(' ')[0], 'Available', 'Available', 0)));
        added.push(p.displayName);
      }
    }
    emit('roster-changed', roster);
    keepTimeWords(true);
    return { added, unknown, summary: summary(added, unknown), roster: view(roster) };
  }

  // What an add or import did, in one line, as the engine words it
  // (import::Report::summary; the mock's imports leave nothing out).
  function summary(added, unknown) {
    const parts = [
      added.length === 0
        ? 'No one new to add: they are all in your list already.'
        : added.length === 1
          ? `Added ${added[0]}.`
          : `Added ${added.length} people: ${added.join(', ')}.`,
    ];
    if (unknown.length > 0) parts.push(`Not found: ${unknown.join(', ')}.`);
    return parts.join(' ');
  }

  const commands = {
    get_state: () => ({
      signIn,
      roster: signIn.state === 'signed_in' ? roster : [],
      status,
      settings,
      trayAvailable: q.get('tray') !== '0',
      notificationsPausedUntil: pausedUntil,
      me: signIn.state === 'signed_in' ? me : null,
      configProblem,
      rosterProblem: q.get('roster') === 'broken' ? BROKEN_ROSTER : null,
      calendar,
      statusChoices: STATUS_CHOICES,
      canSetStatus: account.cloud !== 'china',
      cannotSetStatus: account.cloud === 'china' ? CANNOT_SET_STATUS : null,
    }),
    start_sign_in: () => {
      endSignInUnderWay();
      const code = newCode();
      signIn = signInView('signing_in', { code });
      // After the answer here; the browser sign-in below tells before it.
      setTimeout(() => emit('sign-in-changed', signIn), 50);
      return code;
    },
    start_browser_sign_in: () => {
      endSignInUnderWay();
      signIn = signInView('in_browser', { browserUrl: BROWSER_URL });
      emit('sign-in-changed', signIn);
      return { url: BROWSER_URL, opened: q.get('browser') !== 'none' };
    },
    allow_calendar: () => {
      if (signIn.state !== 'signed_in') throw { code: 'sign_in_needed', message: 'Sign in first.' };
      endSignInUnderWay();
      allowing = true;
      signIn = signInView('in_browser', { browserUrl: BROWSER_URL + '%20Calendars.ReadBasic' });
      emit('sign-in-changed', signIn);
      return { url: signIn.browserUrl, opened: q.get('browser') !== 'none' };
    },
    cancel_sign_in: () => {
      endSignInUnderWay();
      allowing = false;
      statusAfterConsent = null;
      return null;
    },
    open_verification_page: () => {
      if (signIn.state !== 'signing_in' && signIn.state !== 'in_browser') {
        throw { code: 'invalid_input', message: 'There is no sign-in under way right now.' };
      }
      return null;
    },
    sign_out: () => {
      signIn = signedOut();
      emit('sign-in-changed', signIn);
      return null;
    },
    get_settings: () => settings,
    // The window sends the form as typed; like the engine, this cleans it,
    // refuses what the form itself cannot take with the setting's key, then
    // checks the rest.
    save_settings: ({ settings: next }) => {
      const field = (key, message) => ({ code: 'config', message, key });
      const interval = Number(next.intervalSecs);
      if (!Number.isInteger(interval) || interval < 5) throw field('interval', 'Check presence every 5 seconds or more (a whole number).');
      const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
      const quiet = next.quietHours;
      const clock = (which, kept) => {
        const typed = String(quiet[which] ?? '').slice(0, 5);
        if (hhmm.test(typed)) return typed;
        if (quiet.enabled) throw field(`quiet_hours.${which}`, `Enter the ${which} of quiet hours as HH:MM.`);
        return kept;
      };
      const quietHours = { enabled: Boolean(quiet.enabled), start: clock('start', settings.quietHours.start), end: clock('end', settings.quietHours.end) };
      const typed = next.mqtt ?? {};
      const broker = String(typed.broker ?? '').trim();
      if (broker && !/^mqtts?:\/\/[^\s/]+/i.test(broker)) {
        throw field('mqtt.broker', 'The broker’s address starts with mqtt:// or mqtts://, like mqtt://127.0.0.1:1883.');
      }
      const clientId = String(next.clientId ?? '').trim();
      if (clientId && !/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(clientId)) {
        throw { code: 'config', message: 'The client ID must be a GUID, like 14d82eec-204b-4c2f-b7e8-296a70dab67e.' };
      }
      if (broker && !/^mqtts?:\/\/[^/:\s]+(:\d+)?\/?$/i.test(broker)) {
        throw { code: 'config', message: 'The MQTT broker must be mqtt://host:port or mqtts://host:port, not `' + broker + '`.' };
      }
      // The password goes to the keyring, never back to the window.
      if (broker && typed.password) mqttPassword = typed.password;
      const trimmed = (text) => String(text ?? '').trim();
      settings = {
        cloud: next.cloud,
        tenant: trimmed(next.tenant),
        clientId,
        quietHours,
        autostart: Boolean(next.autostart),
        calendar: Boolean(next.calendar),
        intervalSecs: interval,
        mqtt: broker ? { broker, username: trimmed(typed.username) || null, topicPrefix: trimmed(typed.topicPrefix) || 'presently' } : null,
      };
      return settings;
    },
    // As the engine does (my_status::MyStatusForm): the form as typed, a
    // message too long refused beside its field, only what changed made,
    // the status before the message; what comes after a change that waits
    // for the permission goes back as `rest`.
    save_my_status: ({ form }) => {
      const text = String(form.message ?? '').trim();
      const chars = [...text].length;
      if (chars > 280) throw { code: 'invalid_input', message: `A status message is at most 280 characters: this one has ${chars}.`, key: 'message' };
      const changes = [];
      if (form.choice) {
        if (!CHOSEN[form.choice]) throw { code: 'invalid_input', message: '`' + form.choice + '` is not a status to set.' };
        changes.push({ kind: 'status', choice: form.choice, duration: form.choice === 'reset' ? null : asMinutes(form.duration) });
      }
      const before = signIn.state === 'signed_in' ? String(me.statusMessage ?? '').trim() : '';
      if (text !== before || (text && form.messageDuration)) {
        changes.push(text ? { kind: 'message', text, duration: asMinutes(form.messageDuration) } : { kind: 'message', text: null, duration: null });
      }
      for (const [i, change] of changes.entries()) {
        const answer = changeMyStatus(change);
        if (answer.state === 'consent') return { ...answer, rest: changes.slice(i + 1) };
      }
      return { state: 'done', url: null, opened: false, rest: [] };
    },
    set_my_status: ({ choice, duration }) => {
      if (!CHOSEN[choice]) throw { code: 'invalid_input', message: '`' + choice + '` is not a status you can set.' };
      return changeMyStatus({ kind: 'status', choice, duration: choice === 'reset' ? null : checkDuration(duration) });
    },
    set_my_message: ({ text, duration }) => {
      const words = (text || '').trim();
      if ([...words].length > 280) throw { code: 'invalid_input', message: 'A status message is at most 280 characters.' };
      return changeMyStatus({ kind: 'message', text: words || null, duration: words ? checkDuration(duration) : null });
    },
    search_people: ({ text }) => {
      const t = text.toLowerCase();
      return directory.filter((p) => (p.displayName + ' ' + p.mail).toLowerCase().includes(t)).slice(0, 25).map(person);
    },
    list_groups: () => [
      { id: 'g1', displayName: 'Mark 8 Project Team', description: 'Everything about the Mark 8' },
      { id: 'g2', displayName: 'Retail', description: 'Stores and buyers' },
      { id: 'g3', displayName: 'Contoso Engineering', description: null },
    ],
    add_teammates: ({ ids }) => addIds(ids),
    import_teammates: ({ source, groupId }) => {
      const sets = {
        manager: ['Patti'],
        reports: ['Allan', 'Emily', 'Henrietta'],
        people: ['Megan', 'Alex', 'Miriam', 'Joni'],
        group: ['Christie', 'Enrico', 'Irvin', 'Lee'],
      };
      const ids = (sets[source] || []).map((f) => byName(f).id);
      if (source === 'group' && !groupId) throw { code: 'invalid_input', message: 'Pick a team first.' };
      if (source === 'group') ids.push('not-a-guid');
      const report = addIds(ids);
      if (source === 'group') {
        report.unknown = ['Former employee (no longer in the directory)'];
        report.summary = summary(report.added, report.unknown);
      }
      return report;
    },
    remove_teammate: ({ id }) => {
      roster = roster.filter((t) => t.id !== id);
      emit('roster-changed', roster);
      return view(roster);
    },
    set_teammate_flags: ({ id, notify, favorite, notifyEveryChange }) => {
      const t = roster.find((r) => r.id === id);
      if (!t) throw { code: 'not_found', message: 'That person is no longer in your list.' };
      if (notify != null) t.notify = notify;
      if (favorite != null) t.favorite = favorite;
      if (notifyEveryChange != null) {
        t.notifyEveryChange = notifyEveryChange;
        if (notifyEveryChange) t.notify = true;
      }
      emit('roster-changed', roster);
      return view(t);
    },
    open_teams: () => null,
    open_config_file: () => {
      if (!configProblem) throw { code: 'invalid_input', message: 'There is no config file to fix.' };
      return null;
    },
    roster_painted: () => null,
    pause_notifications: ({ minutes }) => {
      pausedUntil = minutes > 0 ? new Date(Date.now() + minutes * 60000).toISOString() : null;
      emit('pause-changed', { pausedUntil });
      return { pausedUntil };
    },
  };

  function checkDuration(d) {
    if (d == null || d === '') return null;
    if (!/^\d+[mhd]$/.test(d)) throw { code: 'invalid_input', message: '`' + d + '` is not a duration: write a number and m, h or d, such as 30m, 1h, 8h or 7d.' };
    return d;
  }

  // A duration of the form in minutes, as the engine hands it back: "today"
  // is until midnight here, at least a minute.
  function asMinutes(d) {
    if (d === 'today') {
      const midnight = new Date();
      midnight.setHours(24, 0, 0, 0);
      return `${Math.max(1, Math.ceil((midnight.getTime() - Date.now()) / 60000))}m`;
    }
    const typed = checkDuration(d);
    if (typed == null) return null;
    return `${Number(typed.slice(0, -1)) * { m: 1, h: 60, d: 1440 }[typed.slice(-1)]}m`;
  }

  // As the engine does: the first time, a browser sign-in asks for the
  // permission, and the change is made once through.
  function changeMyStatus(change) {
    if (account.cloud === 'china') throw { code: 'invalid_input', message: CANNOT_SET_STATUS };
    if (signIn.state !== 'signed_in') throw { code: 'sign_in_needed', message: 'Sign in first.' };
    if (!statusGranted) {
      signIn = signInView('in_browser', { browserUrl: BROWSER_URL + '%20Presence.ReadWrite' });
      emit('sign-in-changed', signIn);
      statusAfterConsent = change;
      return { state: 'consent', url: signIn.browserUrl, opened: q.get('browser') !== 'none' };
    }
    makeStatusChange(change);
    return { state: 'done', url: null, opened: false };
  }
  function makeStatusChange(change) {
    if (change.kind === 'status') {
      me.availability = CHOSEN[change.choice][0];
      me.activity = CHOSEN[change.choice][1];
      me.since = new Date().toISOString();
    } else {
      me.statusMessage = change.text;
    }
    withStatus(me);
    emit('me-changed', me);
  }

  // How long the app takes to answer. A sign-in starts by asking Microsoft
  // (or setting up the browser's way back), long enough to press Cancel.
  const DELAYS = { search_people: 250, start_sign_in: 150, start_browser_sign_in: 150 };

  function invoke(cmd, args) {
    calls.push([cmd, args]);
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        if (fail.has(cmd)) {
          reject({ code: 'offline', message: 'Could not reach Microsoft Graph: could not connect. Check your network connection.' });
          return;
        }
        const run = commands[cmd];
        if (!run) {
          reject('Command ' + cmd + ' not found');
          return;
        }
        try {
          const out = run(args || {});
          resolve(out == null ? null : JSON.parse(JSON.stringify(out)));
        } catch (err) {
          reject(err);
        }
      }, DELAYS[cmd] ?? 60);
    });
  }

  // ------------------------------------------------------------------ console helpers
  function change(id, availability, activity) {
    const t = roster.find((r) => r.id === id || r.displayName.startsWith(id));
    if (!t) return;
    t.availability = availability;
    t.activity = activity || availability;
    t.since = new Date().toISOString();
    word(withStatus(t));
    emit('presence-changed', [t]);
    keepTimeWords(true);
  }

  window.mock = {
    emit,
    calls,
    change,
    approve() {
      signIn = signInView('signed_in', { account });
      emit('sign-in-changed', signIn);
      if (statusAfterConsent) {
        statusGranted = true;
        const change = statusAfterConsent;
        statusAfterConsent = null;
        makeStatusChange(change);
      }
      if (allowing) {
        allowing = false;
        calendar = calendarStates.on;
        emit('calendar-changed', calendar);
        readCalendars(true);
        emit('presence-changed', roster);
        // Their time of day there moves on from now.
        keepTimeWords(false);
      }
    },
    decline() {
      statusAfterConsent = null;
      signIn = signInView('declined');
      emit('sign-in-changed', signIn);
    },
    block() {
      signIn = signInScenarios.blocked;
      emit('sign-in-changed', signIn);
    },
    browserFail() {
      signIn = signInScenarios['browser-failed'];
      emit('sign-in-changed', signIn);
    },
    status(name) {
      // The last answer: the one before, while the engine still gets none.
      const last = stale() ? status.lastAnswerAt : new Date().toISOString();
      status = Object.assign({}, statuses[name]);
      if ('lastAnswerAt' in status) status.lastAnswerAt = last;
      emit('status-changed', status);
      // Offline or back: "as of 14:05" comes or goes.
      keepTimeWords(true);
    },
    calendar(state, message) {
      calendar = { state, message: message || null };
      readCalendars(state === 'on');
      emit('calendar-changed', calendar);
      emit('roster-changed', roster);
      keepTimeWords(false);
    },
    mqttPassword: () => mqttPassword,
    configProblem(problem) {
      configProblem = problem === undefined ? BAD_CONFIG : problem;
      emit('config-problem', configProblem);
    },
  };

  window.__TAURI__ = { core: { invoke }, event: { listen } };

  // Record what the strict CSP blocks and any alert(): the preview fails loudly.
  const html = document.documentElement;
  html.dataset.cspViolations = '0';
  html.dataset.alerts = '0';
  document.addEventListener('securitypolicyviolation', (e) => {
    html.dataset.cspViolations = String(Number(html.dataset.cspViolations) + 1);
    console.error('CSP violation:', e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber);
  });
  window.alert = function () {
    html.dataset.alerts = String(Number(html.dataset.alerts) + 1);
  };
  // And any script error or promise left rejected.
  html.dataset.errors = '0';
  const scriptError = (e) => {
    html.dataset.errors = String(Number(html.dataset.errors) + 1);
    console.error('Script error:', e.message || e.reason);
  };
  window.addEventListener('error', scriptError);
  window.addEventListener('unhandledrejection', scriptError);

  // ------------------------------------------------------------------ theme
  const theme = q.get('theme');
  function forceTheme() {
    if (!theme) return;
    for (const sheet of document.styleSheets) {
      let rules;
      try {
        rules = sheet.cssRules;
      } catch (e) {
        continue;
      }
      for (const rule of rules) {
        if (rule.media && /prefers-color-scheme:\s*dark/.test(rule.media.mediaText)) {
          rule.media.mediaText = theme === 'dark' ? 'all' : 'not all';
        }
      }
    }
    html.style.colorScheme = theme;
  }

  // ------------------------------------------------------------------ scripted steps
  const then = q.get('then');
  const click = (sel) => document.querySelector(sel) && document.querySelector(sel).click();
  function type(sel, text) {
    const input = document.querySelector(sel);
    input.value = text;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }
  const steps = {
    add: () => click('#add-button'),
    search: () => {
      click('#add-button');
      setTimeout(() => type('#people-search', 'me'), 100);
    },
    team: () => {
      click('#add-button');
      setTimeout(() => click('#team-toggle'), 100);
      setTimeout(() => click('#team-import'), 400);
    },
    report: () => {
      click('#add-button');
      setTimeout(() => click('[data-import="people"]'), 100);
    },
    settings: () => click(signIn.state === 'signed_in' ? '#settings-button' : '#signin-settings'),
    menu: () => {
      const buttons = document.querySelectorAll('.btn-more');
      (buttons[3] || buttons[0]).focus();
      (buttons[3] || buttons[0]).click();
    },
    pause: () => click('#pause-button'),
    confirm: () => {
      click('.btn-more');
      setTimeout(() => click('.menu-item.danger'), 100);
    },
    copy: () => click('#copy-code'),
    signin: () => click('#signin-button'),
    address: () => {
      click('#signin-button');
      setTimeout(() => click('#show-browser-url'), 300);
    },
    filter: () => type('#filter', 'zz'),
    mystatus: () => click('#me-status-button'),
  };

  window.addEventListener('load', () => {
    forceTheme();
    if (then && steps[then]) setTimeout(steps[then], 400);
    if (q.get('live') === '1') {
      const kinds = [['Available', 'Available'], ['Busy', 'InAMeeting'], ['Away', 'Away'], ['DoNotDisturb', 'Presenting'], ['Busy', 'InACall'], ['Offline', 'OffWork']];
      setInterval(() => {
        const t = roster[Math.floor(Math.random() * roster.length)];
        const [a, b] = kinds[Math.floor(Math.random() * kinds.length)];
        if (t) change(t.id, a, b);
      }, 3000);
    }
  });

  // As Tauri's freezePrototype does: the UI must not depend on changing it.
  Object.freeze(Object.prototype);
})();
