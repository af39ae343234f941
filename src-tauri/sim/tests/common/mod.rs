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

/// RFC 7636 appendix B's example: a code verifier and its `S256` challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// A loopback redirect URI, as a desktop app listens on.
pub const REDIRECT_URI: &str = "http://localhost:53682/";

/// A browser that does not follow redirects, so that a test sees where the
/// simulator sends it. No timeout and no pooled connections: both would
/// start timers, which paused time would fire while a request waits.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client")
}

/// The query of a good authorization request, to change field by field.
pub fn authorize_params(scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", CLIENT_ID.to_owned()),
        ("response_type", "code".to_owned()),
        ("redirect_uri", REDIRECT_URI.to_owned()),
        ("scope", scope.to_owned()),
        ("state", "s-42 &=".to_owned()),
        ("code_challenge", CHALLENGE.to_owned()),
        ("code_challenge_method", "S256".to_owned()),
    ]
}

/// Sets (`Some`) or removes (`None`) a field of a query.
pub fn with(
    mut params: Vec<(&'static str, String)>,
    name: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    params.retain(|(k, _)| *k != name);
    if let Some(v) = value {
        params.push((name, v.to_owned()));
    }
    params
}

pub async fn authorize(sim: &Sim, params: &[(&'static str, String)]) -> reqwest::Response {
    browser()
        .get(format!("{}/organizations/oauth2/v2.0/authorize", sim.url()))
        .query(params)
        .send()
        .await
        .expect("sent")
}

/// The `Location` of a redirect, split into the URI before the query and
/// the query's fields.
pub fn redirected(resp: &reqwest::Response) -> (String, std::collections::HashMap<String, String>) {
    assert_eq!(resp.status(), 302, "a redirect");
    let location = resp.headers()["location"].to_str().expect("ASCII");
    let url = url::Url::parse(location).expect("a URL");
    let fields = url.query_pairs().into_owned().collect();
    let base = location.split('?').next().unwrap_or_default().to_owned();
    (base, fields)
}

/// The id of the pending request in a sign-in page's form.
pub fn request_id(html: &str) -> String {
    let start = html
        .find("name=\"request\" value=\"")
        .expect("the form names its request")
        + "name=\"request\" value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

pub async fn redeem_code(
    sim: &Sim,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let resp = browser()
        .post(format!("{}/organizations/oauth2/v2.0/token", sim.url()))
        .form(&form)
        .send()
        .await
        .expect("sent");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

/// The AADSTS number at the start of an `error_description`.
pub fn aadsts(description: &str) -> u32 {
    let digits: String = description
        .strip_prefix("AADSTS")
        .unwrap_or_else(|| panic!("not an AADSTS description: {description}"))
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("a number")
}
