//! An outlook in words, the same for the window, the notifications and
//! `watch`: "until 14:30", "free at 15:00", "outside working hours (22:10
//! there)". Times are the reader's own, in the zone of the `now` given.

use std::fmt::Display;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};

use super::Outlook;

/// The outlook's parts in words, in the order they are read. "free at" is
/// left out when it says no more than "until" (free when the block ends).
pub fn in_words<Tz: TimeZone>(outlook: &Outlook, now: &DateTime<Tz>) -> Vec<String>
where
    Tz::Offset: Display,
{
    let mut words = Vec::new();
    if let Some(end) = outlook.busy_until {
        words.push(format!("until {}", clock_or_day(end, now)));
    }
    if let Some(free) = outlook.free_at.filter(|f| Some(*f) != outlook.busy_until) {
        words.push(format!("free at {}", clock_or_day(free, now)));
    }
    if outlook.outside_working_hours {
        words.push(match outlook.local_time_there(now.to_utc()) {
            Some(there) => format!("outside working hours ({} there)", there.format("%H:%M")),
            None => "outside working hours".to_string(),
        });
    }
    words
}

/// When [`in_words`]'s words for `outlook` next change by themselves after
/// `now`: at the next minute while they show the time of day there; at the
/// next midnight in `now`'s zone while they show a time ("Tue 8 Dec 09:00"
/// becomes "09:00" on the day); else never (`None`).
pub fn words_change_at<Tz: TimeZone>(
    outlook: &Outlook,
    now: &DateTime<Tz>,
) -> Option<DateTime<Utc>> {
    let utc = now.to_utc();
    if outlook.outside_working_hours && outlook.utc_offset_minutes.is_some() {
        // Offsets are whole minutes: their minute turns when UTC's does.
        let into_minute = Duration::seconds(utc.timestamp().rem_euclid(60))
            + Duration::nanoseconds(utc.timestamp_subsec_nanos().into());
        return Some(utc - into_minute + Duration::minutes(1));
    }
    if outlook.busy_until.is_none() && outlook.free_at.is_none() {
        return None;
    }
    let midnight = now.date_naive().succ_opt()?.and_time(NaiveTime::MIN);
    let zone = now.timezone();
    Some(match zone.from_local_datetime(&midnight).earliest() {
        Some(at) => at.to_utc(),
        // No midnight there that day (a clock change at 00:00): an hour on.
        None => utc + Duration::hours(1),
    })
}

/// The outlook in one line for a terminal: its words joined, or "free in
/// their calendar" when it has none.
pub fn summary<Tz: TimeZone>(outlook: &Outlook, now: &DateTime<Tz>) -> String
where
    Tz::Offset: Display,
{
    let words = in_words(outlook, now);
    if words.is_empty() {
        "free in their calendar".to_string()
    } else {
        words.join(", ")
    }
}

/// "14:30" for a time later on `now`'s day, in `now`'s zone; "Tue 1 Dec
/// 14:30" for another day.
pub fn clock_or_day<Tz: TimeZone>(at: DateTime<Utc>, now: &DateTime<Tz>) -> String
where
    Tz::Offset: Display,
{
    let at = at.with_timezone(&now.timezone());
    if at.date_naive() == now.date_naive() {
        at.format("%H:%M").to_string()
    } else {
        at.format("%a %-d %b %H:%M").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn each_part_in_words_in_the_readers_zone() {
        let zone = FixedOffset::east_opt(3600).unwrap();
        let now = at("2026-12-01T12:00:00Z").with_timezone(&zone);
        let busy = Outlook {
            busy_until: Some(at("2026-12-01T13:30:00Z")),
            free_at: Some(at("2026-12-01T14:00:00Z")),
            outside_working_hours: false,
            utc_offset_minutes: Some(-300),
        };
        assert_eq!(in_words(&busy, &now), ["until 14:30", "free at 15:00"]);

        let free_when_it_ends = Outlook {
            free_at: busy.busy_until,
            ..busy.clone()
        };
        assert_eq!(in_words(&free_when_it_ends, &now), ["until 14:30"]);

        let asleep = Outlook {
            busy_until: None,
            free_at: Some(at("2026-12-02T08:00:00Z")),
            outside_working_hours: true,
            utc_offset_minutes: Some(600),
        };
        assert_eq!(
            in_words(&asleep, &now),
            [
                "free at Wed 2 Dec 09:00",
                "outside working hours (22:00 there)"
            ]
        );
        let unknown_zone = Outlook {
            utc_offset_minutes: None,
            ..asleep
        };
        assert_eq!(in_words(&unknown_zone, &now)[1], "outside working hours");
        assert!(in_words(&Outlook::default(), &now).is_empty());
        assert_eq!(summary(&Outlook::default(), &now), "free in their calendar");
        assert_eq!(summary(&busy, &now), "until 14:30, free at 15:00");
    }

    #[test]
    fn the_words_change_at_the_next_minute_there_or_at_midnight_here() {
        let paris = FixedOffset::east_opt(3600).unwrap();
        let now = at("2026-12-07T21:10:30.250Z").with_timezone(&paris);
        let far = Outlook {
            outside_working_hours: true,
            utc_offset_minutes: Some(-480),
            busy_until: Some(at("2026-12-08T09:00:00Z")),
            ..Outlook::default()
        };
        assert_eq!(
            words_change_at(&far, &now),
            Some(at("2026-12-07T21:11:00Z"))
        );
        let until = Outlook {
            busy_until: Some(at("2026-12-08T09:00:00Z")),
            ..Outlook::default()
        };
        // Midnight in Paris is 23:00 UTC.
        assert_eq!(
            words_change_at(&until, &now),
            Some(at("2026-12-07T23:00:00Z"))
        );
        let before = in_words(&until, &(at("2026-12-07T22:59:59Z").with_timezone(&paris)));
        let after = in_words(&until, &(at("2026-12-07T23:00:00Z").with_timezone(&paris)));
        assert_ne!(before, after, "{before:?}");
        let unknown_zone = Outlook {
            outside_working_hours: true,
            ..Outlook::default()
        };
        assert_eq!(words_change_at(&unknown_zone, &now), None);
        assert_eq!(words_change_at(&Outlook::default(), &now), None);
    }
}
