//! Setting one's own status against the simulator: the permission asked
//! for on first use and kept on renewal, the presence and message that
//! follow and expire, and the China cloud refused before anything is sent.

mod common;
use common::{consent_to, fresh_install, settings, sign_in};

use std::sync::Arc;
use std::time::Duration;

use presently_core::auth::{self, SignInFlow, PRESENCE_WRITE_SCOPE};
use presently_core::config::{Settings, GROUP_SCOPE};
use presently_core::graph::GraphClient;
use presently_core::my_status::{self, Access, OwnStatus, StatusChoice};
use presently_core::token_store::{MemoryStore, TokenStore};
use presently_core::Error;
use presently_sim::{PresenceUpdate, Sim, SimConfig};

async fn approving_sim() -> Sim {
    Sim::start(SimConfig {
        poll_interval: Duration::from_secs(1),
        auto_presence: false,
        auto_approve: true,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// `users()[0]` at work: a preferred presence shows only with a Teams session.
fn at_work(sim: &Sim) {
    let update = PresenceUpdate {
        availability: "Available".into(),
        activity: "Available".into(),
        ..Default::default()
    };
    sim.set_presence(&sim.users()[0].id, update).unwrap();
}

/// Signed in with the usual permissions and `--groups`, then consent to
/// writing presence on first use: the session that results.
async fn consented(
    sim: &Sim,
    settings: &Settings,
    store: Arc<dyn TokenStore>,
) -> Arc<auth::Session> {
    sign_in(
        SignInFlow::new(settings).unwrap().with_group_access(),
        store.clone(),
    )
    .await;
    let access = my_status::access(settings, store.clone()).await.unwrap();
    let stored = consent_to(sim, access, PRESENCE_WRITE_SCOPE, store.clone()).await;
    my_status::after_consent(settings, store, stored).unwrap()
}

#[tokio::test]
async fn the_permission_is_asked_for_once_and_kept_with_the_ones_before() {
    let sim = approving_sim().await;
    let (_dir, settings, store) = fresh_install(&sim);
    let session = consented(&sim, &settings, store.clone()).await;
    let granted = session.granted().await;
    assert!(auth::grants(&granted, PRESENCE_WRITE_SCOPE), "{granted}");
    assert!(
        auth::grants(&granted, GROUP_SCOPE),
        "group access kept: {granted}"
    );

    // Stored: the next command needs no sign-in.
    assert!(matches!(
        my_status::access(&settings, store.clone()).await.unwrap(),
        Access::Ready(_)
    ));
    // Renewing asks for what was granted, so the permission survives it.
    session.renew_after_rejection(None).await.unwrap();
    let renewed = session.granted().await;
    assert!(auth::grants(&renewed, PRESENCE_WRITE_SCOPE), "{renewed}");
    assert!(auth::grants(&renewed, GROUP_SCOPE), "{renewed}");
}

#[tokio::test]
async fn a_chosen_presence_and_message_show_and_expire() {
    let sim = approving_sim().await;
    let (_dir, settings, store) = fresh_install(&sim);
    let session = consented(&sim, &settings, store).await;
    let account = session.account().clone();
    let own = OwnStatus::new(GraphClient::new(&settings, session).unwrap(), &account);
    at_work(&sim);

    own.set(StatusChoice::DoNotDisturb, Some(Duration::from_secs(3600)))
        .await
        .unwrap();
    let now = own.read().await.unwrap();
    assert_eq!(now.in_words(), "Do not disturb");
    assert_eq!(now.to_json()["activity"], "DoNotDisturb");
    let sent = sim
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/setUserPreferredPresence"))
        .unwrap();
    assert!(
        sent.path.contains(&account.id),
        "on my own id: {}",
        sent.path
    );

    sim.advance(25).unwrap();
    at_work(&sim);
    sim.advance(25).unwrap();
    at_work(&sim);
    sim.advance(10).unwrap();
    assert_ne!(
        own.read().await.unwrap().in_words(),
        "Do not disturb",
        "an hour later"
    );

    own.set(StatusChoice::Offline, None).await.unwrap();
    assert_eq!(own.read().await.unwrap().in_words(), "Offline (Off work)");
    own.clear().await.unwrap();
    assert_eq!(own.read().await.unwrap().in_words(), "Available");

    let before = chrono::Utc::now();
    own.set_message("Back at 3 & then some", Some(Duration::from_secs(90 * 60)))
        .await
        .unwrap();
    let read = own.read().await.unwrap();
    assert_eq!(read.message(), Some("Back at 3 & then some"));
    let expires = read.message_expires.expect("my own message's end");
    let minutes = (expires - before).num_minutes();
    assert!((89..=91).contains(&minutes), "ends in {minutes} minutes");
    sim.advance(92).unwrap();
    assert_eq!(own.read().await.unwrap().message(), None, "expired");

    own.set_message("No end", None).await.unwrap();
    let read = own.read().await.unwrap();
    assert_eq!(
        (read.message(), read.message_expires),
        (Some("No end"), None)
    );
    own.clear_message().await.unwrap();
    assert_eq!(own.read().await.unwrap().message(), None);

    for bad in ["   ", &"x".repeat(281)] {
        let e = own.set_message(bad, None).await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    }
}

#[tokio::test]
async fn the_china_cloud_is_refused_before_anything_is_sent() {
    let sim = approving_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&sim, dir.path(), Some("china"));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    sim.clear_log();
    let Err(e) = my_status::access(&settings, store).await else {
        panic!("China was not refused");
    };
    assert!(e.to_string().contains("not available in the China"), "{e}");
    assert!(sim.requests().is_empty(), "nothing sent");
}
