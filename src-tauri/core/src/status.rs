//! A presence as people read it: the kind of dot Teams draws and the words
//! beside it. Computed here once; the window (through its events), the tray,
//! notifications and the command line show what this module says.
//!
//! The words of each Graph value are the labels of [`Availability`] and
//! [`Activity`]; this module decides how they combine. There are three
//! phrasings of the same parts, each for the room its front end has:
//! - [`status_text`], a list row: "Busy · In a meeting", "Out of office".
//! - [`in_words`], a sentence in a notification or menu: "Busy (In a meeting)".
//! - [`in_full`], a terminal line with everything: "Busy (In a meeting),
//!   note: "Back at 3"".

use serde::{Serialize, Serializer};

use crate::presence::{Activity, Availability, Presence};
use crate::text::clean_text;

/// The dot Teams draws for a presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Available,
    Busy,
    DoNotDisturb,
    Away,
    Offline,
    OutOfOffice,
    /// A value this version does not know, or no answer yet: drawn like
    /// offline, but not claimed to be offline.
    Unknown,
}

impl Kind {
    /// Out of office wins over the availability: Teams draws its own dot
    /// for it, whatever else the person is.
    pub fn of(p: &Presence) -> Kind {
        if p.is_out_of_office() {
            Kind::OutOfOffice
        } else {
            Kind::of_availability(&p.availability)
        }
    }

    /// The dot of an availability alone, out of office aside.
    pub fn of_availability(a: &Availability) -> Kind {
        match a {
            Availability::Available | Availability::AvailableIdle => Kind::Available,
            Availability::Busy | Availability::BusyIdle => Kind::Busy,
            Availability::DoNotDisturb => Kind::DoNotDisturb,
            Availability::Away | Availability::BeRightBack => Kind::Away,
            Availability::Offline => Kind::Offline,
            Availability::PresenceUnknown | Availability::Other(_) => Kind::Unknown,
        }
    }

    /// The name the window's stylesheet and scripts use (`kind-dnd`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Available => "available",
            Kind::Busy => "busy",
            Kind::DoNotDisturb => "dnd",
            Kind::Away => "away",
            Kind::Offline => "offline",
            Kind::OutOfOffice => "oof",
            Kind::Unknown => "unknown",
        }
    }

    /// Where a person sorts in a list: available first, then busy, do not
    /// disturb, away; everyone out of reach last, together.
    pub fn rank(self) -> u8 {
        match self {
            Kind::Available => 0,
            Kind::Busy => 1,
            Kind::DoNotDisturb => 2,
            Kind::Away => 3,
            Kind::Offline | Kind::OutOfOffice | Kind::Unknown => 4,
        }
    }

    /// Can they be reached at all (even if busy)?
    fn is_reachable(self) -> bool {
        self.rank() < 4
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Activities that only repeat an availability: "Busy · Busy" or
/// "Available, idle · Inactive" says nothing more in a list.
fn is_plain(a: &Activity) -> bool {
    matches!(
        a,
        Activity::Available
            | Activity::Away
            | Activity::BeRightBack
            | Activity::Busy
            | Activity::DoNotDisturb
            | Activity::Inactive
            | Activity::Offline
            | Activity::PresenceUnknown
    )
}

/// "Busy", "Busy (In a meeting)": the activity in brackets whenever its
/// words differ from the availability's.
fn availability_with_activity(p: &Presence) -> String {
    let availability = p.availability.label();
    let activity = p.activity.label();
    if activity.eq_ignore_ascii_case(&availability) {
        availability
    } else {
        format!("{availability} ({activity})")
    }
}

/// The line under a name in the window: "Busy · In a meeting", "Do not
/// disturb · Presenting", "Out of office · Available", "Available, idle".
pub fn status_text(p: &Presence) -> String {
    let detail = (!is_plain(&p.activity) && p.activity != Activity::OutOfOffice)
        .then(|| p.activity.label())
        .filter(|d| !d.is_empty());
    if p.is_out_of_office() {
        // What they are doing, or how reachable they are, if either says more.
        let second = detail.or_else(|| {
            Kind::of_availability(&p.availability)
                .is_reachable()
                .then(|| p.availability.label())
        });
        return match second {
            Some(second) => format!("Out of office · {second}"),
            None => "Out of office".into(),
        };
    }
    let base = p.availability.label();
    match detail {
        Some(detail) if !detail.eq_ignore_ascii_case(&base) => format!("{base} · {detail}"),
        _ => base,
    }
}

/// The status dot's text alternative: "Do not disturb", "Out of office".
pub fn dot_label(p: &Presence) -> String {
    match Kind::of(p) {
        Kind::OutOfOffice => "Out of office".into(),
        _ => p.availability.label(),
    }
}

/// A presence in a sentence, for notifications and the tray: "Busy (In a
/// meeting)", "Away", "Out of office".
pub fn in_words(p: &Presence) -> String {
    if p.is_out_of_office() {
        "Out of office".into()
    } else {
        availability_with_activity(p)
    }
}

/// Everything for a terminal line: "Busy (In a meeting), note: "Back at 3"",
/// "Offline (Off work), out of office: "On leave"". Text people wrote is
/// cleaned for the terminal.
pub fn in_full(p: &Presence) -> String {
    let mut s = availability_with_activity(p);
    if let Some(note) = &p.status_message {
        s.push_str(&format!(", note: \"{}\"", clean_text(note, 80)));
    }
    if let Some(o) = &p.out_of_office {
        if o.is_out_of_office {
            s.push_str(", out of office");
            if let Some(m) = &o.message {
                s.push_str(&format!(": \"{}\"", clean_text(m, 80)));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presence::OutOfOffice;

    fn presence(availability: &str, activity: &str) -> Presence {
        Presence {
            availability: Availability::parse(availability),
            activity: Activity::parse(activity),
            ..Presence::unknown("x")
        }
    }

    fn out_of_office(availability: &str, activity: &str) -> Presence {
        Presence {
            out_of_office: Some(OutOfOffice {
                is_out_of_office: true,
                message: Some("Back Monday".into()),
            }),
            ..presence(availability, activity)
        }
    }

    #[test]
    fn status_text_reads_like_teams() {
        let cases = [
            ("Available", "Available", "Available"),
            ("Busy", "InAMeeting", "Busy · In a meeting"),
            ("Busy", "Busy", "Busy"),
            ("Busy", "InACall", "Busy · In a call"),
            ("DoNotDisturb", "Presenting", "Do not disturb · Presenting"),
            ("DoNotDisturb", "Focusing", "Do not disturb · Focusing"),
            ("Away", "Away", "Away"),
            ("BeRightBack", "BeRightBack", "Be right back"),
            ("Offline", "Offline", "Offline"),
            ("Offline", "OffWork", "Offline · Off work"),
            ("Offline", "OutOfOffice", "Out of office"),
            ("AvailableIdle", "Inactive", "Available, idle"),
            ("PresenceUnknown", "PresenceUnknown", "Unknown"),
            // Graph's spelling varies: any letter case is the same value.
            ("busy", "inAMeeting", "Busy · In a meeting"),
            // Values this version does not know are shown as they came, in words.
            ("Lunch", "Lunch", "Lunch"),
            ("Busy", "inAWorkshop", "Busy · In a workshop"),
            ("Busy", "on_break", "Busy · On break"),
        ];
        for (availability, activity, words) in cases {
            assert_eq!(
                status_text(&presence(availability, activity)),
                words,
                "{availability}/{activity}"
            );
        }
    }

    #[test]
    fn out_of_office_comes_first_with_what_they_are_doing_if_it_says_more() {
        for (availability, activity, words) in [
            ("Available", "Available", "Out of office · Available"),
            ("Busy", "InAMeeting", "Out of office · In a meeting"),
            ("Offline", "Offline", "Out of office"),
        ] {
            let p = out_of_office(availability, activity);
            assert_eq!(status_text(&p), words);
            assert_eq!(Kind::of(&p), Kind::OutOfOffice);
            assert_eq!(dot_label(&p), "Out of office");
        }
        // An out-of-office setting that is off is not out of office.
        let mut p = out_of_office("Busy", "Busy");
        p.out_of_office.as_mut().unwrap().is_out_of_office = false;
        assert_eq!(Kind::of(&p), Kind::Busy);
        assert_eq!(status_text(&p), "Busy");
    }

    #[test]
    fn each_availability_gets_the_dot_teams_draws() {
        let kinds = [
            ("Available", Kind::Available, "available", 0),
            ("AvailableIdle", Kind::Available, "available", 0),
            ("Busy", Kind::Busy, "busy", 1),
            ("BusyIdle", Kind::Busy, "busy", 1),
            ("DoNotDisturb", Kind::DoNotDisturb, "dnd", 2),
            ("Away", Kind::Away, "away", 3),
            ("BeRightBack", Kind::Away, "away", 3),
            ("Offline", Kind::Offline, "offline", 4),
            ("PresenceUnknown", Kind::Unknown, "unknown", 4),
            ("SomethingNew", Kind::Unknown, "unknown", 4),
        ];
        for (availability, kind, name, rank) in kinds {
            let p = presence(availability, availability);
            assert_eq!(Kind::of(&p), kind, "{availability}");
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.rank(), rank, "{availability}");
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
        assert_eq!(Kind::OutOfOffice.rank(), 4);
        assert_eq!(
            Kind::of(&presence("Offline", "OutOfOffice")),
            Kind::OutOfOffice
        );
        assert_eq!(
            dot_label(&presence("DoNotDisturb", "Presenting")),
            "Do not disturb"
        );
    }

    #[test]
    fn in_words_brackets_the_activity_and_says_out_of_office_alone() {
        for (p, words) in [
            (presence("Busy", "InAMeeting"), "Busy (In a meeting)"),
            (presence("Away", "Away"), "Away"),
            (
                presence("AvailableIdle", "Inactive"),
                "Available, idle (Inactive)",
            ),
            (out_of_office("Busy", "InAMeeting"), "Out of office"),
            (presence("Offline", "OutOfOffice"), "Out of office"),
        ] {
            assert_eq!(in_words(&p), words);
        }
    }

    #[test]
    fn in_full_adds_the_note_and_out_of_office_cleaned_for_a_terminal() {
        let mut p = out_of_office("Offline", "offWork");
        p.out_of_office.as_mut().unwrap().message = Some("On leave\u{202E}until May".into());
        assert_eq!(
            in_full(&p),
            "Offline (Off work), out of office: \"On leave until May\""
        );
        let mut p = presence("Busy", "InAMeeting");
        p.status_message = Some("Back \u{1b}[2Jat 3\n".into());
        assert_eq!(in_full(&p), "Busy (In a meeting), note: \"Back [2Jat 3\"");
        assert_eq!(
            in_full(&presence("Offline", "focusing")),
            "Offline (Focusing)"
        );
    }
}
