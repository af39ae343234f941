//! The desktop app's monitor: sign-in started from a window, where people
//! click twice; what its events carry.

use std::sync::Arc;
use std::time::Duration;

use presently_core::auth::SignInMethod;
use presently_core::config::{Overrides, Settings};
use presently_core::monitor::{
    CalendarState, Monitor, MonitorEvent, MyStatusChange, MyStatusOutcome, SignInState,
};
use presently_core::my_status::StatusChoice;
use presently_core::notify::Notifier;
use presently_core::roster::{Roster, Teammate};
use presently_core::token_store::MemoryStore;
use presently_sim::{Sim, SimConfig};

fn redirect_port(sign_in_url: &str) -> u16 {
    let url = url::Url::parse(sign_in_url).unwrap();
    let redirect = url
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    url::Url::parse(&redirect).unwrap().port().unwrap()
}

/// A simulator that approves every sign-in at once, and settings for it
/// with a config dir and an app registration of the test's own.
async fn approving_tenant() -> (Sim, tempfile::TempDir, Settings) {
    let sim = Sim::start(SimConfig {
        auto_presence: false,
        auto_approve: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::resolve(&Overrides {
        login_url: Some(sim.url()),
        graph_url: Some(sim.url()),
        config_dir: Some(dir.path().to_path_buf()),
        client_id: Some(uuid::Uuid::new_v4().to_string()),
        interval_secs: Some(5),
        ..Default::default()
    })
    .unwrap();
    (sim, dir, settings)
}

#[tokio::test]
async fn two_quick_sign_in_clicks_leave_exactly_one_sign_in_running() {
    let (_sim, _dir, settings) = approving_tenant().await;
    let (monitor, _events) =
        Monitor::new(settings, Arc::new(MemoryStore::new()), Notifier::new(None)).unwrap();

    // Both clicks at the same moment, by browser and by code.
    let (first, second, code) = tokio::join!(
        monitor.begin_browser_sign_in(),
        monitor.begin_browser_sign_in(),
        monitor.begin_sign_in(),
    );
    let (first, second, _code) = (first.unwrap(), second.unwrap(), code.unwrap());
    assert!(monitor.sign_in_running());
    // Whichever came last is the one sign-in under way; the others stopped
    // listening for the browser.
    let running = match monitor.sign_in_state() {
        SignInState::InBrowser { url } => Some(url),
        SignInState::SigningIn { .. } => None,
        other => panic!("no sign-in under way: {other:?}"),
    };
    for url in [&first, &second] {
        let listening = std::net::TcpStream::connect(("127.0.0.1", redirect_port(url))).is_ok();
        assert_eq!(listening, running.as_ref() == Some(url), "{url}");
    }
    // The one running completes.
    if let Some(url) = running {
        let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(page.contains("You are signed in"), "{page}");
    }
    for _ in 0..200 {
        if matches!(monitor.sign_in_state(), SignInState::SignedIn { .. }) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never signed in: {:?}", monitor.sign_in_state());
}

#[tokio::test]
async fn a_new_interval_keeps_the_retry_after_gate_and_the_running_engine() {
    let (sim, _dir, settings) = approving_tenant().await;
    let (monitor, _events) = Monitor::new(
        settings.clone(),
        Arc::new(MemoryStore::new()),
        Notifier::new(None),
    )
    .unwrap();
    let presence = "/v1.0/communications/getPresencesByUserId";
    let requests = |sim: &Sim| -> Vec<presently_sim::LoggedRequest> {
        sim.requests()
            .into_iter()
            .filter(|r| r.path == presence)
            .collect()
    };
    // Throttled on the first poll: Retry-After 4 s.
    sim.inject(presently_sim::Fault::status(429, Some("4")).on(presence));
    monitor.begin_sign_in().await.unwrap();
    for _ in 0..200 {
        if requests(&sim).iter().any(|r| r.status == 429) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let throttled_at = requests(&sim)
        .into_iter()
        .find(|r| r.status == 429)
        .expect("the first poll was throttled")
        .at;

    // A new interval in the settings: the same engine goes on, and nothing
    // is sent before Retry-After runs out (a new engine and Graph client
    // would have polled at once).
    monitor
        .apply_settings(Settings {
            interval: Duration::from_secs(6),
            ..settings
        })
        .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for r in requests(&sim) {
        assert!(
            r.at <= throttled_at || r.at - throttled_at >= Duration::from_secs(4),
            "a request went out {:?} after a 429 that asked for 4 s",
            r.at - throttled_at
        );
    }
    assert!(matches!(
        monitor.sign_in_state(),
        SignInState::SignedIn { .. }
    ));
}

/// Waits for the first event that `pick` takes, within 20 s.
async fn next<T>(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<MonitorEvent>,
    mut pick: impl FnMut(MonitorEvent) -> Option<T>,
) -> T {
    let wait = async {
        loop {
            if let Some(found) = pick(events.recv().await.expect("the monitor is alive")) {
                return found;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("the event came")
}

#[tokio::test]
async fn events_carry_whole_teammates_pauses_end_and_merged_notifications_come_on_time() {
    let (sim, dir, settings) = approving_tenant().await;
    let users = sim.users();
    let (watched, other) = (&users[1], &users[2]);
    let mut roster = Roster::load(dir.path()).unwrap();
    for u in [watched, other] {
        roster.add(Teammate {
            notify: true,
            display_name: u.display_name.clone(),
            ..Teammate::new(u.id.clone())
        });
    }
    roster.save().unwrap();
    sim.set_presence(&watched.id, plain("Away")).unwrap();
    sim.set_presence(&other.id, plain("Away")).unwrap();
    let (monitor, mut events) =
        Monitor::new(settings, Arc::new(MemoryStore::new()), Notifier::new(None)).unwrap();
    monitor.begin_sign_in().await.unwrap();

    // The first answer: whole teammates with their presence, no IDs to
    // look up.
    let first = next(&mut events, |e| match e {
        MonitorEvent::Presence(changed) => Some(changed),
        _ => None,
    })
    .await;
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|t| t.teammate.notify && t.since.is_some()));
    assert_eq!(
        first[0].presence.as_ref().unwrap().availability.as_str(),
        "Away"
    );
    // Read back, the monitor has the same: the engine's presence.
    assert_eq!(
        monitor.teammate(&watched.id).unwrap().presence,
        first[0].presence
    );

    // Both become available within the merge window: one notification,
    // when the window ends, not on a ticker.
    sim.set_presence(&watched.id, plain("Available")).unwrap();
    sim.set_presence(&other.id, plain("Available")).unwrap();
    let n = next(&mut events, |e| match e {
        MonitorEvent::Notify(n) => Some(n),
        _ => None,
    })
    .await;
    assert_eq!(n.ids.len(), 2, "{n:?}");

    // A pause is announced, and so is its end.
    let until = monitor.pause_notifications_for(Duration::from_millis(300));
    assert!(until.is_some());
    assert_eq!(
        next(&mut events, |e| match e {
            MonitorEvent::Pause(until) => Some(until),
            _ => None,
        })
        .await,
        until
    );
    assert_eq!(
        next(&mut events, |e| match e {
            MonitorEvent::Pause(until) => Some(until),
            _ => None,
        })
        .await,
        None
    );
    assert_eq!(monitor.notifications_paused_until(), None);
}

/// A presence whose activity is its availability, as Teams sets them.
fn plain(availability: &str) -> presently_sim::PresenceUpdate {
    presently_sim::PresenceUpdate {
        availability: availability.into(),
        activity: availability.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_calendar_turned_on_asks_for_its_permission_then_teammates_carry_their_outlook() {
    let (sim, dir, settings) = approving_tenant().await;
    let users = sim.users();
    let mut roster = Roster::load(dir.path()).unwrap();
    for u in &users[1..4] {
        roster.add(Teammate {
            display_name: u.display_name.clone(),
            mail: u.mail.clone(),
            ..Teammate::new(u.id.clone())
        });
    }
    roster.save().unwrap();
    let (monitor, mut events) = Monitor::new(
        settings.clone(),
        Arc::new(MemoryStore::new()),
        Notifier::new(None),
    )
    .unwrap();
    monitor.begin_sign_in().await.unwrap();
    next(&mut events, |e| match e {
        MonitorEvent::Presence(changed) => Some(changed),
        _ => None,
    })
    .await;
    assert_eq!(monitor.calendar_state(), CalendarState::Off);
    let schedule_reads = |sim: &Sim| {
        sim.requests()
            .iter()
            .filter(|r| r.path.ends_with("/calendar/getSchedule"))
            .count()
    };
    assert_eq!(schedule_reads(&sim), 0, "off: no calendar is read");

    // Turned on: the sign-in has no calendar permission, so the window is
    // told to offer it, and nothing is read.
    let on = Settings {
        calendar: true,
        ..settings.clone()
    };
    monitor.apply_settings(on.clone()).await;
    let state = next(&mut events, |e| match e {
        MonitorEvent::Calendar(CalendarState::Off) => None,
        MonitorEvent::Calendar(c) => Some(c),
        _ => None,
    })
    .await;
    assert_eq!(state, CalendarState::NeedsPermission);
    assert_eq!(schedule_reads(&sim), 0);

    // Allowed in the browser: the sign-in asks for it, keeps the rest, and
    // the calendars are read.
    sim.clear_log();
    let SignInState::InBrowser { url } =
        monitor.allow_calendar(SignInMethod::Browser).await.unwrap()
    else {
        panic!("a browser sign-in");
    };
    assert!(url.contains("Calendars.ReadBasic"), "{url}");
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("You are signed in"), "{page}");
    let state = next(&mut events, |e| match e {
        MonitorEvent::Calendar(CalendarState::On) => Some(CalendarState::On),
        MonitorEvent::Calendar(CalendarState::Problem(p)) => panic!("{p}"),
        _ => None,
    })
    .await;
    assert_eq!(state, CalendarState::On);
    let with_outlooks = next(&mut events, |e| match e {
        MonitorEvent::Presence(changed) if changed.iter().any(|t| t.outlook.is_some()) => {
            Some(changed)
        }
        _ => None,
    })
    .await;
    assert!(with_outlooks
        .iter()
        .all(|t| users[1..4].iter().any(|u| u.id == t.teammate.id)));
    assert!(schedule_reads(&sim) >= 1);
    let id = &with_outlooks[0].teammate.id;
    assert!(monitor.teammate(id).unwrap().outlook.is_some());

    // Turned off: no outlooks any more, and the window hears it.
    monitor.apply_settings(settings).await;
    let everyone = next(&mut events, |e| match e {
        MonitorEvent::Roster(everyone) => Some(everyone),
        _ => None,
    })
    .await;
    assert!(everyone.iter().all(|t| t.outlook.is_none()));
    assert_eq!(monitor.calendar_state(), CalendarState::Off);
}

#[tokio::test]
async fn setting_my_status_asks_for_the_permission_once_then_is_made_and_shown() {
    let (sim, _dir, settings) = approving_tenant().await;
    let me = sim.users()[0].clone();
    // A status shows only while one has a Teams session: online.
    sim.set_presence(&me.id, plain("Available")).unwrap();
    let (monitor, mut events) =
        Monitor::new(settings, Arc::new(MemoryStore::new()), Notifier::new(None)).unwrap();
    monitor.begin_sign_in().await.unwrap();
    next(&mut events, |e| match e {
        MonitorEvent::SignIn(SignInState::SignedIn { account }) => Some(account),
        _ => None,
    })
    .await;
    let writes = |sim: &Sim| {
        sim.requests()
            .iter()
            .filter(|r| r.path.ends_with("/presence/setUserPreferredPresence"))
            .count()
    };

    // The first time: a sign-in that asks for Presence.ReadWrite, and the
    // change waits for it.
    let busy = MyStatusChange::Set {
        choice: StatusChoice::Busy,
        duration: Some(Duration::from_secs(3600)),
    };
    let outcome = monitor
        .change_my_status(busy, SignInMethod::Browser)
        .await
        .unwrap();
    let MyStatusOutcome::Consent(SignInState::InBrowser { url }) = outcome else {
        panic!("{outcome:?}");
    };
    assert!(url.contains("Presence.ReadWrite"), "{url}");
    assert_eq!(writes(&sim), 0, "nothing is set before the permission");
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("You are signed in"), "{page}");
    let shown = next(&mut events, |e| match e {
        MonitorEvent::Me { presence, .. } if presence.availability.as_str() == "Busy" => {
            Some(presence)
        }
        _ => None,
    })
    .await;
    assert_eq!(shown.activity.as_str(), "Busy");
    assert_eq!(writes(&sim), 1);
    assert_eq!(
        sim.presence(&me.id).unwrap().availability,
        "Busy",
        "the simulator has it too"
    );

    // From then on, at once.
    let outcome = monitor
        .change_my_status(
            MyStatusChange::Message {
                text: "Back at 3".into(),
                duration: None,
            },
            SignInMethod::Browser,
        )
        .await
        .unwrap();
    assert_eq!(outcome, MyStatusOutcome::Done);
    let shown = next(&mut events, |e| match e {
        MonitorEvent::Me { presence, .. } if presence.status_message.is_some() => Some(presence),
        _ => None,
    })
    .await;
    assert_eq!(shown.status_message.as_deref(), Some("Back at 3"));
    let outcome = monitor
        .change_my_status(MyStatusChange::Reset, SignInMethod::Browser)
        .await
        .unwrap();
    assert_eq!(outcome, MyStatusOutcome::Done);
}

#[tokio::test]
async fn setting_my_status_in_the_china_cloud_is_refused_before_anything_is_sent() {
    let (sim, dir, _) = approving_tenant().await;
    let settings = Settings::resolve(&Overrides {
        cloud: Some("china".into()),
        login_url: Some(sim.url()),
        graph_url: Some(sim.url()),
        config_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    let (monitor, _events) =
        Monitor::new(settings, Arc::new(MemoryStore::new()), Notifier::new(None)).unwrap();
    sim.clear_log();
    let refused = monitor
        .change_my_status(MyStatusChange::Reset, SignInMethod::Browser)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not available"), "{refused}");
    assert!(sim.requests().is_empty());
}

/// The app's start only reads the roster: a file that is not a valid one
/// stays as it is (someone may be halfway through editing it), the problem
/// is said until the file is fixed, and then the roster is taken in.
#[tokio::test]
async fn a_broken_roster_at_start_is_left_alone_and_taken_in_once_fixed() {
    let (sim, dir, settings) = approving_tenant().await;
    let path = presently_core::roster::Roster::path_in(dir.path());
    let broken = "[[teammate]]\nid = \"unterminated\n";
    std::fs::write(&path, broken).unwrap();
    let (monitor, _events) =
        Monitor::new(settings, Arc::new(MemoryStore::new()), Notifier::new(None)).unwrap();
    let problem = monitor.roster_recovery().expect("the problem is said");
    assert!(problem.contains("could not be read"), "{problem}");
    assert!(problem.contains("left as it is"), "{problem}");
    assert!(monitor.teammates().is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !files.iter().any(|f| f.contains("broken-")),
        "nothing kept aside: {files:?}"
    );

    // Fixed in the editor: taken in, and nothing more to say.
    let someone = &sim.users()[2].id;
    std::fs::write(&path, format!("[[teammate]]\nid = \"{someone}\"\n")).unwrap();
    assert!(monitor.reload_roster_if_changed());
    assert_eq!(monitor.roster_recovery(), None);
    assert_eq!(monitor.teammates().len(), 1);
}
