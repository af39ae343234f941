//! Setting one's own status: a presence chosen for a while
//! (`setUserPreferredPresence`, `clearUserPreferredPresence`), a status
//! message with an end (`setStatusMessage`), and reading both back.
//!
//! Every front end goes the same way:
//! 1. [`access`] refuses the China cloud (Graph has no such API there)
//!    before anything is sent, and says whether the stored sign-in already
//!    holds [`PRESENCE_WRITE_SCOPE`]. If not, it hands back the
//!    [`SignInFlow`] that asks for it (and keeps what was granted before):
//!    the front end shows its prompt, then [`after_consent`] checks that
//!    the permission came with it.
//! 2. [`OwnStatus`] sets, clears and reads, on the signed-in user's own ID.
//!
//! A choice and a duration are parsed here ([`StatusChoice::parse`],
//! [`parse_duration`]) so that the command line and the window accept and
//! refuse the same words, and the window's "Set your status" form is
//! turned into the changes it asks for here ([`MyStatusForm::changes`]).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{self, Account, Session, SignInFlow, StoredSignIn, PRESENCE_WRITE_SCOPE};
use crate::cloud::Cloud;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::graph::GraphClient;
use crate::presence::{parse_presence, Presence};
use crate::status;
use crate::token_store::TokenStore;

/// The shortest time a status or message may be set for.
pub const MIN_DURATION: Duration = Duration::from_secs(60);
/// The longest: seven days, Graph's own default for a preferred presence.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Teams takes status messages of up to 280 characters.
pub const MAX_MESSAGE_CHARS: usize = 280;

/// A status one may choose, as Teams offers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChoice {
    Available,
    Busy,
    DoNotDisturb,
    BeRightBack,
    Away,
    /// "Appear offline".
    Offline,
}

impl StatusChoice {
    pub const ALL: [StatusChoice; 6] = [
        StatusChoice::Available,
        StatusChoice::Busy,
        StatusChoice::DoNotDisturb,
        StatusChoice::BeRightBack,
        StatusChoice::Away,
        StatusChoice::Offline,
    ];

    /// The word on the command line: `available`, `busy`, `dnd`, `brb`,
    /// `away`, `offline`.
    pub fn word(self) -> &'static str {
        match self {
            StatusChoice::Available => "available",
            StatusChoice::Busy => "busy",
            StatusChoice::DoNotDisturb => "dnd",
            StatusChoice::BeRightBack => "brb",
            StatusChoice::Away => "away",
            StatusChoice::Offline => "offline",
        }
    }

    /// A word as typed, in any case.
    pub fn parse(word: &str) -> Result<StatusChoice> {
        let word = word.trim();
        StatusChoice::ALL
            .into_iter()
            .find(|c| c.word().eq_ignore_ascii_case(word))
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "`{}` is not a status to set: choose one of {}.",
                    crate::text::clean_text(word, 40),
                    StatusChoice::ALL.map(StatusChoice::word).join(", ")
                ))
            })
    }

    /// The availability and activity Graph takes for it.
    pub fn pair(self) -> (&'static str, &'static str) {
        match self {
            StatusChoice::Available => ("Available", "Available"),
            StatusChoice::Busy => ("Busy", "Busy"),
            StatusChoice::DoNotDisturb => ("DoNotDisturb", "DoNotDisturb"),
            StatusChoice::BeRightBack => ("BeRightBack", "BeRightBack"),
            StatusChoice::Away => ("Away", "Away"),
            StatusChoice::Offline => ("Offline", "OffWork"),
        }
    }

    /// In a menu, as Teams' own status menu says it: "Available", "Do not
    /// disturb", "Appear away", "Appear offline".
    pub fn menu_label(self) -> &'static str {
        match self {
            StatusChoice::Available => "Available",
            StatusChoice::Busy => "Busy",
            StatusChoice::DoNotDisturb => "Do not disturb",
            StatusChoice::BeRightBack => "Be right back",
            StatusChoice::Away => "Appear away",
            StatusChoice::Offline => "Appear offline",
        }
    }

    /// In words, as the window and notifications write a presence.
    pub fn label(self) -> String {
        let (availability, activity) = self.pair();
        status::in_words(&Presence {
            availability: crate::presence::Availability::parse(availability),
            activity: crate::presence::Activity::parse(activity),
            ..Presence::unknown("")
        })
    }
}

/// A duration as people type it: a whole number and a unit, `m`, `h` or
/// `d` (`30m`, `1h`, `8h`, `7d`), from [`MIN_DURATION`] to [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration> {
    let typed = text.trim();
    let shown = crate::text::clean_text(typed, 40);
    let invalid = || {
        Error::InvalidInput(format!(
            "`{shown}` is not a duration: write a number and m, h or d, such as 30m, 1h, 8h or 7d."
        ))
    };
    let unit = typed.chars().last().ok_or_else(invalid)?;
    let number = &typed[..typed.len() - unit.len_utf8()];
    let unit_secs: u64 = match unit.to_ascii_lowercase() {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(invalid()),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let too_long = || Error::InvalidInput(format!("`{shown}` is too long: at most 7 days (7d)."));
    let n: u64 = number.parse().map_err(|_| too_long())?;
    let secs = n.checked_mul(unit_secs).ok_or_else(too_long)?;
    let duration = Duration::from_secs(secs);
    if duration > MAX_DURATION {
        return Err(too_long());
    }
    if duration < MIN_DURATION {
        return Err(Error::InvalidInput(format!(
            "`{shown}` is too short: at least 1 minute (1m)."
        )));
    }
    Ok(duration)
}

/// A duration as [`parse_duration`] reads it back: whole minutes, `150m`
/// (a part of a minute counts as one).
pub fn as_typed(duration: Duration) -> String {
    format!("{}m", duration.as_secs().div_ceil(60))
}

/// The duration the window's menus call "Today": until midnight where you
/// are ([`until_midnight`]), worked out when the form is saved.
pub const TODAY_WORD: &str = "today";

/// From `now` to the next midnight in its time zone, in minutes (the
/// minute under way counts), at least one. Where the clock skips midnight
/// (summer time that begins at 00:00), the day begins an hour later.
pub fn until_midnight<Tz: TimeZone>(now: &DateTime<Tz>) -> Duration {
    let zone = now.timezone();
    let midnight = now
        .date_naive()
        .succ_opt()
        .map(|day| day.and_time(NaiveTime::MIN));
    let next_day = midnight.and_then(|m| {
        zone.from_local_datetime(&m).earliest().or_else(|| {
            zone.from_local_datetime(&(m + chrono::TimeDelta::hours(1)))
                .earliest()
        })
    });
    let millis = next_day.map_or(0, |day| (day - now.clone()).num_milliseconds());
    Duration::from_secs(60 * u64::try_from(millis).unwrap_or(0).div_ceil(60_000).max(1))
}

/// A duration as ISO 8601 writes it for Graph's `expirationDuration`:
/// `PT30M`, `PT8H`, `P7D`, `P1DT2H30M`.
pub fn iso8601(duration: Duration) -> String {
    let minutes = duration.as_secs().div_ceil(60);
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let mut s = String::from("P");
    if days > 0 {
        s.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || days == 0 {
        s.push('T');
        if hours > 0 {
            s.push_str(&format!("{hours}H"));
        }
        if minutes > 0 || hours == 0 {
            s.push_str(&format!("{minutes}M"));
        }
    }
    s
}

/// Whether Graph can set a status in `cloud` (not in China's).
pub fn offered_in(cloud: Cloud) -> bool {
    cloud != Cloud::China
}

/// Refuses, before any request, a cloud where Graph cannot set a status.
pub fn check_cloud(settings: &Settings) -> Result<()> {
    if !offered_in(settings.cloud) {
        return Err(Error::InvalidInput(format!(
            "Setting your own status is not available in the {} cloud: Microsoft Graph does not offer it there. Set it in Teams instead.",
            settings.cloud.display_name()
        )));
    }
    Ok(())
}

pub use crate::auth::Access;

/// Resumes the stored sign-in and says whether it may write presence.
/// Fails without sending anything in the China cloud and when nobody is
/// signed in.
pub async fn access(settings: &Settings, store: Arc<dyn TokenStore>) -> Result<Access> {
    check_cloud(settings)?;
    auth::access(
        settings,
        store,
        PRESENCE_WRITE_SCOPE,
        SignInFlow::with_status_access,
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
        PRESENCE_WRITE_SCOPE,
        "setting your status",
    )
}

/// "until 14:30" for an end later today in `now`'s time zone, "until Tue
/// 1 Dec 14:30" for another day.
pub fn until<Tz: chrono::TimeZone>(end: DateTime<Utc>, now: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    format!("until {}", crate::calendar::clock_or_day(end, now))
}

/// Your own presence and status message, as Graph shows them to you.
#[derive(Debug, Clone, PartialEq)]
pub struct MyStatus {
    pub presence: Presence,
    /// When the status message ends, if it has an end.
    pub message_expires: Option<DateTime<Utc>>,
}

impl MyStatus {
    /// The presence in words: "Do not disturb", "Busy (In a meeting)".
    pub fn in_words(&self) -> String {
        status::in_words(&self.presence)
    }

    /// The message (text, as written), if any.
    pub fn message(&self) -> Option<&str> {
        self.presence.status_message.as_deref()
    }

    /// "until 14:30" or "until Tue 14:30" in `now`'s time zone, for a
    /// message with an end.
    pub fn message_until<Tz: chrono::TimeZone>(&self, now: &DateTime<Tz>) -> Option<String>
    where
        Tz::Offset: std::fmt::Display,
    {
        Some(until(self.message_expires?, now))
    }

    /// `{"availability","activity","label","message","expiry"}` for scripts;
    /// `expiry` is the message's end, RFC 3339 UTC, or null.
    pub fn to_json(&self) -> Value {
        json!({
            "availability": self.presence.availability.as_str(),
            "activity": self.presence.activity.as_str(),
            "label": self.in_words(),
            "message": self.message(),
            "expiry": self.message_expires.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        })
    }
}

/// A change to your own status, from the window, the tray or the command
/// line.
#[derive(Debug, Clone, PartialEq)]
pub enum MyStatusChange {
    /// Show this instead of what you are doing, for a while (or Graph's
    /// default: a day for busy and do not disturb, else 7 days).
    Set {
        choice: StatusChoice,
        duration: Option<Duration>,
    },
    /// Back to what Teams works out from what you are doing.
    Reset,
    /// A status message, for a while or until changed.
    Message {
        text: String,
        duration: Option<Duration>,
    },
    ClearMessage,
}

/// The word that stands for "back to what Teams works out from what you are
/// doing" where a status is chosen by word (the window and the tray).
pub const RESET_WORD: &str = "reset";

impl MyStatusChange {
    /// Your presence by its word (one of [`StatusChoice::ALL`]'s, or
    /// [`RESET_WORD`]), for `duration` as typed ("30m", "1h", "7d"; none or
    /// blank: Microsoft's default).
    pub fn presence(word: &str, duration: Option<&str>) -> Result<MyStatusChange> {
        MyStatusChange::presence_for(word, || typed_duration(duration))
    }

    /// A status message as typed (none or blank: remove it), for `duration`
    /// as typed (none or blank: until it is changed).
    pub fn message(text: Option<String>, duration: Option<&str>) -> Result<MyStatusChange> {
        MyStatusChange::message_for(text, || typed_duration(duration))
    }

    /// [`MyStatusChange::presence`], its duration read only for a status
    /// that lasts.
    fn presence_for(
        word: &str,
        duration: impl FnOnce() -> Result<Option<Duration>>,
    ) -> Result<MyStatusChange> {
        if word.trim().eq_ignore_ascii_case(RESET_WORD) {
            return Ok(MyStatusChange::Reset);
        }
        Ok(MyStatusChange::Set {
            choice: StatusChoice::parse(word)?,
            duration: duration()?,
        })
    }

    /// [`MyStatusChange::message`], its duration read only for a message.
    fn message_for(
        text: Option<String>,
        duration: impl FnOnce() -> Result<Option<Duration>>,
    ) -> Result<MyStatusChange> {
        Ok(match text.filter(|t| !t.trim().is_empty()) {
            None => MyStatusChange::ClearMessage,
            Some(text) => MyStatusChange::Message {
                text,
                duration: duration()?,
            },
        })
    }
}

/// A duration as typed in a form: blank is none.
fn typed_duration(text: Option<&str>) -> Result<Option<Duration>> {
    text.filter(|d| !d.trim().is_empty())
        .map(parse_duration)
        .transpose()
}

/// Where a status message was written, for how a message too long is
/// refused: the same sentence either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageWritten {
    /// In the window's "Set your status", beside the field:
    /// [`Error::InvalidField`] naming `message`, so the window marks it.
    InTheForm,
    /// On its own, as a command's argument (`presently status message`, or
    /// a front end's command that sets only the message):
    /// [`Error::InvalidInput`].
    AsAnArgument,
}

/// A status message as Teams takes it: `text` trimmed, of at most
/// [`MAX_MESSAGE_CHARS`] characters; a longer one is refused, as fits where
/// it was `written`.
pub fn checked_message(text: &str, written: MessageWritten) -> Result<&str> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars <= MAX_MESSAGE_CHARS {
        return Ok(text);
    }
    let reason = format!(
        "A status message is at most {MAX_MESSAGE_CHARS} characters: this one has {chars}."
    );
    Err(match written {
        MessageWritten::InTheForm => Error::InvalidField {
            key: "message",
            reason,
        },
        MessageWritten::AsAnArgument => Error::InvalidInput(reason),
    })
}

/// "Set your status" as the window's form has it when Save is pressed,
/// each field as typed or chosen: the status by its word (blank: no
/// change; [`RESET_WORD`] gives it back to Teams), how long it lasts
/// (blank: Microsoft's default), the message (blank: none), and how long
/// the message lasts (blank: until it is changed). A duration is one
/// [`parse_duration`] reads or [`TODAY_WORD`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MyStatusForm {
    pub choice: String,
    pub duration: String,
    pub message: String,
    pub message_duration: String,
}

impl MyStatusForm {
    /// The changes Save makes, in order: the status before the message,
    /// each only when it changes what you have (`message_before`: your
    /// message as shown; the same words again are a change when they are
    /// now to expire). None when nothing changed. "Today" lasts until
    /// midnight in `now`'s time zone. A message too long is refused first,
    /// as [`Error::InvalidField`] naming `message`.
    pub fn changes<Tz: TimeZone>(
        &self,
        message_before: Option<&str>,
        now: &DateTime<Tz>,
    ) -> Result<Vec<MyStatusChange>> {
        let text = checked_message(&self.message, MessageWritten::InTheForm)?;
        let lasting = |typed: &str| {
            let typed = typed.trim();
            if typed.eq_ignore_ascii_case(TODAY_WORD) {
                Ok(Some(until_midnight(now)))
            } else {
                typed_duration(Some(typed))
            }
        };
        let mut changes = Vec::new();
        if !self.choice.trim().is_empty() {
            changes.push(MyStatusChange::presence_for(&self.choice, || {
                lasting(&self.duration)
            })?);
        }
        let before = message_before.unwrap_or_default().trim();
        let to_expire = !self.message_duration.trim().is_empty();
        if text != before || (!text.is_empty() && to_expire) {
            changes.push(MyStatusChange::message_for(Some(text.to_string()), || {
                lasting(&self.message_duration)
            })?);
        }
        Ok(changes)
    }
}

/// Sets, clears and reads the signed-in user's own status.
pub struct OwnStatus {
    graph: GraphClient,
    me: String,
}

impl OwnStatus {
    /// For `account`, through `graph` (made with a session from [`access`]
    /// or [`after_consent`]).
    pub fn new(graph: GraphClient, account: &Account) -> OwnStatus {
        OwnStatus {
            graph,
            me: account.id.clone(),
        }
    }

    fn path(&self, action: &str) -> String {
        // An ID is a GUID; anything else Graph sent is kept to one segment.
        const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_');
        let me: String = percent_encoding::utf8_percent_encode(&self.me, SEGMENT).collect();
        format!("users/{me}/presence/{action}")
    }

    /// Shows `choice` instead of what you are doing, for `duration` (or
    /// Graph's default: a day for Busy and Do not disturb, else 7 days).
    pub async fn set(&self, choice: StatusChoice, duration: Option<Duration>) -> Result<()> {
        let (availability, activity) = choice.pair();
        let mut body = json!({ "availability": availability, "activity": activity });
        if let Some(d) = duration {
            body["expirationDuration"] = json!(iso8601(checked(d)?));
        }
        self.post("setUserPreferredPresence", &body).await
    }

    /// Goes back to the presence Teams works out from what you are doing.
    pub async fn clear(&self) -> Result<()> {
        self.post("clearUserPreferredPresence", &json!({})).await
    }

    /// Sets your status message, for `duration` or until changed.
    pub async fn set_message(&self, text: &str, duration: Option<Duration>) -> Result<()> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::InvalidInput(
                "The status message is empty: write one, or clear it with `presently status message --clear`.".into(),
            ));
        }
        let text = checked_message(text, MessageWritten::AsAnArgument)?;
        let mut status = json!({ "message": { "content": text, "contentType": "text" } });
        if let Some(d) = duration {
            let d = chrono::Duration::from_std(checked(d)?).unwrap_or(chrono::Duration::MAX);
            let end = Utc::now() + d;
            status["expiryDateTime"] = json!({
                "dateTime": end.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(),
                "timeZone": "UTC",
            });
        }
        self.post("setStatusMessage", &json!({ "statusMessage": status }))
            .await
    }

    /// Makes `change`.
    pub async fn apply(&self, change: &MyStatusChange) -> Result<()> {
        match change {
            MyStatusChange::Set { choice, duration } => self.set(*choice, *duration).await,
            MyStatusChange::Reset => self.clear().await,
            MyStatusChange::Message { text, duration } => self.set_message(text, *duration).await,
            MyStatusChange::ClearMessage => self.clear_message().await,
        }
    }

    /// Removes your status message (Graph clears it with an empty one).
    pub async fn clear_message(&self) -> Result<()> {
        let empty =
            json!({ "statusMessage": { "message": { "content": "", "contentType": "text" } } });
        self.post("setStatusMessage", &empty).await
    }

    /// Your presence and message as Graph shows them to you now.
    pub async fn read(&self) -> Result<MyStatus> {
        let answer: Value = self.graph.get_json("me/presence").await?;
        let bytes = serde_json::to_vec(&answer)
            .map_err(|e| Error::Malformed(format!("your presence ({e})")))?;
        let presence = parse_presence(&bytes)?;
        let message_expires = serde_json::from_value::<WireOwn>(answer)
            .ok()
            .and_then(|w| w.status_message)
            .and_then(|m| m.expiry_date_time)
            .and_then(|t| t.utc());
        Ok(MyStatus {
            message_expires: message_expires.filter(|_| presence.status_message.is_some()),
            presence,
        })
    }

    async fn post(&self, action: &str, body: &Value) -> Result<()> {
        self.graph
            .post_action(&self.path(action), body)
            .await
            .map_err(|e| match e {
                // Consent withdrawn, or an organisation that allows reading
                // presence but not writing it: say which permission.
                Error::Graph {
                    status: 403,
                    code,
                    message,
                } => Error::Graph {
                    status: 403,
                    code,
                    message: format!(
                        "{message} Setting your status needs the permission {PRESENCE_WRITE_SCOPE}; your organisation may not allow it."
                    ),
                },
                other => other,
            })
    }
}

/// The same bounds for every caller, whatever parsed the duration.
fn checked(d: Duration) -> Result<Duration> {
    if (MIN_DURATION..=MAX_DURATION).contains(&d) {
        Ok(d)
    } else {
        Err(Error::InvalidInput(
            "A status lasts from 1 minute to 7 days.".into(),
        ))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOwn {
    status_message: Option<WireOwnMessage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOwnMessage {
    expiry_date_time: Option<DateTimeTimeZone>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DateTimeTimeZone {
    date_time: String,
    time_zone: String,
}

impl DateTimeTimeZone {
    /// The time, when it is in UTC (what Presently sends and the time zone
    /// Graph answers in). Graph writes "no end" as the year 9999.
    fn utc(&self) -> Option<DateTime<Utc>> {
        if !self.time_zone.eq_ignore_ascii_case("UTC") {
            return None;
        }
        let naive = NaiveDateTime::parse_from_str(
            self.date_time.trim_end_matches('Z'),
            "%Y-%m-%dT%H:%M:%S%.f",
        )
        .ok()?;
        (naive.year() < 9999).then(|| naive.and_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_status_change_is_read_once_for_every_front_end() {
        assert_eq!(
            MyStatusChange::presence(" Reset ", Some("1h")).unwrap(),
            MyStatusChange::Reset
        );
        assert_eq!(
            MyStatusChange::presence("busy", Some("30m")).unwrap(),
            MyStatusChange::Set {
                choice: StatusChoice::parse("busy").unwrap(),
                duration: Some(Duration::from_secs(30 * 60)),
            }
        );
        // A blank duration is Microsoft's default, as no duration is.
        for blank in [None, Some(""), Some("  ")] {
            assert!(matches!(
                MyStatusChange::presence("away", blank).unwrap(),
                MyStatusChange::Set { duration: None, .. }
            ));
        }
        assert_eq!(
            MyStatusChange::presence("sleepy", None).unwrap_err().code(),
            "invalid_input"
        );
        assert!(MyStatusChange::presence("busy", Some("soon")).is_err());

        assert_eq!(
            MyStatusChange::message(Some("At lunch".into()), Some("1h")).unwrap(),
            MyStatusChange::Message {
                text: "At lunch".into(),
                duration: Some(Duration::from_secs(3600)),
            }
        );
        for nothing in [None, Some(String::new()), Some(" \n ".into())] {
            assert_eq!(
                MyStatusChange::message(nothing, Some("1h")).unwrap(),
                MyStatusChange::ClearMessage
            );
        }
    }

    /// Saturday 5 December 2026 at `h:m:s`, an hour ahead of UTC.
    fn at(h: u32, m: u32, s: u32) -> DateTime<chrono::FixedOffset> {
        chrono::FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 12, 5, h, m, s)
            .unwrap()
    }

    fn minutes(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    #[test]
    fn today_lasts_until_midnight_where_you_are() {
        assert_eq!(until_midnight(&at(21, 30, 0)), minutes(150));
        assert_eq!(until_midnight(&at(0, 0, 0)), minutes(1440));
        assert_eq!(until_midnight(&at(23, 59, 30)), minutes(1), "never nothing");
        assert_eq!(
            until_midnight(&at(23, 58, 59)),
            minutes(2),
            "the minute under way counts"
        );
        // Midnight here, not in UTC (22:30 UTC is 23:30 here).
        assert_eq!(
            until_midnight(&at(23, 30, 0).with_timezone(&Utc)),
            minutes(90)
        );
        assert_eq!(until_midnight(&at(23, 30, 0)), minutes(30));
        assert_eq!(as_typed(until_midnight(&at(12, 0, 0))), "720m");
        // São Paulo, 3 November 2018 at 23:00 (-03:00): summer time began
        // at midnight, so the next day began at 01:00 (-02:00), an hour on.
        let late = SaoPaulo2018
            .with_ymd_and_hms(2018, 11, 3, 23, 0, 0)
            .unwrap();
        assert_eq!(until_midnight(&late), minutes(60));
    }

    /// São Paulo's clocks around 4 November 2018, when 00:00 became 01:00.
    #[derive(Debug, Clone, Copy)]
    struct SaoPaulo2018;

    impl SaoPaulo2018 {
        fn summer_time_begins() -> NaiveDateTime {
            chrono::NaiveDate::from_ymd_opt(2018, 11, 4)
                .unwrap()
                .and_time(NaiveTime::MIN)
        }

        fn hours_from_utc(hours: i32) -> chrono::FixedOffset {
            chrono::FixedOffset::east_opt(hours * 3600).unwrap()
        }
    }

    impl TimeZone for SaoPaulo2018 {
        type Offset = chrono::FixedOffset;

        fn from_offset(_: &chrono::FixedOffset) -> Self {
            SaoPaulo2018
        }

        fn offset_from_local_date(
            &self,
            local: &chrono::NaiveDate,
        ) -> chrono::LocalResult<chrono::FixedOffset> {
            self.offset_from_local_datetime(&local.and_time(NaiveTime::MIN))
        }

        fn offset_from_local_datetime(
            &self,
            local: &NaiveDateTime,
        ) -> chrono::LocalResult<chrono::FixedOffset> {
            let begins = Self::summer_time_begins();
            if *local < begins {
                chrono::LocalResult::Single(Self::hours_from_utc(-3))
            } else if *local < begins + chrono::TimeDelta::hours(1) {
                chrono::LocalResult::None
            } else {
                chrono::LocalResult::Single(Self::hours_from_utc(-2))
            }
        }

        fn offset_from_utc_date(&self, utc: &chrono::NaiveDate) -> chrono::FixedOffset {
            self.offset_from_utc_datetime(&utc.and_time(NaiveTime::MIN))
        }

        fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> chrono::FixedOffset {
            let begins = Self::summer_time_begins() + chrono::TimeDelta::hours(3);
            Self::hours_from_utc(if *utc < begins { -3 } else { -2 })
        }
    }

    fn form(choice: &str, duration: &str, message: &str, message_duration: &str) -> MyStatusForm {
        MyStatusForm {
            choice: choice.into(),
            duration: duration.into(),
            message: message.into(),
            message_duration: message_duration.into(),
        }
    }

    #[test]
    fn save_makes_only_what_changed_the_status_before_the_message() {
        let lisbon = Some("In Lisbon");
        let set = |choice: &str, duration: Option<Duration>| MyStatusChange::Set {
            choice: StatusChoice::parse(choice).unwrap(),
            duration,
        };
        let message = |text: &str, duration: Option<Duration>| MyStatusChange::Message {
            text: text.into(),
            duration,
        };
        let clear = MyStatusChange::ClearMessage;
        for (typed, before, made, why) in [
            (
                form("", "", "In Lisbon", ""),
                lisbon,
                vec![],
                "nothing changed",
            ),
            (
                form("", "", "  In Lisbon ", ""),
                Some(" In Lisbon\n"),
                vec![],
                "spaces around are no change",
            ),
            (
                form("busy", "1h", "In Lisbon", ""),
                lisbon,
                vec![set("busy", Some(minutes(60)))],
                "the status alone",
            ),
            (
                form("dnd", "", "In Lisbon", ""),
                lisbon,
                vec![set("dnd", None)],
                "Microsoft's default",
            ),
            (
                form("reset", "4h", "In Lisbon", ""),
                lisbon,
                vec![MyStatusChange::Reset],
                "a reset has no duration",
            ),
            (
                form("", "", "Back at 3 ", ""),
                lisbon,
                vec![message("Back at 3", None)],
                "the message alone, trimmed",
            ),
            (
                form("", "", "Back at 3", "4h"),
                lisbon,
                vec![message("Back at 3", Some(minutes(240)))],
                "a message to expire",
            ),
            (
                form("", "", "In Lisbon", "1d"),
                lisbon,
                vec![message("In Lisbon", Some(minutes(1440)))],
                "the same words, now to expire",
            ),
            (form("", "", "", ""), lisbon, vec![clear.clone()], "cleared"),
            (
                form("", "", "   ", "1h"),
                lisbon,
                vec![clear.clone()],
                "blank is cleared",
            ),
            (
                form("", "", "", ""),
                None,
                vec![],
                "no message before, none now",
            ),
            (
                form("", "", "", "1h"),
                None,
                vec![],
                "none now, for no time",
            ),
            (
                form("", "", "x", ""),
                None,
                vec![message("x", None)],
                "your presence not known yet",
            ),
            (
                form("away", "today", "Lunch", "1h"),
                lisbon,
                vec![
                    set("away", Some(minutes(720))),
                    message("Lunch", Some(minutes(60))),
                ],
                "the status, then the message",
            ),
            (
                form(" Busy ", "", "Lunch", "Today"),
                lisbon,
                vec![set("busy", None), message("Lunch", Some(minutes(720)))],
                "words in any case",
            ),
        ] {
            assert_eq!(typed.changes(before, &at(12, 0, 0)).unwrap(), made, "{why}");
        }
    }

    #[test]
    fn a_message_too_long_is_refused_beside_its_field_before_anything_is_made() {
        let long = "é".repeat(281);
        let e = form("busy", "1h", &long, "")
            .changes(None, &at(12, 0, 0))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "A status message is at most 280 characters: this one has 281."
        );
        assert_eq!(
            (e.code(), e.form_field()),
            (ErrorCode::InvalidInput, Some("message"))
        );
        // Characters, not bytes or UTF-16 units: 280 emoji are fine, and
        // the spaces around do not count.
        let emoji = format!("  {}  ", "🙂".repeat(280));
        assert_eq!(
            form("", "", &emoji, "")
                .changes(None, &at(12, 0, 0))
                .unwrap(),
            [MyStatusChange::Message {
                text: "🙂".repeat(280),
                duration: None
            }]
        );
        // A message given to a command on its own is refused in the same
        // words, without a field to mark.
        let e = checked_message(&long, MessageWritten::AsAnArgument).unwrap_err();
        assert_eq!(
            e.to_string(),
            "A status message is at most 280 characters: this one has 281."
        );
        assert_eq!((e.code(), e.form_field()), (ErrorCode::InvalidInput, None));
    }

    #[test]
    fn what_the_form_cannot_take_is_said_in_the_users_words() {
        let refused = |f: MyStatusForm| f.changes(Some("Lunch"), &at(12, 0, 0)).unwrap_err();
        for (f, said) in [
            (
                form("sleepy", "", "Lunch", ""),
                "`sleepy` is not a status to set: choose one of available, busy, dnd, brb, away, offline.",
            ),
            (
                form("busy", "soon", "Lunch", ""),
                "`soon` is not a duration: write a number and m, h or d, such as 30m, 1h, 8h or 7d.",
            ),
            (
                form("", "", "Back at 3", "8d"),
                "`8d` is too long: at most 7 days (7d).",
            ),
        ] {
            let e = refused(f);
            assert_eq!(e.to_string(), said);
            assert_eq!((e.code(), e.form_field()), (ErrorCode::InvalidInput, None));
        }
    }

    use proptest::prelude::*;

    #[test]
    fn choices_map_to_graphs_pairs() {
        let pairs: Vec<_> = ["available", "busy", "dnd", "brb", "away", "offline"]
            .iter()
            .map(|w| StatusChoice::parse(w).unwrap().pair())
            .collect();
        assert_eq!(
            pairs,
            [
                ("Available", "Available"),
                ("Busy", "Busy"),
                ("DoNotDisturb", "DoNotDisturb"),
                ("BeRightBack", "BeRightBack"),
                ("Away", "Away"),
                ("Offline", "OffWork"),
            ]
        );
        assert_eq!(
            StatusChoice::parse(" DND ").unwrap(),
            StatusChoice::DoNotDisturb
        );
        let e = StatusChoice::parse("lunch").unwrap_err().to_string();
        assert!(e.contains("`lunch`") && e.contains("dnd, brb"), "{e}");
        assert_eq!(StatusChoice::DoNotDisturb.label(), "Do not disturb");
    }

    #[test]
    fn durations_as_people_type_them() {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(parse_duration("30m").unwrap(), minutes(30));
        assert_eq!(parse_duration("1h").unwrap(), minutes(60));
        assert_eq!(parse_duration(" 8H ").unwrap(), minutes(480));
        assert_eq!(parse_duration("7d").unwrap(), MAX_DURATION);
        assert_eq!(parse_duration("1m").unwrap(), MIN_DURATION);
        for (junk, says) in [
            ("0m", "too short"),
            ("0d", "too short"),
            ("8d", "too long"),
            ("169h", "too long"),
            ("99999999999999999999d", "too long"),
            ("18446744073709551615m", "too long"),
            ("", "not a duration"),
            ("h", "not a duration"),
            ("1", "not a duration"),
            ("1.5h", "not a duration"),
            ("-1h", "not a duration"),
            ("+1h", "not a duration"),
            ("1 h", "not a duration"),
            ("1w", "not a duration"),
            ("PT1H", "not a duration"),
            ("1hé", "not a duration"),
        ] {
            let e = parse_duration(junk).unwrap_err();
            assert!(matches!(e, Error::InvalidInput(_)), "{junk:?}");
            assert!(e.to_string().contains(says), "{junk:?}: {e}");
        }
    }

    #[test]
    fn iso_8601_for_graph() {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(iso8601(minutes(30)), "PT30M");
        assert_eq!(iso8601(minutes(60)), "PT1H");
        assert_eq!(iso8601(minutes(90)), "PT1H30M");
        assert_eq!(iso8601(minutes(1440)), "P1D");
        assert_eq!(iso8601(minutes(1440 + 150)), "P1DT2H30M");
        assert_eq!(iso8601(MAX_DURATION), "P7D");
        assert_eq!(iso8601(Duration::from_secs(61)), "PT2M", "rounded up");
    }

    proptest! {
        #[test]
        fn any_text_parses_within_bounds_or_fails_cleanly(text in "\\PC{0,12}") {
            if let Ok(d) = parse_duration(&text) {
                prop_assert!((MIN_DURATION..=MAX_DURATION).contains(&d));
            }
        }

        #[test]
        fn every_duration_in_bounds_survives_the_trip(minutes in 1u64..=7 * 1440) {
            let d = Duration::from_secs(minutes * 60);
            prop_assert_eq!(parse_duration(&format!("{minutes}m")).unwrap(), d);
            prop_assert_eq!(parse_duration(&as_typed(d)).unwrap(), d);
            // Graph reads back the same number of minutes.
            let iso = iso8601(d);
            let (date, time) = iso[1..].split_once('T').unwrap_or((&iso[1..], ""));
            let days: u64 = date.strip_suffix('D').map_or(0, |n| n.parse().unwrap());
            let hours: u64 = time.split_once('H').map_or(0, |(h, _)| h.parse().unwrap());
            let mins: u64 = time
                .rsplit_once('H')
                .map_or(time, |(_, m)| m)
                .strip_suffix('M')
                .map_or(0, |m| m.parse().unwrap());
            prop_assert_eq!(days * 1440 + hours * 60 + mins, minutes);
        }
    }

    #[test]
    fn expiry_is_read_in_utc_and_the_year_9999_is_no_end() {
        let t = |date_time: &str, time_zone: &str| {
            DateTimeTimeZone {
                date_time: date_time.into(),
                time_zone: time_zone.into(),
            }
            .utc()
        };
        assert_eq!(
            t("2026-11-30T14:30:00.0000000", "UTC")
                .unwrap()
                .to_rfc3339(),
            "2026-11-30T14:30:00+00:00"
        );
        assert_eq!(t("9999-12-31T00:00:00.0000000", "UTC"), None);
        assert_eq!(t("2026-11-30T14:30:00", "Pacific Standard Time"), None);
        assert_eq!(t("soon", "UTC"), None);
    }

    #[test]
    fn the_message_end_in_words_is_local_to_the_reader() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let status = MyStatus {
            presence: Presence::unknown("me"),
            message_expires: Some(at("2026-11-30T14:30:00Z")),
        };
        assert_eq!(
            status.message_until(&at("2026-11-30T09:00:00Z")).as_deref(),
            Some("until 14:30")
        );
        assert_eq!(
            status.message_until(&at("2026-11-29T09:00:00Z")).as_deref(),
            Some("until Mon 30 Nov 14:30")
        );
        let json = status.to_json();
        assert_eq!(json["expiry"], "2026-11-30T14:30:00Z");
        assert_eq!(json["availability"], "PresenceUnknown");
    }
}
