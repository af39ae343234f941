//! What several of core's test files do alike against the simulator. Each
//! file uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;

use futures::future::BoxFuture;
use presently_core::auth::{self, AccessTokens, Prompt, SignInFlow, SignInMethod};
use presently_core::config::{Overrides, Settings};
use presently_core::token_store::{MemoryStore, TokenStore};
use presently_core::{Error, Result, Secret};
use presently_sim::Sim;

/// Settings for `sim` in `cloud` (default: global), with a config dir and an
/// app registration of the test's own.
pub fn settings(sim: &Sim, dir: &std::path::Path, cloud: Option<&str>) -> Settings {
    Settings::resolve(&Overrides {
        cloud: cloud.map(str::to_owned),
        login_url: Some(sim.url()),
        graph_url: Some(sim.url()),
        config_dir: Some(dir.to_path_buf()),
        client_id: Some(uuid::Uuid::new_v4().to_string()),
        ..Default::default()
    })
    .unwrap()
}

/// Settings for `sim` in the global cloud, with `dir` as the config dir
/// and an app registration of the test's own, so that keyring entries of
/// tests running side by side never meet.
pub fn settings_for(sim: &Sim, dir: &std::path::Path) -> Settings {
    settings(sim, dir, None)
}

/// What a test signs in with: a config dir of its own, settings for `sim`
/// there (as [`settings_for`]) and an empty keyring.
pub fn fresh_install(sim: &Sim) -> (tempfile::TempDir, Settings, Arc<MemoryStore>) {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(sim, dir.path());
    (dir, settings, Arc::new(MemoryStore::new()))
}

/// A sign-in in the "browser" (which follows the simulator's redirect).
pub async fn sign_in(flow: SignInFlow, store: Arc<dyn TokenStore>) -> auth::StoredSignIn {
    let started = flow.begin(SignInMethod::Browser).await.unwrap();
    let Prompt::Browser { url } = started.prompt() else {
        panic!("a browser sign-in");
    };
    let url = url.to_owned();
    let browser = tokio::spawn(async move { reqwest::get(&url).await.unwrap().status() });
    let stored = started.finish(store).await.unwrap();
    assert_eq!(browser.await.unwrap(), 200);
    stored
}

/// A fixed access token, as a test's stand-in for a signed-in session:
/// every request carries it, and a refusal of it is the end of the
/// sign-in.
pub struct FixedToken(Secret);

impl FixedToken {
    pub fn new(token: impl Into<String>) -> Arc<FixedToken> {
        Arc::new(FixedToken(Secret::new(token)))
    }
}

impl AccessTokens for FixedToken {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
    fn token_rejected(&self) -> BoxFuture<'_, Result<Secret>> {
        Box::pin(async { Err(Error::SignInNeeded("the test token was rejected".into())) })
    }
}

/// The second sign-in that one more permission needs, given in the
/// "browser": `access` must ask for it, and the sign-in page must be asked
/// for `scope`. The sign-in that results.
pub async fn consent_to(
    sim: &Sim,
    access: auth::Access,
    scope: &str,
    store: Arc<dyn TokenStore>,
) -> auth::StoredSignIn {
    let auth::Access::NeedsConsent(flow) = access else {
        panic!("the first sign-in did not ask for {scope}");
    };
    sim.clear_log();
    let stored = sign_in(*flow, store).await;
    let asked = sim
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/authorize"))
        .expect("an authorization request");
    assert!(asked.query.unwrap_or_default().contains(scope));
    stored
}
