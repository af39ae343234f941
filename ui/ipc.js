// Every call to the Rust side and every event from it, and nothing else: the
// one place that knows Tauri's API and the names of commands and events.

const tauri = () => window.__TAURI__;

/** False when the page runs outside the app (no Tauri API to talk to). */
export function available() {
  return Boolean(tauri()?.core?.invoke && tauri()?.event?.listen);
}

const invoke = (cmd, args) => tauri().core.invoke(cmd, args);

/** Runs `handler(payload)` for each event `name`; resolves once listening. */
export function listen(name, handler) {
  return tauri().event.listen(name, (event) => handler(event.payload));
}

export const EVENTS = Object.freeze({
  signInChanged: 'sign-in-changed',
  rosterChanged: 'roster-changed',
  presenceChanged: 'presence-changed',
  timeWordsChanged: 'time-words-changed',
  statusChanged: 'status-changed',
  meChanged: 'me-changed',
  pauseChanged: 'pause-changed',
  configProblem: 'config-problem',
  calendarChanged: 'calendar-changed',
});

export const getState = () => invoke('get_state');
export const rosterPainted = () => invoke('roster_painted');

export const startSignIn = () => invoke('start_sign_in');
export const startBrowserSignIn = () => invoke('start_browser_sign_in');
// A browser sign-in again, asking to read calendars too: answers as start_browser_sign_in does.
export const allowCalendar = () => invoke('allow_calendar');
export const cancelSignIn = () => invoke('cancel_sign_in');
export const openVerificationPage = () => invoke('open_verification_page');
export const signOut = () => invoke('sign_out');

// Your own status: `choice` a word of get_state's statusChoices ("reset" gives
// it back to Teams), `duration` "30m", "1h", "7d" or null for Microsoft's
// default. A message of null clears it. Both answer {state: "done" | "consent",
// url, opened}: "consent" is a browser sign-in asking for the permission first.
export const setMyStatus = (choice, duration) => invoke('set_my_status', { choice, duration });
export const setMyMessage = (text, duration) => invoke('set_my_message', { text, duration });
// Save in "Set your status": the form as typed, {choice, duration, message,
// messageDuration} ('' for no change or the default, durations also "today").
// The engine makes what changed and answers as above, with `rest`: the calls
// left after one that waits for the permission, {kind: "status", choice,
// duration} or {kind: "message", text, duration}, for the two above.
export const saveMyStatus = (form) => invoke('save_my_status', { form });

export const pauseNotifications = (minutes) => invoke('pause_notifications', { minutes });

export const setTeammateFlags = (args) => invoke('set_teammate_flags', args);
export const openTeams = (id, action) => invoke('open_teams', { id, action });
export const removeTeammate = (id) => invoke('remove_teammate', { id });

export const searchPeople = (text) => invoke('search_people', { text });
export const addTeammates = (ids) => invoke('add_teammates', { ids });
export const importTeammates = (source, groupId) => invoke('import_teammates', { source, groupId });
export const listGroups = () => invoke('list_groups');

export const getSettings = () => invoke('get_settings');
export const saveSettings = (settings) => invoke('save_settings', { settings });
export const openConfigFile = () => invoke('open_config_file');
