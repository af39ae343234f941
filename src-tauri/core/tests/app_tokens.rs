//! The app signing in as itself (issue 22, item 1): the client credentials
//! grant with a certificate or a secret, against the simulator, as a relay
//! will use it through the Graph client.

mod common;

use std::sync::Arc;
use std::time::Duration;

use presently_core::auth::{AccessTokens, AppCredential, AppTokens};
use presently_core::config::{Overrides, Settings};
use presently_core::error::CredentialProblem;
use presently_core::graph::GraphClient;
use presently_core::{Error, Secret};
use presently_sim::{Sim, SimConfig};

/// A made-up app registration: the relay's client id.
const APP: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
const CERT: &str = include_str!("../../sim/tests/fixtures/app.pem");
const KEY: &str = include_str!("../../sim/tests/fixtures/app.key");
/// `app.pem`'s SHA-1 thumbprint, as the Entra admin center shows it.
const THUMBPRINT: &str = "504B3D57E66C2080CA2EAEC7859B7DD5997C2AD7";
const OTHER_CERT: &str = include_str!("../../sim/tests/fixtures/app-other.pem");
const OTHER_KEY: &str = include_str!("../../sim/tests/fixtures/app-other.key");

/// A tenant where the relay's app has the certificate and a secret, with
/// `roles` consented, and the app's settings there (the tenant by its ID).
/// Bind `sim` and `_dir` wherever it is taken apart: the simulator stops
/// and the directory goes once they are dropped.
struct Tenant {
    sim: Sim,
    settings: Settings,
    secret: String,
    _dir: tempfile::TempDir,
}

async fn tenant(config: SimConfig, roles: &[&str]) -> Tenant {
    let sim = Sim::start(SimConfig {
        auto_presence: false,
        ..config
    })
    .await
    .expect("the simulator starts");
    sim.add_app_certificate(APP, CERT).unwrap();
    let secret = sim.add_app_secret(APP).unwrap();
    sim.set_admin_consent(APP, roles).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::resolve(&Overrides {
        login_url: Some(sim.url()),
        graph_url: Some(sim.url()),
        config_dir: Some(dir.path().to_path_buf()),
        client_id: Some(APP.into()),
        tenant: Some(sim.tenant_id().to_string()),
        ..Default::default()
    })
    .unwrap();
    Tenant {
        sim,
        settings,
        secret,
        _dir: dir,
    }
}

fn certificate() -> AppCredential {
    AppCredential::from_certificate_pem(CERT, &Secret::new(KEY)).unwrap()
}

fn ids(sim: &Sim) -> Vec<String> {
    sim.users()[..3].iter().map(|u| u.id.clone()).collect()
}

/// How many token requests of the client credentials grant the simulator saw.
fn grants(sim: &Sim) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("client_credentials"))
        .count()
}

/// Presence of the first three users through a Graph client on `tokens`.
async fn presences(sim: &Sim, settings: &Settings, tokens: Arc<AppTokens>) -> Vec<String> {
    let graph = GraphClient::new(settings, tokens).unwrap();
    let mut got: Vec<String> = graph
        .presences_by_user_id(&ids(sim))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    got.sort();
    got
}

#[tokio::test]
async fn with_a_certificate_or_a_secret_the_app_reads_everyones_presence() {
    let Tenant {
        sim,
        settings,
        secret,
        _dir,
    } = tenant(SimConfig::default(), &["Presence.Read.All"]).await;
    let mut want = ids(&sim);
    want.sort();

    let by_certificate = AppTokens::new(&settings, certificate()).unwrap();
    assert_eq!(presences(&sim, &settings, by_certificate).await, want);

    let by_secret = AppTokens::new(&settings, AppCredential::Secret(Secret::new(secret))).unwrap();
    assert_eq!(presences(&sim, &settings, by_secret).await, want);
    assert_eq!(grants(&sim), 2);
}

#[tokio::test]
async fn without_admin_consent_graph_refuses_in_words() {
    let Tenant {
        sim,
        settings,
        _dir,
        ..
    } = tenant(SimConfig::default(), &[]).await;
    let tokens = AppTokens::new(&settings, certificate()).unwrap();
    let graph = GraphClient::new(&settings, tokens).unwrap();
    match graph.presences_by_user_id(&ids(&sim)).await {
        Err(e @ Error::Graph { status: 403, .. }) => {
            let said = e.to_string();
            assert_eq!(
                said,
                "Microsoft Graph answered 403: Insufficient privileges to complete the operation."
            );
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_secret_or_certificate_is_refused_with_microsofts_code() {
    let Tenant {
        sim: _sim,
        settings,
        _dir,
        ..
    } = tenant(SimConfig::default(), &["Presence.Read.All"]).await;

    let wrong = AppCredential::Secret(Secret::new("not-the-secret-at-all"));
    let tokens = AppTokens::new(&settings, wrong).unwrap();
    match tokens.access_token().await {
        Err(e @ Error::SignInFailed(_)) => {
            let said = e.to_string();
            assert!(said.contains("AADSTS7000215"), "{said}");
            assert!(said.contains(APP), "{said}");
            assert!(!said.contains("not-the-secret-at-all"), "{said}");
        }
        other => panic!("not refused: {other:?}"),
    }

    // A certificate the app registration does not have.
    let other = AppCredential::from_certificate_pem(OTHER_CERT, &Secret::new(OTHER_KEY)).unwrap();
    let tokens = AppTokens::new(&settings, other).unwrap();
    let said = tokens.access_token().await.unwrap_err().to_string();
    assert!(said.contains("AADSTS700027"), "{said}");

    // An app acts in one tenant.
    let everyone = Settings {
        tenant: "organizations".into(),
        ..settings
    };
    let e = AppTokens::new(&everyone, certificate()).unwrap_err();
    assert!(
        e.to_string().contains("\"organizations\" names none"),
        "{e}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_new_token_comes_before_the_old_one_ends_and_not_on_every_request() {
    let config = SimConfig {
        app_token_lifetime: Duration::from_secs(100),
        ..SimConfig::default()
    };
    let Tenant {
        sim,
        settings,
        _dir,
        ..
    } = tenant(config, &["Presence.Read.All"]).await;
    let tokens = AppTokens::new(&settings, certificate()).unwrap();
    let graph = GraphClient::new(&settings, tokens.clone()).unwrap();

    let first = tokens.access_token().await.unwrap();
    for _ in 0..5 {
        graph.presences_by_user_id(&ids(&sim)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    // 50 s of 100: the same token all along.
    assert_eq!(grants(&sim), 1);
    assert_eq!(tokens.access_token().await.unwrap(), first);

    // Within the last fifth of its life, a new one, while the old one is
    // still good.
    tokio::time::sleep(Duration::from_secs(32)).await;
    let second = tokens.access_token().await.unwrap();
    assert_ne!(second, first);
    assert_eq!(grants(&sim), 2);
    // Requests never meet an expired token, however long the relay runs.
    for _ in 0..30 {
        graph.presences_by_user_id(&ids(&sim)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let rejected = sim.requests().iter().filter(|r| r.status == 401).count();
    assert_eq!(rejected, 0);
    assert!((4..=5).contains(&grants(&sim)), "{}", grants(&sim));

    // A token Graph refuses is replaced at once.
    let before = grants(&sim);
    let current = tokens.access_token().await.unwrap();
    let fresh = tokens.token_rejected().await.unwrap();
    assert_ne!(fresh, current);
    assert_eq!(grants(&sim), before + 1);
}

#[tokio::test]
async fn requests_at_once_share_one_new_token() {
    let Tenant {
        sim,
        settings,
        _dir,
        ..
    } = tenant(SimConfig::default(), &["Presence.Read.All"]).await;
    let tokens = AppTokens::new(&settings, certificate()).unwrap();
    let graph = GraphClient::new(&settings, tokens).unwrap();
    let ids = ids(&sim);
    let answers = futures::future::join_all((0..8).map(|_| graph.presences_by_user_id(&ids))).await;
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(grants(&sim), 1);
}

#[tokio::test]
async fn no_secret_key_or_token_is_ever_shown() {
    let Tenant {
        sim: _sim,
        settings,
        secret,
        _dir,
    } = tenant(SimConfig::default(), &["Presence.Read.All"]).await;

    let by_secret = AppTokens::new(&settings, AppCredential::Secret(Secret::new(&secret))).unwrap();
    let by_certificate = AppTokens::new(&settings, certificate()).unwrap();
    for tokens in [by_secret, by_certificate] {
        let token = tokens.access_token().await.unwrap();
        let shown = format!("{tokens:?}");
        assert!(shown.contains(APP), "{shown}");
        for hidden in [secret.as_str(), token.expose(), key_body()] {
            assert!(!shown.contains(hidden), "{shown}");
        }
    }
    let shown = format!("{:?}", certificate());
    assert!(
        shown.contains("thumbprint") && !shown.contains(key_body()),
        "{shown}"
    );
}

/// A line from the middle of the private key's PEM.
fn key_body() -> &'static str {
    KEY.lines().nth(3).unwrap()
}

#[test]
fn credentials_that_cannot_be_used_are_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let (cert, key) = (write("app.pem", CERT), write("app.key", KEY));
    let problem = |r: presently_core::Result<AppCredential>| match r {
        Err(Error::AppCredential(p)) => {
            let said = p.to_string();
            assert!(!said.contains(key_body()), "{said}");
            p
        }
        other => panic!("not refused: {other:?}"),
    };

    let both = write("both.pem", &format!("{CERT}{KEY}"));
    let pkcs1 = write("pkcs1.key", include_str!("fixtures/app-pkcs1.key"));
    for (cert, key) in [(&cert, &key), (&both, &both), (&cert, &pkcs1)] {
        match AppCredential::from_certificate_files(cert, key) {
            Ok(AppCredential::Certificate(c)) => assert_eq!(c.thumbprint(), THUMBPRINT),
            other => panic!("{key:?}: {other:?}"),
        }
    }

    let missing = dir.path().join("nowhere.pem");
    match problem(AppCredential::from_certificate_files(&missing, &key)) {
        CredentialProblem::Unreadable { from, why } => {
            assert!(from.contains("nowhere.pem"), "{from}");
            assert_eq!(why, "there is no such file");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        problem(AppCredential::from_certificate_files(&key, &key)),
        CredentialProblem::NotACertificate { .. }
    ));
    assert!(matches!(
        problem(AppCredential::from_certificate_files(&cert, &cert)),
        CredentialProblem::NoPrivateKey { .. }
    ));
    let encrypted = write(
        "enc.key",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    assert!(matches!(
        problem(AppCredential::from_certificate_files(&cert, &encrypted)),
        CredentialProblem::EncryptedKey { .. }
    ));
    let ec = write("ec.key", include_str!("fixtures/ec.key"));
    let p = problem(AppCredential::from_certificate_files(&cert, &ec));
    assert!(matches!(p, CredentialProblem::NotRsa { .. }), "{p:?}");
    assert!(p.to_string().contains("ec.key is not an RSA key"), "{p}");
    let other_key = write("other.key", OTHER_KEY);
    let p = problem(AppCredential::from_certificate_files(&cert, &other_key));
    assert!(matches!(p, CredentialProblem::KeyMismatch { .. }), "{p:?}");
    assert!(p.to_string().contains("does not belong to the certificate"));

    // Never set by anyone (the variable that is empty is a unit test's).
    let p = problem(AppCredential::from_secret_env(
        "PRESENTLY_TEST_APP_SECRET_NEVER_SET",
    ));
    assert_eq!(
        p.to_string(),
        "The environment variable PRESENTLY_TEST_APP_SECRET_NEVER_SET, which should hold the app's client secret, is not set."
    );
    assert_eq!(
        Error::AppCredential(CredentialProblem::SecretEmpty { var: "X".into() }).code(),
        "config"
    );
}
