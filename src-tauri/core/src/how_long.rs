//! How long, in words, for every front end: notifications ("was Busy for
//! 3 h 5 min") and the window's rows ("for 3 h", "as of 14:05"), and when a
//! row's words next change, so that whoever shows them can keep them
//! current without wording them.

use std::fmt::Display;

use chrono::{DateTime, Duration, TimeZone, Utc};

/// How many units a duration is worded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// The largest unit only, rounded down: "25 min", "3 h", "2 days". For
    /// what stays on screen and would otherwise change every minute.
    Coarse,
    /// Hours with their minutes: "3 h 5 min". For what is read once.
    Fine,
}

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// "40 s", "25 min", "3 h" or "3 h 5 min", "1 day", "2 days"; a negative
/// duration (a clock behind another) is no time at all.
pub fn how_long(d: Duration, precision: Precision) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..MINUTE => format!("{s} s"),
        MINUTE..HOUR => format!("{} min", s / MINUTE),
        HOUR..DAY => match ((s % HOUR) / MINUTE, precision) {
            (0, _) | (_, Precision::Coarse) => format!("{} h", s / HOUR),
            (m, Precision::Fine) => format!("{} h {m} min", s / HOUR),
        },
        _ => match s / DAY {
            1 => "1 day".into(),
            n => format!("{n} days"),
        },
    }
}

/// What a row says about time, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinceWords {
    /// "just now", "for 25 min", "for 3 h", "for 1 day"; "as of 14:05"; ""
    /// when nothing is known.
    pub text: String,
    /// When `text` changes by itself; `None` for never.
    pub changes_at: Option<DateTime<Utc>>,
}

/// The words after someone's status on their row: how long they have had
/// it (`since`), or, while Graph gives no answers (`stale_as_of`: its last
/// answer), "as of" that answer's time of day in `now`'s zone, so that old
/// presence is not shown as current.
pub fn since_words<Tz: TimeZone>(
    since: Option<DateTime<Utc>>,
    stale_as_of: Option<DateTime<Utc>>,
    now: &DateTime<Tz>,
) -> SinceWords
where
    Tz::Offset: Display,
{
    if let Some(last) = stale_as_of {
        let local = last.with_timezone(&now.timezone());
        return SinceWords {
            text: format!("as of {}", local.format("%H:%M")),
            changes_at: None,
        };
    }
    let Some(since) = since else {
        return SinceWords {
            text: String::new(),
            changes_at: None,
        };
    };
    let elapsed = (now.with_timezone(&Utc) - since).num_seconds();
    if elapsed < MINUTE {
        return SinceWords {
            text: "just now".into(),
            changes_at: Some(since + Duration::seconds(MINUTE)),
        };
    }
    let step = match elapsed {
        ..HOUR => MINUTE,
        HOUR..DAY => HOUR,
        _ => DAY,
    };
    SinceWords {
        text: format!(
            "for {}",
            how_long(Duration::seconds(elapsed), Precision::Coarse)
        ),
        changes_at: Some(since + Duration::seconds((elapsed / step + 1) * step)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    fn d(s: i64) -> Duration {
        Duration::seconds(s)
    }

    #[test]
    fn durations_are_worded_in_the_largest_unit_or_with_their_minutes() {
        for (s, coarse, fine) in [
            (-5, "0 s", "0 s"),
            (40, "40 s", "40 s"),
            (25 * 60, "25 min", "25 min"),
            (3600, "1 h", "1 h"),
            (3 * 3600 + 5 * 60, "3 h", "3 h 5 min"),
            (3 * 3600 + 59 * 60 + 59, "3 h", "3 h 59 min"),
            (86_400, "1 day", "1 day"),
            (2 * 86_400 + 7 * 3600, "2 days", "2 days"),
        ] {
            assert_eq!(how_long(d(s), Precision::Coarse), coarse, "{s} s");
            assert_eq!(how_long(d(s), Precision::Fine), fine, "{s} s");
        }
    }

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
    }

    fn words(ago: i64) -> String {
        since_words(Some(noon() - d(ago)), None, &noon()).text
    }

    #[test]
    fn a_row_says_how_long_in_its_largest_unit() {
        assert_eq!(since_words(None, None, &noon()).text, "");
        assert_eq!(words(30), "just now");
        assert_eq!(words(-120), "just now", "a since ahead of this clock");
        assert_eq!(words(60), "for 1 min");
        assert_eq!(words(25 * 60 + 59), "for 25 min");
        assert_eq!(words(3600), "for 1 h");
        assert_eq!(words(3 * 3600 + 59 * 60), "for 3 h");
        assert_eq!(words(24 * 3600), "for 1 day");
        assert_eq!(words(3 * 24 * 3600 + 5), "for 3 days");
    }

    #[test]
    fn while_graph_gives_no_answers_a_row_says_as_of_the_last_one_in_local_time() {
        let last = noon() - d(30 * 60);
        let berlin = FixedOffset::east_opt(3600).unwrap();
        let shown = since_words(
            Some(noon() - d(3600)),
            Some(last),
            &noon().with_timezone(&berlin),
        );
        assert_eq!(shown.text, "as of 12:30");
        assert_eq!(shown.changes_at, None, "it stays until answers come again");
        let unknown = since_words(None, Some(last), &noon());
        assert_eq!(unknown.text, "as of 11:30");
    }

    #[test]
    fn the_words_change_at_the_next_minute_hour_or_day_of_their_own_and_not_before() {
        let since = noon();
        let at = |elapsed: i64| since_words(Some(since), None, &(since + d(elapsed)));
        assert_eq!(
            at(10).changes_at,
            Some(since + d(60)),
            "just now until 1 min"
        );
        assert_eq!(at(5 * 60 + 1).changes_at, Some(since + d(6 * 60)));
        assert_eq!(at(6 * 60).changes_at, Some(since + d(7 * 60)));
        assert_eq!(at(59 * 60 + 59).changes_at, Some(since + d(60 * 60)));
        assert_eq!(
            at(125 * 60).changes_at,
            Some(since + d(180 * 60)),
            "for 2 h"
        );
        assert_eq!(
            at(30 * 3600).changes_at,
            Some(since + d(48 * 3600)),
            "for 1 day"
        );
        for elapsed in [0, 59, 61, 3599, 3600, 7199, 86_399, 86_400, 200_000] {
            let now = at(elapsed);
            let next = now.changes_at.unwrap();
            let just_before = since_words(Some(since), None, &(next - d(1)));
            let then = since_words(Some(since), None, &next);
            assert_eq!(just_before.text, now.text, "{elapsed}");
            assert_ne!(then.text, now.text, "{elapsed}");
        }
    }
}
