//! An app signing in as itself (the client credentials grant, with a secret
//! or a certificate), and what Graph does with its tokens, as a relay meets
//! them. The certificates and keys are test-only fixtures (see
//! `fixtures/README.md`); assertions are signed here with ring.

mod common;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use presently_sim::{PresenceUpdate, Sim, SimConfig, SimError};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde_json::{json, Value};

/// A made-up app registration: the relay's client id.
const APP: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
const OTHER_APP: &str = "0b1f8e4c-7d52-4f0e-9a31-5c2d8e6f4a10";
const CERT: &str = include_str!("fixtures/app.pem");
const KEY: &str = include_str!("fixtures/app.key");
const OTHER_CERT: &str = include_str!("fixtures/app-other.pem");
const OTHER_KEY: &str = include_str!("fixtures/app-other.key");
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The token endpoint of the simulator's tenant, by id: an app names its tenant.
fn token_url(sim: &Sim) -> String {
    format!("{}/{}/oauth2/v2.0/token", sim.url(), sim.tenant_id())
}

async fn post_token(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client().post(url).form(form).send().await.expect("sent");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

async fn with_secret(sim: &Sim, client_id: &str, secret: &str, scope: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", scope),
    ];
    post_token(&token_url(sim), &form).await
}

async fn with_assertion(sim: &Sim, assertion: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
        ("scope", GRAPH_DEFAULT),
    ];
    post_token(&token_url(sim), &form).await
}

/// The AADSTS code and `error` of a token error, and its status.
fn refusal(answer: &(u16, Value)) -> (u16, &str, u32) {
    let (status, body) = answer;
    let error = entra_error(body);
    (
        *status,
        error,
        aadsts(body["error_description"].as_str().unwrap()),
    )
}

fn claims_of(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

fn der(cert_pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .expect("a certificate")
        .as_ref()
        .to_vec()
}

/// `x5t`: the base64url SHA-1 of the certificate's DER.
fn x5t(cert_pem: &str) -> String {
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der(cert_pem));
    URL_SAFE_NO_PAD.encode(sha1.as_ref())
}

/// `x5t#S256`: the base64url SHA-256 of the certificate's DER.
fn x5t_s256(cert_pem: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &der(cert_pem)).as_ref())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims a good assertion of [`APP`] carries, as MSAL writes them.
fn good_claims(sim: &Sim) -> Value {
    let now = now();
    json!({
        "aud": token_url(sim),
        "iss": APP,
        "sub": APP,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    })
}

/// A JWT of `header` and `claims`, signed by `key_pem` with the header's
/// `alg` (PS256, or RS256 for anything else).
fn sign(key_pem: &str, header: &Value, claims: &Value) -> String {
    let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes()).expect("a PKCS #8 key");
    let pair = RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).expect("an RSA key");
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let padding: &'static dyn ring::signature::RsaEncoding = match header["alg"].as_str() {
        Some("PS256") => &RSA_PSS_SHA256,
        _ => &RSA_PKCS1_SHA256,
    };
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        padding,
        &SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .expect("signed");
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn rs256(cert_pem: &str) -> Value {
    json!({"alg": "RS256", "typ": "JWT", "x5t": x5t(cert_pem)})
}

/// A simulator where [`APP`] has a secret and the certificate, with
/// `roles` consented.
async fn sim_with_app(roles: &[&str]) -> (Sim, String) {
    let sim = start(config()).await;
    let secret = sim.add_app_secret(APP).unwrap();
    sim.add_app_certificate(APP, CERT).unwrap();
    sim.set_admin_consent(APP, roles).unwrap();
    (sim, secret)
}

async fn app_token(sim: &Sim, secret: &str) -> String {
    let (status, body) = with_secret(sim, APP, secret, GRAPH_DEFAULT).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn send(sim: &Sim, token: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let url = format!("{}{path}", sim.url());
    let req = match method {
        "GET" => client().get(url),
        _ => client().post(url).json(&body),
    };
    let resp = req.bearer_auth(token).send().await.expect("sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_app_signs_in_with_its_secret_for_the_roles_its_admin_consented() {
    let (sim, secret) = sim_with_app(&["Presence.Read.All"]).await;
    assert_eq!(secret.len(), 40);
    assert_eq!(&secret[3..6], "8Q~", "shaped like Entra ID's secrets");

    let (status, body) = with_secret(&sim, APP, &secret, GRAPH_DEFAULT).await;
    assert_eq!(status, 200, "{body}");
    let mut fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    // No refresh token, no ID token, no scope: an app asks again.
    assert_eq!(
        fields,
        ["access_token", "expires_in", "ext_expires_in", "token_type"]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.len(), sim.config().access_token_chars);
    let claims = claims_of(token);
    assert_eq!(claims["roles"], json!(["Presence.Read.All"]));
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["appid"], APP);
    assert_eq!(claims["appidacr"], "1", "a secret");
    assert_eq!(claims["tid"], sim.tenant_id().to_string());
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert!(claims["oid"].as_str().is_some_and(|o| o.len() == 36));
    assert!(claims.get("scp").is_none() && claims.get("upn").is_none());

    let ids: Vec<String> = sim.users()[..3].iter().map(|u| u.id.clone()).collect();
    let resp = presences(&sim, token, &ids).await;
    assert_eq!(resp.status(), 200);
    let value: Value = resp.json().await.unwrap();
    assert_eq!(value["value"].as_array().unwrap().len(), 3);

    // The request log knows the grant, and never the secret.
    let log = sim.requests();
    assert!(log
        .iter()
        .any(|r| r.grant_type.as_deref() == Some("client_credentials")));
    let written = serde_json::to_string(&log).unwrap();
    assert!(!written.contains(&secret));
    assert!(!format!("{sim:?}").contains(&secret));
}

#[tokio::test]
async fn a_secret_must_be_the_apps_own_and_one_credential_is_needed() {
    let (sim, secret) = sim_with_app(&["Presence.Read.All"]).await;
    let other_secret = sim.add_app_secret(OTHER_APP).unwrap();

    for (client_id, secret) in [(APP, "not-the-secret"), (APP, other_secret.as_str())] {
        let answer = with_secret(&sim, client_id, secret, GRAPH_DEFAULT).await;
        assert_eq!(refusal(&answer), (401, "invalid_client", 7_000_215));
        let description = answer.1["error_description"].as_str().unwrap();
        assert!(description.contains(APP), "{description}");
        assert!(!description.contains(secret), "{description}");
    }
    // An app with two secrets signs in with either, as while rotating them.
    let second = sim.add_app_secret(APP).unwrap();
    assert_ne!(second, secret);
    for s in [&secret, &second] {
        assert_eq!(with_secret(&sim, APP, s, GRAPH_DEFAULT).await.0, 200);
    }

    let url = token_url(&sim);
    let base = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("scope", GRAPH_DEFAULT),
    ];
    let answer = post_token(&url, &base).await;
    assert_eq!(refusal(&answer), (401, "invalid_client", 7_000_218));

    let assertion = sign(KEY, &rs256(CERT), &good_claims(&sim));
    let mut both = base.to_vec();
    both.extend([
        ("client_secret", secret.as_str()),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &assertion),
    ]);
    let answer = post_token(&url, &both).await;
    assert_eq!(refusal(&answer).0, 400);
    assert_eq!(refusal(&answer).1, "invalid_request");
}

#[tokio::test]
async fn the_scope_is_graphs_default_and_the_tenant_is_named() {
    let (sim, secret) = sim_with_app(&["Presence.Read.All"]).await;
    for scope in [
        GRAPH_DEFAULT,
        "https://GRAPH.microsoft.com/.default",
        "00000003-0000-0000-c000-000000000000/.default",
        &format!("{}/.default", sim.url()),
    ] {
        let (status, body) = with_secret(&sim, APP, &secret, scope).await;
        assert_eq!(status, 200, "{scope}: {body}");
    }
    for (scope, code) in [
        ("https://graph.microsoft.com/Presence.Read.All", 1_002_012),
        ("Presence.Read.All", 1_002_012),
        (".default", 1_002_012),
        (
            "https://graph.microsoft.com/.default offline_access",
            1_002_012,
        ),
        ("/.default", 70011),
        ("https://foo.microsoft.com/.default", 70011),
        (
            "https://graph.microsoft.com/.default 00000003-0000-0000-c000-000000000000/.default",
            700_022,
        ),
    ] {
        let answer = with_secret(&sim, APP, &secret, scope).await;
        assert_eq!(refusal(&answer), (400, "invalid_scope", code), "{scope}");
    }
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("client_secret", secret.as_str()),
    ];
    let answer = post_token(&token_url(&sim), &form).await;
    assert_eq!(refusal(&answer), (400, "invalid_request", 900_144));

    // An app acts in one tenant: organizations and common name none.
    let mut form = form.to_vec();
    form.push(("scope", GRAPH_DEFAULT));
    for tenant in ["organizations", "common"] {
        let url = format!("{}/{tenant}/oauth2/v2.0/token", sim.url());
        let answer = post_token(&url, &form).await;
        assert_eq!(
            refusal(&answer),
            (400, "invalid_request", 50059),
            "{tenant}"
        );
    }
    let by_domain = format!("{}/contoso.onmicrosoft.com/oauth2/v2.0/token", sim.url());
    assert_eq!(post_token(&by_domain, &form).await.0, 200);
}

#[tokio::test]
async fn an_app_signs_in_with_a_certificate_rs256_or_ps256() {
    let sim = start(config()).await;
    let thumbprint = sim.add_app_certificate(APP, CERT).unwrap();
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der(CERT));
    let hex: String = sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(
        thumbprint, hex,
        "the portal's thumbprint: SHA-1, upper-case hex"
    );
    sim.set_admin_consent(APP, &["presence.read.all"]).unwrap();

    let rs = sign(KEY, &rs256(CERT), &good_claims(&sim));
    let (status, body) = with_assertion(&sim, &rs).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let claims = claims_of(token);
    assert_eq!(claims["appidacr"], "2", "a certificate");
    assert_eq!(claims["roles"], json!(["Presence.Read.All"]));
    assert!(body.get("refresh_token").is_none());
    let ids = vec![sim.users()[1].id.clone()];
    assert_eq!(presences(&sim, token, &ids).await.status(), 200);

    // Entra ID lets an assertion be used until it expires (MSAL caches them).
    assert_eq!(with_assertion(&sim, &rs).await.0, 200);

    let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": x5t_s256(CERT)});
    let ps = sign(KEY, &header, &good_claims(&sim));
    let (status, body) = with_assertion(&sim, &ps).await;
    assert_eq!(status, 200, "{body}");
    // `aud` may name the tenant by its domain as well as by its id.
    let mut claims = good_claims(&sim);
    claims["aud"] = json!(format!(
        "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
        sim.url()
    ));
    let (status, body) = with_assertion(&sim, &sign(KEY, &header, &claims)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn assertions_are_refused_as_entra_id_refuses_them() {
    let sim = start(config()).await;
    sim.add_app_certificate(APP, CERT).unwrap();
    let good = good_claims(&sim);
    let with = |key: &str, value: Value| {
        let mut claims = good.clone();
        match value {
            Value::Null => {
                claims.as_object_mut().unwrap().remove(key);
            }
            v => claims[key] = v,
        }
        sign(KEY, &rs256(CERT), &claims)
    };
    let now = now();
    let tampered = {
        let signed = sign(KEY, &rs256(CERT), &good);
        let parts: Vec<&str> = signed.split('.').collect();
        let mut claims = good.clone();
        claims["exp"] = json!(now + 86_400);
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            parts[2]
        )
    };
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "x5t": x5t(CERT)}).to_string()),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let cases: Vec<(&str, String, u32)> = vec![
        (
            "signed with another key",
            sign(OTHER_KEY, &rs256(CERT), &good),
            700_027,
        ),
        (
            "a certificate the app has not registered",
            sign(OTHER_KEY, &rs256(OTHER_CERT), &good),
            700_027,
        ),
        ("claims changed after signing", tampered, 700_027),
        ("alg none", unsigned, 700_027),
        (
            "no thumbprint",
            sign(KEY, &json!({"alg": "RS256", "typ": "JWT"}), &good),
            700_027,
        ),
        ("expired", with("exp", json!(now - 600)), 700_024),
        ("not yet valid", with("nbf", json!(now + 600)), 700_024),
        (
            "for another endpoint",
            with(
                "aud",
                json!(format!("{}/organizations/oauth2/v2.0/token", sim.url())),
            ),
            700_023,
        ),
        (
            "for another app",
            {
                let mut claims = good.clone();
                claims["iss"] = json!(OTHER_APP);
                claims["sub"] = json!(OTHER_APP);
                sign(KEY, &rs256(CERT), &claims)
            },
            700_021,
        ),
        ("sub is not iss", with("sub", json!(OTHER_APP)), 50048),
        ("no jti", with("jti", Value::Null), 50027),
        ("no exp", with("exp", Value::Null), 50027),
        ("not a JWT", "not.a.jwt".to_owned(), 50027),
    ];
    for (what, assertion, code) in cases {
        let answer = with_assertion(&sim, &assertion).await;
        assert_eq!(refusal(&answer), (401, "invalid_client", code), "{what}");
    }
    let answer = with_assertion(&sim, &sign(OTHER_KEY, &rs256(OTHER_CERT), &good)).await;
    let description = answer.1["error_description"].as_str().unwrap();
    assert!(
        description.contains("The key was not found") && description.contains(&x5t(OTHER_CERT)),
        "{description}"
    );

    // Within the five minutes of clock skew Entra ID allows, still good.
    let late = with("exp", json!(now - 60));
    assert_eq!(with_assertion(&sim, &late).await.0, 200);

    let assertion = sign(KEY, &rs256(CERT), &good);
    for (kind, code) in [
        (Some("urn:ietf:params:oauth:grant-type:jwt-bearer"), 90100),
        (None, 900_144),
    ] {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_assertion", assertion.as_str()),
            ("scope", GRAPH_DEFAULT),
        ];
        form.extend(kind.map(|k| ("client_assertion_type", k)));
        let answer = post_token(&token_url(&sim), &form).await;
        assert_eq!(refusal(&answer), (400, "invalid_request", code), "{kind:?}");
    }
}

#[tokio::test]
async fn registrations_take_only_what_entra_id_takes() {
    let sim = start(config()).await;
    let refused = |r: presently_sim::Result<String>| match r {
        Err(SimError::InvalidAppRegistration(why)) => why,
        other => panic!("not refused: {other:?}"),
    };
    let why = refused(sim.add_app_certificate(APP, &format!("{CERT}{KEY}")));
    assert!(why.contains("private key"), "{why}");
    let why = refused(sim.add_app_certificate(APP, include_str!("fixtures/ec.pem")));
    assert!(why.contains("RSA"), "{why}");
    let why = refused(sim.add_app_certificate(APP, "not a PEM"));
    assert!(why.contains("CERTIFICATE"), "{why}");
    let why = refused(sim.add_app_secret("relay"));
    assert!(why.contains("GUID"), "{why}");
    match sim.set_admin_consent(APP, &["Presence.Read.All", "User.Read"]) {
        Err(SimError::InvalidAppRegistration(why)) => assert!(why.contains("'User.Read'"), "{why}"),
        other => panic!("a delegated permission consented as an app's: {other:?}"),
    }
}

#[tokio::test]
async fn without_admin_consent_the_token_has_no_roles_and_graph_refuses_it() {
    let (sim, secret) = sim_with_app(&[]).await;
    let ids = vec![sim.users()[1].id.clone()];
    let before = app_token(&sim, &secret).await;
    assert!(claims_of(&before).get("roles").is_none());
    let resp = presences(&sim, &before, &ids).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        graph_code(&resp.json().await.unwrap()),
        "Authorization_RequestDenied"
    );

    sim.set_admin_consent(APP, &["Presence.Read.All"]).unwrap();
    let after = app_token(&sim, &secret).await;
    assert_eq!(presences(&sim, &after, &ids).await.status(), 200);
    // A token keeps the roles it was issued with.
    assert_eq!(presences(&sim, &before, &ids).await.status(), 403);

    sim.set_admin_consent(APP, &[]).unwrap();
    let withdrawn = app_token(&sim, &secret).await;
    assert_eq!(presences(&sim, &withdrawn, &ids).await.status(), 403);
}

#[tokio::test]
async fn graph_serves_an_app_token_only_where_it_takes_application_permissions() {
    let (sim, secret) = sim_with_app(&["Presence.Read.All"]).await;
    let token = app_token(&sim, &secret).await;
    let someone = sim.users()[2].clone();

    // `/me` is nobody for an app.
    for (method, path) in [
        ("GET", "/v1.0/me"),
        ("GET", "/v1.0/me/presence"),
        ("GET", "/v1.0/me/people"),
        ("POST", "/v1.0/me/calendar/getSchedule"),
        ("POST", "/v1.0/me/presence/setStatusMessage"),
    ] {
        let (status, body) = send(&sim, &token, method, path, json!({})).await;
        assert_eq!((status, graph_code(&body)), (400, "BadRequest"), "{path}");
        assert_eq!(
            body["error"]["message"],
            "/me request is only valid with delegated authentication flow."
        );
    }
    let path = format!("/v1.0/users/{}/presence", someone.id);
    let (status, body) = send(&sim, &token, "GET", &path, Value::Null).await;
    assert_eq!(
        (status, body["id"].as_str()),
        (200, Some(someone.id.as_str()))
    );

    // Reading the directory needs User.Read.All; User.ReadBasic.All, an
    // application permission on paper, reads nobody.
    for roles in [vec!["Presence.Read.All"], vec!["User.ReadBasic.All"]] {
        sim.set_admin_consent(APP, &roles).unwrap();
        let token = app_token(&sim, &secret).await;
        for path in [
            "/v1.0/users".to_owned(),
            format!("/v1.0/users/{}", someone.id),
        ] {
            let (status, _) = send(&sim, &token, "GET", &path, Value::Null).await;
            assert_eq!(status, 403, "{roles:?} {path}");
        }
    }
    sim.set_admin_consent(APP, &["User.Read.All"]).unwrap();
    let token = app_token(&sim, &secret).await;
    let (status, body) = send(&sim, &token, "GET", "/v1.0/users?$top=2", Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().unwrap().len(), 2);

    // Writing presence: setUserPreferredPresence for anyone with
    // Presence.ReadWrite.All, which reads presence too; a status message
    // never, as it is a person's own words.
    // At work, so with a Teams session, where a preferred presence shows.
    let at_work = PresenceUpdate {
        availability: "Available".into(),
        activity: "Available".into(),
        ..Default::default()
    };
    sim.set_presence(&someone.id, at_work).unwrap();
    let preferred =
        json!({"availability": "Busy", "activity": "Busy", "expirationDuration": "PT1H"});
    let set = format!(
        "/v1.0/users/{}/presence/setUserPreferredPresence",
        someone.id
    );
    let (status, _) = send(&sim, &token, "POST", &set, preferred.clone()).await;
    assert_eq!(status, 403, "User.Read.All writes no presence");
    sim.set_admin_consent(APP, &["Presence.ReadWrite.All"])
        .unwrap();
    let writer = app_token(&sim, &secret).await;
    let (status, body) = send(&sim, &writer, "POST", &set, preferred).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sim.presence(&someone.id).unwrap().availability, "Busy");
    let ids = vec![someone.id.clone()];
    assert_eq!(presences(&sim, &writer, &ids).await.status(), 200);
    let message = json!({"statusMessage": {"message": {"content": "Hi", "contentType": "text"}}});
    let path = format!("/v1.0/users/{}/presence/setStatusMessage", someone.id);
    let (status, _) = send(&sim, &writer, "POST", &path, message).await;
    assert_eq!(status, 403);

    // Free/busy of any mailbox with Calendars.ReadBasic or Calendars.Read.
    let start = sim.clock().format("%Y-%m-%dT%H:00:00").to_string();
    let end = (sim.clock() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:00:00")
        .to_string();
    let schedule = json!({
        "schedules": [sim.users()[3].mail],
        "startTime": {"dateTime": start, "timeZone": "UTC"},
        "endTime": {"dateTime": end, "timeZone": "UTC"},
    });
    let path = format!("/v1.0/users/{}/calendar/getSchedule", someone.id);
    let (status, _) = send(&sim, &writer, "POST", &path, schedule.clone()).await;
    assert_eq!(status, 403);
    sim.set_admin_consent(APP, &["Calendars.Read"]).unwrap();
    let reader = app_token(&sim, &secret).await;
    let (status, body) = send(&sim, &reader, "POST", &path, schedule).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().unwrap().len(), 1);

    // Inside $batch the same rules hold, request by request.
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/me"},
        {"id": "2", "method": "GET", "url": format!("/users/{}/presence", someone.id)},
    ]});
    let (status, body) = send(&sim, &reader, "POST", "/v1.0/$batch", batch).await;
    assert_eq!(status, 200);
    let statuses: Vec<(String, u64)> = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(statuses.contains(&("1".to_owned(), 400)), "{statuses:?}");
    assert!(statuses.contains(&("2".to_owned(), 403)), "{statuses:?}");
}

#[tokio::test]
async fn an_app_and_its_people_share_one_budget_and_other_apps_have_theirs() {
    let sim = start(SimConfig {
        rate_limit: 2,
        rate_window: Duration::from_secs(60),
        auto_approve: true,
        ..config()
    })
    .await;
    let secret = sim.add_app_secret(APP).unwrap();
    let other = sim.add_app_secret(OTHER_APP).unwrap();
    for app in [APP, OTHER_APP] {
        sim.set_admin_consent(app, &["Presence.Read.All"]).unwrap();
    }
    let relay = app_token(&sim, &secret).await;
    // A person signed in with the same app registration (device code).
    let resp = client()
        .post(format!(
            "{}/organizations/oauth2/v2.0/devicecode",
            sim.url()
        ))
        .form(&[("client_id", APP), ("scope", "Presence.Read.All")])
        .send()
        .await
        .unwrap();
    let code: Value = resp.json().await.unwrap();
    let form = [
        ("grant_type", DEVICE_CODE_GRANT),
        ("client_id", APP),
        ("device_code", code["device_code"].as_str().unwrap()),
    ];
    let url = format!("{}/organizations/oauth2/v2.0/token", sim.url());
    let (status, body) = post_token(&url, &form).await;
    assert_eq!(status, 200, "{body}");
    let person = body["access_token"].as_str().unwrap().to_owned();

    let ids = vec![sim.users()[1].id.clone()];
    assert_eq!(presences(&sim, &relay, &ids).await.status(), 200);
    assert_eq!(presences(&sim, &person, &ids).await.status(), 200);
    let third = presences(&sim, &relay, &ids).await;
    assert_eq!(third.status(), 429, "the app's two requests are spent");
    assert!(third.headers().contains_key("retry-after"));

    let (status, body) = with_secret(&sim, OTHER_APP, &other, GRAPH_DEFAULT).await;
    assert_eq!(status, 200);
    let elsewhere = body["access_token"].as_str().unwrap();
    assert_eq!(presences(&sim, elsewhere, &ids).await.status(), 200);
}

#[tokio::test]
async fn app_tokens_last_the_configured_lifetime() {
    let sim = start(SimConfig {
        app_token_lifetime: Duration::from_secs(1),
        ..config()
    })
    .await;
    let secret = sim.add_app_secret(APP).unwrap();
    sim.set_admin_consent(APP, &["Presence.Read.All"]).unwrap();
    let (status, body) = with_secret(&sim, APP, &secret, GRAPH_DEFAULT).await;
    assert_eq!((status, body["expires_in"].as_u64()), (200, Some(1)));
    let token = body["access_token"].as_str().unwrap();
    let ids = vec![sim.users()[1].id.clone()];
    assert_eq!(presences(&sim, token, &ids).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let resp = presences(&sim, token, &ids).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        graph_code(&resp.json().await.unwrap()),
        "InvalidAuthenticationToken"
    );
}
