//! `getSchedule` as a client sees it: its limits, its permission, the
//! errors it answers in place of a schedule, working hours and their time
//! zones, and calendars that agree with presence.

mod common;

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
use common::*;
use presently_sim::{Sim, SimConfig, MAX_SCHEDULES};
use serde_json::{json, Value};

const CALENDAR_SCOPES: &str = "User.Read Presence.Read.All Calendars.ReadBasic offline_access";

async fn start_sim() -> (Sim, String) {
    let sim = start(SimConfig {
        users: 120,
        ..config()
    })
    .await;
    let token = sim
        .issue_tokens(&sim.users()[0].id, CALENDAR_SCOPES)
        .access_token;
    (sim, token)
}

fn graph_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A request body for `addresses` from `from` for `hours` hours.
fn request(addresses: &[String], from: DateTime<Utc>, hours: i64, interval: Option<i64>) -> Value {
    let mut body = json!({
        "schedules": addresses,
        "startTime": {"dateTime": graph_time(from), "timeZone": "UTC"},
        "endTime": {"dateTime": graph_time(from + Duration::hours(hours)), "timeZone": "UTC"},
    });
    if let Some(minutes) = interval {
        body["availabilityViewInterval"] = json!(minutes);
    }
    body
}

async fn get_schedule(sim: &Sim, token: &str, body: &Value) -> (u16, Value) {
    let resp = client()
        .post(format!("{}/v1.0/me/calendar/getSchedule", sim.url()))
        .bearer_auth(token)
        .header("Prefer", "outlook.timezone=\"UTC\"")
        .json(body)
        .send()
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    if status == 200 {
        assert_eq!(
            resp.headers()["preference-applied"],
            "outlook.timezone=\"UTC\""
        );
    }
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn mails(sim: &Sim) -> Vec<String> {
    sim.users().into_iter().map(|u| u.mail).collect()
}

fn parse_utc(v: &Value) -> DateTime<Utc> {
    assert_eq!(v["timeZone"], "UTC", "{v}");
    let text = v["dateTime"].as_str().expect("dateTime");
    assert!(text.ends_with(".0000000"), "Graph's form: {text}");
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .expect("a date and time")
        .and_utc()
}

fn time_of_day(v: &Value) -> NaiveTime {
    let text = v.as_str().expect("a time of day");
    assert!(text.ends_with(".0000000"), "Graph's form: {text}");
    NaiveTime::parse_from_str(text, "%H:%M:%S%.f").expect("a time of day")
}

/// Every readable schedule of the directory over `hours` from `from`.
async fn everyone(sim: &Sim, token: &str, from: DateTime<Utc>, hours: i64) -> Vec<Value> {
    let mut all = Vec::new();
    for chunk in mails(sim).chunks(MAX_SCHEDULES) {
        let (status, body) = get_schedule(sim, token, &request(chunk, from, hours, None)).await;
        assert_eq!(status, 200, "{body}");
        all.extend(body["value"].as_array().expect("value").iter().cloned());
    }
    all
}

#[tokio::test]
async fn at_most_twenty_schedules_answered_in_the_order_asked() {
    let (sim, token) = start_sim().await;
    let mut addresses = mails(&sim)[..MAX_SCHEDULES + 1].to_vec();
    let from = sim.clock();
    let (status, body) = get_schedule(&sim, &token, &request(&addresses, from, 8, None)).await;
    assert_eq!(status, 400);
    assert_eq!(graph_code(&body), "ErrorInvalidParameter");

    addresses.pop();
    addresses[3] = addresses[3].to_uppercase();
    let (status, body) = get_schedule(&sim, &token, &request(&addresses, from, 8, None)).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scheduleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, addresses, "in order, each as given");
}

#[tokio::test]
async fn the_request_is_checked_like_graph_checks_it() {
    let (sim, token) = start_sim().await;
    let me = vec![sim.users()[0].mail.clone()];
    let from = sim.clock();
    let view = |body: &Value| body["value"][0]["availabilityView"].as_str().unwrap().len();

    for bad in [4, 1441, 0, -30] {
        let (status, body) = get_schedule(&sim, &token, &request(&me, from, 8, Some(bad))).await;
        assert_eq!(status, 400, "interval {bad}");
        assert_eq!(graph_code(&body), "ErrorInvalidParameter");
    }
    for (interval, slots) in [(Some(5), 96), (Some(1440), 1), (None, 16), (Some(45), 11)] {
        let (status, body) = get_schedule(&sim, &token, &request(&me, from, 8, interval)).await;
        assert_eq!(status, 200, "interval {interval:?}: {body}");
        assert_eq!(view(&body), slots, "interval {interval:?}");
    }

    let (status, body) = get_schedule(&sim, &token, &request(&me, from, 0, None)).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, "ErrorInvalidParameter"),
        "end at the start"
    );
    let (status, body) = get_schedule(&sim, &token, &request(&me, from, 63 * 24, None)).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, "ErrorTimeIntervalTooBig")
    );
    let (status, _) = get_schedule(&sim, &token, &request(&me, from, 62 * 24, Some(1440))).await;
    assert_eq!(status, 200, "62 days are allowed");

    let mut other_zone = request(&me, from, 8, None);
    other_zone["startTime"]["timeZone"] = json!("Pacific Standard Time");
    let (status, body) = get_schedule(&sim, &token, &other_zone).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, "TimeZoneNotSupportedException")
    );
    let mut spelled = request(&me, from, 8, None);
    spelled["startTime"]["timeZone"] = json!("Etc/UTC");
    spelled["endTime"]["timeZone"] = json!("Coordinated Universal Time");
    let (status, _) = get_schedule(&sim, &token, &spelled).await;
    assert_eq!(status, 200, "other names of UTC");

    let (status, body) = get_schedule(&sim, &token, &json!({"schedules": me})).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, "ErrorInvalidParameter"),
        "no times"
    );
}

#[tokio::test]
async fn free_busy_needs_a_calendar_permission_that_sign_in_grants() {
    let (sim, _) = start_sim().await;
    let me = sim.users()[0].id.clone();
    let body = request(&[sim.users()[1].mail.clone()], sim.clock(), 8, None);
    let without = sim.issue_tokens(&me, ALL_SCOPES).access_token;
    let (status, answer) = get_schedule(&sim, &without, &body).await;
    assert_eq!((status, graph_code(&answer)), (403, "ErrorAccessDenied"));
    let read = sim.issue_tokens(&me, "Calendars.Read").access_token;
    assert_eq!(get_schedule(&sim, &read, &body).await.0, 200);

    // Someone else's calendar takes no delegated request.
    let resp = client()
        .post(format!(
            "{}/v1.0/users/{}/calendar/getSchedule",
            sim.url(),
            sim.users()[1].id
        ))
        .bearer_auth(&read)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    // A sign-in that asks for Calendars.ReadBasic gets it.
    let scope = format!("{ALL_SCOPES} https://graph.microsoft.com/Calendars.ReadBasic");
    let code = device_code(&sim, &scope).await;
    sim.approve(code["user_code"].as_str().unwrap(), None)
        .unwrap();
    let (status, tokens) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
    let granted = tokens["scope"].as_str().unwrap();
    assert!(
        granted.split(' ').any(|s| s == "Calendars.ReadBasic"),
        "{granted}"
    );
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(get_schedule(&sim, token, &body).await.0, 200);

    // One signed in without it must ask the person again (incremental consent).
    let old = sim.issue_tokens(&me, ALL_SCOPES).refresh_token;
    let (status, answer) = token_request(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", &old),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!((status, entra_error(&answer)), (400, "invalid_grant"));
    assert_eq!(answer["suberror"], "consent_required");
}

#[tokio::test]
async fn unknown_and_unshared_mailboxes_are_answered_with_an_error_in_their_place() {
    let (sim, token) = start_sim().await;
    let users = sim.users();
    let nobody = "nobody.at.all@contoso.onmicrosoft.com".to_owned();
    let asked = vec![users[1].mail.clone(), nobody.clone(), users[2].mail.clone()];
    sim.hide_schedule(&users[2].id, false).unwrap();
    sim.hide_schedule(&users[1].user_principal_name, false)
        .unwrap();
    let body = request(&asked, sim.clock(), 8, None);

    let (status, answer) = get_schedule(&sim, &token, &body).await;
    assert_eq!(status, 200);
    let value = answer["value"].as_array().unwrap();
    assert_eq!(value[1]["scheduleId"], nobody.as_str());
    assert_eq!(value[1]["availabilityView"], "");
    assert_eq!(value[1]["error"]["responseCode"], "ErrorMailboxNotFound");
    assert!(value[1]["error"]["message"].is_string());
    for readable in [&value[0], &value[2]] {
        assert!(readable["error"].is_null(), "{readable}");
        assert_eq!(readable["availabilityView"].as_str().unwrap().len(), 16);
    }

    sim.hide_schedule(&users[2].id, true).unwrap();
    let (_, answer) = get_schedule(&sim, &token, &body).await;
    let hidden = &answer["value"][2];
    assert_eq!(hidden["error"]["responseCode"], "ErrorNoFreeBusyAccess");
    assert_eq!(hidden["availabilityView"], "");
    assert!(hidden["scheduleItems"].is_null() && hidden["workingHours"].is_null());
    assert!(
        answer["value"][0]["error"].is_null(),
        "the others are answered"
    );

    sim.hide_schedule(&users[0].id, true).unwrap();
    let own = request(&[users[0].mail.clone()], sim.clock(), 8, None);
    let (_, answer) = get_schedule(&sim, &token, &own).await;
    assert!(
        answer["value"][0]["error"].is_null(),
        "one's own is readable"
    );

    // Some people do not share their free/busy to begin with.
    let sim = start(SimConfig {
        users: 400,
        ..config()
    })
    .await;
    let token = sim
        .issue_tokens(&sim.users()[0].id, CALENDAR_SCOPES)
        .access_token;
    let hidden = everyone(&sim, &token, sim.clock(), 1)
        .await
        .iter()
        .filter(|s| s["error"]["responseCode"] == "ErrorNoFreeBusyAccess")
        .count();
    assert!((1..=30).contains(&hidden), "not shared: {hidden} of 400");
}

/// The digit of the highest status among `items` overlapping a slot.
fn expected_digit(items: &[Value], from: DateTime<Utc>, to: DateTime<Utc>) -> char {
    let rank = |status: &str| match status {
        "workingElsewhere" => (1, '4'),
        "tentative" => (2, '1'),
        "busy" => (3, '2'),
        "oof" => (4, '3'),
        other => panic!("unexpected status {other}"),
    };
    items
        .iter()
        .filter(|i| parse_utc(&i["start"]) < to && parse_utc(&i["end"]) > from)
        .map(|i| rank(i["status"].as_str().unwrap()))
        .max()
        .map_or('0', |(_, digit)| digit)
}

#[tokio::test]
async fn the_availability_view_sums_up_the_items_slot_by_slot() {
    let (sim, token) = start_sim().await;
    let from = sim.clock() - Duration::hours(12);
    let mut statuses = std::collections::HashSet::new();
    for schedule in everyone(&sim, &token, from, 48).await {
        if schedule["error"].is_object() {
            continue;
        }
        let view = schedule["availabilityView"].as_str().unwrap();
        assert_eq!(view.len(), 48 * 2, "one digit a half hour");
        let items = schedule["scheduleItems"].as_array().unwrap();
        for item in items {
            assert!(item.get("subject").is_none(), "no subject: {item}");
            assert!(item["isPrivate"].is_boolean());
            let (start, end) = (parse_utc(&item["start"]), parse_utc(&item["end"]));
            assert!(start < end && start < from + Duration::hours(48) && end > from);
            statuses.insert(item["status"].as_str().unwrap().to_owned());
        }
        for (k, digit) in view.chars().enumerate() {
            let slot = from + Duration::minutes(30 * k as i64);
            let expected = expected_digit(items, slot, slot + Duration::minutes(30));
            assert_eq!(digit, expected, "slot {k} of {view}");
        }
    }
    for status in ["busy", "tentative"] {
        assert!(statuses.contains(status), "{status} among {statuses:?}");
    }
}

/// A person's local time: UTC - bias.
fn local(at: DateTime<Utc>, bias: i64) -> NaiveDateTime {
    (at - Duration::minutes(bias)).naive_utc()
}

#[tokio::test]
async fn working_hours_come_in_custom_zones_that_line_up_with_meetings_and_presence() {
    let (sim, token) = start_sim().await;
    let now = sim.clock();
    let schedules = everyone(&sim, &token, now - Duration::hours(12), 48).await;
    let mut biases = std::collections::HashSet::new();
    let mut going_home = None;
    for (user, schedule) in sim.users().iter().zip(&schedules) {
        if schedule["error"].is_object() {
            continue;
        }
        let hours = &schedule["workingHours"];
        let zone = &hours["timeZone"];
        assert_eq!(zone["@odata.type"], "#microsoft.graph.customTimeZone");
        assert_eq!(zone["name"], "Customized Time Zone");
        assert_eq!(zone["daylightOffset"]["daylightBias"], 0);
        assert_eq!(zone["standardOffset"]["month"], 0);
        let bias = zone["bias"].as_i64().expect("bias");
        assert!((-840..=720).contains(&bias));
        biases.insert(bias);
        assert_eq!(hours["daysOfWeek"].as_array().unwrap().len(), 7);
        let (start, end) = (
            time_of_day(&hours["startTime"]),
            time_of_day(&hours["endTime"]),
        );
        for item in schedule["scheduleItems"].as_array().unwrap() {
            let status = item["status"].as_str().unwrap();
            let (from, to) = (
                local(parse_utc(&item["start"]), bias),
                local(parse_utc(&item["end"]), bias),
            );
            if status == "oof" {
                assert_eq!(from.time(), NaiveTime::MIN, "all day, local midnight");
                assert_eq!(to - from, Duration::days(1));
                continue;
            }
            assert!(
                from.time() >= start && to.time() <= end,
                "{item} in {hours}"
            );
            if status != "workingElsewhere" {
                assert_eq!(from.time().format("%M:%S").to_string().len(), 5);
                assert!(
                    ["00:00", "30:00"].contains(&from.time().format("%M:%S").to_string().as_str())
                );
            }
        }
        // Someone at work who goes home in the next few hours.
        let local_now = local(now, bias);
        let home_time = local_now.date().and_time(end);
        let at_work = sim.presence(&user.id).unwrap().availability != "Offline"
            && sim.presence(&user.id).unwrap().activity != "OutOfOffice";
        if at_work && going_home.is_none() && home_time > local_now + Duration::minutes(2) {
            going_home = Some((user.id.clone(), (home_time - local_now).num_minutes()));
        }
    }
    assert!(biases.len() >= 3, "offices in several zones: {biases:?}");

    let (id, minutes) = going_home.expect("someone at work");
    sim.advance(u32::try_from(minutes - 1).unwrap()).unwrap();
    assert_ne!(
        sim.presence(&id).unwrap().availability,
        "Offline",
        "a minute before"
    );
    sim.advance(1).unwrap();
    let p = sim.presence(&id).unwrap();
    assert_eq!(
        (p.availability.as_str(), p.activity.as_str()),
        ("Offline", "OffWork"),
        "at the end of the working hours served"
    );
}

#[tokio::test]
async fn people_are_in_a_meeting_while_a_busy_item_of_their_calendar_lasts() {
    let (sim, token) = start_sim().await;
    let now = sim.clock();
    let schedules = everyone(&sim, &token, now, 10).await;
    let busy_between = |items: &[Value], at: DateTime<Utc>| {
        items.iter().any(|i| {
            i["status"] == "busy" && parse_utc(&i["start"]) <= at && parse_utc(&i["end"]) > at
        })
    };
    // A busy meeting that starts later, with nothing busy just before or after it.
    let (id, start, end) = sim
        .users()
        .iter()
        .zip(&schedules)
        .filter(|(_, s)| s["error"].is_null())
        .find_map(|(user, s)| {
            let items = s["scheduleItems"].as_array().unwrap();
            items.iter().find_map(|i| {
                let (start, end) = (parse_utc(&i["start"]), parse_utc(&i["end"]));
                let alone =
                    !busy_between(items, start - Duration::minutes(1)) && !busy_between(items, end);
                (i["status"] == "busy" && start > now + Duration::minutes(2) && alone)
                    .then(|| (user.id.clone(), start, end))
            })
        })
        .expect("a busy meeting in the next ten hours");
    let minutes = |to: DateTime<Utc>| u32::try_from((to - sim.clock()).num_minutes()).unwrap();
    let activity = |sim: &Sim| sim.presence(&id).unwrap().activity;

    sim.advance(minutes(start) - 1).unwrap();
    assert_ne!(activity(&sim), "InAMeeting", "a minute before it starts");
    sim.advance(1).unwrap();
    let p = sim.presence(&id).unwrap();
    assert_eq!(
        (p.availability.as_str(), p.activity.as_str()),
        ("Busy", "InAMeeting")
    );
    sim.advance(minutes(end) - 1).unwrap();
    assert_eq!(activity(&sim), "InAMeeting", "to the last minute");
    sim.advance(1).unwrap();
    assert_ne!(activity(&sim), "InAMeeting", "over at its end");
}

#[tokio::test]
async fn working_hours_set_by_a_test_in_a_named_zone_or_in_the_persons_own() {
    let (sim, token) = start_sim().await;
    let user = sim.users()[5].clone();
    sim.hide_schedule(&user.id, false).unwrap();
    let body = request(std::slice::from_ref(&user.mail), sim.clock(), 8, None);
    let (_, answer) = get_schedule(&sim, &token, &body).await;
    let bias = answer["value"][0]["workingHours"]["timeZone"]["bias"]
        .as_i64()
        .expect("a custom zone");
    if local(sim.clock(), bias).time() >= NaiveTime::from_hms_opt(23, 50, 0).unwrap() {
        // Into the next day, so that a day from 00:00 to 23:59 is at work below.
        sim.advance(15).unwrap();
    }
    let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    sim.set_working_hours(
        &user.id,
        &weekdays,
        "08:00",
        "17:00",
        Some("Pacific Standard Time"),
    )
    .unwrap();
    let (_, answer) = get_schedule(&sim, &token, &body).await;
    assert_eq!(
        answer["value"][0]["workingHours"],
        json!({
            "daysOfWeek": weekdays,
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": "Pacific Standard Time"},
        })
    );
    for (days, start, end) in [
        (vec!["someday"], "08:00", "17:00"),
        (vec!["monday"], "8 am", "17:00"),
        (vec!["monday"], "17:00", "08:00"),
    ] {
        assert!(sim
            .set_working_hours(&user.id, &days, start, end, None)
            .is_err());
    }

    // In their own zone, the day follows: a day off is a day offline.
    let all_day = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    sim.set_working_hours(&user.id, &all_day, "00:00", "23:59", None)
        .unwrap();
    sim.advance(1).unwrap();
    assert_ne!(sim.presence(&user.id).unwrap().availability, "Offline");
    let (_, answer) = get_schedule(&sim, &token, &body).await;
    assert_eq!(answer["value"][0]["workingHours"]["timeZone"]["bias"], bias);
    let today = local(sim.clock(), bias)
        .format("%A")
        .to_string()
        .to_lowercase();
    let other_days: Vec<&str> = all_day.iter().copied().filter(|d| *d != today).collect();
    sim.set_working_hours(&user.id, &other_days, "00:00", "23:59", None)
        .unwrap();
    sim.advance(1).unwrap();
    assert_eq!(sim.presence(&user.id).unwrap().availability, "Offline");
    let (_, answer) = get_schedule(&sim, &token, &body).await;
    assert_eq!(
        answer["value"][0]["workingHours"]["daysOfWeek"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    // The same through the control API.
    let resp = client()
        .post(format!("{}/_sim/working_hours", sim.url()))
        .json(&json!({
            "id": user.user_principal_name,
            "daysOfWeek": ["saturday", "sunday"],
            "startTime": "10:00:00",
            "endTime": "14:30:00",
            "timeZone": "Europe/Berlin",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, answer) = get_schedule(&sim, &token, &body).await;
    let hours = &answer["value"][0]["workingHours"];
    assert_eq!(hours["timeZone"], json!({"name": "Europe/Berlin"}));
    assert_eq!(hours["endTime"], "14:30:00.0000000");
    let resp = client()
        .post(format!("{}/_sim/hide_schedule", sim.url()))
        .json(&json!({"id": user.id, "hidden": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, answer) = get_schedule(&sim, &token, &body).await;
    assert_eq!(
        answer["value"][0]["error"]["responseCode"],
        "ErrorNoFreeBusyAccess"
    );
}
