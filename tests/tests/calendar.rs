//! "When they will be free" end to end: `login --calendar`, the `schedule`
//! lines of `watch --calendar` and the calendar fields of `roster list`,
//! from the built binary against the simulator's `getSchedule`.
//!
//! The simulator's clock is wall time, so nothing here depends on the day
//! or the hour: the people asserted on get working hours set by the test in
//! a fixed-offset zone (`Etc/GMT-N`) where it is now about noon.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use presently_e2e::{presence, OutputLines, Run, SimConfig, TestEnv};
use presently_sim::{Sim, SimUser};
use serde_json::{json, Value};

const ALL_DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// The four fields a teammate's calendar adds, in `watch` and `roster list`.
const FIELDS: [&str; 4] = [
    "busy_until",
    "free_at",
    "outside_working_hours",
    "utc_offset_minutes",
];

fn config(users: usize) -> SimConfig {
    SimConfig {
        users,
        ..TestEnv::quick()
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Graph's `dateTime` (in UTC) of seconds since the epoch.
fn graph_time(at: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = at.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let s = at.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Seconds since the epoch of a UTC time written `YYYY-MM-DDTHH:MM:SS`,
/// then an optional fraction, then `Z` (RFC 3339 in UTC) or nothing
/// (Graph's `dateTime` in a `timeZone` of UTC). Panics on anything else.
fn epoch_seconds(text: &str, rfc3339: bool) -> i64 {
    let bad = || panic!("not a UTC date and time: {text:?}");
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        bad();
    }
    let num = |r: std::ops::Range<usize>| -> i64 {
        let s = &text[r];
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            bad();
        }
        s.parse().unwrap()
    };
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            bad();
        }
        rest = &fraction[digits..];
    }
    if rest != if rfc3339 { "Z" } else { "" } {
        bad();
    }
    let (month, day, hour, minute, second) =
        (num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        bad();
    }
    days_from_civil(num(0..4), month, day) * 86_400 + hour * 3600 + minute * 60 + second
}

/// An RFC 3339 UTC time or null, as `watch` and `roster list` write
/// `busy_until` and `free_at`: its seconds since the epoch.
fn time_or_null(v: &Value, key: &str) -> Option<i64> {
    match &v[key] {
        Value::Null => None,
        Value::String(s) => Some(epoch_seconds(s, true)),
        other => panic!("{key} is neither an RFC 3339 string nor null: {other} in {v}"),
    }
}

/// The four calendar fields are there with their types; `busy_until` and
/// `free_at` are not in the past.
fn check_fields(v: &Value, now: i64) {
    for key in FIELDS {
        assert!(v.get(key).is_some(), "no {key} in {v}");
    }
    for key in ["busy_until", "free_at"] {
        if let Some(at) = time_or_null(v, key) {
            assert!(at > now - 120, "{key} is not in the past: {v}");
        }
    }
    assert!(v["outside_working_hours"].is_boolean(), "{v}");
    assert!(
        v["utc_offset_minutes"].is_null() || v["utc_offset_minutes"].is_i64(),
        "{v}"
    );
}

/// A zone of fixed offset where it is now between 12:00 and 13:00: its
/// IANA name (`Etc/GMT-5` is UTC+5) and its offset in minutes.
fn noon_zone(now: i64) -> (String, i64) {
    let hours = 12 - now.rem_euclid(86_400) / 3600; // -11 to 12
    let name = match hours {
        0 => "Etc/GMT".to_string(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    };
    (name, hours * 60)
}

/// Today's name in a zone `offset` minutes ahead of UTC.
fn weekday_there(now: i64, offset: i64) -> &'static str {
    let days = (now + offset * 60).div_euclid(86_400);
    // 1970-01-01 was a Thursday.
    ALL_DAYS[(days + 4).rem_euclid(7) as usize]
}

/// People whose working hours the test set, in the zone where it is now
/// about noon: one at work, one after work, one on a day off.
struct Hours {
    zone_offset: i64,
    inside: SimUser,
    after_work: SimUser,
    day_off: SimUser,
}

impl Hours {
    /// The hours of `people`'s first three: at work, after work, on a day off.
    fn set(sim: &Sim, people: &[SimUser]) -> Hours {
        let [inside, after_work, day_off] = [0, 1, 2].map(|i| people[i].clone());
        let now = unix_now();
        let (zone, zone_offset) = noon_zone(now);
        let today = weekday_there(now, zone_offset);
        let other_days: Vec<&str> = ALL_DAYS.iter().copied().filter(|d| *d != today).collect();
        for (who, days, start, end) in [
            (&inside, &ALL_DAYS[..], "08:00", "17:00"),
            (&after_work, &ALL_DAYS[..], "18:00", "23:00"),
            (&day_off, &other_days[..], "08:00", "17:00"),
        ] {
            sim.hide_schedule(&who.id, false).unwrap();
            sim.set_working_hours(&who.id, days, start, end, Some(&zone))
                .unwrap();
        }
        Hours {
            zone_offset,
            inside,
            after_work,
            day_off,
        }
    }

    /// Each one's outlook says what their hours say.
    fn check(&self, by_id: impl Fn(&str) -> Value) {
        for (who, outside) in [
            (&self.inside, false),
            (&self.after_work, true),
            (&self.day_off, true),
        ] {
            let v = by_id(&who.id);
            assert_eq!(
                v["outside_working_hours"], outside,
                "{}: {v}",
                who.display_name
            );
            assert_eq!(v["utc_offset_minutes"], self.zone_offset, "{v}");
        }
    }
}

/// The simulator's `getSchedule`, asked directly with a token of the
/// signed-in user's, for someone not in `exclude` whose calendar has a busy
/// or out-of-office item now that lasts at least five more minutes: their
/// ID and that item's end.
async fn someone_in_a_busy_item(sim: &Sim, exclude: &[&str]) -> (String, i64) {
    let users = sim.users();
    let token = sim
        .issue_tokens(
            &users[0].id,
            "User.Read Presence.Read.All Calendars.ReadBasic offline_access",
        )
        .access_token;
    let from = sim.clock().timestamp();
    let (start, end) = (graph_time(from), graph_time(from + 4 * 3600));
    let client = reqwest::Client::new();
    let candidates: Vec<&SimUser> = users
        .iter()
        .skip(1)
        .filter(|u| !exclude.contains(&u.id.as_str()))
        .collect();
    for chunk in candidates.chunks(20) {
        let body = json!({
            "schedules": chunk.iter().map(|u| u.mail.clone()).collect::<Vec<_>>(),
            "startTime": {"dateTime": start, "timeZone": "UTC"},
            "endTime": {"dateTime": end, "timeZone": "UTC"},
        });
        let answer: Value = client
            .post(format!("{}/v1.0/me/calendar/getSchedule", sim.url()))
            .bearer_auth(&token)
            .header("Prefer", "outlook.timezone=\"UTC\"")
            .json(&body)
            .send()
            .await
            .expect("the simulator answers")
            .error_for_status()
            .expect("getSchedule succeeds")
            .json()
            .await
            .unwrap();
        let now = unix_now();
        for (user, schedule) in chunk.iter().zip(answer["value"].as_array().unwrap()) {
            if !schedule["error"].is_null() {
                continue;
            }
            for item in schedule["scheduleItems"].as_array().unwrap() {
                let utc = |v: &Value| {
                    assert_eq!(v["timeZone"], "UTC", "{item}");
                    epoch_seconds(v["dateTime"].as_str().unwrap(), false)
                };
                let (from, to) = (utc(&item["start"]), utc(&item["end"]));
                if matches!(item["status"].as_str(), Some("busy" | "oof"))
                    && from <= now
                    && to >= now + 300
                {
                    return (user.id.clone(), to);
                }
            }
        }
    }
    panic!("nobody of {} people is in a busy item now", users.len());
}

async fn stop(mut child: tokio::process::Child) {
    child.kill().await.unwrap();
    let _ = Run::wait(child).await;
}

fn config_file(env: &TestEnv) -> std::path::PathBuf {
    env.config_dir.path().join("config.toml")
}

/// Does the stored sign-in's `scope` hold Calendars.ReadBasic?
fn keyring_grants_calendar(env: &TestEnv) -> bool {
    let stored = env
        .keyring_sign_in()
        .expect("the keyring holds the sign-in")
        .0;
    stored["scope"]
        .as_str()
        .expect("a scope")
        .split_whitespace()
        .any(|s| s.rsplit('/').next() == Some("Calendars.ReadBasic"))
}

/// `presently login --no-browser --calendar`, approved; checks what it
/// promises: the permission in the keyring's sign-in, `calendar = true`.
async fn login_with_calendar(env: &TestEnv) {
    let run = env
        .login_args(&["login", "--no-browser", "--calendar"])
        .await;
    assert!(run.stderr.contains("is on"), "{}", run.stderr);
    assert!(
        keyring_grants_calendar(env),
        "the sign-in has the permission"
    );
    let text = std::fs::read_to_string(config_file(env)).expect("config.toml written");
    assert!(
        text.lines().any(|l| l.trim() == "calendar = true"),
        "{text}"
    );
}

#[test]
fn the_date_helpers_agree_with_each_other() {
    assert_eq!(graph_time(0), "1970-01-01T00:00:00");
    assert_eq!(
        epoch_seconds("2026-12-05T19:30:00.123Z", true),
        1_796_499_000
    );
    assert_eq!(weekday_there(1_796_499_000, 0), "saturday");
    assert_eq!(weekday_there(1_796_499_000, 5 * 60), "sunday");
    for at in [0, 951_782_400, 1_796_499_000, 4_102_444_799] {
        assert_eq!(epoch_seconds(&graph_time(at), false), at);
        assert_eq!(epoch_seconds(&format!("{}Z", graph_time(at)), true), at);
    }
    assert_eq!(noon_zone(1_796_499_000), ("Etc/GMT+7".to_string(), -420));
    assert_eq!(
        noon_zone(1_796_499_000 - 19 * 3600),
        ("Etc/GMT-12".to_string(), 720)
    );
}

#[tokio::test]
async fn login_with_calendar_then_watch_prints_a_schedule_line_for_everyone_and_on_change() {
    let env = TestEnv::new(config(120)).await;
    login_with_calendar(&env).await;
    let whoami = env.run(&["whoami", "--json"]).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    assert_eq!(whoami.json()["signed_in"], true);

    let users = env.sim.users();
    let hours = Hours::set(&env.sim, &users[1..=3]);
    let (busy, busy_item_end) =
        someone_in_a_busy_item(&env.sim, &[&users[1].id, &users[2].id, &users[3].id]).await;
    let ids = [
        hours.inside.id.as_str(),
        hours.after_work.id.as_str(),
        hours.day_off.id.as_str(),
        busy.as_str(),
    ];
    let mut child = env
        .command(&[
            "watch",
            "--json",
            "--calendar",
            "--interval",
            "5",
            "--ids",
            &ids.join(","),
        ])
        .spawn()
        .unwrap();
    let mut out = OutputLines::stdout(&mut child);

    let snapshot = out
        .json_until(Duration::from_secs(60), |v| v["event"] == "snapshot")
        .await;
    assert!(
        !out.seen_json().iter().any(|v| v["event"] == "schedule"),
        "schedule lines follow the snapshot: {:#?}",
        out.seen
    );
    assert_eq!(snapshot["presences"].as_array().unwrap().len(), 4);

    let mut schedules = std::collections::HashMap::<String, Value>::new();
    while schedules.len() < ids.len() {
        let line = out
            .json_until(Duration::from_secs(60), |v| v["event"] == "schedule")
            .await;
        let now = unix_now();
        check_fields(&line, now);
        let at = line["at"].as_str().expect("at");
        assert!(
            (epoch_seconds(at, true) - now).abs() < 60,
            "at is now: {line}"
        );
        let id = line["id"].as_str().expect("id").to_string();
        assert!(ids.contains(&id.as_str()), "a watched ID: {line}");
        schedules.insert(id, line);
    }
    hours.check(|id| schedules[id].clone());

    let busy_line = &schedules[&busy];
    let now = unix_now();
    let busy_until = time_or_null(busy_line, "busy_until").expect("busy now: busy_until");
    assert!(
        busy_until > now && busy_until >= busy_item_end,
        "busy until the end of the block that holds now ({busy_item_end}): {busy_line}"
    );
    if let Some(free_at) = time_or_null(busy_line, "free_at") {
        assert!(free_at >= busy_until, "{busy_line}");
    }

    // Back at work: their hours now hold now, and they went into a meeting,
    // which makes the reader read them again (at most once a minute).
    let (zone, _) = noon_zone(unix_now());
    let who = &hours.after_work;
    env.sim
        .set_working_hours(&who.id, &ALL_DAYS, "08:00", "17:00", Some(&zone))
        .unwrap();
    env.sim
        .set_presence(&who.id, presence("Busy", "InAMeeting"))
        .unwrap();
    let changed = out
        .json_until(Duration::from_secs(120), |v| {
            v["event"] == "schedule"
                && v["id"] == who.id.as_str()
                && v["outside_working_hours"] == false
        })
        .await;
    check_fields(&changed, unix_now());
    assert!(
        out.seen_json()
            .iter()
            .any(|v| v["event"] == "changed" && v["id"] == who.id.as_str()),
        "the presence change came first: {:#?}",
        out.seen
    );
    stop(child).await;

    // Without --calendar: presence only, even though the sign-in could.
    let reads = |sim: &Sim| {
        sim.requests()
            .iter()
            .filter(|r| r.path.contains("getSchedule"))
            .count()
    };
    let before = reads(&env.sim);
    let mut child = env
        .command(&[
            "watch",
            "--json",
            "--interval",
            "5",
            "--ids",
            &ids.join(","),
        ])
        .spawn()
        .unwrap();
    let mut out = OutputLines::stdout(&mut child);
    out.json_until(Duration::from_secs(60), |v| v["event"] == "snapshot")
        .await;
    out.json_for_a_while(Duration::from_secs(6)).await;
    stop(child).await;
    assert!(
        !out.seen_json().iter().any(|v| v["event"] == "schedule"),
        "{:#?}",
        out.seen
    );
    assert_eq!(reads(&env.sim), before, "no calendar was read");
}

#[tokio::test]
async fn watch_for_people_says_when_they_will_be_free_by_name() {
    let env = TestEnv::new(config(60)).await;
    login_with_calendar(&env).await;
    let users = env.sim.users();
    let hours = Hours::set(&env.sim, &users[4..=6]);
    let who = &hours.after_work;
    let run = env.run(&["roster", "add", &who.id]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let mut child = env
        .command(&["watch", "--calendar", "--interval", "5"])
        .spawn()
        .unwrap();
    let line = OutputLines::stdout(&mut child)
        .text_until(Duration::from_secs(60), |l| l.contains("calendar:"))
        .await;
    stop(child).await;
    // "19:30:05  Ada Lovelace  calendar: outside working hours (12:30 there)"
    let (clock, rest) = line.split_once("  ").expect("time, then name");
    assert!(
        clock.len() == 8 && clock.chars().filter(|c| *c == ':').count() == 2,
        "{line:?}"
    );
    assert!(
        rest.starts_with(&format!("{}  calendar: ", who.display_name)),
        "{line:?}"
    );
    assert!(rest.contains("outside working hours (1"), "{line:?}");
    assert!(rest.ends_with(" there)"), "{line:?}");
}

#[tokio::test]
async fn watch_calendar_without_the_permission_says_so_and_goes_on_with_presence() {
    let env = TestEnv::new(config(40)).await;
    env.login().await;
    assert!(!keyring_grants_calendar(&env), "a plain login does not ask");
    let users = env.sim.users();
    let (a, b) = (users[1].id.clone(), users[2].id.clone());
    env.sim
        .set_presence(&a, presence("Available", "Available"))
        .unwrap();
    let mut child = env
        .command(&[
            "watch",
            "--json",
            "--calendar",
            "--interval",
            "5",
            "--ids",
            &format!("{a},{b}"),
        ])
        .spawn()
        .unwrap();
    let mut out = OutputLines::stdout(&mut child);
    let said = OutputLines::stderr(&mut child)
        .text_until(Duration::from_secs(30), |l| {
            l.contains("Calendars.ReadBasic")
        })
        .await;
    assert!(said.contains("presently login --calendar"), "{said}");
    assert!(said.contains("Going on without calendars"), "{said}");

    let snapshot = out
        .json_until(Duration::from_secs(60), |v| v["event"] == "snapshot")
        .await;
    assert_eq!(snapshot["presences"].as_array().unwrap().len(), 2);
    env.sim
        .set_presence(&a, presence("Busy", "InAMeeting"))
        .unwrap();
    let changed = out
        .json_until(Duration::from_secs(30), |v| v["event"] == "changed")
        .await;
    assert_eq!(changed["id"], a.as_str());
    assert_eq!(changed["activity"], "InAMeeting");
    // A few more polls: still no schedule line.
    out.json_for_a_while(Duration::from_secs(11)).await;
    stop(child).await;
    assert!(
        !out.seen_json().iter().any(|v| v["event"] == "schedule"),
        "{:#?}",
        out.seen
    );
    assert!(
        !env.sim
            .requests()
            .iter()
            .any(|r| r.path.contains("getSchedule")),
        "no calendar was asked for"
    );

    // roster list likewise: presence, and no calendar fields, with or
    // without --calendar.
    let run = env.run(&["roster", "add", &a, &b]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for args in [
        &["roster", "list", "--json"][..],
        &["roster", "list", "--json", "--calendar"][..],
    ] {
        let run = env.run(args).await;
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let list = run.json();
        assert_eq!(list["signed_in"], true);
        for t in list["teammates"].as_array().unwrap() {
            assert!(t["presence"].is_object(), "{t}");
            for key in FIELDS {
                assert!(t.get(key).is_none(), "{args:?}: {key} in {t}");
            }
        }
        if args.contains(&"--calendar") {
            assert!(run.stderr.contains("Calendars.ReadBasic"), "{}", run.stderr);
        }
    }
}

#[tokio::test]
async fn roster_list_has_calendar_fields_with_the_flag_or_calendar_true() {
    let env = TestEnv::new(config(60)).await;
    login_with_calendar(&env).await;
    let users = env.sim.users();
    let hours = Hours::set(&env.sim, &users[7..=9]);
    let ids = [&hours.inside.id, &hours.after_work.id, &hours.day_off.id];
    let run = env.run(&["roster", "add", ids[0], ids[1], ids[2]]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let listed = |list: &Value| -> Vec<Value> { list["teammates"].as_array().unwrap().clone() };
    let by_id = |list: &Value, id: &str| -> Value {
        listed(list)
            .into_iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("{id} not listed: {list}"))
    };

    // calendar = true in config.toml (login --calendar wrote it): on
    // without the flag; with it too.
    for args in [
        &["roster", "list", "--json"][..],
        &["roster", "list", "--json", "--calendar"][..],
    ] {
        let run = env.run(args).await;
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let list = run.json();
        let now = unix_now();
        assert_eq!(listed(&list).len(), 3);
        for t in listed(&list) {
            check_fields(&t, now);
            assert!(t["presence"].is_object(), "{t}");
        }
        hours.check(|id| by_id(&list, id));
    }
    let table = env.run(&["roster", "list"]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let header = table.stdout.lines().next().unwrap_or_default();
    assert!(
        header.contains("PRESENCE") && header.contains("CALENDAR"),
        "{}",
        table.stdout
    );
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with(&hours.after_work.display_name))
        .unwrap_or_else(|| panic!("no row for them: {}", table.stdout));
    assert!(row.contains("outside working hours"), "{}", table.stdout);

    // Without calendar = true and without the flag: no calendar at all.
    let text = std::fs::read_to_string(config_file(&env)).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("calendar"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(config_file(&env), without).unwrap();
    let reads = |sim: &Sim| {
        sim.requests()
            .iter()
            .filter(|r| r.path.contains("getSchedule"))
            .count()
    };
    let before = reads(&env.sim);
    let run = env.run(&["roster", "list", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list = run.json();
    assert_eq!(list["signed_in"], true);
    for t in listed(&list) {
        assert!(t["presence"].is_object(), "{t}");
        for key in FIELDS {
            assert!(t.get(key).is_none(), "{key} in {t}");
        }
    }
    let table = env.run(&["roster", "list"]).await;
    assert!(
        !table
            .stdout
            .lines()
            .next()
            .unwrap_or_default()
            .contains("CALENDAR"),
        "{}",
        table.stdout
    );
    assert_eq!(reads(&env.sim), before, "no calendar was read");

    // The flag alone turns it on.
    let run = env.run(&["roster", "list", "--json", "--calendar"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list = run.json();
    let now = unix_now();
    for t in listed(&list) {
        check_fields(&t, now);
    }
    hours.check(|id| by_id(&list, id));
}
