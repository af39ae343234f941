//! Sign-in against the simulated tenant: the device-code flow and each of its
//! endings, silent refresh with rotating refresh tokens, and revocation.
//!
//! The device-code flow's waits run on paused time (see the engine's tests
//! for why the simulator allows it). A renewal is due by the wall clock, as
//! a sign-in's expiry is a date kept in the keyring: the tests of renewal
//! wait in real time.

use std::sync::Arc;
use std::time::Duration;

use presently_core::auth::{self, Session, SignInFlow, StoredSignIn};
use presently_core::config::{Overrides, Settings};
use presently_core::token_store::TokenStore;
use presently_core::Error;
use presently_sim::{Fault, FaultKind, Sim, SimConfig};

mod common;
use common::{fresh_install, settings_for};

fn quick_sim_config() -> SimConfig {
    SimConfig {
        poll_interval: Duration::from_secs(1),
        auto_presence: false,
        ..Default::default()
    }
}

/// Waits until the simulator has a code pending approval, then returns it.
async fn pending_code(sim: &Sim) -> String {
    for _ in 0..200 {
        if let Some(code) = sim.pending_codes().into_iter().next() {
            return code;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no device code was requested");
}

async fn sign_in(sim: &Sim, settings: &Settings, store: Arc<dyn TokenStore>) -> StoredSignIn {
    let flow = SignInFlow::new(settings).unwrap();
    let code = flow.start().await.unwrap();
    sim.approve(&code.user_code, None).unwrap();
    let tokens = flow.wait(&code).await.unwrap();
    flow.complete(tokens, store).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn device_code_flow_signs_in_and_stores_the_sign_in() {
    let sim = Sim::start(quick_sim_config()).await.unwrap();
    let (_dir, settings, store) = fresh_install(&sim);

    let flow = SignInFlow::new(&settings).unwrap();
    let code = flow.start().await.unwrap();
    assert!(
        code.verification_uri.starts_with(&sim.url()),
        "{}",
        code.verification_uri
    );
    assert!(code.message.contains(&code.user_code));
    assert_eq!(code.interval, Duration::from_secs(1));

    let waiting = tokio::spawn(async move {
        let tokens = flow.wait(&code).await?;
        flow.complete(tokens, store.clone())
            .await
            .map(|s| (s, store))
    });
    let user_code = pending_code(&sim).await;
    sim.approve(&user_code, None).unwrap();
    let (signed_in, store) = waiting.await.unwrap().unwrap();

    let me = &sim.users()[0];
    assert_eq!(signed_in.account.id, me.id);
    assert_eq!(signed_in.account.username, me.user_principal_name);
    assert_eq!(signed_in.account.tenant, "organizations");
    let loaded = StoredSignIn::load(&settings, store.as_ref())
        .unwrap()
        .unwrap();
    assert_eq!(loaded.account, signed_in.account);
    assert!(
        loaded.tokens.refresh_token.is_some(),
        "offline_access brings a refresh token"
    );

    // The token exchange polled no faster than the interval.
    let polls: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some("urn:ietf:params:oauth:grant-type:device_code"))
        .collect();
    assert!(!polls.is_empty());
    for pair in polls.windows(2) {
        assert!(pair[1].at - pair[0].at >= Duration::from_millis(950));
    }
}

#[tokio::test(start_paused = true)]
async fn a_busy_service_is_waited_out_while_the_code_is_polled() {
    let sim = Sim::start(quick_sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flow = SignInFlow::new(&settings_for(&sim, dir.path())).unwrap();
    let code = flow.start().await.unwrap();
    let token_path = "/organizations/oauth2/v2.0/token".to_string();
    // RFC 8628 section 3.5: a 503, then a 500 with Retry-After, then a
    // dropped connection, and the flow keeps polling until it is approved.
    sim.inject(Fault::status(503, None).on(&token_path));
    sim.inject(Fault::status(500, Some("1")).on(&token_path));
    sim.inject(Fault::new(FaultKind::Drop).on(&token_path));
    sim.approve(&code.user_code, None).unwrap();
    let tokens = tokio::time::timeout(Duration::from_secs(60), flow.wait(&code))
        .await
        .expect("the flow finishes")
        .expect("the sign-in succeeds after the service recovers");
    assert!(!tokens.access_token.expose().is_empty());
    let polls = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == token_path)
        .count();
    assert!(polls >= 4, "{polls} polls");
}

#[tokio::test(start_paused = true)]
async fn declined_expired_and_consent_required_each_end_the_flow() {
    let sim = Sim::start(SimConfig {
        device_code_lifetime: Duration::from_secs(2),
        ..quick_sim_config()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flow = SignInFlow::new(&settings_for(&sim, dir.path())).unwrap();

    let code = flow.start().await.unwrap();
    sim.decline(&code.user_code).unwrap();
    assert!(matches!(flow.wait(&code).await, Err(Error::SignInDeclined)));

    let code = flow.start().await.unwrap();
    sim.approve_without_consent(&code.user_code).unwrap();
    match flow.wait(&code).await {
        Err(e @ Error::ConsentRequired(_)) => {
            assert!(e.to_string().contains("AADSTS65001"), "{e}");
        }
        other => panic!("expected consent required, got {other:?}"),
    }

    let code = flow.start().await.unwrap();
    assert!(matches!(flow.wait(&code).await, Err(Error::SignInExpired)));
}

#[tokio::test]
async fn an_unreachable_service_is_a_network_error() {
    // Bind and drop a listener to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::resolve(&Overrides {
        login_url: Some(format!("http://127.0.0.1:{port}")),
        graph_url: Some(format!("http://127.0.0.1:{port}")),
        config_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    let err = SignInFlow::new(&settings)
        .unwrap()
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "offline");
    assert!(
        err.to_string()
            .contains("Could not reach the sign-in service"),
        "{err}"
    );
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire_and_refresh_tokens_rotate() {
    let sim = Sim::start(SimConfig {
        access_token_lifetime: Duration::from_secs(2),
        ..quick_sim_config()
    })
    .await
    .unwrap();
    let (_dir, settings, store) = fresh_install(&sim);
    let first = sign_in(&sim, &settings, store.clone()).await;

    let session = Session::resume(&settings, store.clone()).await.unwrap();
    assert_eq!(
        session.current_token().await.unwrap(),
        first.tokens.access_token
    );
    // A quarter of a 2 s life before the end, the next call renews.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let renewed = session.current_token().await.unwrap();
    assert_ne!(renewed, first.tokens.access_token);

    let stored = StoredSignIn::load(&settings, store.as_ref())
        .unwrap()
        .unwrap();
    assert_eq!(stored.tokens.access_token, renewed);
    let new_refresh = stored.tokens.refresh_token.clone().unwrap();
    let old_refresh = first.tokens.refresh_token.clone().unwrap();
    assert_ne!(
        new_refresh, old_refresh,
        "the rotated refresh token replaced the old one"
    );

    // The spent refresh token no longer works at the service.
    let answer = reqwest::Client::new()
        .post(settings.oauth_url("token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", settings.client_id.as_str()),
            ("refresh_token", old_refresh.expose()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_revoked_sign_in_signs_out_with_the_reason_and_removes_the_tokens() {
    let sim = Sim::start(quick_sim_config()).await.unwrap();
    let (_dir, settings, store) = fresh_install(&sim);
    sign_in(&sim, &settings, store.clone()).await;
    let session = Session::resume(&settings, store.clone()).await.unwrap();

    sim.revoke_all();
    use presently_core::auth::AccessTokens;
    let err = session.token_rejected().await.unwrap_err();
    assert!(err.needs_sign_in());
    assert!(err.to_string().contains("signed out because"), "{err}");
    assert!(StoredSignIn::load(&settings, store.as_ref())
        .unwrap()
        .is_none());
    // The session stays ended, with the same reason, without asking again.
    let requests_before = sim.requests().len();
    let again = session.current_token().await.unwrap_err();
    assert_eq!(again.to_string(), err.to_string());
    assert_eq!(sim.requests().len(), requests_before);
}

#[tokio::test]
async fn two_processes_sharing_a_sign_in_do_not_sign_each_other_out() {
    let sim = Sim::start(SimConfig {
        access_token_lifetime: Duration::from_secs(2),
        ..quick_sim_config()
    })
    .await
    .unwrap();
    let (_dir, settings, store) = fresh_install(&sim);
    sign_in(&sim, &settings, store.clone()).await;
    // The tray app and `presently watch` both start from the same keyring entry.
    let tray = Session::resume(&settings, store.clone()).await.unwrap();
    let watch = Session::resume(&settings, store.clone()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1600)).await;
    tray.current_token().await.unwrap();
    // `watch` still holds the refresh token the tray app just spent.
    let token = watch.current_token().await.unwrap();
    assert!(!token.expose().is_empty());
    assert!(StoredSignIn::load(&settings, store.as_ref())
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_locked_keyring_is_a_clear_error_and_nothing_is_lost() {
    let sim = Sim::start(quick_sim_config()).await.unwrap();
    let (_dir, settings, store) = fresh_install(&sim);
    sign_in(&sim, &settings, store.clone()).await;
    store.set_locked(true);
    let err = Session::resume(&settings, store.clone()).await.unwrap_err();
    assert_eq!(err.code(), "keyring");
    store.set_locked(false);
    assert!(Session::resume(&settings, store.clone()).await.is_ok());
}

#[tokio::test]
async fn tokens_never_show_in_debug_output() {
    let sim = Sim::start(quick_sim_config()).await.unwrap();
    let (_dir, settings, store) = fresh_install(&sim);
    let stored = sign_in(&sim, &settings, store.clone()).await;
    let session = Session::resume(&settings, store.clone()).await.unwrap();
    let access = stored.tokens.access_token.expose().to_string();
    let refresh = stored
        .tokens
        .refresh_token
        .as_ref()
        .unwrap()
        .expose()
        .to_string();
    for text in [
        format!("{stored:?}"),
        format!("{session:?}"),
        format!("{:?}", stored.tokens),
    ] {
        assert!(
            !text.contains(&access) && !text.contains(&refresh),
            "{text}"
        );
    }
    assert!(auth::sign_out(&settings, store.as_ref()).unwrap());
    assert!(!auth::sign_out(&settings, store.as_ref()).unwrap());
}
