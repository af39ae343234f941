//! The coordinator's decisions in time, on tokio's paused clock: when a
//! pause ends, when merged notifications are due, when an edit of the
//! roster file or a fixed config file is taken in. Nothing here talks to
//! the network.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use super::{Clock, Monitor, MonitorEvent, SignInState};
use crate::calendar::Outlook;
use crate::config::{Overrides, Settings, CONFIG_FILE};
use crate::engine::{
    EngineEvent, EngineHandle, EngineState, EngineStatus, LastSeen, PresenceChange,
};
use crate::error::Error;
use crate::notify::{Notifier, MERGE_WINDOW};
use crate::presence::{Availability, Presence};
use crate::roster::{Roster, Teammate};
use crate::token_store::MemoryStore;

/// A clock that starts on a Monday morning and moves with tokio's.
fn paused_clock() -> Clock {
    let start = Instant::now();
    let morning = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    Clock(Arc::new(move || {
        morning + chrono::Duration::from_std(start.elapsed()).unwrap()
    }))
}

fn overrides(dir: &std::path::Path) -> Overrides {
    Overrides {
        config_dir: Some(dir.to_path_buf()),
        ..Default::default()
    }
}

/// A monitor on the paused clock, with `watched` on the roster with the
/// bell on, and nobody signed in.
fn monitor(
    dir: &tempfile::TempDir,
    watched: &[&str],
) -> (Arc<Monitor>, UnboundedReceiver<MonitorEvent>) {
    Roster::edit_file(dir.path(), |r| {
        for id in watched {
            r.add(Teammate {
                notify: true,
                display_name: format!("Person {id}"),
                ..Teammate::new(*id)
            });
        }
    })
    .unwrap();
    let settings = Settings::resolve(&overrides(dir.path())).unwrap();
    Monitor::with_clock(
        settings,
        Arc::new(MemoryStore::new()),
        Notifier::new(None),
        paused_clock(),
    )
    .unwrap()
}

/// One of the monitor's jobs, running on its own task as polling runs it.
fn running<F>(
    monitor: &Arc<Monitor>,
    job: impl FnOnce(Arc<Monitor>) -> F,
) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(job(monitor.clone()))
}

/// Lets every task that can run do so, without moving the clock.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

/// What the monitor said since last asked, after the tasks settled.
async fn said(events: &mut UnboundedReceiver<MonitorEvent>) -> Vec<MonitorEvent> {
    settle().await;
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        out.push(event);
    }
    out
}

async fn advance(by: Duration) {
    tokio::time::advance(by).await;
    settle().await;
}

fn pauses(events: &[MonitorEvent]) -> Vec<Option<DateTime<Utc>>> {
    events
        .iter()
        .filter_map(|e| match e {
            MonitorEvent::Pause(until) => Some(*until),
            _ => None,
        })
        .collect()
}

fn notified(events: &[MonitorEvent]) -> Vec<Vec<String>> {
    events
        .iter()
        .filter_map(|e| match e {
            MonitorEvent::Notify(n) => Some(n.ids.clone()),
            _ => None,
        })
        .collect()
}

fn presence(id: &str, availability: &str) -> Presence {
    Presence {
        availability: Availability::parse(availability),
        ..Presence::unknown(id)
    }
}

/// `id` became available after an hour away, now.
fn available(monitor: &Monitor, id: &str) -> EngineEvent {
    let at = monitor.clock.now();
    EngineEvent::Changed(PresenceChange {
        id: id.into(),
        presence: presence(id, "Available"),
        previous: Some(presence(id, "Away")),
        previous_since: Some(at - chrono::Duration::hours(1)),
        at,
    })
}

#[tokio::test(start_paused = true)]
async fn a_pause_ends_by_itself_when_its_time_is_up_and_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, mut events) = monitor(&dir, &[]);
    let until = monitor.pause_notifications_for(Duration::from_secs(600));
    let expected = monitor.clock.now() + chrono::Duration::minutes(10);
    assert_eq!(until, Some(expected));
    assert_eq!(pauses(&said(&mut events).await), vec![until]);

    advance(Duration::from_secs(599)).await;
    assert_eq!(said(&mut events).await, vec![], "a second early");
    assert_eq!(monitor.notifications_paused_until(), until);

    advance(Duration::from_secs(1)).await;
    assert_eq!(pauses(&said(&mut events).await), vec![None]);
    assert_eq!(monitor.notifications_paused_until(), None);
}

#[tokio::test(start_paused = true)]
async fn a_new_pause_replaces_the_old_ones_end_and_zero_resumes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, mut events) = monitor(&dir, &[]);
    monitor.pause_notifications_for(Duration::from_secs(300));
    advance(Duration::from_secs(60)).await;
    let longer = monitor.pause_notifications_for(Duration::from_secs(1200));
    assert_eq!(pauses(&said(&mut events).await).last(), Some(&longer));

    // The first pause's end passes unremarked.
    advance(Duration::from_secs(300)).await;
    assert_eq!(said(&mut events).await, vec![]);
    assert_eq!(monitor.notifications_paused_until(), longer);

    // Resumed by hand: said once, and the timer of the pause is gone.
    assert_eq!(monitor.pause_notifications_for(Duration::ZERO), None);
    assert_eq!(pauses(&said(&mut events).await), vec![None]);
    advance(Duration::from_secs(1200)).await;
    assert_eq!(said(&mut events).await, vec![]);
}

#[tokio::test(start_paused = true)]
async fn changes_in_one_merge_window_make_one_notification_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, mut events) = monitor(&dir, &["a", "b", "c"]);
    let announcer = running(&monitor, |m| async move { m.announce_when_due().await });
    settle().await;

    monitor.on_engine_event(available(&monitor, "a"));
    advance(MERGE_WINDOW / 3).await;
    monitor.on_engine_event(available(&monitor, "b"));
    let before = said(&mut events).await;
    assert_eq!(notified(&before), Vec::<Vec<String>>::new());
    assert_eq!(before.len(), 2, "each change is shown at once: {before:?}");

    // Not on a ticker: due when the window that "a" opened ends.
    advance(MERGE_WINDOW - MERGE_WINDOW / 3 - Duration::from_millis(1)).await;
    assert_eq!(
        notified(&said(&mut events).await),
        Vec::<Vec<String>>::new()
    );
    advance(Duration::from_millis(1)).await;
    let mut ids = notified(&said(&mut events).await);
    ids.iter_mut().for_each(|ids| ids.sort());
    assert_eq!(ids, vec![vec!["a".to_string(), "b".to_string()]]);

    // A later change opens a window of its own.
    advance(Duration::from_secs(60)).await;
    monitor.on_engine_event(available(&monitor, "c"));
    advance(MERGE_WINDOW).await;
    assert_eq!(
        notified(&said(&mut events).await),
        vec![vec!["c".to_string()]]
    );
    announcer.abort();
}

#[tokio::test(start_paused = true)]
async fn changes_while_paused_are_shown_but_not_announced() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, mut events) = monitor(&dir, &["a"]);
    let announcer = running(&monitor, |m| async move { m.announce_when_due().await });
    monitor.pause_notifications_for(Duration::from_secs(600));
    settle().await;
    monitor.on_engine_event(available(&monitor, "a"));
    advance(MERGE_WINDOW * 2).await;
    let heard = said(&mut events).await;
    assert!(
        heard.iter().any(|e| matches!(e, MonitorEvent::Presence(_))),
        "{heard:?}"
    );
    assert_eq!(notified(&heard), Vec::<Vec<String>>::new());
    announcer.abort();
}

#[tokio::test(start_paused = true)]
async fn an_edit_of_the_roster_file_is_taken_in_at_the_next_look_and_following_ends_with_the_monitor(
) {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, mut events) = monitor(&dir, &["a"]);
    let follower = tokio::spawn(monitor.clone().follow_roster_file(Duration::from_secs(2)));
    settle().await;

    // `presently roster add`, while the app runs.
    Roster::edit_file(dir.path(), |r| r.add(Teammate::new("b"))).unwrap();
    assert_eq!(said(&mut events).await, vec![], "not before the next look");
    advance(Duration::from_secs(2)).await;
    let heard = said(&mut events).await;
    let [MonitorEvent::Roster(everyone)] = heard.as_slice() else {
        panic!("the whole roster once: {heard:?}");
    };
    let ids: Vec<&str> = everyone.iter().map(|t| t.teammate.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);

    // Nothing changed: nothing said.
    advance(Duration::from_secs(10)).await;
    assert_eq!(said(&mut events).await, vec![]);

    drop(monitor);
    advance(Duration::from_secs(2)).await;
    assert!(follower.is_finished(), "it follows no longer");
}

#[tokio::test(start_paused = true)]
async fn a_broken_config_file_is_read_again_until_fixed_telling_each_new_problem_once() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, mut events) = monitor(&dir, &[]);
    let file = dir.path().join(CONFIG_FILE);
    std::fs::write(&file, "interval = \"often\"\n").unwrap();
    let Err(Error::ConfigFile(known)) = Settings::resolve(&overrides(dir.path())) else {
        panic!("a config file that cannot be used");
    };
    let waiting = tokio::spawn(monitor.clone().start_when_config_is_fixed(
        overrides(dir.path()),
        Some(known.clone()),
        Duration::from_secs(5),
    ));

    // The problem the app began with is not told again.
    advance(Duration::from_secs(15)).await;
    assert_eq!(said(&mut events).await, vec![]);

    // A new mistake is told, once.
    std::fs::write(&file, "interval = 5\ncloud = \"mars\"\n").unwrap();
    advance(Duration::from_secs(5)).await;
    let heard = said(&mut events).await;
    let [MonitorEvent::ConfigProblem(Some(problem))] = heard.as_slice() else {
        panic!("the new problem: {heard:?}");
    };
    assert_ne!(problem, &known);
    advance(Duration::from_secs(10)).await;
    assert_eq!(said(&mut events).await, vec![]);

    // Fixed: said so, and the monitor starts on the file (nobody is signed in).
    std::fs::write(&file, "interval = 30\n").unwrap();
    advance(Duration::from_secs(5)).await;
    // Starting reads the keyring on a thread of its own: wait for it.
    waiting.await.unwrap();
    let heard = said(&mut events).await;
    assert_eq!(
        heard.first(),
        Some(&MonitorEvent::ConfigProblem(None)),
        "{heard:?}"
    );
    assert!(
        heard.contains(&MonitorEvent::SignIn(SignInState::SignedOut {
            reason: None
        }))
    );
    assert_eq!(monitor.settings().interval, Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn rows_words_about_time_are_told_again_as_they_change_and_say_as_of_while_graph_is_silent() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, mut events) = monitor(&dir, &["a", "b"]);
    let start = monitor.clock.now();
    let mut seen = LastSeen::new();
    let ids = |id: &str| vec![id.to_string()];
    seen.apply(
        &ids("b"),
        vec![presence("b", "Away")],
        start - chrono::Duration::hours(2),
    );
    seen.apply(
        &ids("a"),
        vec![presence("a", "Available")],
        start - chrono::Duration::seconds(30),
    );
    monitor.state.lock().unwrap().engine = Some(EngineHandle::holding(seen));
    let keeper = running(
        &monitor,
        |m| async move { m.keep_time_words_current().await },
    );

    assert_eq!(
        words_told(&said(&mut events).await),
        [("a", "just now"), ("b", "for 2 h")]
    );
    // Each row at its own minute, hour or day; nothing in between.
    advance(Duration::from_secs(29)).await;
    assert_eq!(said(&mut events).await, vec![]);
    advance(Duration::from_secs(1)).await;
    assert_eq!(words_told(&said(&mut events).await), [("a", "for 1 min")]);
    advance(Duration::from_secs(59 * 60)).await;
    assert_eq!(words_told(&said(&mut events).await), [("a", "for 1 h")]);
    advance(Duration::from_secs(60)).await;
    assert_eq!(words_told(&said(&mut events).await), [("b", "for 3 h")]);

    // Graph stops answering: every row says "as of" its last answer, and
    // stays so; then answers again.
    let last = monitor.clock.now() - chrono::Duration::minutes(5);
    let status = |state| EngineStatus {
        state,
        detail: String::new(),
        retry_after: None,
        interval: Duration::from_secs(30),
        last_answer_at: Some(last),
    };
    monitor.on_engine_event(EngineEvent::Status(status(EngineState::Offline)));
    let as_of = format!(
        "as of {}",
        last.with_timezone(&chrono::Local).format("%H:%M")
    );
    assert_eq!(
        words_told(&said(&mut events).await),
        [("a", as_of.as_str()), ("b", as_of.as_str())]
    );
    advance(Duration::from_secs(3 * 3600)).await;
    assert_eq!(said(&mut events).await, vec![]);
    monitor.on_engine_event(EngineEvent::Status(status(EngineState::Ok)));
    assert_eq!(
        words_told(&said(&mut events).await),
        [("a", "for 4 h"), ("b", "for 6 h")]
    );
    keeper.abort();
}

#[tokio::test(start_paused = true)]
async fn words_told_with_a_change_are_not_told_again() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, mut events) = monitor(&dir, &["a"]);
    let keeper = running(
        &monitor,
        |m| async move { m.keep_time_words_current().await },
    );
    // Nothing known: nothing to say, and nothing to wait for.
    assert_eq!(said(&mut events).await, vec![]);

    let mut seen = LastSeen::new();
    seen.apply(
        &["a".to_string()],
        vec![presence("a", "Away")],
        monitor.clock.now(),
    );
    monitor.state.lock().unwrap().engine = Some(EngineHandle::holding(seen));
    monitor.on_engine_event(available(&monitor, "a"));
    let heard = said(&mut events).await;
    let [MonitorEvent::Presence(changed)] = heard.as_slice() else {
        panic!("the change alone: {heard:?}");
    };
    assert_eq!(changed[0].since_words, "just now");
    advance(Duration::from_secs(60)).await;
    assert_eq!(words_told(&said(&mut events).await), [("a", "for 1 min")]);
    keeper.abort();
}

fn words_told(events: &[MonitorEvent]) -> Vec<(&str, &str)> {
    let mut told = Vec::new();
    for e in events {
        match e {
            MonitorEvent::TimeWords(changed) => told.extend(
                changed
                    .iter()
                    .map(|c| (c.id.as_str(), c.since_words.as_str())),
            ),
            MonitorEvent::Status(_) => {}
            other => panic!("only words about time were expected, not {other:?}"),
        }
    }
    told
}

#[tokio::test(start_paused = true)]
async fn the_time_of_day_there_is_told_again_each_minute_and_a_calendar_turned_off_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, mut events) = monitor(&dir, &["far"]);
    let start = monitor.clock.now();
    let far = Outlook {
        outside_working_hours: true,
        // Their clock is 8 h 30 min behind UTC: 00:30 when it is 09:00.
        utc_offset_minutes: Some(-510),
        ..Outlook::default()
    };
    monitor
        .state
        .lock()
        .unwrap()
        .outlooks
        .insert("far".into(), far);
    let keeper = running(
        &monitor,
        |m| async move { m.keep_time_words_current().await },
    );
    let calendar_told = |events: Vec<MonitorEvent>| -> Vec<Vec<String>> {
        events
            .into_iter()
            .flat_map(|e| match e {
                MonitorEvent::TimeWords(changed) => changed
                    .into_iter()
                    .map(|c| c.calendar_words)
                    .collect::<Vec<_>>(),
                other => panic!("only words about time were expected, not {other:?}"),
            })
            .collect()
    };
    assert_eq!(start.format("%H:%M").to_string(), "09:00");
    assert_eq!(
        calendar_told(said(&mut events).await),
        [["outside working hours (00:30 there)"]]
    );
    advance(Duration::from_secs(59)).await;
    assert_eq!(said(&mut events).await, vec![]);
    advance(Duration::from_secs(1)).await;
    assert_eq!(
        calendar_told(said(&mut events).await),
        [["outside working hours (00:31 there)"]]
    );

    // The calendar turned off: the roster is told again without outlooks,
    // and the minute's tick says nothing more.
    monitor.state.lock().unwrap().outlooks.clear();
    monitor.emit_roster();
    let heard = said(&mut events).await;
    let [MonitorEvent::Roster(everyone)] = heard.as_slice() else {
        panic!("the roster alone: {heard:?}");
    };
    assert!(everyone[0].calendar_words.is_empty());
    advance(Duration::from_secs(120)).await;
    assert_eq!(said(&mut events).await, vec![]);
    keeper.abort();
}
