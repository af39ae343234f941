//! The time zone of someone's working hours, as Graph writes it: a
//! Windows name ("Pacific Standard Time", mapped to IANA by CLDR's table),
//! an IANA name ("Europe/Berlin"), or a `customTimeZone` with its own bias
//! and daylight saving rules.
//!
//! Everything here is total: a zone that cannot be understood is `None`
//! when it is read, and arithmetic on dates far from now gives up (`None`)
//! instead of overflowing.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};

/// The largest bias a zone may have: no place on Earth is more than 14
/// hours from UTC, and a day is a generous bound.
const MAX_BIAS_MINUTES: u64 = 24 * 60;

/// A time zone whose offset from UTC can be told at any instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// A zone of the IANA database, named directly or through a Windows name.
    Named(NamedZone),
    /// Graph's `customTimeZone`: a bias and, maybe, yearly daylight rules.
    Custom(CustomZone),
}

/// Graph's `customTimeZone`. As in Windows' `TIME_ZONE_INFORMATION`,
/// UTC = local time + `bias` (+ `daylight_bias` while daylight saving time
/// is on): Pacific time has a bias of 480 and a daylight bias of -60.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomZone {
    pub bias: i32,
    /// `None` when the zone keeps one offset all year (month 0).
    pub daylight: Option<Daylight>,
}

/// When daylight saving time begins and ends, and by how much it moves
/// the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daylight {
    pub bias: i32,
    /// When it begins, in local standard time.
    pub starts: Transition,
    /// When it ends, in local daylight time.
    pub ends: Transition,
}

/// A yearly moment: the `occurrence`th `weekday` of `month` (5 or more:
/// the last one) at `time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub month: u32,
    pub occurrence: u32,
    pub weekday: Weekday,
    pub time: NaiveTime,
}

/// A zone of the IANA database and the name it was found by. Its rules
/// come from the system's copy of the database (`/usr/share/zoneinfo`),
/// else from the copy built into Presently (Windows has none): read when a
/// zone is first asked for, never at start-up.
#[derive(Debug, Clone)]
pub struct NamedZone {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl NamedZone {
    fn get(iana: &str) -> Option<NamedZone> {
        let tz = jiff::tz::TimeZone::get(iana).ok()?;
        Some(NamedZone {
            name: tz.iana_name().unwrap_or(iana).to_string(),
            tz,
        })
    }

    /// The IANA name: "America/Los_Angeles".
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl PartialEq for NamedZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for NamedZone {}

impl Zone {
    /// A zone by name: IANA first, then Windows' names through CLDR's
    /// world-wide mapping. `None` for a name neither knows.
    pub fn named(name: &str) -> Option<Zone> {
        let name = name.trim();
        // Neither an IANA name nor a Windows one is a path, or long.
        if name.is_empty() || name.len() > 64 || name.contains("..") {
            return None;
        }
        if let Some(zone) = NamedZone::get(name) {
            return Some(Zone::Named(zone));
        }
        // Graph's own spellings of UTC in some answers.
        if name.eq_ignore_ascii_case("tzone://Microsoft/Utc")
            || name.eq_ignore_ascii_case("Coordinated Universal Time")
        {
            return NamedZone::get("UTC").map(Zone::Named);
        }
        let iana = localzone::win_zone_to_iana(name, Some("001"))?;
        NamedZone::get(iana).map(Zone::Named)
    }

    /// Minutes that local time is ahead of UTC at `at` (UTC+2 is 120).
    pub fn offset_minutes(&self, at: DateTime<Utc>) -> Option<i32> {
        match self {
            Zone::Named(zone) => {
                let at = jiff::Timestamp::from_second(at.timestamp()).ok()?;
                Some(zone.tz.to_offset(at).seconds() / 60)
            }
            Zone::Custom(zone) => zone.offset_minutes(at),
        }
    }

    /// The instant a local wall-clock time names. In a gap (clocks moved
    /// forward) it is the instant the same count of minutes past the change
    /// names; in an overlap, the earlier of the two.
    pub fn to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        // The offsets in force a day either side hold every offset the
        // zone can have at this time: an offset is right if the instant it
        // gives has that very offset.
        let guess = local.and_utc();
        let before = self.offset_minutes(guess.checked_sub_signed(Duration::hours(26))?)?;
        let after = self.offset_minutes(guess.checked_add_signed(Duration::hours(26))?)?;
        let at = |minutes: i32| guess.checked_sub_signed(Duration::minutes(minutes.into()));
        let mut right = None;
        for minutes in [before, after] {
            let utc = at(minutes)?;
            if self.offset_minutes(utc)? == minutes {
                right = Some(right.map_or(utc, |r: DateTime<Utc>| r.min(utc)));
            }
        }
        // None is right in a gap: the offset from before it names the
        // instant as many minutes past the change.
        right.or_else(|| at(before))
    }

    /// Local wall-clock time at `at`.
    pub fn local(&self, at: DateTime<Utc>) -> Option<NaiveDateTime> {
        let minutes = self.offset_minutes(at)?;
        at.naive_utc()
            .checked_add_signed(Duration::minutes(minutes.into()))
    }
}

impl CustomZone {
    /// A zone from Graph's numbers, if they make one: a bias within a day,
    /// and daylight rules with real months, weekdays and times.
    pub fn new(bias: i64, daylight: Option<Daylight>) -> Option<CustomZone> {
        if bias.unsigned_abs() > MAX_BIAS_MINUTES {
            return None;
        }
        if let Some(d) = &daylight {
            if i64::from(d.bias).unsigned_abs() > MAX_BIAS_MINUTES {
                return None;
            }
        }
        Some(CustomZone {
            bias: i32::try_from(bias).ok()?,
            daylight,
        })
    }

    fn offset_minutes(&self, at: DateTime<Utc>) -> Option<i32> {
        let standard = -self.bias;
        let Some(daylight) = &self.daylight else {
            return Some(standard);
        };
        let year = at
            .checked_add_signed(Duration::minutes(standard.into()))?
            .year();
        let bias = Duration::minutes(self.bias.into());
        // Starts in standard time, ends in daylight time: UTC = local + bias
        // (+ the daylight bias for the end).
        let starts = daylight
            .starts
            .in_year(year)?
            .checked_add_signed(bias)?
            .and_utc();
        let ends = daylight
            .ends
            .in_year(year)?
            .checked_add_signed(bias + Duration::minutes(daylight.bias.into()))?
            .and_utc();
        let in_daylight = if starts < ends {
            // Northern hemisphere: summer inside one year.
            starts <= at && at < ends
        } else {
            // Southern: daylight time spans the new year.
            at >= starts || at < ends
        };
        Some(if in_daylight {
            standard - daylight.bias
        } else {
            standard
        })
    }
}

impl Transition {
    /// This transition's local date and time in `year`.
    pub fn in_year(&self, year: i32) -> Option<NaiveDateTime> {
        let first = NaiveDate::from_ymd_opt(year, self.month, 1)?;
        let ahead =
            (7 + self.weekday.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
        let mut day = first.checked_add_signed(Duration::days(ahead.into()))?;
        for _ in 1..self.occurrence.clamp(1, 5) {
            let next = day.checked_add_signed(Duration::days(7))?;
            if next.month() != self.month {
                break;
            }
            day = next;
        }
        Some(day.and_time(self.time))
    }
}

/// Graph's `dayOfWeek` ("monday", any case).
pub fn weekday(name: &str) -> Option<Weekday> {
    let name = name.trim();
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .find(|d| {
        let full = match d {
            Weekday::Mon => "monday",
            Weekday::Tue => "tuesday",
            Weekday::Wed => "wednesday",
            Weekday::Thu => "thursday",
            Weekday::Fri => "friday",
            Weekday::Sat => "saturday",
            Weekday::Sun => "sunday",
        };
        name.eq_ignore_ascii_case(full)
    })
}

/// A time of day as Graph writes it: `08:00:00.0000000`, `08:00:00`, `08:00`.
pub fn time_of_day(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(text, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn pacific_custom() -> Zone {
        let at = |month, occurrence, time| Transition {
            month,
            occurrence,
            weekday: Weekday::Sun,
            time: time_of_day(time).unwrap(),
        };
        Zone::Custom(
            CustomZone::new(
                480,
                Some(Daylight {
                    bias: -60,
                    starts: at(3, 2, "02:00:00.0000000"),
                    ends: at(11, 1, "02:00:00.0000000"),
                }),
            )
            .unwrap(),
        )
    }

    #[test]
    fn windows_names_iana_names_and_unknown_ones() {
        let name = |zone: Option<Zone>| match zone {
            Some(Zone::Named(z)) => Some(z.name().to_string()),
            _ => None,
        };
        let pacific = Zone::named("Pacific Standard Time").unwrap();
        assert_eq!(
            name(Some(pacific.clone())).as_deref(),
            Some("America/Los_Angeles")
        );
        assert_eq!(
            name(Zone::named("W. Europe Standard Time")).as_deref(),
            Some("Europe/Berlin")
        );
        assert_eq!(
            Zone::named("India Standard Time")
                .unwrap()
                .offset_minutes(utc("2026-06-01T00:00:00Z")),
            Some(330)
        );
        assert_eq!(
            name(Zone::named("Europe/Berlin")).as_deref(),
            Some("Europe/Berlin")
        );
        for utc_name in ["UTC", "Coordinated Universal Time", "tzone://Microsoft/Utc"] {
            let zone = Zone::named(utc_name).unwrap();
            assert_eq!(
                zone.offset_minutes(utc("2026-07-01T00:00:00Z")),
                Some(0),
                "{utc_name}"
            );
        }
        for unknown in [
            "",
            "  ",
            "Customized Time Zone",
            "Mars Standard Time",
            "Europe/Nowhere",
        ] {
            assert_eq!(Zone::named(unknown), None, "{unknown}");
        }
        assert_eq!(
            pacific.offset_minutes(utc("2026-01-10T12:00:00Z")),
            Some(-480)
        );
        assert_eq!(
            pacific.offset_minutes(utc("2026-07-10T12:00:00Z")),
            Some(-420)
        );
    }

    #[test]
    fn custom_zones_follow_their_daylight_rules() {
        let zone = pacific_custom();
        // 2026: second Sunday of March is the 8th, first Sunday of November the 1st.
        assert_eq!(zone.offset_minutes(utc("2026-03-08T09:59:00Z")), Some(-480));
        assert_eq!(zone.offset_minutes(utc("2026-03-08T10:00:00Z")), Some(-420));
        assert_eq!(zone.offset_minutes(utc("2026-11-01T08:59:00Z")), Some(-420));
        assert_eq!(zone.offset_minutes(utc("2026-11-01T09:00:00Z")), Some(-480));
        // The same as the IANA rules, all year round.
        let named = Zone::named("America/Los_Angeles").unwrap();
        let mut at = utc("2026-01-01T00:30:00Z");
        while at < utc("2027-01-01T00:00:00Z") {
            assert_eq!(zone.offset_minutes(at), named.offset_minutes(at), "{at}");
            at += Duration::hours(5);
        }
    }

    #[test]
    fn southern_daylight_spans_the_new_year() {
        // Sydney: UTC+10, daylight from the first Sunday of October to the
        // first Sunday of April (at 03:00 daylight time).
        let zone = Zone::Custom(
            CustomZone::new(
                -600,
                Some(Daylight {
                    bias: -60,
                    starts: Transition {
                        month: 10,
                        occurrence: 1,
                        weekday: Weekday::Sun,
                        time: time_of_day("02:00").unwrap(),
                    },
                    ends: Transition {
                        month: 4,
                        occurrence: 1,
                        weekday: Weekday::Sun,
                        time: time_of_day("03:00").unwrap(),
                    },
                }),
            )
            .unwrap(),
        );
        let named = Zone::named("Australia/Sydney").unwrap();
        for at in [
            "2026-01-15T00:00:00Z",
            "2026-04-04T15:59:00Z",
            "2026-04-04T16:00:00Z",
            "2026-07-01T00:00:00Z",
            "2026-10-03T15:59:00Z",
            "2026-10-03T16:00:00Z",
            "2026-12-31T23:00:00Z",
        ] {
            assert_eq!(
                zone.offset_minutes(utc(at)),
                named.offset_minutes(utc(at)),
                "{at}"
            );
        }
    }

    #[test]
    fn last_occurrence_and_impossible_numbers() {
        let last_sunday_of_march = Transition {
            month: 3,
            occurrence: 5,
            weekday: Weekday::Sun,
            time: NaiveTime::MIN,
        };
        assert_eq!(
            last_sunday_of_march.in_year(2026).unwrap().date(),
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
        );
        let no_such_month = Transition {
            month: 13,
            ..last_sunday_of_march
        };
        assert_eq!(no_such_month.in_year(2026), None);
        assert_eq!(CustomZone::new(100_000, None), None);
        assert_eq!(CustomZone::new(i64::MIN, None), None);
        // The ends of time give an answer or give up, never overflow.
        let zone = pacific_custom();
        for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = zone.offset_minutes(at);
            let _ = zone.local(at);
        }
        assert_eq!(zone.to_utc(NaiveDateTime::MAX), None);
        assert_eq!(zone.local(DateTime::<Utc>::MIN_UTC), None);
    }

    #[test]
    fn local_times_in_gaps_and_overlaps() {
        let zone = Zone::named("Europe/Berlin").unwrap();
        let local = |t: &str| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(
            zone.to_utc(local("2026-07-01 09:00")),
            Some(utc("2026-07-01T07:00:00Z"))
        );
        assert_eq!(
            zone.to_utc(local("2026-01-01 09:00")),
            Some(utc("2026-01-01T08:00:00Z"))
        );
        // 02:30 on 29 March does not exist: the winter offset names it.
        assert_eq!(
            zone.to_utc(local("2026-03-29 02:30")),
            Some(utc("2026-03-29T01:30:00Z"))
        );
        // 02:30 on 25 October happens twice: the first one.
        assert_eq!(
            zone.to_utc(local("2026-10-25 02:30")),
            Some(utc("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            zone.local(utc("2026-07-01T20:10:00Z")),
            Some(local("2026-07-01 22:10"))
        );
    }

    #[test]
    fn weekdays_and_times_as_graph_writes_them() {
        assert_eq!(weekday("Monday"), Some(Weekday::Mon));
        assert_eq!(weekday("sunday"), Some(Weekday::Sun));
        assert_eq!(weekday("funday"), None);
        assert_eq!(
            time_of_day("08:00:00.0000000"),
            NaiveTime::from_hms_opt(8, 0, 0)
        );
        assert_eq!(time_of_day("17:30"), NaiveTime::from_hms_opt(17, 30, 0));
        assert_eq!(time_of_day("25:00:00"), None);
        assert_eq!(time_of_day(""), None);
    }
}
