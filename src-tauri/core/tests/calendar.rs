//! "When they will be free" against the simulator: the permission asked
//! for when it is turned on, outlooks for the roster read 20 schedules to a
//! request, people turning busy read again without flooding Outlook, a 403
//! told as a problem, and a 429 waited out without holding presence back.
//!
//! On paused time, as the engine's tests are (see there why a simulator
//! over loopback allows it): the reader's waits cost no real time, and the
//! gaps in the simulator's log are the reader's own.

mod common;
use common::{consent_to, fresh_install, sign_in};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, Utc};
use presently_core::auth::{self, SignInFlow};
use presently_core::calendar::{
    self, zones::Zone, Access, CalendarEvent, CalendarOptions, Outlook, Person, CALENDAR_SCOPE,
};
use presently_core::config::Settings;
use presently_core::error::ErrorCode;
use presently_core::graph::GraphClient;
use presently_core::presence::Activity;
use presently_core::token_store::TokenStore;
use presently_sim::{Fault, LoggedRequest, Sim, SimConfig, SimUser};
use tokio::sync::mpsc;

const SCHEDULE: &str = "/v1.0/me/calendar/getSchedule";
const WAIT: Duration = Duration::from_secs(20);

async fn approving_sim(users: usize) -> Sim {
    Sim::start(SimConfig {
        users,
        auto_presence: false,
        auto_approve: true,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Signed in, then "when they will be free" turned on: the permission is
/// asked for and kept. A Graph client on that session.
async fn consented(sim: &Sim, settings: &Settings, store: Arc<dyn TokenStore>) -> GraphClient {
    sign_in(SignInFlow::new(settings).unwrap(), store.clone()).await;
    let access = calendar::access(settings, store.clone()).await.unwrap();
    let stored = consent_to(sim, access, CALENDAR_SCOPE, store.clone()).await;
    let session = calendar::after_consent(settings, store.clone(), stored).unwrap();
    assert!(matches!(
        calendar::access(settings, store).await.unwrap(),
        Access::Ready(_)
    ));
    sim.clear_log();
    GraphClient::new(settings, session).unwrap()
}

/// A tenant of `users` people, signed in as the first with "when they will
/// be free" on: the simulator, a Graph client, everyone else (their
/// calendars can all be read), and the config dir.
async fn readable_calendars(users: usize) -> (Sim, GraphClient, Vec<SimUser>, tempfile::TempDir) {
    let sim = approving_sim(users).await;
    let (dir, settings, store) = fresh_install(&sim);
    let graph = consented(&sim, &settings, store).await;
    let others: Vec<SimUser> = sim.users().into_iter().skip(1).collect();
    for u in &others {
        sim.hide_schedule(&u.id, false).unwrap();
    }
    (sim, graph, others, dir)
}

fn fast() -> CalendarOptions {
    CalendarOptions {
        read_every: Duration::from_secs(600),
        person_gap: Duration::from_secs(2),
        coalesce: Duration::from_millis(300),
        recompute_every: Duration::from_secs(1),
        retry_delay: Duration::from_millis(500),
        min_spacing: Duration::from_millis(100),
    }
}

fn person(u: &SimUser) -> Person {
    Person {
        id: u.id.clone(),
        mailbox: Some(u.mail.clone()),
    }
}

fn schedule_requests(sim: &Sim) -> Vec<LoggedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.path == SCHEDULE)
        .collect()
}

/// Outlooks as they arrive, until `done` holds for what arrived so far.
async fn outlooks_until(
    events: &mut mpsc::Receiver<CalendarEvent>,
    seen: &mut HashMap<String, Outlook>,
    done: impl Fn(&HashMap<String, Outlook>) -> bool,
) {
    let wait = async {
        while !done(seen) {
            match events.recv().await {
                Some(CalendarEvent::Changed(changes)) => {
                    for c in changes {
                        seen.insert(c.id, c.outlook);
                    }
                }
                Some(CalendarEvent::Problem(e)) => panic!("a problem: {e}"),
                None => panic!("the reader stopped"),
            }
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .unwrap_or_else(|_| panic!("outlooks did not arrive; got {seen:?}"));
}

#[tokio::test(start_paused = true)]
async fn outlooks_arrive_for_everyone_whose_calendar_can_be_read() {
    let (sim, graph, users, _dir) = readable_calendars(45).await;

    let hidden = &users[0];
    sim.hide_schedule(&hidden.id, true).unwrap();
    // Away all day, every day but today, in Seattle.
    let away = &users[1];
    let pacific = Zone::named("Pacific Standard Time").unwrap();
    let today = pacific.local(Utc::now()).unwrap().weekday();
    let days: Vec<&str> = [
        ("monday", chrono::Weekday::Mon),
        ("tuesday", chrono::Weekday::Tue),
        ("wednesday", chrono::Weekday::Wed),
        ("thursday", chrono::Weekday::Thu),
        ("friday", chrono::Weekday::Fri),
        ("saturday", chrono::Weekday::Sat),
        ("sunday", chrono::Weekday::Sun),
    ]
    .into_iter()
    .filter(|(_, d)| *d != today)
    .map(|(name, _)| name)
    .collect();
    sim.set_working_hours(
        &away.id,
        &days,
        "09:00",
        "17:00",
        Some("Pacific Standard Time"),
    )
    .unwrap();
    // Hours in a zone nobody knows: no claim either way.
    let martian = &users[2];
    sim.set_working_hours(
        &martian.id,
        &[
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ],
        "09:00",
        "09:30",
        Some("Mars Standard Time"),
    )
    .unwrap();
    // One person's mailbox is looked up in the directory.
    let looked_up = &users[3];
    let mut people: Vec<Person> = users
        .iter()
        .map(|u| Person {
            mailbox: (u.id != looked_up.id).then(|| u.mail.clone()),
            ..person(u)
        })
        .collect();
    // Someone the directory does not know, and a mailbox nobody has: no
    // outlook for them, and no problem for the others.
    let ghost = uuid::Uuid::new_v4().to_string();
    let nobody = uuid::Uuid::new_v4().to_string();
    people.push(Person {
        id: ghost.clone(),
        mailbox: None,
    });
    people.push(Person {
        id: nobody.clone(),
        mailbox: Some("nobody@nowhere.example".into()),
    });

    let (handle, mut events) = calendar::spawn_with(graph.clone(), people, fast());
    let mut seen = HashMap::new();
    let readable = users.len() - 1;
    outlooks_until(&mut events, &mut seen, |s| s.len() >= readable).await;
    assert!(!seen.contains_key(&hidden.id), "{:?}", seen.get(&hidden.id));
    assert!(seen.contains_key(&looked_up.id));
    assert!(!seen.contains_key(&ghost) && !seen.contains_key(&nobody));

    let now = Utc::now();
    let away_now = &seen[&away.id];
    assert!(away_now.outside_working_hours, "{away_now:?}");
    assert_eq!(away_now.utc_offset_minutes, pacific.offset_minutes(now));
    let there = away_now.local_time_there(now).unwrap();
    assert_eq!(Some(there), pacific.local(now).map(|t| t.time()));
    // Everyone's hours come in a zone that can be placed (a customTimeZone
    // from the simulator), but the Martian's.
    for u in &users[1..] {
        assert_eq!(
            seen[&u.id].utc_offset_minutes.is_some(),
            u.id != martian.id,
            "{}: {:?}",
            u.id,
            seen[&u.id]
        );
    }
    // The simulated day puts people in meetings exactly while their
    // calendars say busy, and only within working hours: everyone in one
    // has an end to it, at work.
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let presences = graph.presences_by_user_id(&ids).await.unwrap();
    let in_meetings: Vec<_> = presences
        .iter()
        .filter(|p| p.activity == Activity::InAMeeting && p.id != hidden.id)
        .collect();
    for p in in_meetings {
        let until = seen[&p.id].busy_until;
        assert!(
            !seen[&p.id].outside_working_hours,
            "{}: {:?}",
            p.id, seen[&p.id]
        );
        assert!(
            until.is_some_and(|t| t > now),
            "{}: {:?}",
            p.id,
            seen[&p.id]
        );
    }
    let martian_now = &seen[&martian.id];
    assert!(!martian_now.outside_working_hours, "{martian_now:?}");
    assert_eq!(martian_now.utc_offset_minutes, None);

    // 45 schedules, 20 to a request, one at a time; the look-ups in a `$batch`.
    let asked = schedule_requests(&sim);
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(asked.iter().all(|r| r.status == 200 && r.method == "POST"));
    for pair in asked.windows(2) {
        assert!(pair[1].at >= pair[0].at + fast().min_spacing, "{asked:?}");
    }
    let batches = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1.0/$batch")
        .count();
    assert_eq!(batches, 1);

    // Each outlook is sent once: nothing more comes while nothing changes
    // (the simulated clock stands still).
    let more = tokio::time::timeout(Duration::from_millis(2500), events.recv()).await;
    if let Ok(Some(CalendarEvent::Changed(changes))) = &more {
        // A busy block may end in these seconds; nobody is sent twice the same.
        for c in changes {
            assert_ne!(seen.get(&c.id), Some(&c.outlook), "sent twice: {c:?}");
        }
    }
    assert_eq!(
        schedule_requests(&sim).len(),
        3,
        "no request without a reason"
    );
    handle.stop();
}

#[tokio::test(start_paused = true)]
async fn turning_busy_reads_again_once_per_gap() {
    let (sim, graph, users, _dir) = readable_calendars(5).await;
    let people: Vec<Person> = users[..3].iter().map(person).collect();
    let (handle, mut events) = calendar::spawn_with(graph, people, fast());
    let mut seen = HashMap::new();
    outlooks_until(&mut events, &mut seen, |s| s.len() == 3).await;
    assert_eq!(schedule_requests(&sim).len(), 1);

    // Three asks in a burst, one of them twice: one request, after the
    // person gap since the first read.
    let first = schedule_requests(&sim)[0].at;
    handle.turned_busy(&users[0].id);
    handle.turned_busy(&users[1].id.to_uppercase());
    handle.turned_busy(&users[0].id);
    handle.turned_busy("someone-not-on-the-roster");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let asked = schedule_requests(&sim);
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked[1].at >= first + fast().person_gap,
        "read again {:?} after the first read",
        asked[1].at - first
    );

    // Someone new on the roster is read at once, alone.
    handle.set_people(users[1..].iter().map(person).collect());
    outlooks_until(&mut events, &mut seen, |s| s.contains_key(&users[3].id)).await;
    assert_eq!(schedule_requests(&sim).len(), 3);
    // Someone gone is not read again.
    handle.set_people(users[2..].iter().map(person).collect());
    handle.turned_busy(&users[0].id);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(schedule_requests(&sim).len(), 3, "nobody to read");
    handle.stop();
    // Stopped: asks go nowhere.
    handle.turned_busy(&users[0].id);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(schedule_requests(&sim).len(), 3);
    assert!(
        tokio::time::timeout(WAIT, async { while events.recv().await.is_some() {} })
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn without_the_permission_the_reader_tells_a_problem() {
    let sim = approving_sim(5).await;
    let (_dir, settings, store) = fresh_install(&sim);
    sign_in(SignInFlow::new(&settings).unwrap(), store.clone()).await;
    let Access::NeedsConsent(_) = calendar::access(&settings, store.clone()).await.unwrap() else {
        panic!("{CALENDAR_SCOPE} was not asked for");
    };
    let session = auth::Session::resume(&settings, store).await.unwrap();
    let graph = GraphClient::new(&settings, session).unwrap();
    let people: Vec<Person> = sim.users().iter().skip(1).map(person).collect();
    let (handle, mut events) = calendar::spawn_with(graph, people, fast());
    let event = tokio::time::timeout(WAIT, events.recv()).await.unwrap();
    let Some(CalendarEvent::Problem(e)) = event else {
        panic!("{event:?}");
    };
    assert_eq!(e.code(), ErrorCode::PermissionNeeded);
    assert!(e.to_string().contains(CALENDAR_SCOPE), "{e}");
    // It goes on later, not in a loop: one request in these seconds, and
    // the problem told once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(schedule_requests(&sim).len(), 1);
    assert!(events.try_recv().is_err());
    handle.stop();
}

#[tokio::test(start_paused = true)]
async fn a_429_is_waited_out_and_presence_is_not_held_back() {
    let (sim, graph, users, _dir) = readable_calendars(5).await;
    sim.inject(Fault::status(429, Some("3")).on(SCHEDULE));
    let people: Vec<Person> = users.iter().map(person).collect();
    let (handle, mut events) = calendar::spawn_with(graph.clone(), people, fast());

    // The reader's gate is its own: presence requests go out meanwhile.
    let throttled = async {
        while schedule_requests(&sim).is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, throttled).await.unwrap();
    assert_eq!(graph.throttled_for(), None);
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    graph.poll_presences_by_user_id(&ids).await.unwrap();

    let mut seen = HashMap::new();
    outlooks_until(&mut events, &mut seen, |s| s.len() == users.len()).await;
    let asked = schedule_requests(&sim);
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(asked[0].status, 429);
    assert_eq!(asked[1].status, 200);
    assert!(
        asked[1].at >= asked[0].at + Duration::from_secs(3),
        "asked again {:?} after a Retry-After of 3 s",
        asked[1].at - asked[0].at
    );
    assert_eq!(asked[1].retry_attempt, None, "a new read, not a retry");
    handle.stop();
}
