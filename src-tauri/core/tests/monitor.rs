//! The desktop app's monitor: sign-in started from a window, where people
//! click twice.

use std::sync::Arc;
use std::time::Duration;

use presently_core::config::{Overrides, Settings};
use presently_core::monitor::{Monitor, SignInState};
use presently_core::notify::Notifier;
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
