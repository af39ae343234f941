//! What the monitor tells its front ends, and the states it reports.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::auth::{Account, DeviceCode};
use crate::calendar::Outlook;
use crate::engine::EngineStatus;
use crate::error::{ConfigProblem, Error, ErrorCode};
use crate::notify::Notification;
use crate::presence::Presence;
use crate::roster::Teammate;

/// Where sign-in stands, as the window shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInState {
    SignedOut {
        reason: Option<String>,
    },
    /// Waiting for a device code to be entered.
    SigningIn {
        code: CodeShown,
    },
    /// Waiting for the sign-in in the system browser, opened on `url`.
    InBrowser {
        url: String,
    },
    SignedIn {
        account: Account,
    },
    /// The last attempt ended without a sign-in; `code` is the error's code
    /// (sign_in_declined, sign_in_expired, consent_required, ...).
    Failed {
        code: ErrorCode,
        message: String,
        /// What a window shows beside its own words: Microsoft's words, or
        /// the reason, without command-line advice (see [`Error::detail`]).
        detail: Option<String>,
    },
}

impl SignInState {
    /// The state after a sign-in attempt ended with `e`.
    pub fn failed(e: &Error) -> SignInState {
        SignInState::Failed {
            code: e.code(),
            message: e.to_string(),
            detail: e.detail(),
        }
    }
}

/// The part of a device code people see.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeShown {
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
    pub expires_at: DateTime<Utc>,
}

impl CodeShown {
    pub(super) fn of(code: &DeviceCode) -> CodeShown {
        CodeShown {
            user_code: code.user_code.clone(),
            verification_uri: code.verification_uri.clone(),
            message: code.message.clone(),
            expires_at: Utc::now()
                + chrono::Duration::from_std(code.expires_in).unwrap_or_default(),
        }
    }
}

/// A teammate and what is known of their presence.
#[derive(Debug, Clone, PartialEq)]
pub struct TeammateState {
    pub teammate: Teammate,
    pub presence: Option<Presence>,
    /// When the current presence was first seen.
    pub since: Option<DateTime<Utc>>,
    /// The words about time on their row: "for 25 min", "as of 14:05"
    /// while Graph gives no answers, "" while nothing is known (see
    /// [`crate::how_long::since_words`]); [`MonitorEvent::TimeWords`] tells
    /// when they change by themselves.
    pub since_words: String,
    /// Their outlook in words, here and now: "until 14:30", "outside
    /// working hours (22:10 there)" (see [`crate::calendar::in_words`]);
    /// empty without one.
    pub calendar_words: Vec<String>,
    /// Their photo in the photo cache; none (yet) means initials.
    pub photo: Option<PhotoFile>,
    /// What their calendar says, with "when they will be free" on and
    /// their calendar read.
    pub outlook: Option<Outlook>,
}

/// A row's new words about time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeWordsChange {
    pub id: String,
    /// See [`TeammateState::since_words`].
    pub since_words: String,
    /// See [`TeammateState::calendar_words`].
    pub calendar_words: Vec<String>,
}

/// A teammate's photo in the photo cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoFile {
    pub path: PathBuf,
    pub content_type: String,
}

/// What the monitor tells its front ends: each carries what changed.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorEvent {
    SignIn(SignInState),
    /// The roster changed (added, removed, flags, photos, presence gone
    /// with a sign-out): everyone, in roster order.
    Roster(Vec<TeammateState>),
    /// These teammates' presence changed.
    Presence(Vec<TeammateState>),
    Status(EngineStatus),
    /// The signed-in user's own presence changed. (Boxed: the largest
    /// event by far, and not the most frequent.)
    Me {
        account: Box<Account>,
        presence: Box<Presence>,
    },
    /// Your own presence as the poller read it, whatever the sign-in shows
    /// (a sign-in asking for more may be under way): what MQTT publishes.
    /// Front ends show [`MonitorEvent::Me`], which follows it while signed
    /// in, and after you set your status.
    OwnPresence(Box<Presence>),
    /// These rows' words about time changed by themselves: as time passed
    /// (how long, their time of day there, a day turning) or Graph stopped
    /// or started answering.
    TimeWords(Vec<TimeWordsChange>),
    /// Notifications are paused until then, or no longer (`None`): on a
    /// pause, a resume, and when a pause runs out by itself.
    Pause(Option<DateTime<Utc>>),
    Notify(Notification),
    /// Where "when they will be free" stands.
    Calendar(CalendarState),
    /// The config file the app began without (see
    /// [`Monitor::start_when_config_is_fixed`]) is wrong in a new way, or
    /// (`None`) can be used again.
    ConfigProblem(Option<ConfigProblem>),
}

/// What became of a [`MyStatusChange`].
#[derive(Debug, Clone, PartialEq)]
pub enum MyStatusOutcome {
    /// Done; your presence as it is now has been sent as [`MonitorEvent::Me`].
    Done,
    /// The sign-in may not set your status yet: a sign-in asking for
    /// [`auth::PRESENCE_WRITE_SCOPE`] has begun (this is its state), and the
    /// change is made once it is through.
    Consent(SignInState),
}

/// Where "when they will be free" stands, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CalendarState {
    /// Turned off (the default), or nobody is signed in.
    #[default]
    Off,
    /// Turned on, but the sign-in may not read calendars yet: the window
    /// offers to allow it ([`Monitor::allow_calendar`]).
    NeedsPermission,
    /// Reading.
    On,
    /// Reading failed in a way that lasts, in the user's words; the reader
    /// tries again by itself.
    Problem(String),
}
