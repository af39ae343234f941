//! Every event the app sends to the window, with its payload type. The names
//! and the camelCase fields are the UI's contract: add, never rename.

use chrono::{DateTime, SecondsFormat, Utc};
use presently_core::auth::Account;
use presently_core::calendar::Outlook;
use presently_core::config::ConfigProblem;
use presently_core::directory::{initials, Group, Person};
use presently_core::engine::EngineStatus;
use presently_core::error::ErrorCode;
use presently_core::monitor::{
    CalendarState, CodeShown, SignInState, TeammateState, TimeWordsChange,
};
use presently_core::my_status::{self, MyStatusChange, StatusChoice};
use presently_core::presence::{OutOfOffice, Presence};
use presently_core::roster::Teammate;
use presently_core::status::{self, Kind};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};

pub const SIGN_IN_CHANGED: &str = "sign-in-changed";
pub const ROSTER_CHANGED: &str = "roster-changed";
pub const PRESENCE_CHANGED: &str = "presence-changed";
/// Rows whose words about time changed by themselves:
/// `[{id, sinceWords, calendarWords}]`.
pub const TIME_WORDS_CHANGED: &str = "time-words-changed";
pub const STATUS_CHANGED: &str = "status-changed";
pub const ME_CHANGED: &str = "me-changed";
pub const PAUSE_CHANGED: &str = "pause-changed";
/// The config file cannot be used (a problem), or can again (null).
pub const CONFIG_PROBLEM: &str = "config-problem";
pub const CALENDAR_CHANGED: &str = "calendar-changed";

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub display_name: String,
    pub username: String,
    pub cloud: String,
    pub cloud_name: String,
    pub tenant: String,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            display_name: a.display_name.clone(),
            username: a.username.clone(),
            cloud: a.cloud.id().into(),
            cloud_name: a.cloud.display_name().into(),
            tenant: a.tenant.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCodeView {
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
    pub expires_at: String,
}

impl From<&CodeShown> for DeviceCodeView {
    fn from(c: &CodeShown) -> Self {
        DeviceCodeView {
            user_code: c.user_code.clone(),
            verification_uri: c.verification_uri.clone(),
            message: c.message.clone(),
            expires_at: rfc3339(c.expires_at),
        }
    }
}

/// The browser sign-in just started: the page it opened, and whether a
/// browser could be started for it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BrowserSignInView {
    pub url: String,
    pub opened: bool,
}

/// `state`: signed_out, signing_in (a device code), in_browser, signed_in,
/// declined, expired, consent_required, blocked (device codes are not
/// allowed: use the browser), browser_failed (use a code) or error;
/// `message` says why, in plain words.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SignInView {
    pub state: &'static str,
    pub message: Option<String>,
    pub account: Option<AccountView>,
    pub code: Option<DeviceCodeView>,
    /// The sign-in page opened in the browser (state in_browser).
    pub browser_url: Option<String>,
}

impl From<&SignInState> for SignInView {
    fn from(s: &SignInState) -> Self {
        let view = |state, message: Option<String>| SignInView {
            state,
            message,
            account: None,
            code: None,
            browser_url: None,
        };
        match s {
            SignInState::SignedOut { reason } => view("signed_out", reason.clone()),
            SignInState::SigningIn { code } => SignInView {
                code: Some(code.into()),
                ..view("signing_in", None)
            },
            SignInState::InBrowser { url } => SignInView {
                browser_url: Some(url.clone()),
                ..view("in_browser", None)
            },
            SignInState::SignedIn { account } => SignInView {
                account: Some(account.into()),
                ..view("signed_in", None)
            },
            SignInState::Failed {
                code,
                message,
                detail,
            } => {
                let state = match code {
                    ErrorCode::SignInDeclined => "declined",
                    ErrorCode::SignInExpired => "expired",
                    ErrorCode::ConsentRequired => "consent_required",
                    ErrorCode::SignInBlocked => "blocked",
                    ErrorCode::BrowserSignInFailed => "browser_failed",
                    _ => "error",
                };
                // The window explains these itself; what it adds is
                // Microsoft's words or the reason, not command-line advice.
                view(
                    state,
                    Some(detail.clone().unwrap_or_else(|| message.clone())),
                )
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    /// ok, throttled, offline, signed_out, error, or starting.
    pub state: &'static str,
    pub detail: Option<String>,
    pub retry_after_s: Option<u64>,
    /// When Graph last answered (RFC 3339): while offline, what the window
    /// shows is "as of" then.
    pub last_answer_at: Option<String>,
}

impl StatusView {
    pub fn starting() -> Self {
        StatusView {
            state: "starting",
            detail: None,
            retry_after_s: None,
            last_answer_at: None,
        }
    }
}

impl From<&EngineStatus> for StatusView {
    fn from(s: &EngineStatus) -> Self {
        StatusView {
            state: s.state.as_str(),
            detail: Some(s.detail.clone()),
            retry_after_s: s.retry_after.map(|d| d.as_secs_f64().ceil() as u64),
            last_answer_at: s.last_answer_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OutOfOfficeView {
    pub is_out_of_office: bool,
    pub message: Option<String>,
}

impl From<&OutOfOffice> for OutOfOfficeView {
    fn from(o: &OutOfOffice) -> Self {
        OutOfOfficeView {
            is_out_of_office: o.is_out_of_office,
            message: o.message.clone(),
        }
    }
}

/// One teammate as the window shows them. Names, status messages and
/// out-of-office notes are untrusted text: the UI writes them with
/// `textContent` only.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TeammateView {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub mail: String,
    pub job_title: String,
    pub initials: String,
    /// A `data:` URL of the cached photo, or null for initials.
    pub photo: Option<String>,
    pub notify: bool,
    pub notify_every_change: bool,
    pub favorite: bool,
    pub group: Option<String>,
    pub availability: String,
    pub activity: String,
    pub status_message: Option<String>,
    pub out_of_office: Option<OutOfOfficeView>,
    pub since: Option<String>,
    /// What the row says about time after the status: "for 25 min", "as of
    /// 14:05" while Graph gives no answers, "" while nothing is known.
    pub since_words: String,
    /// The line under the name: "Busy · In a meeting".
    pub status_text: String,
    /// The dot: available, busy, dnd, away, offline, oof or unknown.
    pub kind: Kind,
    /// Where they sort by status: 0 (available) to 4 (out of reach).
    pub status_rank: u8,
    /// The dot's text alternative: "Do not disturb", "Out of office".
    pub dot_label: String,
    /// What their calendar says, with "when they will be free" on.
    pub calendar: Option<CalendarView>,
}

/// A teammate's calendar outlook for the window: the words for what does
/// not go stale ("until 14:30", "free at 15:00"), and what the window needs
/// to show their time of day, which does.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CalendarView {
    pub busy_until: Option<String>,
    pub free_at: Option<String>,
    /// "until 14:30", "free at 15:00", "outside working hours (22:10
    /// there)", in this machine's time zone: the row shows them as given.
    pub words: Vec<String>,
    pub outside_working_hours: bool,
    /// Their UTC offset, for "outside working hours (22:10 there)".
    pub utc_offset_minutes: Option<i32>,
}

impl CalendarView {
    /// `o` with its words as the engine worded them.
    fn new(o: &Outlook, words: &[String]) -> Self {
        CalendarView {
            busy_until: o.busy_until.map(rfc3339),
            free_at: o.free_at.map(rfc3339),
            words: words.to_vec(),
            outside_working_hours: o.outside_working_hours,
            utc_offset_minutes: o.utc_offset_minutes,
        }
    }
}

/// `state`: off, needs_permission (the window offers to allow it), on, or
/// problem (`message` says what).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CalendarStateView {
    pub state: &'static str,
    pub message: Option<String>,
}

impl From<&CalendarState> for CalendarStateView {
    fn from(c: &CalendarState) -> Self {
        let (state, message) = match c {
            CalendarState::Off => ("off", None),
            CalendarState::NeedsPermission => ("needs_permission", None),
            CalendarState::On => ("on", None),
            CalendarState::Problem(m) => ("problem", Some(m.clone())),
        };
        CalendarStateView { state, message }
    }
}

pub fn calendar_changed<R: Runtime>(app: &AppHandle<R>, calendar: &CalendarStateView) {
    emit(app, CALENDAR_CHANGED, calendar);
}

impl TeammateView {
    /// The window's row of `t`; a photo in the cache is served on the app's
    /// own scheme ([`photo_url`]).
    pub fn new(t: &TeammateState) -> Self {
        let photo = t.photo.as_ref().map(|_| photo_url(&t.teammate.id));
        let presence = t
            .presence
            .clone()
            .unwrap_or_else(|| Presence::unknown(&t.teammate.id));
        let kind = Kind::of(&presence);
        TeammateView {
            id: t.teammate.id.clone(),
            display_name: t.teammate.name().to_string(),
            user_principal_name: t.teammate.user_principal_name.clone(),
            mail: t.teammate.mail.clone(),
            job_title: t.teammate.job_title.clone(),
            initials: initials(t.teammate.name()),
            photo,
            notify: t.teammate.notify,
            notify_every_change: t.teammate.notify_every_change,
            favorite: t.teammate.favorite,
            group: t.teammate.group.clone(),
            availability: presence.availability.as_str().to_string(),
            activity: presence.activity.as_str().to_string(),
            status_message: presence.status_message.clone(),
            out_of_office: presence.out_of_office.as_ref().map(Into::into),
            since: t.since.map(rfc3339),
            since_words: t.since_words.clone(),
            status_text: status::status_text(&presence),
            kind,
            status_rank: kind.rank(),
            dot_label: status::dot_label(&presence),
            calendar: t
                .outlook
                .as_ref()
                .map(|o| CalendarView::new(o, &t.calendar_words)),
        }
    }

    /// The signed-in user's own presence, shown in the header.
    pub fn me(account: &Account, presence: &Presence) -> Self {
        let me = TeammateState {
            teammate: Teammate {
                id: account.id.clone(),
                display_name: account.display_name.clone(),
                user_principal_name: account.username.clone(),
                ..Default::default()
            },
            presence: Some(presence.clone()),
            since: None,
            since_words: String::new(),
            calendar_words: Vec::new(),
            photo: None,
            outlook: None,
        };
        TeammateView::new(&me)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PersonView {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub mail: String,
    pub job_title: String,
    pub initials: String,
    pub photo: Option<String>,
    pub in_roster: bool,
}

impl PersonView {
    pub fn new(p: &Person, in_roster: bool) -> Self {
        PersonView {
            id: p.id.clone(),
            display_name: p.name().to_string(),
            user_principal_name: p.user_principal_name.clone(),
            mail: p.mail.clone(),
            job_title: p.job_title.clone(),
            initials: initials(p.name()),
            photo: None,
            in_roster,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub id: String,
    pub display_name: String,
    pub description: String,
}

impl From<&Group> for GroupView {
    fn from(g: &Group) -> Self {
        GroupView {
            id: g.id.clone(),
            display_name: g.display_name.clone(),
            description: g.description.clone(),
        }
    }
}

/// The scheme the app serves photos on.
pub const PHOTO_SCHEME: &str = "photo";

/// Where the window loads a teammate's photo from: the app's own `photo`
/// scheme, never the network. Tauri serves a scheme as `photo://localhost/`
/// on Linux and macOS, and as `http://photo.localhost/` on Windows.
pub fn photo_url(id: &str) -> String {
    // Roster IDs are GUIDs: nothing in them needs escaping in a path.
    if cfg!(windows) {
        format!("http://{PHOTO_SCHEME}.localhost/{id}")
    } else {
        format!("{PHOTO_SCHEME}://localhost/{id}")
    }
}

/// A problem with the config file, for the window: the whole sentence, and
/// the file, key and line on their own.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigProblemView {
    pub file: String,
    pub key: Option<String>,
    pub line: Option<usize>,
    pub message: String,
}

impl From<&ConfigProblem> for ConfigProblemView {
    fn from(p: &ConfigProblem) -> Self {
        ConfigProblemView {
            file: p.file.display().to_string(),
            key: p.key.clone(),
            line: p.line,
            message: p.to_string(),
        }
    }
}

pub fn sign_in_changed<R: Runtime>(app: &AppHandle<R>, view: &SignInView) {
    emit(app, SIGN_IN_CHANGED, view);
}

pub fn roster_changed<R: Runtime>(app: &AppHandle<R>, roster: &[TeammateView]) {
    emit(app, ROSTER_CHANGED, roster);
}

pub fn presence_changed<R: Runtime>(app: &AppHandle<R>, changed: &[TeammateView]) {
    emit(app, PRESENCE_CHANGED, changed);
}

/// A row's new words about time, for the window.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TimeWordsView {
    pub id: String,
    pub since_words: String,
    pub calendar_words: Vec<String>,
}

impl From<&TimeWordsChange> for TimeWordsView {
    fn from(c: &TimeWordsChange) -> Self {
        TimeWordsView {
            id: c.id.clone(),
            since_words: c.since_words.clone(),
            calendar_words: c.calendar_words.clone(),
        }
    }
}

pub fn time_words_changed<R: Runtime>(app: &AppHandle<R>, changed: &[TimeWordsView]) {
    emit(app, TIME_WORDS_CHANGED, changed);
}

pub fn status_changed<R: Runtime>(app: &AppHandle<R>, status: &StatusView) {
    emit(app, STATUS_CHANGED, status);
}

pub fn me_changed<R: Runtime>(app: &AppHandle<R>, me: &TeammateView) {
    emit(app, ME_CHANGED, me);
}

/// `{ pausedUntil }`: notifications are paused until then, or not (null).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PauseView {
    pub paused_until: Option<String>,
}

impl PauseView {
    pub fn new(until: Option<DateTime<Utc>>) -> Self {
        PauseView {
            paused_until: until.map(rfc3339),
        }
    }
}

pub fn pause_changed<R: Runtime>(app: &AppHandle<R>, pause: &PauseView) {
    emit(app, PAUSE_CHANGED, pause);
}

fn emit<R: Runtime, T: Serialize + Clone>(app: &AppHandle<R>, name: &str, payload: T) {
    if let Err(e) = app.emit(name, payload) {
        tracing::warn!("could not send {name} to the window: {e}");
    }
}

pub fn config_problem<R: Runtime>(
    app: &AppHandle<R>,
    problem: Option<&presently_core::config::ConfigProblem>,
) {
    emit(app, CONFIG_PROBLEM, problem.map(ConfigProblemView::from));
}

/// What became of a change to your own status: `state` is `done`, or
/// `consent` when the browser sign-in that allows it has begun (the change
/// is made once it is through), with its address as for a sign-in.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MyStatusView {
    pub state: &'static str,
    pub url: Option<String>,
    pub opened: bool,
}

impl MyStatusView {
    pub fn done() -> MyStatusView {
        MyStatusView {
            state: "done",
            url: None,
            opened: false,
        }
    }
}

/// What became of Save in "Set your status": as [`MyStatusView`] says,
/// and, when a change waits for the permission, the changes left after it
/// (`rest`), for the window to make once that sign-in is through.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MyStatusSavedView {
    #[serde(flatten)]
    pub outcome: MyStatusView,
    pub rest: Vec<MyStatusCallView>,
}

/// A change to your own status as `set_my_status` (`kind: "status"`) or
/// `set_my_message` (`kind: "message"`) takes it; a duration in minutes
/// ("150m"), none for the default.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum MyStatusCallView {
    Status {
        choice: &'static str,
        duration: Option<String>,
    },
    Message {
        text: Option<String>,
        duration: Option<String>,
    },
}

impl From<&MyStatusChange> for MyStatusCallView {
    fn from(change: &MyStatusChange) -> Self {
        let typed = |d: &Option<std::time::Duration>| d.map(my_status::as_typed);
        match change {
            MyStatusChange::Set { choice, duration } => MyStatusCallView::Status {
                choice: choice.word(),
                duration: typed(duration),
            },
            MyStatusChange::Reset => MyStatusCallView::Status {
                choice: RESET_STATUS,
                duration: None,
            },
            MyStatusChange::Message { text, duration } => MyStatusCallView::Message {
                text: Some(text.clone()),
                duration: typed(duration),
            },
            MyStatusChange::ClearMessage => MyStatusCallView::Message {
                text: None,
                duration: None,
            },
        }
    }
}

/// A status the window offers: the word to send back and its label.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StatusChoiceView {
    pub word: &'static str,
    pub label: &'static str,
}

/// Your own status: what the window and the tray offer, `reset` included.
pub fn status_choices() -> Vec<StatusChoiceView> {
    StatusChoice::ALL
        .into_iter()
        .map(|c| StatusChoiceView {
            word: c.word(),
            label: c.menu_label(),
        })
        .chain([StatusChoiceView {
            word: RESET_STATUS,
            label: "Reset status",
        }])
        .collect()
}

/// The word of "back to what Teams works out".
pub const RESET_STATUS: &str = presently_core::my_status::RESET_WORD;

#[cfg(test)]
mod tests {
    use super::*;
    use presently_core::presence::{Activity, Availability};
    use serde_json::{json, Value};

    fn teammate(availability: &str, activity: &str, out_of_office: bool) -> TeammateState {
        TeammateState {
            teammate: Teammate {
                id: "a".into(),
                display_name: "Megan Bowen".into(),
                ..Default::default()
            },
            presence: Some(Presence {
                availability: Availability::parse(availability),
                activity: Activity::parse(activity),
                out_of_office: out_of_office.then(|| OutOfOffice {
                    is_out_of_office: true,
                    message: Some("Back Monday".into()),
                }),
                ..Presence::unknown("a")
            }),
            since: None,
            since_words: String::new(),
            calendar_words: Vec::new(),
            photo: None,
            outlook: None,
        }
    }

    fn json_of(t: &TeammateState) -> Value {
        serde_json::to_value(TeammateView::new(t)).unwrap()
    }

    #[test]
    fn a_teammate_carries_their_status_in_words_and_the_kind_of_dot() {
        let v = json_of(&teammate("Busy", "InAMeeting", false));
        assert_eq!(v["statusText"], "Busy · In a meeting");
        assert_eq!(v["kind"], "busy");
        assert_eq!(v["statusRank"], 1);
        assert_eq!(v["dotLabel"], "Busy");
        // Graph's values are still there, as they were.
        assert_eq!(v["availability"], "Busy");
        assert_eq!(v["activity"], "InAMeeting");

        let v = json_of(&teammate("Available", "Available", true));
        assert_eq!(v["statusText"], "Out of office · Available");
        assert_eq!(v["kind"], "oof");
        assert_eq!(v["statusRank"], 4);
        assert_eq!(v["dotLabel"], "Out of office");
        assert_eq!(
            v["outOfOffice"],
            json!({"isOutOfOffice": true, "message": "Back Monday"})
        );
    }

    #[test]
    fn someone_graph_said_nothing_about_is_unknown() {
        let mut t = teammate("Busy", "Busy", false);
        t.presence = None;
        let v = json_of(&t);
        assert_eq!(v["statusText"], "Unknown");
        assert_eq!(v["kind"], "unknown");
        assert_eq!(v["statusRank"], 4);
        assert_eq!(v["availability"], "PresenceUnknown");
    }

    #[test]
    fn your_own_presence_has_the_same_fields() {
        let account = Account {
            id: "me".into(),
            display_name: "Debra Berger".into(),
            username: "debra@contoso.com".into(),
            cloud: Default::default(),
            tenant: "contoso.com".into(),
            client_id: "client".into(),
            signed_in_at: Utc::now(),
            tenant_id: None,
        };
        let presence = teammate("DoNotDisturb", "Presenting", false)
            .presence
            .unwrap();
        let v = serde_json::to_value(TeammateView::me(&account, &presence)).unwrap();
        assert_eq!(v["displayName"], "Debra Berger");
        assert_eq!(v["statusText"], "Do not disturb · Presenting");
        assert_eq!(v["kind"], "dnd");
        assert_eq!(v["dotLabel"], "Do not disturb");
    }

    /// What waits for the permission goes back to the window as
    /// `set_my_status` and `set_my_message` take it.
    #[test]
    fn changes_left_go_back_as_the_commands_take_them() {
        let calls: Vec<Value> = [
            MyStatusChange::Set {
                choice: StatusChoice::Busy,
                duration: Some(std::time::Duration::from_secs(150 * 60)),
            },
            MyStatusChange::Set {
                choice: StatusChoice::Offline,
                duration: None,
            },
            MyStatusChange::Reset,
            MyStatusChange::Message {
                text: "Lunch".into(),
                duration: Some(std::time::Duration::from_secs(3600)),
            },
            MyStatusChange::ClearMessage,
        ]
        .iter()
        .map(|c| serde_json::to_value(MyStatusCallView::from(c)).unwrap())
        .collect();
        assert_eq!(
            calls,
            [
                json!({"kind": "status", "choice": "busy", "duration": "150m"}),
                json!({"kind": "status", "choice": "offline", "duration": null}),
                json!({"kind": "status", "choice": "reset", "duration": null}),
                json!({"kind": "message", "text": "Lunch", "duration": "60m"}),
                json!({"kind": "message", "text": null, "duration": null}),
            ]
        );
        let done = MyStatusSavedView {
            outcome: MyStatusView::done(),
            rest: Vec::new(),
        };
        assert_eq!(
            serde_json::to_value(done).unwrap(),
            json!({"state": "done", "url": null, "opened": false, "rest": []})
        );
    }
}
