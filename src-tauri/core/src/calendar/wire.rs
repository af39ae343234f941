//! Reading a `getSchedule` answer.
//!
//! Strict where the API makes a promise: the answer is an object whose
//! `value` is an array of objects, each with a string `scheduleId`, and
//! every field has the type Graph documents; times are dates. Anything
//! else is [`Error::Malformed`]. Tolerant where Graph is loose: extra
//! fields, missing ones, statuses and day names this version does not know,
//! and time zones it cannot place (the working hours then make no claim).
//!
//! The items are the truth; `availabilityView` is a coarser summary of
//! them, in slots that can cover half an item or a stretch with none, and
//! is read only for a schedule that came without items.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::outlook::{Schedule, ShowAs, Span, WorkingHours};
use super::zones::{self, CustomZone, Daylight, Transition, Zone};
use super::ReadWindow;
use crate::error::{Error, Result};
use crate::http::Object;

#[derive(Deserialize)]
struct Answer {
    value: Vec<Object<WireSchedule>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSchedule {
    schedule_id: String,
    #[serde(default)]
    availability_view: Option<String>,
    #[serde(default)]
    schedule_items: Option<Vec<Object<WireItem>>>,
    #[serde(default)]
    working_hours: Option<Object<WireWorkingHours>>,
    #[serde(default)]
    error: Option<Object<WireError>>,
}

#[derive(Deserialize)]
struct WireItem {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    start: Option<Object<WireDateTime>>,
    #[serde(default)]
    end: Option<Object<WireDateTime>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireDateTime {
    date_time: String,
    #[serde(default)]
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireWorkingHours {
    #[serde(default)]
    days_of_week: Option<Vec<String>>,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
    #[serde(default)]
    time_zone: Option<Object<WireZone>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireZone {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "@odata.type", default)]
    odata_type: Option<String>,
    #[serde(default)]
    bias: Option<i64>,
    #[serde(default)]
    standard_offset: Option<Object<WireOffset>>,
    #[serde(default)]
    daylight_offset: Option<Object<WireOffset>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOffset {
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    day_occurrence: Option<i64>,
    #[serde(default)]
    day_of_week: Option<String>,
    #[serde(default)]
    month: Option<i64>,
    #[serde(default)]
    daylight_bias: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    response_code: Option<String>,
}

/// Why Graph could not read one calendar of a `getSchedule` answer (no
/// such mailbox, no permission to see it): not an error of the request,
/// which answers for the other calendars.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{said}")]
pub struct UnreadableSchedule {
    /// Graph's words (its message, else its response code), cleaned for a
    /// log or a screen and at most 300 characters.
    pub said: String,
}

/// Parses the answer to a `getSchedule` request for `window`: per
/// schedule ID (the address asked for), its schedule, known up to the
/// window's end, or, for a calendar Graph could not read, why.
pub fn parse_answer(
    body: &[u8],
    window: &ReadWindow,
) -> Result<Vec<(String, std::result::Result<Schedule, UnreadableSchedule>)>> {
    let Object(answer) = serde_json::from_slice::<Object<Answer>>(body).map_err(|e| {
        Error::Malformed(format!(
            "the calendar answer is not in the promised shape ({e})"
        ))
    })?;
    answer
        .value
        .into_iter()
        .map(|Object(s)| {
            let id = s.schedule_id.clone();
            Ok((id, schedule(s, window)?))
        })
        .collect()
}

fn schedule(
    s: WireSchedule,
    window: &ReadWindow,
) -> Result<std::result::Result<Schedule, UnreadableSchedule>> {
    if let Some(Object(e)) = s.error {
        let said = e
            .message
            .filter(|m| !m.trim().is_empty())
            .or(e.response_code)
            .unwrap_or_else(|| "the calendar could not be read".into());
        return Ok(Err(UnreadableSchedule {
            said: crate::text::clean_text(&said, 300),
        }));
    }
    let wire_items = s.schedule_items.unwrap_or_default();
    let items = if wire_items.is_empty() {
        view_items(s.availability_view.as_deref().unwrap_or_default(), window)
    } else {
        calendar_items(&s.schedule_id, wire_items)?
    };
    let hours = s.working_hours.and_then(|Object(w)| working_hours(w));
    Ok(Ok(Schedule::new(items, hours).read_until(window.end)))
}

/// The items that keep their owner from being free.
fn calendar_items(
    schedule_id: &str,
    wire_items: Vec<Object<WireItem>>,
) -> Result<Vec<(ShowAs, Span)>> {
    let mut items = Vec::new();
    for Object(item) in wire_items {
        let show_as = ShowAs::parse(item.status.as_deref().unwrap_or(""));
        if show_as == ShowAs::Free {
            continue;
        }
        let (Some(Object(start)), Some(Object(end))) = (item.start, item.end) else {
            return Err(Error::Malformed(format!(
                "a calendar item of {} has no start or end",
                crate::text::clean_text(schedule_id, 80)
            )));
        };
        items.push((
            show_as,
            Span {
                start: instant(&start)?,
                end: instant(&end)?,
            },
        ));
    }
    Ok(items)
}

/// The slots of an `availabilityView` as items: one digit a slot from the
/// window's start (0 free, 1 tentative, 2 busy, 3 out of office, 4 working
/// elsewhere; anything else claims nothing), none past the window's end.
fn view_items(view: &str, window: &ReadWindow) -> Vec<(ShowAs, Span)> {
    let slot = chrono::Duration::minutes(window.slot_minutes.into());
    if slot <= chrono::Duration::zero() {
        return Vec::new();
    }
    let mut items = Vec::new();
    let mut start = window.start;
    for digit in view.chars() {
        if start >= window.end {
            break;
        }
        let end = start
            .checked_add_signed(slot)
            .map_or(window.end, |e| e.min(window.end));
        let show_as = match digit {
            '1' => ShowAs::Tentative,
            '2' => ShowAs::Busy,
            '3' => ShowAs::OutOfOffice,
            _ => ShowAs::Free,
        };
        if show_as != ShowAs::Free {
            items.push((show_as, Span { start, end }));
        }
        start = end;
    }
    items
}

/// A `dateTimeTimeZone` as an instant. Asked for in UTC; another zone
/// Graph names is honoured, one it cannot be placed in is an error.
fn instant(t: &WireDateTime) -> Result<DateTime<Utc>> {
    let text = t.date_time.trim();
    let shown = || crate::text::clean_text(text, 40);
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.to_utc());
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .ok_or_else(|| Error::Malformed(format!("`{}` in a calendar is not a time", shown())))?;
    let zone = t.time_zone.as_deref().map(str::trim).unwrap_or("UTC");
    if zone.is_empty() || zone.eq_ignore_ascii_case("UTC") {
        return Ok(local.and_utc());
    }
    Zone::named(zone)
        .and_then(|z| z.to_utc(local))
        .ok_or_else(|| {
            Error::Malformed(format!(
                "the time `{}` in a calendar is in a time zone that cannot be placed ({})",
                shown(),
                crate::text::clean_text(zone, 60)
            ))
        })
}

/// Working hours, if they have a start and an end; their zone is `None`
/// when it cannot be placed, and unknown day names are left out.
fn working_hours(w: WireWorkingHours) -> Option<WorkingHours> {
    let start = zones::time_of_day(w.start_time.as_deref()?)?;
    let end = zones::time_of_day(w.end_time.as_deref()?)?;
    let mut days = Vec::new();
    for day in w.days_of_week.unwrap_or_default() {
        if let Some(d) = zones::weekday(&day) {
            if !days.contains(&d) {
                days.push(d);
            }
        }
    }
    Some(WorkingHours {
        days,
        start,
        end,
        zone: w.time_zone.and_then(|Object(z)| zone(z)),
    })
}

fn zone(z: WireZone) -> Option<Zone> {
    let custom = z
        .odata_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().ends_with("customtimezone"))
        || z.bias.is_some();
    if !custom {
        return Zone::named(z.name.as_deref()?);
    }
    let daylight = match (z.standard_offset, z.daylight_offset) {
        (Some(Object(standard)), Some(Object(daylight)))
            if standard.month.unwrap_or(0) != 0 && daylight.month.unwrap_or(0) != 0 =>
        {
            Some(Daylight {
                bias: i32::try_from(daylight.daylight_bias.unwrap_or(0)).ok()?,
                starts: transition(&daylight)?,
                ends: transition(&standard)?,
            })
        }
        _ => None,
    };
    CustomZone::new(z.bias?, daylight).map(Zone::Custom)
}

fn transition(o: &WireOffset) -> Option<Transition> {
    let month = u32::try_from(o.month?)
        .ok()
        .filter(|m| (1..=12).contains(m))?;
    let occurrence = u32::try_from(o.day_occurrence?)
        .ok()
        .filter(|n| (1..=5).contains(n))?;
    Some(Transition {
        month,
        occurrence,
        weekday: zones::weekday(o.day_of_week.as_deref()?)?,
        time: zones::time_of_day(o.time.as_deref().unwrap_or("00:00"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;
    use serde_json::json;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    /// Tuesday and Wednesday, 1 and 2 December 2026, in quarter hours.
    fn window() -> ReadWindow {
        ReadWindow {
            start: utc("2026-12-01T00:00:00Z"),
            end: utc("2026-12-03T00:00:00Z"),
            slot_minutes: 15,
        }
    }

    fn parse(
        v: serde_json::Value,
    ) -> Vec<(String, std::result::Result<Schedule, UnreadableSchedule>)> {
        parse_answer(&serde_json::to_vec(&v).unwrap(), &window()).unwrap()
    }

    fn item(status: &str, start: &str, end: &str) -> serde_json::Value {
        json!({
            "isPrivate": false,
            "status": status,
            "subject": "Let's go for lunch",
            "location": "Harry's Bar",
            "start": {"dateTime": start, "timeZone": "UTC"},
            "end": {"dateTime": end, "timeZone": "UTC"},
        })
    }

    /// The documented example, with this week's dates.
    fn documented() -> serde_json::Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
            "value": [
                {
                    "scheduleId": "adelev@contoso.com",
                    "availabilityView": "000220000",
                    "scheduleItems": [
                        item("busy", "2026-12-01T12:00:00.0000000", "2026-12-01T13:00:00.0000000"),
                        item("Tentative", "2026-12-01T13:00:00.0000000", "2026-12-01T13:30:00.0000000"),
                        item("workingElsewhere", "2026-12-01T08:00:00.0000000", "2026-12-01T18:00:00.0000000"),
                    ],
                    "workingHours": {
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "08:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": "Pacific Standard Time"}
                    }
                },
                {
                    "scheduleId": "meganb@contoso.com",
                    "availabilityView": "",
                    "error": {
                        "message": "The user's mailbox could not be found.",
                        "responseCode": "ErrorMailboxNotFound"
                    }
                }
            ]
        })
    }

    #[test]
    fn the_documented_answer() {
        let answer = parse(documented());
        assert_eq!(answer.len(), 2);
        let (id, adele) = &answer[0];
        assert_eq!(id, "adelev@contoso.com");
        let adele = adele.as_ref().unwrap();
        let hours = adele.working_hours().unwrap();
        assert_eq!(hours.days.len(), 5);
        assert_eq!(hours.zone, Zone::named("America/Los_Angeles"));
        // 12:30 UTC is 04:30 in Seattle: in a meeting, outside working hours.
        let at = adele.outlook_at(utc("2026-12-01T12:30:00Z"));
        assert_eq!(at.busy_until, Some(utc("2026-12-01T13:00:00Z")));
        assert!(at.outside_working_hours);
        assert_eq!(at.utc_offset_minutes, Some(-480));
        // Free from 16:00 UTC, when the working day starts at 08:00 there.
        assert_eq!(at.free_at, Some(utc("2026-12-01T16:00:00Z")));
        let (id, megan) = &answer[1];
        assert_eq!(id, "meganb@contoso.com");
        assert_eq!(
            megan.as_ref().unwrap_err().to_string(),
            "The user's mailbox could not be found."
        );
    }

    #[test]
    fn custom_time_zones_by_bias_and_rules() {
        let answer = parse(json!({"value": [{
            "scheduleId": "a@contoso.com",
            "scheduleItems": [],
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday", "someday"],
                "startTime": "09:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {
                    "@odata.type": "#microsoft.graph.customTimeZone",
                    "bias": 480,
                    "name": "Customized Time Zone",
                    "standardOffset": {"time": "02:00:00.0000000", "dayOccurrence": 1, "dayOfWeek": "sunday", "month": 11, "year": 0},
                    "daylightOffset": {"time": "02:00:00.0000000", "dayOccurrence": 2, "dayOfWeek": "sunday", "month": 3, "year": 0, "daylightBias": -60}
                }
            }
        }]}));
        let schedule = answer[0].1.as_ref().unwrap();
        // Summer: UTC-7; winter: UTC-8.
        let july = schedule.outlook_at(utc("2026-07-01T17:00:00Z"));
        assert_eq!(july.utc_offset_minutes, Some(-420));
        assert!(!july.outside_working_hours, "10:00 on a Wednesday");
        let december = schedule.outlook_at(utc("2026-12-02T16:30:00Z"));
        assert_eq!(december.utc_offset_minutes, Some(-480));
        assert!(december.outside_working_hours, "08:30 on a Wednesday");
        assert_eq!(
            december.local_time_there(utc("2026-12-02T16:30:00Z")),
            NaiveTime::from_hms_opt(8, 30, 0)
        );
        // Month 0: one offset all year.
        let fixed = parse(json!({"value": [{
            "scheduleId": "b@contoso.com",
            "workingHours": {
                "daysOfWeek": ["monday"], "startTime": "09:00", "endTime": "17:00",
                "timeZone": {"@odata.type": "#microsoft.graph.customTimeZone", "bias": -330,
                    "standardOffset": {"time": "00:00:00", "dayOccurrence": 0, "dayOfWeek": "sunday", "month": 0, "year": 0},
                    "daylightOffset": {"time": "00:00:00", "dayOccurrence": 0, "dayOfWeek": "sunday", "month": 0, "year": 0, "daylightBias": 0}}
            }
        }]}));
        let at = fixed[0]
            .1
            .as_ref()
            .unwrap()
            .outlook_at(utc("2026-07-01T00:00:00Z"));
        assert_eq!(at.utc_offset_minutes, Some(330));
    }

    #[test]
    fn zones_that_cannot_be_placed_claim_nothing() {
        for zone in [
            json!({"name": "Mars Standard Time"}),
            json!({}),
            json!({"@odata.type": "#microsoft.graph.customTimeZone", "name": "no bias"}),
            json!({"@odata.type": "#microsoft.graph.customTimeZone", "bias": 99_999_999}),
            json!({"bias": 60, "standardOffset": {"month": 13, "dayOccurrence": 1, "dayOfWeek": "sunday"},
                   "daylightOffset": {"month": 3, "dayOccurrence": 1, "dayOfWeek": "sunday", "daylightBias": -60}}),
            json!({"bias": 60, "standardOffset": {"month": 10, "dayOccurrence": 1, "dayOfWeek": "sunday"},
                   "daylightOffset": {"month": 3, "dayOccurrence": 1, "dayOfWeek": "sunday", "daylightBias": -9_999_999}}),
        ] {
            let answer = parse(json!({"value": [{
                "scheduleId": "a@contoso.com",
                "workingHours": {"daysOfWeek": ["saturday", "sunday"], "startTime": "09:00", "endTime": "10:00", "timeZone": zone}
            }]}));
            let at = answer[0]
                .1
                .as_ref()
                .unwrap()
                .outlook_at(utc("2026-12-02T12:00:00Z"));
            assert!(!at.outside_working_hours, "{zone}");
            assert_eq!(at.utc_offset_minutes, None, "{zone}");
        }
    }

    #[test]
    fn one_unreadable_calendar_leaves_the_others() {
        let answer = parse(json!({"value": [
            {"scheduleId": "gone@contoso.com", "error": {"responseCode": "ErrorMailboxNotFound"}},
            {"scheduleId": "hidden@contoso.com", "error": {"message": "\u{1b}[31mno access\u{202e}"}},
            {"scheduleId": "ok@contoso.com", "scheduleItems": [item("oof", "2026-12-01T00:00:00", "2026-12-03T00:00:00")]},
        ]}));
        assert_eq!(
            answer[0].1.as_ref().unwrap_err().to_string(),
            "ErrorMailboxNotFound"
        );
        let hidden = &answer[1].1.as_ref().unwrap_err().said;
        assert!(
            hidden.contains("no access")
                && !hidden.contains('\u{1b}')
                && !hidden.contains('\u{202e}'),
            "{hidden}"
        );
        let ok = answer[2].1.as_ref().unwrap();
        assert_eq!(
            ok.outlook_at(utc("2026-12-02T00:00:00Z")).busy_until,
            Some(utc("2026-12-03T00:00:00Z"))
        );
    }

    #[test]
    fn times_in_another_zone_are_placed() {
        let answer = parse(json!({"value": [{
            "scheduleId": "a@contoso.com",
            "scheduleItems": [{
                "status": "busy",
                "start": {"dateTime": "2026-12-01T09:00:00.0000000", "timeZone": "Pacific Standard Time"},
                "end": {"dateTime": "2026-12-01T18:00:00Z"}
            }]
        }]}));
        let at = answer[0]
            .1
            .as_ref()
            .unwrap()
            .outlook_at(utc("2026-12-01T17:30:00Z"));
        assert_eq!(at.busy_until, Some(utc("2026-12-01T18:00:00Z")));
        let before = answer[0]
            .1
            .as_ref()
            .unwrap()
            .outlook_at(utc("2026-12-01T16:59:00Z"));
        assert_eq!(before.busy_until, None);
    }

    #[test]
    fn statuses_in_any_letter_case_read_the_same() {
        let times = [
            ("2026-12-01T09:00:00", "2026-12-01T10:00:00"),
            ("2026-12-01T10:00:00", "2026-12-01T11:00:00"),
            ("2026-12-01T12:00:00", "2026-12-01T13:00:00"),
            ("2026-12-01T14:00:00", "2026-12-01T15:00:00"),
            ("2026-12-01T16:00:00", "2026-12-01T17:00:00"),
        ];
        let answer = |statuses: [&str; 5]| {
            let items: Vec<_> = statuses
                .iter()
                .zip(times)
                .map(|(status, (start, end))| item(status, start, end))
                .collect();
            parse(json!({"value": [{"scheduleId": "a", "scheduleItems": items}]}))
                .remove(0)
                .1
                .unwrap()
        };
        let written = answer(["busy", "oof", "tentative", "workingElsewhere", "free"]);
        for spelling in [
            ["BUSY", "OOF", "TENTATIVE", "WorkingElsewhere", "FREE"],
            ["Busy", "Oof", "Tentative", "workingelsewhere", "Free"],
        ] {
            assert_eq!(answer(spelling), written, "{spelling:?}");
        }
        for (at, show_as) in [
            ("2026-12-01T09:30:00Z", ShowAs::Busy),
            ("2026-12-01T10:30:00Z", ShowAs::OutOfOffice),
            ("2026-12-01T12:30:00Z", ShowAs::Tentative),
            ("2026-12-01T14:30:00Z", ShowAs::Free),
            ("2026-12-01T16:30:00Z", ShowAs::Free),
        ] {
            assert_eq!(written.show_as_at(utc(at)), show_as, "{at}");
        }
    }

    #[test]
    fn the_items_win_over_the_availability_view() {
        // Quarter hours from midnight: the view says free over the busy
        // item at 10:00-11:00, and busy at 12:00-13:00, where there is no
        // item.
        let said = format!("{}2222", "0".repeat(4 * 12));
        let answer = parse(json!({"value": [{
            "scheduleId": "a@contoso.com",
            "availabilityView": said,
            "scheduleItems": [item("busy", "2026-12-01T10:00:00", "2026-12-01T11:00:00")],
        }]}));
        let schedule = answer[0].1.as_ref().unwrap();
        let busy = schedule.outlook_at(utc("2026-12-01T10:30:00Z"));
        assert_eq!(busy.busy_until, Some(utc("2026-12-01T11:00:00Z")));
        assert_eq!(busy.free_at, Some(utc("2026-12-01T11:00:00Z")));
        let lunch = utc("2026-12-01T12:30:00Z");
        assert_eq!(schedule.show_as_at(lunch), ShowAs::Free);
        assert_eq!(
            schedule.outlook_at(lunch),
            schedule.outlook_at(utc("2026-12-01T09:00:00Z"))
        );
        assert_eq!(schedule.outlook_at(lunch).busy_until, None);
    }

    #[test]
    fn without_items_the_availability_view_is_read() {
        // Quarter hours from midnight: busy 12:00-13:00, then tentative
        // to 14:00.
        let said = format!("{}22221111", "0".repeat(4 * 12));
        for items in [None, Some(json!(null)), Some(json!([]))] {
            let mut schedule = json!({"scheduleId": "a@contoso.com", "availabilityView": said});
            if let Some(items) = items.clone() {
                schedule["scheduleItems"] = items;
            }
            let answer = parse(json!({"value": [schedule]}));
            let schedule = answer[0].1.as_ref().unwrap();
            let at = schedule.outlook_at(utc("2026-12-01T12:10:00Z"));
            assert_eq!(
                at.busy_until,
                Some(utc("2026-12-01T13:00:00Z")),
                "{items:?}"
            );
            assert_eq!(at.free_at, Some(utc("2026-12-01T14:00:00Z")), "{items:?}");
            assert_eq!(
                schedule.show_as_at(utc("2026-12-01T13:59:00Z")),
                ShowAs::Tentative
            );
            assert_eq!(
                schedule.show_as_at(utc("2026-12-01T11:59:00Z")),
                ShowAs::Free
            );
        }
        // Out of office; working elsewhere and what no version knows are
        // free; nothing is read past the window's end.
        let answer = parse(json!({"value": [
            {"scheduleId": "a", "availabilityView": "33x4?2"},
            {"scheduleId": "b", "availabilityView": "2".repeat(4 * 24 * 3)},
        ]}));
        let odd = answer[0].1.as_ref().unwrap();
        for (at, show_as) in [
            ("2026-12-01T00:20:00Z", ShowAs::OutOfOffice),
            ("2026-12-01T00:35:00Z", ShowAs::Free),
            ("2026-12-01T00:50:00Z", ShowAs::Free),
            ("2026-12-01T01:05:00Z", ShowAs::Free),
            ("2026-12-01T01:20:00Z", ShowAs::Busy),
            ("2026-12-01T01:35:00Z", ShowAs::Free),
        ] {
            assert_eq!(odd.show_as_at(utc(at)), show_as, "{at}");
        }
        let long = answer[1].1.as_ref().unwrap();
        assert_eq!(
            long.outlook_at(utc("2026-12-02T23:00:00Z")).busy_until,
            Some(window().end)
        );
    }

    #[test]
    fn hostile_answers_are_errors_not_panics() {
        let huge = "9".repeat(400);
        let bad: Vec<String> = vec![
            "[]".into(),
            "null".into(),
            "\"value\"".into(),
            "{}".into(),
            r#"{"value": {}}"#.into(),
            r#"{"value": [[]]}"#.into(),
            r#"{"value": [["a@contoso.com"]]}"#.into(),
            r#"{"value": [{"scheduleId": 7}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "scheduleItems": {}}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "scheduleItems": [["busy"]]}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "scheduleItems": [{"status": "busy"}]}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "scheduleItems": [{"status": "busy", "start": {"dateTime": "yesterday"}, "end": {"dateTime": "2026-12-01T00:00:00"}}]}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "scheduleItems": [{"status": "busy", "start": {"dateTime": "2026-13-45T99:00:00"}, "end": {"dateTime": "2026-12-01T00:00:00"}}]}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "scheduleItems": [{"status": "busy", "start": {"dateTime": "2026-12-01T00:00:00", "timeZone": "Mars"}, "end": {"dateTime": "2026-12-01T01:00:00"}}]}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "scheduleItems": [{"status": 2, "start": {"dateTime": "2026-12-01T00:00:00"}, "end": {"dateTime": "2026-12-01T01:00:00"}}]}]}"#.into(),
            format!(r#"{{"value": [{{"scheduleId": "a", "workingHours": {{"timeZone": {{"bias": {huge}}}}}}}]}}"#),
            r#"{"value": [{"scheduleId": "a", "workingHours": {"timeZone": {"bias": 1e308}}}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "workingHours": []}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "error": "no"}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "availabilityView": 220}]}"#.into(),
            r#"{"value": [{"scheduleId": "a", "availabilityView": ["2"]}]}"#.into(),
            "{\"value\": [".into(),
            "\u{feff}{}".into(),
        ];
        for body in bad {
            let e = parse_answer(body.as_bytes(), &window()).unwrap_err();
            assert_eq!(e.code(), crate::error::ErrorCode::Malformed, "{body}: {e}");
        }
        // Far-off years and odd working hours are read, not refused.
        let answer = parse(json!({"value": [{
            "scheduleId": "a",
            "scheduleItems": [
                item("busy", "+262142-12-31T23:59:59", "+262142-12-31T23:59:59"),
                item("busy", "0001-01-01T00:00:00", "9999-12-31T23:59:59"),
            ],
            "workingHours": {"daysOfWeek": ["friday"], "startTime": "23:59", "endTime": "23:59", "timeZone": {"name": "Etc/GMT-14"}}
        }]}));
        let schedule = answer[0].1.as_ref().unwrap();
        for now in [
            DateTime::<Utc>::MIN_UTC,
            utc("2026-12-04T12:00:00Z"),
            DateTime::<Utc>::MAX_UTC,
        ] {
            let _ = schedule.outlook_at(now);
        }
        assert_eq!(
            schedule.outlook_at(utc("2026-12-04T12:00:00Z")).busy_until,
            Some(utc("9999-12-31T23:59:59Z"))
        );
    }
}
