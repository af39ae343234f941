//! `POST /me/calendar/getSchedule`: people's free/busy, from the calendars
//! their simulated days follow (`crate::calendar`).
//!
//! Strict where Graph is: `Calendars.ReadBasic` or `Calendars.Read`, at most
//! [`MAX_SCHEDULES`] addresses, an `availabilityViewInterval` of 5 to 1440
//! minutes (30 when left out), an end after the start and at most 62 days
//! between them. A mailbox nobody has is answered in its place in `value`
//! with `error.responseCode` `ErrorMailboxNotFound`, one whose owner does not
//! share free/busy with `ErrorNoFreeBusyAccess`; the rest of the request is
//! answered as usual. Items carry no subject: that needs more than free/busy
//! access.
//!
//! Where the simulator is narrower than Graph: it knows one time zone, UTC.
//! Request times must be given in UTC (`UTC`, `Etc/UTC`, `Coordinated
//! Universal Time` and the other spellings of [`UTC_NAMES`]); any other zone
//! is refused with Graph's `TimeZoneNotSupportedException`. Answers are in
//! UTC, which is what Graph answers without a `Prefer: outlook.timezone`
//! header; `Prefer: outlook.timezone="UTC"` is confirmed with
//! `Preference-Applied`, a preference for another zone is left unapplied
//! (the answer's `timeZone` says UTC). Mailboxes are looked up by e-mail
//! address only, and only one's own calendar takes the request (`/me`, or
//! `/users/{own id or UPN}`). Outlook's per-mailbox limits are not enforced.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use crate::calendar::{self, FreeBusy};

use super::*;

/// Most addresses one `getSchedule` request may ask about.
pub const MAX_SCHEDULES: usize = 20;
/// The longest span `getSchedule` answers for.
const MAX_DAYS: i64 = 62;
/// `availabilityViewInterval`: the default and the bounds, in minutes.
const DEFAULT_INTERVAL: i64 = 30;
const INTERVALS: std::ops::RangeInclusive<i64> = 5..=1440;

/// The names of UTC the simulator takes, Windows' and IANA's, in any case.
const UTC_NAMES: &[&str] = &[
    "UTC",
    "Coordinated Universal Time",
    "tzone://Microsoft/Utc",
    "Etc/UTC",
    "Etc/UCT",
    "UCT",
    "Etc/Universal",
    "Universal",
    "Etc/Zulu",
    "Zulu",
    "Etc/GMT",
    "Etc/GMT0",
    "Etc/GMT+0",
    "Etc/GMT-0",
    "GMT",
];

fn is_utc(zone: &str) -> bool {
    UTC_NAMES
        .iter()
        .any(|n| n.eq_ignore_ascii_case(zone.trim()))
}

fn access_denied() -> GraphResponse {
    error(
        403,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    )
}

fn invalid(message: impl Into<String>) -> GraphResponse {
    error(400, "ErrorInvalidParameter", message)
}

fn zone_not_supported(zone: &str) -> GraphResponse {
    error(
        400,
        "TimeZoneNotSupportedException",
        format!("A valid TimeZone value must be specified. The following TimeZone value is not supported: '{zone}'. The simulator knows UTC only."),
    )
}

/// A property of a request body: Graph reads their names in any case.
fn property<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A `dateTimeTimeZone` of the request, as an instant.
fn instant(body: &Map<String, Value>, name: &str) -> Result<DateTime<Utc>, GraphResponse> {
    let value = property(body, name).and_then(Value::as_object);
    let text = |key| value.and_then(|v| property(v, key)).and_then(Value::as_str);
    let (Some(date_time), Some(zone)) = (text("dateTime"), text("timeZone")) else {
        return Err(invalid(format!(
            "{name} is required: {{\"dateTime\": \"2019-03-15T09:00:00\", \"timeZone\": \"UTC\"}}."
        )));
    };
    if !is_utc(zone) {
        return Err(zone_not_supported(zone));
    }
    let parsed =
        NaiveDateTime::parse_from_str(date_time.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
            .map_err(|_| {
                invalid(format!(
                    "{name}.dateTime '{date_time}' is not a date and time."
                ))
            })?;
    Ok(Utc.from_utc_datetime(&parsed))
}

/// What `Prefer: outlook.timezone="..."` asks for, if anything.
fn preferred_zone(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("outlook.timezone"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
}

/// A `dateTimeTimeZone` in UTC, as Graph writes one.
fn utc(at: DateTime<Utc>) -> Value {
    json!({
        "dateTime": at.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(),
        "timeZone": "UTC",
    })
}

/// The request's span and slot length.
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: chrono::Duration,
}

pub(super) fn get_schedule(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    req: &GraphRequest<'_>,
) -> Handled {
    if !CALENDARS.allow(grant) {
        return Err(access_denied());
    }
    let asker = resolve(ctx, grant, who)?;
    if grant.user.is_some_and(|me| me != asker) {
        // Delegated free/busy is asked of one's own calendar; an app asks
        // of any mailbox's.
        return Err(access_denied());
    }
    let body = json_body(req)?;
    let schedules: Vec<&str> = match property(&body, "schedules") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| invalid("schedules must be e-mail addresses (strings)."))?,
        _ => {
            return Err(invalid(
                "schedules is required: a list of the e-mail addresses to get free/busy for.",
            ))
        }
    };
    if schedules.len() > MAX_SCHEDULES {
        return Err(invalid(format!(
            "Too many schedules: {} were requested, at most {MAX_SCHEDULES} are allowed in one request.",
            schedules.len()
        )));
    }
    let start = instant(&body, "startTime")?;
    let end = instant(&body, "endTime")?;
    let interval = match property(&body, "availabilityViewInterval") {
        None => DEFAULT_INTERVAL,
        Some(v) => v.as_i64().filter(|m| INTERVALS.contains(m)).ok_or_else(|| {
            invalid(format!(
                "availabilityViewInterval must be a whole number of minutes from {} to {}, not {v}.",
                INTERVALS.start(),
                INTERVALS.end()
            ))
        })?,
    };
    if end <= start {
        return Err(invalid("The endTime must be later than the startTime."));
    }
    let days = ((end - start).num_seconds() + 86_399) / 86_400;
    if days > MAX_DAYS {
        return Err(error(
            400,
            "ErrorTimeIntervalTooBig",
            format!("The requested time duration specified for FreeBusyViewOptions.TimeWindow is too long. The allowed limit = {MAX_DAYS} days; the actual limit = {days} days."),
        ));
    }
    let window = Window {
        start,
        end,
        interval: chrono::Duration::minutes(interval),
    };
    let value: Vec<Value> = schedules
        .iter()
        .map(|address| schedule_information(ctx, asker, address, &window))
        .collect();
    let mut resp = GraphResponse::ok(json!({
        "@odata.context": format!(
            "{}/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
            ctx.shared.base_url
        ),
        "value": value,
    }));
    if preferred_zone(req.headers).is_some_and(|z| is_utc(&z)) {
        resp = resp.with_header(
            HeaderName::from_static("preference-applied"),
            "outlook.timezone=\"UTC\"",
        );
    }
    Ok(resp)
}

fn schedule_error(address: &str, code: &str, message: String) -> Value {
    json!({
        "scheduleId": address,
        "availabilityView": "",
        "error": { "message": message, "responseCode": code },
    })
}

/// One `scheduleInformation`: the person's items in the window, the
/// availability view they make, and their working hours. `asker` is the
/// mailbox whose calendar is asked: its own schedule is
/// always readable.
fn schedule_information(ctx: &Ctx<'_>, asker: usize, address: &str, w: &Window) -> Value {
    let board = &ctx.st.presence;
    let Some(i) = ctx.shared.directory.find_mail(address) else {
        return schedule_error(
            address,
            "ErrorMailboxNotFound",
            format!("The mailbox '{address}' was not found: no user in this organisation has that e-mail address."),
        );
    };
    if i != asker && board.schedule_hidden(i) {
        return schedule_error(
            address,
            "ErrorNoFreeBusyAccess",
            format!("The requester does not have permission to view the free/busy information of '{address}'."),
        );
    }
    let mut items: Vec<(DateTime<Utc>, DateTime<Utc>, FreeBusy, bool)> = board
        .calendar_items(i)
        .map(|it| {
            (
                board.wall_time(it.start),
                board.wall_time(it.end),
                it.status,
                it.private,
            )
        })
        .filter(|(start, end, ..)| *start < w.end && *end > w.start)
        .collect();
    items.sort_by_key(|(start, end, ..)| (*start, *end));
    let mut view = String::new();
    let mut slot = w.start;
    while slot < w.end {
        let slot_end = (slot + w.interval).min(w.end);
        let status = items
            .iter()
            .filter(|(start, end, ..)| *start < slot_end && *end > slot)
            .map(|(_, _, status, _)| *status)
            .max()
            .unwrap_or(FreeBusy::Free);
        view.push(status.digit());
        slot = slot_end;
    }
    let schedule_items: Vec<Value> = items
        .iter()
        .map(|(start, end, status, private)| {
            json!({
                "isPrivate": private,
                "status": status.graph_name(),
                "start": utc(*start),
                "end": utc(*end),
            })
        })
        .collect();
    let hours = board.working_hours(i);
    let time_zone = match &hours.time_zone {
        Some(name) => json!({ "name": name }),
        None => calendar::custom_time_zone(hours.bias),
    };
    json!({
        "scheduleId": address,
        "availabilityView": view,
        "scheduleItems": schedule_items,
        "workingHours": {
            "daysOfWeek": calendar::day_names(hours.days),
            "startTime": calendar::time_of_day(hours.start),
            "endTime": calendar::time_of_day(hours.end),
            "timeZone": time_zone,
        },
    })
}
