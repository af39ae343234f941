//! HTTPS mode: the simulator as a client behind a TLS-inspecting proxy meets
//! it, with a certificate from a CA that only it knows.

mod common;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use presently_sim::{Fault, FaultKind, Sim, SimConfig};
use serde_json::Value;

async fn start_tls() -> Sim {
    start(SimConfig {
        tls: true,
        ..config()
    })
    .await
}

/// A client that trusts the simulator's CA and nothing else.
fn trusting(sim: &Sim) -> reqwest::ClientBuilder {
    let pem = sim.ca_certificate_pem().expect("a CA with TLS");
    let ca = reqwest::Certificate::from_pem(pem.as_bytes()).expect("a PEM certificate");
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn a_client_that_trusts_the_ca_signs_in_over_https() {
    let sim = start_tls().await;
    let url = sim.url();
    assert_eq!(url, format!("https://{}", sim.addr()));
    let pem = sim.ca_certificate_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let c = trusting(&sim).build().unwrap();

    let resp = c.get(format!("{url}/_sim")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    let served = c
        .get(format!("{url}/_sim/ca_certificate"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.text().await.unwrap(), pem);

    let resp = c
        .post(format!("{url}/organizations/oauth2/v2.0/devicecode"))
        .form(&[("client_id", CLIENT_ID), ("scope", "User.Read openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let code: Value = resp.json().await.unwrap();
    assert_eq!(code["verification_uri"], format!("{url}/devicelogin"));
    assert!(code["message"]
        .as_str()
        .unwrap()
        .contains(&format!("{url}/devicelogin")));

    sim.approve(code["user_code"].as_str().unwrap(), None)
        .unwrap();
    let poll = |device_code: String| {
        c.post(format!("{url}/organizations/oauth2/v2.0/token"))
            .form(&[
                ("grant_type", DEVICE_CODE_GRANT),
                ("client_id", CLIENT_ID),
                ("device_code", device_code.as_str()),
            ])
            .send()
    };
    let tokens: Value = poll(code["device_code"].as_str().unwrap().to_owned())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(&claims).expect("base64url")).unwrap();
    assert!(claims.contains(&format!("\"iss\":\"{url}/")), "{claims}");

    let error: Value = poll("not-a-code".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(error["error_uri"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{url}/error")));

    let me = c
        .get(format!("{url}/v1.0/me"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert!(me["@odata.context"].as_str().unwrap().starts_with(&url));
}

#[tokio::test]
async fn the_certificate_names_localhost_too() {
    let sim = start_tls().await;
    let c = trusting(&sim)
        .resolve("localhost", sim.addr())
        .build()
        .unwrap();
    let resp = c
        .get(format!("https://localhost:{}/_sim", sim.addr().port()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_client_without_the_ca_is_refused() {
    let sim = start_tls().await;
    let err = client()
        .get(format!("{}/_sim", sim.url()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let chain = format!("{err:?}");
    assert!(
        chain.contains("UnknownIssuer"),
        "a certificate error: {chain}"
    );

    // Another simulator's CA does not help either: each has its own.
    let other = start_tls().await;
    let err = trusting(&other)
        .build()
        .unwrap()
        .get(format!("{}/_sim", sim.url()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    let plain = start(config()).await;
    assert!(plain.ca_certificate_pem().is_none());
    assert!(plain.url().starts_with("http://"));
}

#[tokio::test]
async fn drop_faults_still_close_the_connection_over_tls() {
    let sim = start_tls().await;
    let token = token(&sim);
    sim.inject(Fault::new(FaultKind::Drop));
    let c = trusting(&sim).build().unwrap();
    let err = c
        .get(format!("{}/v1.0/me", sim.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    let resp = c
        .get(format!("{}/v1.0/me", sim.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(sim.requests()[0].fault.as_deref(), Some("drop"));
}
