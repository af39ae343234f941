//! When to tell the user about a change: the notification policy, apart from
//! how a notification is shown (that is the desktop app's adapter).
//!
//! A teammate with the bell on is announced when they become available from
//! any unavailable state; with "every change" on, on any change. Nothing is
//! announced while paused, in quiet hours, or while the user's own presence
//! is Do Not Disturb. Changes that arrive within a few seconds of each other
//! become one notification, so a burst never turns into a storm.

use std::time::Duration;

use chrono::{DateTime, Local, Utc};

use crate::calendar::clock_or_day;
use crate::engine::PresenceChange;
use crate::how_long::{how_long, Precision};
use crate::presence::{Availability, Presence};
pub use crate::quiet_hours::QuietHours;
use crate::status::{in_words, Kind};

/// Changes closer together than this are merged into one notification.
pub const MERGE_WINDOW: Duration = Duration::from_secs(3);

/// What the user asked to hear about one teammate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    pub display_name: String,
    /// The bell: tell me when they become available.
    pub notify: bool,
    /// Tell me about every change, not only "available".
    pub every_change: bool,
    /// When their calendar's busy block ends ("when they will be free" on):
    /// a change to unavailable says "until 14:30".
    pub busy_until: Option<DateTime<Utc>>,
}

/// A notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub title: String,
    pub body: String,
    /// The teammates it is about, in the order their changes arrived.
    pub ids: Vec<String>,
}

/// Is this availability one where you can reach the person?
pub fn is_available(a: &Availability) -> bool {
    Kind::of_availability(a) == Kind::Available
}

#[derive(Debug, Clone)]
struct Pending {
    id: String,
    line: String,
    title: String,
}

/// The notification policy's state: pause, quiet hours, own presence, and
/// the changes waiting to be merged.
#[derive(Debug, Default)]
pub struct Notifier {
    quiet_hours: Option<QuietHours>,
    paused_until: Option<DateTime<Utc>>,
    own_do_not_disturb: bool,
    pending: Vec<Pending>,
    first_pending_at: Option<DateTime<Utc>>,
}

impl Notifier {
    pub fn new(quiet_hours: Option<QuietHours>) -> Notifier {
        Notifier {
            quiet_hours,
            ..Default::default()
        }
    }

    pub fn set_quiet_hours(&mut self, quiet_hours: Option<QuietHours>) {
        self.quiet_hours = quiet_hours;
    }

    /// Pauses until `until`; `None` resumes.
    pub fn pause_until(&mut self, until: Option<DateTime<Utc>>) {
        self.paused_until = until;
        if until.is_some() {
            self.pending.clear();
            self.first_pending_at = None;
        }
    }

    pub fn paused_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.paused_until.filter(|u| *u > now)
    }

    /// The user's own presence: Do Not Disturb silences notifications.
    pub fn set_own_presence(&mut self, me: &Presence) {
        self.own_do_not_disturb = me.availability == Availability::DoNotDisturb;
    }

    /// Why nothing would be shown right now, if something stops it.
    pub fn silenced(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.paused_until(now).is_some() {
            Some("paused")
        } else if self.own_do_not_disturb {
            Some("do_not_disturb")
        } else if self
            .quiet_hours
            .is_some_and(|q| q.contains(now.with_timezone(&Local).time()))
        {
            Some("quiet_hours")
        } else {
            None
        }
    }

    /// Considers one change; returns true when it will be announced.
    pub fn consider(
        &mut self,
        change: &PresenceChange,
        who: &Interest,
        now: DateTime<Utc>,
    ) -> bool {
        if !who.notify || self.silenced(now).is_some() {
            return false;
        }
        // Someone new to the roster has no "before": nothing became anything.
        let Some(previous) = &change.previous else {
            return false;
        };
        let became_available =
            is_available(&change.presence.availability) && !is_available(&previous.availability);
        if !became_available && !who.every_change {
            return false;
        }
        let was = in_words(previous);
        let for_how_long = change
            .previous_since
            .map(|since| format!(" for {}", how_long(change.at - since, Precision::Fine)))
            .unwrap_or_default();
        let title = if became_available {
            format!("{} is available", who.display_name)
        } else {
            let until = match who.busy_until {
                Some(end) if end > change.at && !is_available(&change.presence.availability) => {
                    format!(
                        " until {}",
                        clock_or_day(end, &change.at.with_timezone(&Local))
                    )
                }
                _ => String::new(),
            };
            format!(
                "{} is now {}{until}",
                who.display_name,
                in_words(&change.presence)
            )
        };
        let line = format!("{title} (was {was}{for_how_long})");
        self.pending.retain(|p| p.id != change.id);
        self.pending.push(Pending {
            id: change.id.clone(),
            line,
            title,
        });
        self.first_pending_at.get_or_insert(now);
        true
    }

    /// When the changes waiting now are to be shown ([`Notifier::due`]);
    /// `None` when nothing waits.
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        let window = chrono::Duration::from_std(MERGE_WINDOW).unwrap_or_default();
        self.first_pending_at.map(|first| first + window)
    }

    /// The merged notification once the merge window since the first waiting
    /// change has passed; `None` while waiting or when nothing waits.
    pub fn due(&mut self, now: DateTime<Utc>) -> Option<Notification> {
        let first = self.first_pending_at?;
        let window = chrono::Duration::from_std(MERGE_WINDOW).unwrap_or_default();
        if now < first + window {
            return None;
        }
        self.first_pending_at = None;
        let pending = std::mem::take(&mut self.pending);
        if self.silenced(now).is_some() {
            return None;
        }
        let ids = pending.iter().map(|p| p.id.clone()).collect();
        Some(match pending.as_slice() {
            [] => return None,
            [one] => Notification {
                title: one.title.clone(),
                body: one
                    .line
                    .trim_start_matches(one.title.as_str())
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .to_string(),
                ids,
            },
            many => Notification {
                title: format!("{} teammates changed", many.len()),
                body: many
                    .iter()
                    .map(|p| p.line.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                ids,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presence::Activity;

    fn presence(id: &str, a: &str, act: &str) -> Presence {
        Presence {
            availability: Availability::parse(a),
            activity: Activity::parse(act),
            ..Presence::unknown(id)
        }
    }

    fn change(
        id: &str,
        from: (&str, &str),
        to: (&str, &str),
        minutes: i64,
        at: DateTime<Utc>,
    ) -> PresenceChange {
        PresenceChange {
            id: id.into(),
            presence: presence(id, to.0, to.1),
            previous: Some(presence(id, from.0, from.1)),
            previous_since: Some(at - chrono::Duration::minutes(minutes)),
            at,
        }
    }

    fn bell(name: &str) -> Interest {
        Interest {
            display_name: name.into(),
            notify: true,
            every_change: false,
            busy_until: None,
        }
    }

    fn noon() -> DateTime<Utc> {
        "2026-11-27T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn becoming_available_is_announced_with_what_they_were_and_for_how_long() {
        let mut n = Notifier::new(None);
        let c = change(
            "a",
            ("Busy", "InAMeeting"),
            ("Available", "Available"),
            25,
            noon(),
        );
        assert!(n.consider(&c, &bell("Megan Bowen"), noon()));
        assert_eq!(n.due(noon()), None, "held back for the merge window");
        let shown = n.due(noon() + chrono::Duration::seconds(4)).unwrap();
        assert_eq!(shown.title, "Megan Bowen is available");
        assert_eq!(shown.body, "was Busy (In a meeting) for 25 min");
        assert_eq!(
            n.due(noon() + chrono::Duration::seconds(9)),
            None,
            "shown once"
        );
    }

    #[test]
    fn only_the_bell_and_only_becoming_available_count_by_default() {
        let mut n = Notifier::new(None);
        let c = change("a", ("Busy", "Busy"), ("Available", "Available"), 5, noon());
        let mut quiet = bell("A");
        quiet.notify = false;
        assert!(!n.consider(&c, &quiet, noon()));
        let c = change(
            "a",
            ("Available", "Available"),
            ("Busy", "InACall"),
            5,
            noon(),
        );
        assert!(!n.consider(&c, &bell("A"), noon()));
        let c = change(
            "a",
            ("Available", "Available"),
            ("AvailableIdle", "Inactive"),
            5,
            noon(),
        );
        assert!(!n.consider(&c, &bell("A"), noon()), "still available");
        let mut every = bell("A");
        every.every_change = true;
        let c = change(
            "a",
            ("Available", "Available"),
            ("Busy", "InACall"),
            5,
            noon(),
        );
        assert!(n.consider(&c, &every, noon()));
        let shown = n.due(noon() + chrono::Duration::seconds(3)).unwrap();
        assert_eq!(shown.title, "A is now Busy (In a call)");
    }

    #[test]
    fn a_change_to_busy_says_until_when_the_calendar_knows() {
        let mut n = Notifier::new(None);
        let mut every = bell("Ada");
        every.every_change = true;
        let end = noon() + chrono::Duration::minutes(90);
        every.busy_until = Some(end);
        let to_meeting = change(
            "a",
            ("Available", "Available"),
            ("Busy", "InAMeeting"),
            5,
            noon(),
        );
        assert!(n.consider(&to_meeting, &every, noon()));
        let shown = n.due(noon() + chrono::Duration::seconds(3)).unwrap();
        let clock = end.with_timezone(&Local).format("%H:%M").to_string();
        assert!(
            shown
                .title
                .starts_with("Ada is now Busy (In a meeting) until ")
                && shown.title.ends_with(&clock),
            "{}",
            shown.title
        );

        // Back to available: the block is no news; a block already over neither.
        let back = change(
            "a",
            ("Busy", "InAMeeting"),
            ("Available", "Available"),
            5,
            noon(),
        );
        assert!(n.consider(&back, &every, noon()));
        assert_eq!(
            n.due(noon() + chrono::Duration::seconds(3)).unwrap().title,
            "Ada is available"
        );
        every.busy_until = Some(noon() - chrono::Duration::minutes(1));
        assert!(n.consider(&to_meeting, &every, noon()));
        assert_eq!(
            n.due(noon() + chrono::Duration::seconds(3)).unwrap().title,
            "Ada is now Busy (In a meeting)"
        );
    }

    #[test]
    fn someone_new_to_the_roster_is_not_announced() {
        let mut n = Notifier::new(None);
        let mut c = change("a", ("Busy", "Busy"), ("Available", "Available"), 5, noon());
        c.previous = None;
        assert!(!n.consider(&c, &bell("A"), noon()));
    }

    #[test]
    fn pause_own_do_not_disturb_and_quiet_hours_silence_everything() {
        let c = change("a", ("Away", "Away"), ("Available", "Available"), 5, noon());
        let mut n = Notifier::new(None);
        n.pause_until(Some(noon() + chrono::Duration::hours(1)));
        assert!(!n.consider(&c, &bell("A"), noon()));
        assert!(
            n.consider(&c, &bell("A"), noon() + chrono::Duration::hours(2)),
            "the pause ends"
        );

        let mut n = Notifier::new(None);
        n.set_own_presence(&presence("me", "DoNotDisturb", "Presenting"));
        assert!(!n.consider(&c, &bell("A"), noon()));
        n.set_own_presence(&presence("me", "Busy", "InAMeeting"));
        assert!(n.consider(&c, &bell("A"), noon()));

        let local_now = noon().with_timezone(&Local).time();
        let all_day = QuietHours {
            start: local_now - chrono::Duration::minutes(1),
            end: local_now + chrono::Duration::minutes(1),
        };
        let mut n = Notifier::new(Some(all_day));
        assert_eq!(n.silenced(noon()), Some("quiet_hours"));
        assert!(!n.consider(&c, &bell("A"), noon()));
    }

    #[test]
    fn a_burst_of_changes_becomes_one_notification() {
        let mut n = Notifier::new(None);
        for (i, name) in ["A", "B", "C"].iter().enumerate() {
            let at = noon() + chrono::Duration::seconds(i as i64);
            let c = change(
                name,
                ("Offline", "Offline"),
                ("Available", "Available"),
                60,
                at,
            );
            assert!(n.consider(&c, &bell(name), at));
        }
        assert_eq!(n.due(noon() + chrono::Duration::seconds(2)), None);
        let shown = n.due(noon() + chrono::Duration::seconds(3)).unwrap();
        assert_eq!(shown.title, "3 teammates changed");
        assert_eq!(shown.ids, vec!["A", "B", "C"]);
        assert_eq!(shown.body.lines().count(), 3);
        assert!(
            shown.body.contains("B is available (was Offline for 1 h)"),
            "{}",
            shown.body
        );
    }
}
