//! A person setting their own status: `setUserPreferredPresence`,
//! `clearUserPreferredPresence` and `setStatusMessage`, as a client sees them.

mod common;

use common::*;
use presently_sim::{PresenceUpdate, Sim, SimConfig};
use serde_json::{json, Value};

const WRITE_SCOPES: &str = "User.Read Presence.Read.All Presence.ReadWrite offline_access";

async fn post(sim: &Sim, token: &str, path: &str, body: Value) -> (u16, Value) {
    let resp = client()
        .post(format!("{}{path}", sim.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Plays `minutes` of the day with `me` kept at work (signed in to Teams):
/// a preferred presence shows only while they have a session, and the
/// simulated day would otherwise send them home whenever their hours end.
fn advance_at_work(sim: &Sim, me: &str, mut minutes: u32) {
    while minutes > 0 {
        // A presence set from outside holds for 30 simulated minutes.
        let step = minutes.min(25);
        keep_at_work(sim, me);
        sim.advance(step).unwrap();
        minutes -= step;
    }
}

fn keep_at_work(sim: &Sim, me: &str) {
    sim.set_presence(
        me,
        PresenceUpdate {
            availability: "Available".into(),
            activity: "Available".into(),
            ..Default::default()
        },
    )
    .unwrap();
}

/// A simulator where `users()[0]` is at work (so has a Teams session) and
/// a token for them that may write their presence.
async fn at_work() -> (Sim, String, String) {
    let sim = start(config()).await;
    let me = sim.users()[0].id.clone();
    keep_at_work(&sim, &me);
    let token = sim.issue_tokens(&me, WRITE_SCOPES).access_token;
    (sim, me, token)
}

fn shown(body: &Value) -> (String, String) {
    (
        body["availability"].as_str().unwrap_or_default().to_owned(),
        body["activity"].as_str().unwrap_or_default().to_owned(),
    )
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[tokio::test]
async fn a_preferred_presence_shows_everywhere_until_it_expires_or_is_cleared() {
    let (sim, me, token) = at_work().await;
    let path = format!("/v1.0/users/{me}/presence/setUserPreferredPresence");
    let (status, body) = post(
        &sim,
        &token,
        &path,
        json!({"availability": "DoNotDisturb", "activity": "DoNotDisturb", "expirationDuration": "PT1H"}),
    )
    .await;
    assert_eq!((status, body), (200, Value::Null), "200 with no body");
    assert_eq!(
        shown(&get(&sim, &token, "/v1.0/me/presence").await.1),
        pair("DoNotDisturb", "DoNotDisturb")
    );
    let batch = presences(&sim, &token, std::slice::from_ref(&me)).await;
    let batch: Value = batch.json().await.unwrap();
    assert_eq!(
        shown(&batch["value"][0]),
        pair("DoNotDisturb", "DoNotDisturb")
    );

    advance_at_work(&sim, &me, 59);
    assert_eq!(sim.presence(&me).unwrap().availability, "DoNotDisturb");
    sim.advance(1).unwrap();
    assert_ne!(
        sim.presence(&me).unwrap().availability,
        "DoNotDisturb",
        "an hour later it has expired"
    );

    // Without a duration Graph keeps Busy for a day.
    post(
        &sim,
        &token,
        &path,
        json!({"availability": "Busy", "activity": "Busy"}),
    )
    .await;
    advance_at_work(&sim, &me, 23 * 60);
    assert_eq!(
        shown(&get(&sim, &token, "/v1.0/me/presence").await.1).0,
        "Busy"
    );
    let clear = format!("/v1.0/users/{me}/presence/clearUserPreferredPresence");
    assert_eq!(post(&sim, &token, &clear, json!({})).await.0, 200);
    assert_ne!(
        shown(&get(&sim, &token, "/v1.0/me/presence").await.1).0,
        "Busy"
    );
}

#[tokio::test]
async fn bad_pairs_and_durations_are_refused_as_graph_does() {
    let (sim, me, token) = at_work().await;
    let path = format!("/v1.0/users/{me}/presence/setUserPreferredPresence");
    for body in [
        json!({"availability": "Busy", "activity": "InACall"}),
        json!({"availability": "Offline", "activity": "Offline"}),
        json!({"availability": "Available"}),
        json!({"availability": "Away", "activity": "Away", "expirationDuration": "1 hour"}),
        json!({"availability": "Away", "activity": "Away", "expirationDuration": "PT0S"}),
        json!({"availability": "Away", "activity": "Away", "expirationDuration": 60}),
    ] {
        let (status, answer) = post(&sim, &token, &path, body.clone()).await;
        assert_eq!((status, graph_code(&answer)), (400, "BadRequest"), "{body}");
    }
    assert_eq!(
        sim.presence(&me).unwrap().availability,
        "Available",
        "nothing changed"
    );
    // Offline/OffWork is the one spelling of "appear offline"; case does not matter.
    let (status, _) = post(
        &sim,
        &token,
        &path,
        json!({"availability": "offline", "activity": "offWork"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        shown(&get(&sim, &token, "/v1.0/me/presence").await.1),
        pair("Offline", "OffWork")
    );
}

#[tokio::test]
async fn writing_needs_presence_read_write_and_ones_own_id() {
    let (sim, me, writer) = at_work().await;
    let reader = token(&sim);
    let body = json!({"availability": "Away", "activity": "Away"});
    let mine = format!("/v1.0/users/{me}/presence/setUserPreferredPresence");
    let (status, answer) = post(&sim, &reader, &mine, body.clone()).await;
    assert_eq!(
        (status, graph_code(&answer)),
        (403, "Authorization_RequestDenied")
    );
    let message = format!("/v1.0/users/{me}/presence/setStatusMessage");
    let (status, _) = post(
        &sim,
        &reader,
        &message,
        json!({"statusMessage": {"message": {"content": "x"}}}),
    )
    .await;
    assert_eq!(status, 403);

    let someone = sim.users()[1].id.clone();
    let theirs = format!("/v1.0/users/{someone}/presence/setUserPreferredPresence");
    let before = sim.presence(&someone).unwrap();
    assert_eq!(post(&sim, &writer, &theirs, body.clone()).await.0, 403);
    assert_eq!(sim.presence(&someone).unwrap(), before);

    sim.set_presence_available(false);
    assert_eq!(
        post(&sim, &writer, &mine, body).await.0,
        404,
        "a cloud without presence"
    );
}

#[tokio::test]
async fn a_status_message_with_an_expiry_is_seen_by_its_owner_with_the_expiry() {
    let (sim, me, token) = at_work().await;
    let path = format!("/v1.0/users/{me}/presence/setStatusMessage");
    let expiry = chrono::Utc::now() + chrono::Duration::minutes(90);
    let date_time = expiry.format("%Y-%m-%dT%H:%M:%S.0000000").to_string();
    let (status, _) = post(
        &sim,
        &token,
        &path,
        json!({"statusMessage": {
            "message": {"content": "Back at 3", "contentType": "text"},
            "expiryDateTime": {"dateTime": date_time, "timeZone": "UTC"},
        }}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, own) = get(&sim, &token, "/v1.0/me/presence").await;
    assert_eq!(
        own["statusMessage"]["message"],
        json!({"content": "Back at 3", "contentType": "text"})
    );
    assert_eq!(own["statusMessage"]["expiryDateTime"]["timeZone"], "UTC");
    assert!(own["statusMessage"]["publishedDateTime"]["dateTime"].is_string());

    sim.advance(89).unwrap();
    assert_eq!(
        sim.presence(&me).unwrap().status_message.as_deref(),
        Some("Back at 3")
    );
    sim.advance(2).unwrap();
    assert_eq!(sim.presence(&me).unwrap().status_message, None, "expired");

    for bad in [
        json!({"statusMessage": {"message": {"content": "x"}, "expiryDateTime": {"dateTime": "2000-01-01T00:00:00", "timeZone": "UTC"}}}),
        json!({"statusMessage": {"message": {"content": "x"}, "expiryDateTime": {"dateTime": "tomorrow", "timeZone": "UTC"}}}),
        json!({"statusMessage": {"message": {"content": "x", "contentType": "markdown"}}}),
        json!({"statusMessage": {}}),
        json!({}),
    ] {
        let (status, answer) = post(&sim, &token, &path, bad.clone()).await;
        assert_eq!((status, graph_code(&answer)), (400, "BadRequest"), "{bad}");
    }

    post(
        &sim,
        &token,
        &path,
        json!({"statusMessage": {"message": {"content": "Lunch"}}}),
    )
    .await;
    assert_eq!(
        sim.presence(&me).unwrap().status_message.as_deref(),
        Some("Lunch")
    );
    post(
        &sim,
        &token,
        &path,
        json!({"statusMessage": {"message": {"content": "", "contentType": "text"}}}),
    )
    .await;
    assert_eq!(
        sim.presence(&me).unwrap().status_message,
        None,
        "an empty message clears it"
    );
}

#[tokio::test]
async fn the_clock_is_advanced_through_the_control_api_within_bounds() {
    let sim = start(SimConfig {
        users: 5,
        ..config()
    })
    .await;
    let c = client();
    let url = format!("{}/_sim/advance", sim.url());
    let resp = c
        .post(&url)
        .json(&json!({"minutes": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.json::<Value>().await.unwrap()["changed"].is_u64());
    let too_far = c
        .post(&url)
        .json(&json!({"minutes": presently_sim::MAX_ADVANCE_MINUTES + 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_far.status(), 400);
}
