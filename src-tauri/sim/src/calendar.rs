//! People's calendars: the meetings of each simulated working day, what
//! `getSchedule` serves, and the time zones working hours are given in.
//!
//! A day's calendar is planned a day ahead ([`plan`]), in the person's local
//! time: meetings on the hour and half hour, 30 or 60 minutes, some back to
//! back, some tentative, now and then a block of working elsewhere, and one
//! all-day out-of-office item on a day off. The presence board keeps each
//! person's yesterday, today and tomorrow, and follows them: a person is in a
//! meeting (Busy, InAMeeting) for as long as a busy item lasts.
//!
//! Items are kept in simulated minutes of headquarters time, the board's
//! clock, and served as the wall times that clock reads as. Headquarters time
//! is 09:30 when a simulator starts, whatever the time of day, so it is no
//! real time zone: each person's zone is served as Graph's `customTimeZone`,
//! whose `bias` ([`zone_bias`]) makes local working hours fall on the wall
//! times at which presence comes online and goes offline.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use rand::Rng;
use serde_json::{json, Value};

/// Graph's `freeBusyStatus`, in increasing order of what wins a slot of the
/// `availabilityView`: out of office over busy over tentative over working
/// elsewhere over free, as Outlook merges overlapping items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FreeBusy {
    Free,
    WorkingElsewhere,
    Tentative,
    Busy,
    Oof,
}

impl FreeBusy {
    /// The `status` of a `scheduleItem`.
    pub fn graph_name(self) -> &'static str {
        match self {
            FreeBusy::Free => "free",
            FreeBusy::WorkingElsewhere => "workingElsewhere",
            FreeBusy::Tentative => "tentative",
            FreeBusy::Busy => "busy",
            FreeBusy::Oof => "oof",
        }
    }

    /// The digit of the `availabilityView`.
    pub fn digit(self) -> char {
        match self {
            FreeBusy::Free => '0',
            FreeBusy::Tentative => '1',
            FreeBusy::Busy => '2',
            FreeBusy::Oof => '3',
            FreeBusy::WorkingElsewhere => '4',
        }
    }
}

/// One item of a calendar, from `start` to `end` in simulated minutes of
/// headquarters time (before the simulator started for a day off that began
/// at a local midnight before then, hence signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CalendarItem {
    pub start: i64,
    pub end: i64,
    pub status: FreeBusy,
    pub private: bool,
}

/// One person's plans for one local day.
#[derive(Debug, Clone)]
pub(crate) struct DayPlan {
    /// The local day number, as the presence board counts days.
    pub day: i64,
    /// A day off: an all-day out-of-office item and nothing else.
    pub oof: bool,
    /// Working from home (or from the person's remote office) that day.
    pub remote: bool,
    pub items: Vec<CalendarItem>,
}

/// What a person's day looks like from the outside: when they work, where,
/// and whether this day is one of their working days.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Workday {
    pub day: i64,
    /// Minutes between headquarters time and the person's local time.
    pub offset: i32,
    /// Working hours, local minutes since midnight.
    pub start: u32,
    pub end: u32,
    pub works: bool,
    pub remote_worker: bool,
}

/// Chance that a person takes a given day off.
const DAY_OFF: f64 = 0.04;
/// Chance that a free half hour starts a meeting, outside lunch and at lunch.
const MEETING_AT: f64 = 0.25;
const MEETING_AT_LUNCH: f64 = 0.08;
/// Chance that a meeting follows the previous one without a break.
const BACK_TO_BACK: f64 = 0.35;

impl Workday {
    /// The simulated minute of `local` minutes after this day's local midnight.
    fn minute(&self, local: u32) -> i64 {
        self.day * 1440 + i64::from(local) - i64::from(self.offset)
    }
}

/// Plans one local day: a day off, or meetings through the working hours.
pub(crate) fn plan(rng: &mut impl Rng, w: Workday) -> DayPlan {
    let oof = rng.gen_bool(DAY_OFF);
    let remote = w.remote_worker || rng.gen_bool(0.25);
    let mut items = Vec::new();
    if oof {
        items.push(CalendarItem {
            start: w.minute(0),
            end: w.minute(1440),
            status: FreeBusy::Oof,
            private: false,
        });
    } else if w.works {
        let mut t = w.start.div_ceil(30) * 30;
        let mut after_meeting = false;
        while t + 30 <= w.end {
            let lunch = (11 * 60 + 30..13 * 60 + 30).contains(&t);
            let p = match (after_meeting, lunch) {
                (true, _) => BACK_TO_BACK,
                (false, true) => MEETING_AT_LUNCH,
                (false, false) => MEETING_AT,
            };
            if rng.gen_bool(p) {
                let long = rng.gen_bool(0.4) && t + 60 <= w.end;
                let length = if long { 60 } else { 30 };
                items.push(CalendarItem {
                    start: w.minute(t),
                    end: w.minute(t + length),
                    status: if rng.gen_bool(0.2) {
                        FreeBusy::Tentative
                    } else {
                        FreeBusy::Busy
                    },
                    private: rng.gen_bool(0.05),
                });
                t += length;
                after_meeting = true;
            } else {
                t += 30;
                after_meeting = false;
            }
        }
        // Now and then a few hours at a customer's or another office.
        let first_hour = w.start.div_ceil(60) * 60;
        if rng.gen_bool(0.06) && first_hour + 120 <= w.end {
            let hours = rng.gen_range(2..=4u32).min((w.end - first_hour) / 60);
            let from = first_hour + 60 * rng.gen_range(0..=(w.end - first_hour) / 60 - hours);
            items.push(CalendarItem {
                start: w.minute(from),
                end: w.minute(from + 60 * hours),
                status: FreeBusy::WorkingElsewhere,
                private: false,
            });
            items.sort_by_key(|item| item.start);
        }
    }
    DayPlan {
        day: w.day,
        oof,
        remote,
        items,
    }
}

/// The `bias` of headquarters time: UTC = headquarters time + bias, in
/// minutes, for a simulator whose clock read [`crate::presence`]'s 09:30 at
/// `epoch` (a whole minute). Of the two biases a day apart, the one from
/// -12 to +12 hours.
pub(crate) fn headquarters_bias(epoch: DateTime<Utc>) -> i32 {
    let since_midnight = (epoch.hour() * 60 + epoch.minute()) as i32;
    let bias = since_midnight - (9 * 60 + 30);
    if bias >= 720 {
        bias - 1440
    } else {
        bias
    }
}

/// The `bias` of a zone `offset` minutes ahead of headquarters, kept within
/// what real zones use (UTC-12 to UTC+14, 720 to -840): a bias a whole day
/// off names the same time of day, one calendar day apart.
pub(crate) fn zone_bias(headquarters_bias: i32, offset: i32) -> i32 {
    let bias = headquarters_bias - offset;
    if bias > 720 {
        bias - 1440
    } else if bias < -840 {
        bias + 1440
    } else {
        bias
    }
}

/// Graph's `customTimeZone` with a fixed `bias` and no daylight saving time.
pub(crate) fn custom_time_zone(bias: i32) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.customTimeZone",
        "bias": bias,
        "name": "Customized Time Zone",
        "standardOffset": {
            "time": "00:00:00.0000000",
            "dayOccurrence": 0,
            "dayOfWeek": "sunday",
            "month": 0,
            "year": 0,
        },
        "daylightOffset": {
            "daylightBias": 0,
            "time": "00:00:00.0000000",
            "dayOccurrence": 0,
            "dayOfWeek": "sunday",
            "month": 0,
            "year": 0,
        },
    })
}

/// Every day of the week, Sunday first: the simulated organisation works
/// every day, so a person's days default to all of them.
pub(crate) const ALL_DAYS: u8 = 0x7f;

/// Days of the week in the order Outlook lists working days.
const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

fn day_bit(day: Weekday) -> u8 {
    1 << day.num_days_from_sunday()
}

/// Whether a set of days (bits from [`ALL_DAYS`]) holds the day of `date`.
pub(crate) fn works_on(days: u8, date: NaiveDate) -> bool {
    days & day_bit(date.weekday()) != 0
}

/// Graph's `daysOfWeek` for a set of days, Monday first.
pub(crate) fn day_names(days: u8) -> Vec<&'static str> {
    WEEK.iter()
        .filter(|d| days & day_bit(**d) != 0)
        .map(|d| day_name(*d))
        .collect()
}

/// Day names as Graph writes them (any case) as a set of days; the name
/// that is not a day, if one is not.
pub(crate) fn parse_days(names: &[&str]) -> Result<u8, String> {
    names.iter().try_fold(0, |days, name| {
        WEEK.iter()
            .find(|d| day_name(**d).eq_ignore_ascii_case(name.trim()))
            .map(|d| days | day_bit(*d))
            .ok_or_else(|| (*name).to_owned())
    })
}

/// A time of day as `HH:MM`, `HH:MM:SS` or Graph's `HH:MM:SS.fffffff`, in
/// whole minutes since midnight; `None` for anything else or for seconds
/// that are not zero.
pub(crate) fn parse_time_of_day(text: &str) -> Option<u32> {
    let text = text.trim();
    let (hm, seconds) = match text.len() {
        5 => (text, "00"),
        8.. => (text.get(..5)?, text.get(6..8)?),
        _ => return None,
    };
    let fraction = text.get(8..).unwrap_or("");
    let fraction_ok = fraction.is_empty()
        || fraction
            .strip_prefix('.')
            .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b == b'0'));
    if text.len() > 5 && text.as_bytes()[5] != b':' || !fraction_ok || seconds != "00" {
        return None;
    }
    let (h, m) = hm.split_once(':')?;
    let all_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(h) || !all_digits(m) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Graph's `Edm.TimeOfDay` for minutes since midnight: `08:30:00.0000000`.
pub(crate) fn time_of_day(minutes: u32) -> String {
    format!("{:02}:{:02}:00.0000000", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn workday(day: i64) -> Workday {
        Workday {
            day,
            offset: 180,
            start: 8 * 60 + 10,
            end: 17 * 60 + 45,
            works: true,
            remote_worker: false,
        }
    }

    #[test]
    fn meetings_fall_on_half_hours_inside_working_hours_without_overlapping() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut meetings = 0;
        let mut back_to_back = 0;
        let mut tentative = 0;
        for day in 0..200 {
            let w = workday(day);
            let p = plan(&mut rng, w);
            let local = |m: i64| m + i64::from(w.offset) - day * 1440;
            let mut last_end = i64::MIN;
            for item in p
                .items
                .iter()
                .filter(|i| matches!(i.status, FreeBusy::Busy | FreeBusy::Tentative))
            {
                let (start, end) = (local(item.start), local(item.end));
                assert_eq!(start % 30, 0, "on the half hour");
                assert!([30, 60].contains(&(end - start)));
                assert!(start >= i64::from(w.start) && end <= i64::from(w.end));
                assert!(start >= last_end, "no overlap");
                back_to_back += usize::from(start == last_end);
                tentative += usize::from(item.status == FreeBusy::Tentative);
                last_end = end;
                meetings += 1;
            }
            if p.oof {
                assert_eq!(p.items.len(), 1);
                assert_eq!(local(p.items[0].start), 0);
                assert_eq!(local(p.items[0].end), 1440);
            }
        }
        assert!((500..1500).contains(&meetings), "meetings: {meetings}");
        assert!(back_to_back > 50 && tentative > 50);
    }

    #[test]
    fn biases_stay_within_real_zones_and_keep_the_time_of_day() {
        for hour in 0..24 {
            let epoch = Utc.with_ymd_and_hms(2026, 12, 5, hour, 17, 0).unwrap();
            let hq = headquarters_bias(epoch);
            assert!((-720..720).contains(&hq));
            let local = epoch - chrono::Duration::minutes(i64::from(hq));
            assert_eq!((local.hour(), local.minute()), (9, 30));
            for offset in [-120, 0, 180, 480, 750] {
                let bias = zone_bias(hq, offset);
                assert!((-840..=720).contains(&bias), "{bias}");
                assert_eq!((hq - offset - bias).rem_euclid(1440), 0);
            }
        }
    }

    #[test]
    fn days_and_times_read_and_write_as_graph_spells_them() {
        assert_eq!(parse_days(&["Monday", "friday"]), Ok(0b10_0010));
        assert_eq!(day_names(0b10_0010), ["monday", "friday"]);
        assert_eq!(day_names(ALL_DAYS).len(), 7);
        assert_eq!(parse_days(&["funday"]), Err("funday".to_owned()));
        assert_eq!(parse_time_of_day("08:30"), Some(510));
        assert_eq!(parse_time_of_day("17:00:00"), Some(1020));
        assert_eq!(parse_time_of_day("17:00:00.0000000"), Some(1020));
        for junk in [
            "",
            "8:30",
            "24:00",
            "08:60",
            "08:30:15",
            "08:30:00.5",
            "08-30",
        ] {
            assert_eq!(parse_time_of_day(junk), None, "{junk:?}");
        }
        assert_eq!(time_of_day(510), "08:30:00.0000000");
    }
}
