//! One person's schedule as read, and what it says at an instant: the
//! rules for `busy_until`, `free_at` and `outside_working_hours` (see the
//! module documentation of [`crate::calendar`]).

use chrono::{DateTime, Duration, NaiveTime, Utc, Weekday};

use super::zones::Zone;
use super::Outlook;

/// The shortest free stretch that counts as "free" for [`Outlook::free_at`].
pub const MIN_FREE_STRETCH: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Without a read window, `free_at` looks this far ahead at most.
const HORIZON_DAYS: i64 = 14;

/// Steps of the search for a free slot: each passes a busy block, a gap
/// shorter than [`MIN_FREE_STRETCH`] or a stretch outside working hours, so
/// two days of a full calendar take far fewer.
const MAX_STEPS: usize = 2_000;

/// A stretch of time, `start` included, `end` not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// How a calendar item shows its owner's time, weakest first: where items
/// overlap, the strongest one is what the time shows as (the order of
/// Outlook's own `availabilityView`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ShowAs {
    /// Free, working elsewhere, or a status this version does not know:
    /// none of them keeps anyone from being free.
    Free,
    Tentative,
    Busy,
    OutOfOffice,
}

impl ShowAs {
    /// Graph's `freeBusyStatus`, in any case.
    pub fn parse(status: &str) -> ShowAs {
        let status = status.trim();
        if status.eq_ignore_ascii_case("busy") {
            ShowAs::Busy
        } else if status.eq_ignore_ascii_case("oof") {
            ShowAs::OutOfOffice
        } else if status.eq_ignore_ascii_case("tentative") {
            ShowAs::Tentative
        } else {
            ShowAs::Free
        }
    }
}

/// Someone's working hours: the days they start on, the time of day they
/// start and end (an end at or before the start runs into the next day),
/// in their zone (`None` when Graph named one Presently does not know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub zone: Option<Zone>,
}

impl WorkingHours {
    /// The zone, when the hours can be placed in time: a known zone and at
    /// least one working day.
    fn placed(&self) -> Option<&Zone> {
        self.zone.as_ref().filter(|_| !self.days.is_empty())
    }

    /// The working period that holds `at` or, if none does, the next one;
    /// back-to-back periods (a 24-hour day after another) are one.
    /// `None` when the hours cannot be placed or the dates overflow.
    fn period_from(&self, at: DateTime<Utc>) -> Option<Span> {
        let zone = self.placed()?;
        let today = zone.local(at)?.date();
        let length = match self.end.signed_duration_since(self.start) {
            d if d > Duration::zero() => d,
            d => d + Duration::days(1),
        };
        let mut periods = Vec::new();
        for offset in -1..=8 {
            let day = today.checked_add_signed(Duration::days(offset))?;
            if !self.days.contains(&chrono::Datelike::weekday(&day)) {
                continue;
            }
            let starts = day.and_time(self.start);
            let ends = starts.checked_add_signed(length)?;
            let span = Span {
                start: zone.to_utc(starts)?,
                end: zone.to_utc(ends)?,
            };
            if span.end > span.start {
                periods.push(span);
            }
        }
        merge(&mut periods);
        periods.into_iter().find(|p| p.end > at)
    }

    /// True when `at` is outside these hours; false when that cannot be told.
    fn outside(&self, at: DateTime<Utc>) -> bool {
        if self.placed().is_none() {
            return false;
        }
        self.period_from(at).is_none_or(|p| p.start > at)
    }
}

/// One person's schedule as read: their out-of-office time, their busy
/// time (out of office too), their time that is not free (tentative too),
/// each merged into blocks, and their working hours.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    /// Out of office, merged, in order.
    out_of_office: Vec<Span>,
    /// Busy and out of office, merged, in order.
    busy: Vec<Span>,
    /// Busy, out of office and tentative, merged, in order.
    not_free: Vec<Span>,
    working_hours: Option<WorkingHours>,
    /// The end of the time that was read: nothing is known past it.
    read_until: Option<DateTime<Utc>>,
}

impl Schedule {
    /// A schedule of calendar items (what they show as, and when) and
    /// working hours. Items that end before they start are dropped.
    pub fn new(
        items: impl IntoIterator<Item = (ShowAs, Span)>,
        working_hours: Option<WorkingHours>,
    ) -> Schedule {
        let mut out_of_office = Vec::new();
        let mut busy = Vec::new();
        let mut not_free = Vec::new();
        // Each item counts in every list its status is at least as strong
        // as: a weaker item inside a stronger one then changes nothing, and
        // a block runs on for as long as items of its strength overlap.
        for (show_as, span) in items {
            if span.end <= span.start {
                continue;
            }
            if show_as >= ShowAs::OutOfOffice {
                out_of_office.push(span);
            }
            if show_as >= ShowAs::Busy {
                busy.push(span);
            }
            if show_as >= ShowAs::Tentative {
                not_free.push(span);
            }
        }
        merge(&mut out_of_office);
        merge(&mut busy);
        merge(&mut not_free);
        Schedule {
            out_of_office,
            busy,
            not_free,
            working_hours,
            read_until: None,
        }
    }

    /// The same schedule, known to hold everything up to `end` (the end of
    /// the time asked for) and nothing after.
    pub fn read_until(mut self, end: DateTime<Utc>) -> Schedule {
        self.read_until = Some(end);
        self
    }

    pub fn working_hours(&self) -> Option<&WorkingHours> {
        self.working_hours.as_ref()
    }

    /// How their time shows at `at`: the strongest status of the items
    /// that hold it, [`ShowAs::Free`] when none does.
    pub fn show_as_at(&self, at: DateTime<Utc>) -> ShowAs {
        [
            (&self.out_of_office, ShowAs::OutOfOffice),
            (&self.busy, ShowAs::Busy),
            (&self.not_free, ShowAs::Tentative),
        ]
        .into_iter()
        .find(|(spans, _)| covering(spans, at).is_some())
        .map_or(ShowAs::Free, |(_, show_as)| show_as)
    }

    /// What this schedule says at `now`.
    pub fn outlook_at(&self, now: DateTime<Utc>) -> Outlook {
        let zone = self.working_hours.as_ref().and_then(|w| w.zone.as_ref());
        Outlook {
            busy_until: covering(&self.busy, now).map(|s| s.end),
            free_at: covering(&self.not_free, now).and_then(|block| self.free_after(now, block)),
            outside_working_hours: self.working_hours.as_ref().is_some_and(|w| w.outside(now)),
            utc_offset_minutes: zone.and_then(|z| z.offset_minutes(now)),
        }
    }

    /// The first instant after the not-free `block` around `now` that is
    /// free, within working hours, and starts a free stretch of at least
    /// [`MIN_FREE_STRETCH`] (or one the read window ends with).
    fn free_after(&self, now: DateTime<Utc>, block: Span) -> Option<DateTime<Utc>> {
        let horizon = match self.read_until {
            Some(end) => end,
            None => now.checked_add_signed(Duration::days(HORIZON_DAYS))?,
        };
        let hours = self.working_hours.as_ref().filter(|w| w.placed().is_some());
        let mut at = block.end;
        for _ in 0..MAX_STEPS {
            if at >= horizon {
                return None;
            }
            if let Some(block) = covering(&self.not_free, at) {
                at = block.end;
                continue;
            }
            let mut free_until = self
                .not_free
                .iter()
                .find(|s| s.start > at)
                .map_or(horizon, |s| s.start)
                .min(horizon);
            if let Some(hours) = hours {
                let period = hours.period_from(at)?;
                if period.start > at {
                    at = period.start;
                    continue;
                }
                free_until = free_until.min(period.end);
            }
            let long_enough = free_until.signed_duration_since(at)
                >= Duration::from_std(MIN_FREE_STRETCH).unwrap_or_default();
            if long_enough || free_until >= horizon {
                return Some(at);
            }
            at = free_until;
        }
        None
    }
}

impl Outlook {
    /// Their wall-clock time at `now`, when their zone is known.
    pub fn local_time_there(&self, now: DateTime<Utc>) -> Option<NaiveTime> {
        let minutes = self.utc_offset_minutes?;
        now.checked_add_signed(Duration::minutes(minutes.into()))
            .map(|t| t.time())
    }
}

/// The span of `spans` (merged, in order) that holds `at`.
fn covering(spans: &[Span], at: DateTime<Utc>) -> Option<Span> {
    spans.iter().find(|s| s.start <= at && at < s.end).copied()
}

/// Sorts `spans` and joins those that overlap or touch.
fn merge(spans: &mut Vec<Span>) {
    spans.sort_by_key(|s| s.start);
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans.drain(..) {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    *spans = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn span(start: &str, end: &str) -> Span {
        Span {
            start: utc(start),
            end: utc(end),
        }
    }

    fn weekdays() -> Vec<Weekday> {
        vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
    }

    fn hours(start: &str, end: &str, days: Vec<Weekday>, zone: &str) -> Option<WorkingHours> {
        Some(WorkingHours {
            days,
            start: super::super::zones::time_of_day(start).unwrap(),
            end: super::super::zones::time_of_day(end).unwrap(),
            zone: Zone::named(zone),
        })
    }

    #[test]
    fn statuses_read_the_same_in_any_letter_case() {
        for (spellings, show_as) in [
            (&["busy", "BUSY", "Busy", " busy "][..], ShowAs::Busy),
            (&["oof", "OOF", "Oof"][..], ShowAs::OutOfOffice),
            (
                &["tentative", "Tentative", "TENTATIVE"][..],
                ShowAs::Tentative,
            ),
            (
                &[
                    "free",
                    "Free",
                    "workingElsewhere",
                    "WorkingElsewhere",
                    "WORKINGELSEWHERE",
                    "unknown",
                    "Unknown",
                    "",
                ][..],
                ShowAs::Free,
            ),
        ] {
            for status in spellings {
                assert_eq!(ShowAs::parse(status), show_as, "{status:?}");
            }
        }
    }

    #[test]
    fn overlapping_items_show_the_strongest_status() {
        let schedule = Schedule::new(
            [
                // Graph's own example: tentative 12-13 inside busy 12-14.
                (
                    ShowAs::Busy,
                    span("2026-12-01T12:00:00Z", "2026-12-01T14:00:00Z"),
                ),
                (
                    ShowAs::Tentative,
                    span("2026-12-01T12:00:00Z", "2026-12-01T13:00:00Z"),
                ),
                // Busy inside a longer tentative: tentative again after it.
                (
                    ShowAs::Tentative,
                    span("2026-12-01T15:00:00Z", "2026-12-01T16:00:00Z"),
                ),
                (
                    ShowAs::Busy,
                    span("2026-12-01T15:15:00Z", "2026-12-01T15:30:00Z"),
                ),
            ],
            hours("08:00", "17:00", weekdays(), "UTC"),
        );
        let cases = [
            ("2026-12-01T11:59:00Z", ShowAs::Free, None, None),
            (
                "2026-12-01T12:00:00Z",
                ShowAs::Busy,
                Some("2026-12-01T14:00:00Z"),
                Some("2026-12-01T14:00:00Z"),
            ),
            (
                "2026-12-01T13:30:00Z",
                ShowAs::Busy,
                Some("2026-12-01T14:00:00Z"),
                Some("2026-12-01T14:00:00Z"),
            ),
            ("2026-12-01T14:00:00Z", ShowAs::Free, None, None),
            (
                "2026-12-01T15:05:00Z",
                ShowAs::Tentative,
                None,
                Some("2026-12-01T16:00:00Z"),
            ),
            (
                "2026-12-01T15:20:00Z",
                ShowAs::Busy,
                Some("2026-12-01T15:30:00Z"),
                Some("2026-12-01T16:00:00Z"),
            ),
            (
                "2026-12-01T15:45:00Z",
                ShowAs::Tentative,
                None,
                Some("2026-12-01T16:00:00Z"),
            ),
        ];
        for (now, show_as, busy_until, free_at) in cases {
            let at = schedule.outlook_at(utc(now));
            assert_eq!(schedule.show_as_at(utc(now)), show_as, "{now}");
            assert_eq!(at.busy_until, busy_until.map(utc), "{now}");
            assert_eq!(at.free_at, free_at.map(utc), "{now}");
        }
    }

    #[test]
    fn a_run_of_overlapping_items_ends_with_its_last_item() {
        // Each item starts inside the one before and ends after it, listed
        // out of order: free only at the end of the whole run.
        let schedule = Schedule::new(
            [
                (
                    ShowAs::Busy,
                    span("2026-12-01T10:45:00Z", "2026-12-01T11:30:00Z"),
                ),
                (
                    ShowAs::Busy,
                    span("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                ),
                (
                    ShowAs::Tentative,
                    span("2026-12-01T11:15:00Z", "2026-12-01T12:00:00Z"),
                ),
            ],
            hours("08:00", "17:00", weekdays(), "UTC"),
        );
        let at = schedule.outlook_at(utc("2026-12-01T10:15:00Z"));
        assert_eq!(at.busy_until, Some(utc("2026-12-01T11:30:00Z")));
        assert_eq!(at.free_at, Some(utc("2026-12-01T12:00:00Z")));
        assert_eq!(
            schedule.show_as_at(utc("2026-12-01T11:40:00Z")),
            ShowAs::Tentative
        );
    }

    #[test]
    fn out_of_office_over_busy_is_out_of_office() {
        let schedule = Schedule::new(
            [
                (
                    ShowAs::Busy,
                    span("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                ),
                (
                    ShowAs::OutOfOffice,
                    span("2026-12-01T09:00:00Z", "2026-12-01T10:30:00Z"),
                ),
                (
                    ShowAs::Busy,
                    span("2026-12-01T10:15:00Z", "2026-12-01T12:00:00Z"),
                ),
            ],
            hours("08:00", "17:00", weekdays(), "UTC"),
        );
        for (now, show_as) in [
            ("2026-12-01T09:30:00Z", ShowAs::OutOfOffice),
            ("2026-12-01T10:20:00Z", ShowAs::OutOfOffice),
            ("2026-12-01T10:30:00Z", ShowAs::Busy),
            ("2026-12-01T11:59:00Z", ShowAs::Busy),
            ("2026-12-01T12:00:00Z", ShowAs::Free),
        ] {
            assert_eq!(schedule.show_as_at(utc(now)), show_as, "{now}");
        }
        let at = schedule.outlook_at(utc("2026-12-01T09:30:00Z"));
        assert_eq!(at.busy_until, Some(utc("2026-12-01T12:00:00Z")));
        assert_eq!(at.free_at, Some(utc("2026-12-01T12:00:00Z")));
    }

    #[test]
    fn back_to_back_blocks_are_one() {
        // Tuesday 1 Dec 2026, UTC working hours 08:00-17:00.
        let schedule = Schedule::new(
            [
                (
                    ShowAs::Busy,
                    span("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                ),
                (
                    ShowAs::OutOfOffice,
                    span("2026-12-01T11:00:00Z", "2026-12-01T11:30:00Z"),
                ),
                (
                    ShowAs::Busy,
                    span("2026-12-01T11:15:00Z", "2026-12-01T12:00:00Z"),
                ),
                (
                    ShowAs::Busy,
                    span("2026-12-01T13:00:00Z", "2026-12-01T14:00:00Z"),
                ),
            ],
            hours("08:00", "17:00", weekdays(), "UTC"),
        );
        let at = schedule.outlook_at(utc("2026-12-01T10:30:00Z"));
        assert_eq!(at.busy_until, Some(utc("2026-12-01T12:00:00Z")));
        assert_eq!(at.free_at, Some(utc("2026-12-01T12:00:00Z")));
        assert!(!at.outside_working_hours);
        assert_eq!(at.utc_offset_minutes, Some(0));
        // The end itself is free.
        let after = schedule.outlook_at(utc("2026-12-01T12:00:00Z"));
        assert_eq!((after.busy_until, after.free_at), (None, None));
    }

    #[test]
    fn tentative_keeps_free_at_back_but_is_not_busy() {
        let schedule = Schedule::new(
            [
                (
                    ShowAs::Busy,
                    span("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                ),
                (
                    ShowAs::Tentative,
                    span("2026-12-01T11:00:00Z", "2026-12-01T11:45:00Z"),
                ),
                (
                    ShowAs::Free,
                    span("2026-12-01T09:00:00Z", "2026-12-01T15:00:00Z"),
                ),
            ],
            hours("08:00", "17:00", weekdays(), "UTC"),
        );
        let busy = schedule.outlook_at(utc("2026-12-01T10:15:00Z"));
        assert_eq!(busy.busy_until, Some(utc("2026-12-01T11:00:00Z")));
        assert_eq!(busy.free_at, Some(utc("2026-12-01T11:45:00Z")));
        let tentative = schedule.outlook_at(utc("2026-12-01T11:10:00Z"));
        assert_eq!(tentative.busy_until, None);
        assert_eq!(tentative.free_at, Some(utc("2026-12-01T11:45:00Z")));
    }

    #[test]
    fn a_gap_shorter_than_a_quarter_hour_does_not_count() {
        let schedule = Schedule::new(
            [
                (
                    ShowAs::Busy,
                    span("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                ),
                (
                    ShowAs::Busy,
                    span("2026-12-01T11:10:00Z", "2026-12-01T12:00:00Z"),
                ),
                (
                    ShowAs::Busy,
                    span("2026-12-01T12:15:00Z", "2026-12-01T13:00:00Z"),
                ),
            ],
            hours("08:00", "17:00", weekdays(), "UTC"),
        );
        let at = schedule.outlook_at(utc("2026-12-01T10:30:00Z"));
        assert_eq!(at.busy_until, Some(utc("2026-12-01T11:00:00Z")));
        // 11:00-11:10 is too short; 12:00-12:15 is exactly long enough.
        assert_eq!(at.free_at, Some(utc("2026-12-01T12:00:00Z")));
    }

    #[test]
    fn free_at_waits_for_working_hours_across_nights_and_weekends() {
        // Friday 4 Dec 2026 until 18:00 UTC; Pacific working hours 09-17.
        let schedule = Schedule::new(
            [(
                ShowAs::Busy,
                span("2026-12-04T22:00:00Z", "2026-12-05T02:00:00Z"),
            )],
            hours(
                "09:00:00.0000000",
                "17:00:00.0000000",
                weekdays(),
                "Pacific Standard Time",
            ),
        );
        let now = utc("2026-12-04T23:00:00Z"); // 15:00 Friday in Seattle
        let at = schedule.outlook_at(now);
        assert_eq!(at.busy_until, Some(utc("2026-12-05T02:00:00Z")));
        // 18:00 Friday there: the next working minute is Monday 09:00 PST.
        assert_eq!(at.free_at, Some(utc("2026-12-07T17:00:00Z")));
        assert_eq!(at.utc_offset_minutes, Some(-480));
        assert_eq!(at.local_time_there(now), NaiveTime::from_hms_opt(15, 0, 0));
        assert!(!at.outside_working_hours);
        // Read only until Saturday: nothing free is known.
        let short = schedule.clone().read_until(utc("2026-12-06T00:00:00Z"));
        assert_eq!(short.outlook_at(now).free_at, None);
        // Outside hours on a Friday evening and on Sunday.
        assert!(
            schedule
                .outlook_at(utc("2026-12-05T03:00:00Z"))
                .outside_working_hours
        );
        assert!(
            schedule
                .outlook_at(utc("2026-12-06T20:00:00Z"))
                .outside_working_hours
        );
    }

    #[test]
    fn working_hours_across_midnight() {
        // A night shift in Berlin, 22:00-06:00, starting Monday to Friday.
        let hours = hours("22:00", "06:00", weekdays(), "W. Europe Standard Time");
        let schedule = Schedule::new(
            [(
                ShowAs::Busy,
                span("2026-12-01T20:00:00Z", "2026-12-01T21:30:00Z"),
            )],
            hours,
        );
        // Tuesday 23:00 and Wednesday 05:59 in Berlin: at work.
        assert!(
            !schedule
                .outlook_at(utc("2026-12-01T22:00:00Z"))
                .outside_working_hours
        );
        assert!(
            !schedule
                .outlook_at(utc("2026-12-02T04:59:00Z"))
                .outside_working_hours
        );
        // Wednesday 06:00 and 12:00: not.
        assert!(
            schedule
                .outlook_at(utc("2026-12-02T05:00:00Z"))
                .outside_working_hours
        );
        assert!(
            schedule
                .outlook_at(utc("2026-12-02T11:00:00Z"))
                .outside_working_hours
        );
        // Saturday 03:00 is Friday's shift; Sunday 03:00 is nobody's.
        assert!(
            !schedule
                .outlook_at(utc("2026-12-05T02:00:00Z"))
                .outside_working_hours
        );
        assert!(
            schedule
                .outlook_at(utc("2026-12-06T02:00:00Z"))
                .outside_working_hours
        );
        // Busy 21:00-22:30 their time: free once the shift starts at 22:30.
        let at = schedule.outlook_at(utc("2026-12-01T20:30:00Z"));
        assert_eq!(at.free_at, Some(utc("2026-12-01T21:30:00Z")));
        assert!(at.outside_working_hours);
        assert_eq!(
            at.local_time_there(utc("2026-12-01T21:10:00Z")),
            NaiveTime::from_hms_opt(22, 10, 0)
        );
    }

    #[test]
    fn unknown_zones_and_missing_hours_claim_nothing() {
        let busy = [(
            ShowAs::Busy,
            span("2026-12-05T22:00:00Z", "2026-12-05T23:00:00Z"),
        )];
        let now = utc("2026-12-05T22:30:00Z"); // a Saturday
        for hours in [
            hours("09:00", "17:00", weekdays(), "Mars Standard Time"),
            hours("09:00", "17:00", vec![], "UTC"),
            None,
        ] {
            let at = Schedule::new(busy, hours.clone()).outlook_at(now);
            assert!(!at.outside_working_hours, "{hours:?}");
            assert_eq!(at.free_at, Some(utc("2026-12-05T23:00:00Z")), "{hours:?}");
            assert_eq!(at.busy_until, Some(utc("2026-12-05T23:00:00Z")));
            if hours.is_none() || hours.as_ref().is_some_and(|h| h.zone.is_none()) {
                assert_eq!(at.utc_offset_minutes, None);
                assert_eq!(at.local_time_there(now), None);
            }
        }
    }

    #[test]
    fn free_at_the_end_of_the_window() {
        let now = utc("2026-12-01T10:00:00Z");
        let schedule = Schedule::new(
            [(
                ShowAs::OutOfOffice,
                span("2026-12-01T09:00:00Z", "2026-12-02T23:50:00Z"),
            )],
            None,
        )
        .read_until(utc("2026-12-03T00:00:00Z"));
        // Ten free minutes, but the window ends with them.
        assert_eq!(
            schedule.outlook_at(now).free_at,
            Some(utc("2026-12-02T23:50:00Z"))
        );
        // Busy to the window's end and beyond: nothing is known.
        let all = Schedule::new(
            [(
                ShowAs::Busy,
                span("2026-12-01T09:00:00Z", "2026-12-04T00:00:00Z"),
            )],
            None,
        )
        .read_until(utc("2026-12-03T00:00:00Z"));
        let at = all.outlook_at(now);
        assert_eq!(at.free_at, None);
        assert_eq!(at.busy_until, Some(utc("2026-12-04T00:00:00Z")));
    }

    #[test]
    fn backwards_items_and_the_ends_of_time_do_not_panic() {
        let schedule = Schedule::new(
            [
                (
                    ShowAs::Busy,
                    span("2026-12-01T11:00:00Z", "2026-12-01T10:00:00Z"),
                ),
                (
                    ShowAs::Busy,
                    Span {
                        start: DateTime::<Utc>::MIN_UTC,
                        end: DateTime::<Utc>::MAX_UTC,
                    },
                ),
            ],
            hours("09:00", "17:00", weekdays(), "Pacific Standard Time"),
        );
        for now in [
            DateTime::<Utc>::MIN_UTC,
            utc("2026-12-01T10:30:00Z"),
            DateTime::<Utc>::MAX_UTC,
        ] {
            let at = schedule.outlook_at(now);
            assert_eq!(at.free_at, None);
        }
        let empty = Schedule::new([], hours("09:00", "09:05", weekdays(), "UTC"));
        assert_eq!(
            empty.outlook_at(utc("2026-12-01T10:30:00Z")).busy_until,
            None
        );
    }
}
