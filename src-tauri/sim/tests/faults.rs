//! Injected faults, each as a client meets it.

mod common;

use std::time::{Duration, Instant};

use common::*;
use presently_sim::{Fault, FaultKind};
use serde_json::Value;

#[tokio::test]
async fn status_faults_answer_with_the_status_and_retry_after() {
    let sim = start(config()).await;
    let token = token(&sim);
    let date = "Wed, 21 Oct 2037 07:28:00 GMT";
    sim.inject(Fault::status(503, Some("3")).on("/v1.0/me").times(2));
    sim.inject(Fault::status(429, Some(date)).on("/v1.0/users"));

    for _ in 0..2 {
        let resp = client()
            .get(format!("{}/v1.0/me", sim.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], "3");
        assert_eq!(
            graph_code(&resp.json().await.unwrap()),
            "ServiceUnavailable"
        );
    }
    assert_eq!(
        get(&sim, &token, "/v1.0/me").await.0,
        200,
        "the fault was used up"
    );

    let resp = client()
        .get(format!("{}/v1.0/users", sim.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], date);

    let faults: Vec<_> = sim.requests().iter().map(|r| r.fault.clone()).collect();
    assert_eq!(faults[0].as_deref(), Some("status 503"));
    assert_eq!(faults[2], None);
}

#[tokio::test]
async fn faults_can_hit_the_token_endpoint() {
    let sim = start(config()).await;
    sim.inject(Fault::status(503, None).on("/organizations/oauth2/v2.0/token"));
    let tokens = sim.issue_tokens(&sim.users()[0].id, "User.Read");
    let (status, body) = refresh(&sim, &tokens.refresh_token).await;
    assert_eq!(status, 503);
    assert!(body["error"].is_string() && body["error_description"].is_string());
    let (status, _) = refresh(&sim, &tokens.refresh_token).await;
    assert_eq!(
        status, 200,
        "the faulted request did not use the refresh token up"
    );
}

#[tokio::test]
async fn slow_faults_delay_the_answer() {
    let sim = start(config()).await;
    let token = token(&sim);
    sim.inject(Fault::new(FaultKind::Slow {
        delay: Duration::from_millis(400),
    }));
    let started = Instant::now();
    assert_eq!(get(&sim, &token, "/v1.0/me").await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(get(&sim, &token, "/v1.0/me").await.0, 200);
    let faults: Vec<_> = sim.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        vec![Some("slow 400ms".to_owned()), None],
        "one request slowed"
    );
}

#[tokio::test]
async fn malformed_faults_send_broken_json() {
    let sim = start(config()).await;
    let token = token(&sim);
    sim.inject(Fault::new(FaultKind::Malformed).on("/v1.0/communications/getPresencesByUserId"));
    let ids = vec![sim.users()[1].id.clone()];
    let resp = presences(&sim, &token, &ids).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(!text.is_empty());
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert_eq!(presences(&sim, &token, &ids).await.status(), 200);
}

#[tokio::test]
async fn drop_faults_close_the_connection_without_an_answer() {
    let sim = start(config()).await;
    let token = token(&sim);
    sim.inject(Fault::new(FaultKind::Drop));
    let err = client()
        .get(format!("{}/v1.0/me", sim.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert_eq!(
        get(&sim, &token, "/v1.0/me").await.0,
        200,
        "the next request gets through"
    );
    let first = &sim.requests()[0];
    assert_eq!((first.status, first.fault.as_deref()), (0, Some("drop")));

    sim.inject(Fault::new(FaultKind::Drop).times(5));
    sim.clear_faults();
    assert_eq!(get(&sim, &token, "/v1.0/me").await.0, 200);
}

#[tokio::test]
async fn redirect_faults_send_the_client_elsewhere() {
    let sim = start(config()).await;
    let tokens = sim.issue_tokens(&sim.users()[0].id, "User.Read");
    sim.inject(
        Fault::redirect(307, "https://proxy.example/login?from=token")
            .on("/organizations/oauth2/v2.0/token"),
    );
    let resp = browser()
        .post(format!("{}/organizations/oauth2/v2.0/token", sim.url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", tokens.refresh_token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(
        resp.headers()["location"],
        "https://proxy.example/login?from=token"
    );
    assert!(resp.text().await.unwrap().is_empty());
    assert_eq!(
        refresh(&sim, &tokens.refresh_token).await.0,
        200,
        "the redirected request did not use the refresh token up"
    );
    let logged = &sim.requests()[0];
    assert_eq!(
        (logged.status, logged.fault.as_deref()),
        (307, Some("redirect 307"))
    );

    // Graph requests can be redirected too (the default path).
    sim.inject(Fault::new(FaultKind::Redirect {
        status: 302,
        location: "http://captive.example/".into(),
    }));
    let resp = browser()
        .get(format!("{}/v1.0/me", sim.url()))
        .bearer_auth(token(&sim))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "http://captive.example/");
}

#[tokio::test]
async fn faults_reach_every_sign_in_endpoint() {
    let sim = start(config()).await;
    let endpoints = [
        "/organizations/oauth2/v2.0/devicecode",
        "/organizations/oauth2/v2.0/authorize",
        "/devicelogin",
    ];
    for path in endpoints {
        sim.inject(Fault::status(503, Some("7")).on(path));
    }
    let resp = client()
        .post(format!("{}{}", sim.url(), endpoints[0]))
        .form(&[("client_id", CLIENT_ID), ("scope", "User.Read")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "7");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(entra_error(&body), "temporarily_unavailable");

    let resp = authorize(&sim, &authorize_params("User.Read")).await;
    assert_eq!(
        resp.status(),
        503,
        "a faulted authorize request is not redirected"
    );
    let resp = client()
        .get(format!("{}/devicelogin", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);

    // Used up: each endpoint answers normally again.
    assert_eq!(device_code(&sim, "User.Read").await["interval"], 1);
    assert_eq!(
        authorize(&sim, &authorize_params("User.Read"))
            .await
            .status(),
        200
    );
    let faulted: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.fault.is_some())
        .map(|r| r.path)
        .collect();
    assert_eq!(faulted, endpoints);
}
