//! "When they will be free": what teammates' calendars say, read with
//! `POST /me/calendar/getSchedule` (free/busy and working hours, the
//! permission [`CALENDAR_SCOPE`]).
//!
//! Off until turned on: [`access`] says whether the stored sign-in may read
//! calendars and, if not, hands back the [`SignInFlow`] that asks for it
//! (keeping every permission granted before); [`after_consent`] checks it
//! came. Then [`spawn`] starts the reader, which sends [`CalendarEvent`]s.
//!
//! # What a calendar says ([`Outlook`])
//!
//! Calendar items count by how they show their owner's time, in any
//! letter case: busy and out of office (`oof`) are *busy*; those and
//! tentative are *not free*; free, working elsewhere and unknown statuses
//! are free. Items that touch or overlap are one block, and where they
//! overlap the strongest status holds ([`Schedule::show_as_at`]). The
//! items are the truth: the answer's `availabilityView` (a digit a slot)
//! is read only for a schedule that came without any.
//! - `busy_until`: the end of the busy block that holds now; `None` when
//!   none does.
//! - `free_at`: only when a not-free block holds now. The first instant
//!   after now that no not-free block holds, that lies within working
//!   hours, and that starts a free stretch (up to the next not-free block or
//!   the end of that working period) of at least [`MIN_FREE_STRETCH`], or a
//!   shorter one the read window ends with: nothing is known past it.
//!   `None` when free now, or when no such instant comes before the window
//!   ends. Working hours that cannot be placed (a zone Presently does not
//!   know, no working days) are left out of the rule rather than taken as
//!   "never at work".
//! - `outside_working_hours`: now is in none of their working periods. A
//!   period starts on each working day at the start time, in their zone,
//!   and ends at the end time, the next day if the end is not after the
//!   start. False when that cannot be told.
//! - `utc_offset_minutes`: their zone's offset now, for "22:10 there"
//!   ([`Outlook::local_time_there`]).
//!
//! Zones come as Windows names (mapped to IANA zones by CLDR's table), as
//! IANA names, or as Graph's `customTimeZone` (see [`zones::CustomZone`]).
//!
//! # The budget
//!
//! Outlook's limits are its own (per mailbox: 4 requests at once and 10,000
//! per 10 minutes), so the reader has its own throttle gate
//! ([`GraphClient::with_own_throttle`]): its 429s never hold the presence
//! poller back, nor the poller's it. It sends one request at a time: all
//! schedules every [`CalendarOptions::read_every`] (20 to a request, from
//! now to the end of tomorrow, local time), and those of people who turned
//! busy at most once per [`CalendarOptions::person_gap`] each, never two
//! requests closer than [`CalendarOptions::min_spacing`]. A 429 waits for
//! its `Retry-After`, another failure for a growing pause.
//!
//! The map: this file has what callers see; `outlook.rs` the schedule and
//! the rules; `zones.rs` the time zones; `wire.rs` reads Graph's answer;
//! `reader.rs` the reader's task, `once.rs` one read for a command that
//! ends; `words.rs` says an outlook in words.

mod once;
mod outlook;
mod reader;
mod wire;
mod words;
pub mod zones;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::auth::{self, Session, SignInFlow, StoredSignIn};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::presence::{Activity, Availability, Presence};
use crate::token_store::TokenStore;

pub use crate::auth::CALENDAR_SCOPE;
#[doc(no_inline)]
pub use crate::graph::GraphClient;
pub use once::read_once;
pub use outlook::{Schedule, ShowAs, Span, WorkingHours, MIN_FREE_STRETCH};
pub use reader::{spawn, spawn_with, CalendarHandle, CalendarOptions};
pub use wire::{parse_answer, UnreadableSchedule};
pub use words::{clock_or_day, in_words, summary, words_change_at};

/// Most schedules `getSchedule` takes in one request.
pub const MAX_SCHEDULES_PER_REQUEST: usize = 20;

/// Path of the request, below `/v1.0`.
pub const SCHEDULE_PATH: &str = "me/calendar/getSchedule";

/// The time one `getSchedule` request asks about. Its answer says
/// nothing past `end`, and its `availabilityView` has one digit for each
/// slot of `slot_minutes` from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The request's `availabilityViewInterval`.
    pub slot_minutes: u32,
}

/// What a teammate's calendar says at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Outlook {
    /// The end of the busy or out-of-office block they are in.
    pub busy_until: Option<DateTime<Utc>>,
    /// When they are not free now: when they next will be, within working
    /// hours, for at least a quarter of an hour.
    pub free_at: Option<DateTime<Utc>>,
    /// Now is outside their working hours.
    pub outside_working_hours: bool,
    /// Their UTC offset now in minutes (UTC+2 is 120), when their zone is
    /// known.
    pub utc_offset_minutes: Option<i32>,
}

/// Whom to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The roster ID (user object ID).
    pub id: String,
    /// Their mailbox address: mail, else the sign-in name. `None`: the
    /// reader looks it up in the directory.
    pub mailbox: Option<String>,
}

impl Person {
    /// A teammate of the roster, by their mailbox where the roster has one.
    pub fn of(t: &crate::roster::Teammate) -> Person {
        Person {
            id: t.id.clone(),
            mailbox: t.mailbox(),
        }
    }
}

/// Someone's outlook is new or different.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutlookChange {
    pub id: String,
    pub outlook: Outlook,
}

/// What the reader tells its front end.
#[derive(Debug, Clone)]
pub enum CalendarEvent {
    /// Outlooks that are new or changed: each person's once after their
    /// first read, then on every change, also when time alone changes it
    /// (a busy block ends). Someone whose calendar can no longer be read
    /// gets an empty [`Outlook`].
    Changed(Vec<OutlookChange>),
    /// Reading failed in a way that lasts (the permission is missing, the
    /// network is down), in the user's words. The reader tries again later
    /// and says nothing more about it until something else goes wrong.
    Problem(Error),
}

/// True for a presence that is worth a fresh read of the calendar: busy
/// (whatever the activity: a call may be a meeting joined early), in a
/// meeting or a conference call, or presenting (Teams shows presenting as
/// Do not disturb). The reader reads each person at most once per
/// [`CalendarOptions::person_gap`], however often this says yes.
pub fn triggers_read(p: &Presence) -> bool {
    matches!(
        p.activity,
        Activity::InAMeeting | Activity::InAConferenceCall | Activity::Presenting
    ) || matches!(p.availability, Availability::Busy | Availability::BusyIdle)
}

pub use crate::auth::Access;

/// Resumes the stored sign-in and says whether it may read calendars.
pub async fn access(settings: &Settings, store: Arc<dyn TokenStore>) -> Result<Access> {
    auth::access(
        settings,
        store,
        CALENDAR_SCOPE,
        SignInFlow::with_calendar_access,
    )
    .await
}

/// The session of a sign-in made for [`Access::NeedsConsent`], once it is
/// sure the permission came with it.
pub fn after_consent(
    settings: &Settings,
    store: Arc<dyn TokenStore>,
    stored: StoredSignIn,
) -> Result<Arc<Session>> {
    auth::after_consent(
        settings,
        store,
        stored,
        CALENDAR_SCOPE,
        "showing when teammates will be free",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(availability: &str, activity: &str) -> Presence {
        Presence {
            availability: Availability::parse(availability),
            activity: Activity::parse(activity),
            ..Presence::unknown("x")
        }
    }

    #[test]
    fn busy_meetings_and_presenting_trigger_a_read() {
        for (availability, activity) in [
            ("Busy", "InAMeeting"),
            ("Busy", "InAConferenceCall"),
            ("DoNotDisturb", "Presenting"),
            ("Busy", "Busy"),
            ("BusyIdle", "Busy"),
            ("Busy", "InACall"),
            ("Busy", "Focusing"),
        ] {
            assert!(
                triggers_read(&presence(availability, activity)),
                "{availability} {activity}"
            );
        }
        for (availability, activity) in [
            ("Available", "Available"),
            ("DoNotDisturb", "DoNotDisturb"),
            ("Away", "Away"),
            ("Offline", "OffWork"),
        ] {
            assert!(
                !triggers_read(&presence(availability, activity)),
                "{availability} {activity}"
            );
        }
    }

    #[test]
    fn outlooks_serialise_for_the_window() {
        let outlook = Outlook {
            busy_until: Some("2026-12-01T12:00:00Z".parse().unwrap()),
            free_at: None,
            outside_working_hours: true,
            utc_offset_minutes: Some(-480),
        };
        assert_eq!(
            serde_json::to_value(OutlookChange {
                id: "a".into(),
                outlook
            })
            .unwrap(),
            serde_json::json!({"id": "a", "outlook": {
                "busy_until": "2026-12-01T12:00:00Z", "free_at": null,
                "outside_working_hours": true, "utc_offset_minutes": -480}})
        );
    }
}
