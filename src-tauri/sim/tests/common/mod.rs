//! Helpers shared by the simulator's integration tests.
#![allow(dead_code)] // each test binary uses its own share of these

use std::time::Duration;

use presently_sim::{Sim, SimConfig};
use serde_json::Value;

/// Microsoft Graph Command Line Tools, a real public client id.
pub const CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const ALL_SCOPES: &str =
    "https://graph.microsoft.com/Presence.Read.All User.Read User.ReadBasic.All \
People.Read GroupMember.Read.All Team.ReadBasic.All offline_access openid profile";

/// What the tests start from: quiet presence, a 1 s polling interval.
pub fn config() -> SimConfig {
    SimConfig {
        auto_presence: false,
        poll_interval: Duration::from_secs(1),
        ..SimConfig::default()
    }
}

pub async fn start(config: SimConfig) -> Sim {
    Sim::start(config).await.expect("the simulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
}

/// A signed-in access token for `users()[0]` with every scope the app asks for.
pub fn token(sim: &Sim) -> String {
    sim.issue_tokens(&sim.users()[0].id, ALL_SCOPES)
        .access_token
}

pub async fn get(sim: &Sim, token: &str, path: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{}{path}", sim.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub async fn presences(sim: &Sim, token: &str, ids: &[String]) -> reqwest::Response {
    client()
        .post(format!(
            "{}/v1.0/communications/getPresencesByUserId",
            sim.url()
        ))
        .bearer_auth(token)
        .json(&serde_json::json!({ "ids": ids }))
        .send()
        .await
        .expect("sent")
}

pub async fn device_code(sim: &Sim, scope: &str) -> Value {
    let resp = client()
        .post(format!(
            "{}/organizations/oauth2/v2.0/devicecode",
            sim.url()
        ))
        .form(&[("client_id", CLIENT_ID), ("scope", scope)])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("json")
}

pub async fn token_request(sim: &Sim, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client()
        .post(format!("{}/organizations/oauth2/v2.0/token", sim.url()))
        .form(form)
        .send()
        .await
        .expect("sent");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

pub async fn poll(sim: &Sim, device_code: &str) -> (u16, Value) {
    token_request(
        sim,
        &[
            ("grant_type", DEVICE_CODE_GRANT),
            ("client_id", CLIENT_ID),
            ("device_code", device_code),
        ],
    )
    .await
}

pub async fn refresh(sim: &Sim, refresh_token: &str) -> (u16, Value) {
    token_request(
        sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// The `error` of an Entra ID error body, checking the body's shape on the way.
pub fn entra_error(body: &Value) -> &str {
    let description = body["error_description"]
        .as_str()
        .expect("error_description");
    assert!(description.starts_with("AADSTS"), "{description}");
    assert!(body["error_codes"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));
    assert!(
        body["trace_id"].is_string()
            && body["correlation_id"].is_string()
            && body["timestamp"].is_string()
    );
    body["error"].as_str().expect("error")
}

/// The `code` of a Graph error body.
pub fn graph_code(body: &Value) -> &str {
    assert!(
        body["error"]["message"].is_string(),
        "Graph error shape: {body}"
    );
    body["error"]["code"].as_str().expect("code")
}
