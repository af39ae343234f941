//! Free/busy, as `getSchedule` answers it.
//!
//! Each published answer is read for the window its published request
//! asked about. What it must read is worked out here from the answer
//! itself: every item (its status, in any letter case, at the instants
//! its own time zone names), the strongest status where items overlap,
//! the working hours with their zone, and how long a run of busy items
//! lasts. The instants of Microsoft's own example are pinned in UTC too,
//! so that a zone read wrongly on both sides cannot pass.

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc, Weekday};
use presently_core::calendar::zones::Zone;
use presently_core::calendar::{parse_answer, ReadWindow, Schedule, ShowAs};
use serde_json::Value;

use crate::{answers, entries, read};

const ENDPOINT: &str = "POST /me/calendar/getSchedule";

/// Graph's default `availabilityViewInterval`, for a request without one.
const DEFAULT_SLOT_MINUTES: u32 = 30;

/// A `dateTimeTimeZone` as an instant, in the zone it names.
fn instant(file: &str, t: &Value) -> DateTime<Utc> {
    let text = t["dateTime"].as_str().unwrap();
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("{file}: {text}: {e}"));
    match t["timeZone"].as_str().unwrap_or("UTC") {
        "UTC" => local.and_utc(),
        zone => Zone::named(zone)
            .and_then(|z| z.to_utc(local))
            .unwrap_or_else(|| panic!("{file}: the zone {zone} is not placed")),
    }
}

/// The window the published request paired with answer `file` asked about.
fn asked_for(file: &str) -> ReadWindow {
    let answer = entries("response", &[ENDPOINT])
        .into_iter()
        .find(|e| e["file"] == file)
        .unwrap();
    let pair = answer["request_file_of_pair"].as_str().unwrap();
    let request = entries("request", &[ENDPOINT])
        .into_iter()
        .find(|e| e["body_format"] == "json" && e["file"] == format!("{pair}.json"))
        .unwrap_or_else(|| panic!("{file}: no published request {pair}"));
    let request: Value = serde_json::from_slice(&read(request["file"].as_str().unwrap())).unwrap();
    ReadWindow {
        start: instant(file, &request["startTime"]),
        end: instant(file, &request["endTime"]),
        slot_minutes: request["availabilityViewInterval"]
            .as_u64()
            .map_or(DEFAULT_SLOT_MINUTES, |m| u32::try_from(m).unwrap()),
    }
}

/// A status as Graph documents it, in any letter case.
fn status(said: &str) -> ShowAs {
    match said.to_ascii_lowercase().as_str() {
        "oof" => ShowAs::OutOfOffice,
        "busy" => ShowAs::Busy,
        "tentative" => ShowAs::Tentative,
        "free" | "workingelsewhere" | "unknown" => ShowAs::Free,
        other => panic!("a status Graph does not document: {other}"),
    }
}

/// A published item: how it shows, from when, until when.
struct Item {
    show_as: ShowAs,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Item {
    fn holds(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

fn items(file: &str, schedule: &Value) -> Vec<Item> {
    schedule["scheduleItems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| Item {
            show_as: status(item["status"].as_str().unwrap()),
            start: instant(file, &item["start"]),
            end: instant(file, &item["end"]),
        })
        .collect()
}

/// How the published schedule shows `at`: the strongest item there, or,
/// for a schedule without items, its view's slot.
fn published_show_as(items: &[Item], view: &str, window: &ReadWindow, at: DateTime<Utc>) -> ShowAs {
    if !items.is_empty() {
        return items
            .iter()
            .filter(|i| i.holds(at))
            .map(|i| i.show_as)
            .max()
            .unwrap_or(ShowAs::Free);
    }
    let slot = (at - window.start).num_minutes() / i64::from(window.slot_minutes);
    match usize::try_from(slot).ok().and_then(|s| view.chars().nth(s)) {
        Some('1') => ShowAs::Tentative,
        Some('2') => ShowAs::Busy,
        Some('3') => ShowAs::OutOfOffice,
        _ => ShowAs::Free,
    }
}

/// Where the run of busy or out-of-office items around `at` ends, items
/// that overlap or touch taken as one.
fn busy_run_end(items: &[Item], at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let busy: Vec<&Item> = items.iter().filter(|i| i.show_as >= ShowAs::Busy).collect();
    let mut end = busy.iter().filter(|i| i.holds(at)).map(|i| i.end).max()?;
    while let Some(later) = busy
        .iter()
        .filter(|i| i.start <= end && i.end > end)
        .map(|i| i.end)
        .max()
    {
        end = later;
    }
    Some(end)
}

/// Every instant where the published schedule may change, and one in
/// the middle of each stretch between them, within the window.
fn instants_to_check(items: &[Item], window: &ReadWindow) -> Vec<DateTime<Utc>> {
    let mut edges: Vec<DateTime<Utc>> = items
        .iter()
        .flat_map(|i| [i.start, i.end])
        .chain([window.start, window.end])
        .chain(
            (0..)
                .map(|n| window.start + Duration::minutes(n * i64::from(window.slot_minutes)))
                .take_while(|t| *t < window.end),
        )
        .filter(|t| *t >= window.start && *t <= window.end)
        .collect();
    edges.sort();
    edges.dedup();
    let mut instants = Vec::new();
    for pair in edges.windows(2) {
        instants.push(pair[0]);
        instants.push(pair[0] + (pair[1] - pair[0]) / 2);
        instants.push(pair[1] - Duration::seconds(1));
    }
    instants
}

fn weekday(name: &str) -> Weekday {
    name.parse()
        .unwrap_or_else(|_| panic!("not a day of the week: {name}"))
}

fn time_of_day(text: &str) -> NaiveTime {
    NaiveTime::parse_from_str(text, "%H:%M:%S%.f").unwrap()
}

/// The working hours read are the published ones, their zone too: a
/// named zone is that zone; a `customTimeZone` keeps its bias out of
/// daylight saving time and adds its daylight bias in it.
fn same_working_hours(file: &str, id: &str, read: &Schedule, published: &Value, year: i32) {
    let read = read
        .working_hours()
        .unwrap_or_else(|| panic!("{file}: {id} has no working hours"));
    let days: Vec<Weekday> = published["daysOfWeek"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| weekday(d.as_str().unwrap()))
        .collect();
    assert_eq!(read.days, days, "{file}: {id}");
    let clock = |key: &str| time_of_day(published[key].as_str().unwrap());
    assert_eq!(read.start, clock("startTime"), "{file}: {id}");
    assert_eq!(read.end, clock("endTime"), "{file}: {id}");
    let published = &published["timeZone"];
    let zone = read
        .zone
        .as_ref()
        .unwrap_or_else(|| panic!("{file}: {id}: {published} is not placed"));
    let Some(bias) = published["bias"].as_i64() else {
        let name = published["name"].as_str().unwrap();
        assert_eq!(Some(zone), Zone::named(name).as_ref(), "{file}: {id}");
        return;
    };
    assert!(matches!(zone, Zone::Custom(_)), "{file}: {id}: {zone:?}");
    // In the month after each change, the offset the change brought.
    let month_after = |offset: &Value| {
        let month = u32::try_from(offset["month"].as_u64().unwrap()).unwrap();
        chrono::NaiveDate::from_ymd_opt(year, month % 12 + 1, 15)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
    };
    let standard = &published["standardOffset"];
    let daylight = &published["daylightOffset"];
    let daylight_bias = daylight["daylightBias"].as_i64().unwrap_or(0);
    let minutes = |m: i64| Some(i32::try_from(-m).unwrap());
    assert_eq!(
        zone.offset_minutes(month_after(standard)),
        minutes(bias),
        "{file}: {id}: standard time"
    );
    if daylight["month"].as_u64().unwrap_or(0) != 0 {
        assert_eq!(
            zone.offset_minutes(month_after(daylight)),
            minutes(bias + daylight_bias),
            "{file}: {id}: daylight saving time"
        );
    }
}

#[test]
fn every_published_schedule_is_read_item_for_item() {
    for (file, body) in answers(&[ENDPOINT]) {
        let window = asked_for(&file);
        let published: Value = serde_json::from_slice(&body).unwrap();
        let read = parse_answer(&body, &window).unwrap_or_else(|e| panic!("{file}: {e}"));
        let schedules = published["value"].as_array().unwrap();
        assert_eq!(read.len(), schedules.len(), "{file}");
        for ((id, read), published) in read.iter().zip(schedules) {
            assert_eq!(id, published["scheduleId"].as_str().unwrap(), "{file}");
            if published["error"].is_object() {
                assert!(read.is_err(), "{file}: {id} read despite its error");
                continue;
            }
            let read = read
                .as_ref()
                .unwrap_or_else(|e| panic!("{file}: {id}: {e}"));
            let items = items(&file, published);
            let view = published["availabilityView"].as_str().unwrap_or_default();
            for at in instants_to_check(&items, &window) {
                assert_eq!(
                    read.show_as_at(at),
                    published_show_as(&items, view, &window, at),
                    "{file}: {id} at {at}"
                );
                let outlook = read.outlook_at(at);
                if !items.is_empty() {
                    assert_eq!(
                        outlook.busy_until,
                        busy_run_end(&items, at),
                        "{file}: {id} at {at}"
                    );
                }
                // Free again, if at all, once the time that is not free
                // around now has passed, and not before the window ends.
                if let Some(free) = outlook.free_at {
                    assert!(free > at && free <= window.end, "{file}: {id} at {at}");
                    assert_eq!(read.show_as_at(free), ShowAs::Free, "{file}: {id}");
                }
            }
            if published["workingHours"].is_object() {
                let year = chrono::Datelike::year(&window.start);
                same_working_hours(&file, id, read, &published["workingHours"], year);
            }
        }
    }
}

/// What Presently says of each person of Microsoft's own example, on
/// Friday 15 March 2019 in Pacific daylight time (UTC-7), read from 09:00
/// to 18:00 there: how their time shows, until when they are busy, when
/// they will be free, whether they are at work, and their clock.
#[test]
fn what_presently_says_of_the_published_day() {
    const FILE: &str = "getschedule-response-1.json";
    /// What Presently says of one person at one instant.
    struct Said {
        id: &'static str,
        at: &'static str,
        show_as: ShowAs,
        busy_until: Option<&'static str>,
        free_at: Option<&'static str>,
        outside_working_hours: bool,
    }
    impl Said {
        fn free(id: &'static str, at: &'static str) -> Said {
            Said::shown(ShowAs::Free, id, at)
        }
        fn tentative(id: &'static str, at: &'static str) -> Said {
            Said::shown(ShowAs::Tentative, id, at)
        }
        fn shown(show_as: ShowAs, id: &'static str, at: &'static str) -> Said {
            Said {
                id,
                at,
                show_as,
                busy_until: None,
                free_at: None,
                outside_working_hours: false,
            }
        }
        /// Busy until `until`, and free again then.
        fn busy(id: &'static str, at: &'static str, until: &'static str) -> Said {
            Said {
                busy_until: Some(until),
                free_at: Some(until),
                ..Said::shown(ShowAs::Busy, id, at)
            }
        }
        fn outside_working_hours(self) -> Said {
            Said {
                outside_working_hours: true,
                ..self
            }
        }
    }
    const ADELE: &str = "adelev@contoso.onmicrosoft.com";
    const MEGAN: &str = "meganb@contoso.onmicrosoft.com";
    let said = [
        // Adele: lunch, busy 12:00-14:00.
        Said::free(ADELE, "2019-03-15T18:00:00Z"),
        Said::busy(ADELE, "2019-03-15T19:30:00Z", "2019-03-15T21:00:00Z"),
        Said::free(ADELE, "2019-03-16T00:30:00Z").outside_working_hours(),
        // Megan: busy 08:30-09:30; the view's 09:00 slot says busy, but
        // no item holds 09:45.
        Said::busy(MEGAN, "2019-03-15T16:15:00Z", "2019-03-15T16:30:00Z"),
        Said::free(MEGAN, "2019-03-15T16:45:00Z"),
        // Busy 12:00-14:00 with tentative 12:00-13:00 inside it and busy
        // 13:00-14:00 over it: busy, and free at 14:00.
        Said::busy(MEGAN, "2019-03-15T19:30:00Z", "2019-03-15T21:00:00Z"),
        Said::busy(MEGAN, "2019-03-15T20:30:00Z", "2019-03-15T21:00:00Z"),
        // Tentative 16:00-17:00, when her day ends: not free again before
        // the window does.
        Said::tentative(MEGAN, "2019-03-15T23:30:00Z"),
    ];
    let body = read(FILE);
    let read = parse_answer(&body, &asked_for(FILE)).unwrap();
    let utc = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
    for s in said {
        let schedule = read
            .iter()
            .find(|(id, _)| id == s.id)
            .and_then(|(_, s)| s.as_ref().ok())
            .unwrap_or_else(|| panic!("{}", s.id));
        let at = utc(s.at);
        let outlook = schedule.outlook_at(at);
        let what = format!("{} at {}", s.id, s.at);
        assert_eq!(schedule.show_as_at(at), s.show_as, "{what}");
        assert_eq!(outlook.busy_until, s.busy_until.map(utc), "{what}");
        assert_eq!(outlook.free_at, s.free_at.map(utc), "{what}");
        assert_eq!(
            outlook.outside_working_hours, s.outside_working_hours,
            "{what}"
        );
        assert_eq!(outlook.utc_offset_minutes, Some(-420), "{what}");
    }
    // Megan's custom zone and Adele's named one both leave daylight saving
    // time in November.
    for (id, schedule) in &read {
        let winter = schedule
            .as_ref()
            .unwrap()
            .outlook_at(utc("2019-01-15T20:00:00Z"));
        assert_eq!(winter.utc_offset_minutes, Some(-480), "{id}");
    }
}
