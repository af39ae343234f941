//! Sign-in as real tenants need it: in the browser with PKCE, a device code
//! blocked by Conditional Access, consent asked again on refresh, a refresh
//! that needs the person (multi-factor authentication), tokens of
//! real-world size in a keyring with Windows' limit, tokens that stay with
//! their hosts, and one refresh at a time.

use std::sync::Arc;
use std::time::Duration;

use presently_core::auth::{self, AccessTokens, BrowserSignIn, Session, SignInFlow, StoredSignIn};
use presently_core::config::{Overrides, Settings};
use presently_core::token_store::{MemoryStore, TokenStore, MAX_ENTRY_UNITS};
use presently_sim::{Fault, FaultKind, Sim, SimConfig};

mod common;
use common::{fresh_install, settings_for};

fn sim_config() -> SimConfig {
    SimConfig {
        poll_interval: Duration::from_secs(1),
        auto_presence: false,
        ..Default::default()
    }
}

/// A simulator that approves every sign-in at once, as `users()[0]`.
async fn approving_sim(config: SimConfig) -> Sim {
    Sim::start(SimConfig {
        auto_approve: true,
        ..config
    })
    .await
    .unwrap()
}

fn settings_at(login: &str, graph: &str, dir: &std::path::Path, client_id: &str) -> Settings {
    Settings::resolve(&Overrides {
        login_url: Some(login.to_string()),
        graph_url: Some(graph.to_string()),
        config_dir: Some(dir.to_path_buf()),
        client_id: Some(client_id.to_string()),
        ..Default::default()
    })
    .unwrap()
}

/// A browser: follows the sign-in service's redirect back to Presently's
/// loopback port and returns the page it shows there.
async fn browse(url: &str) -> (u16, String) {
    let answer = reqwest::Client::new().get(url).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

/// Signs in through the browser flow against an auto-approving simulator.
async fn browser_sign_in(settings: &Settings, store: Arc<dyn TokenStore>) -> StoredSignIn {
    let flow = SignInFlow::new(settings).unwrap();
    let pending = flow.start_browser().await.unwrap();
    let url = pending.url().to_string();
    let browser = tokio::spawn(async move { browse(&url).await });
    let tokens = flow.wait_browser(pending).await.unwrap();
    let (status, page) = browser.await.unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("You are signed in"), "{page}");
    flow.complete(tokens, store).await.unwrap()
}

/// A browser sign-in with `sim`, started, with its config dir in `dir`: the
/// flow, the sign-in waiting for the browser, and the loopback port the
/// browser comes back to.
async fn start_browser_sign_in(
    sim: &Sim,
    dir: &std::path::Path,
) -> (SignInFlow, BrowserSignIn, u16) {
    let flow = SignInFlow::new(&settings_for(sim, dir)).unwrap();
    let pending = flow.start_browser().await.unwrap();
    let port = url::Url::parse(pending.redirect_uri())
        .unwrap()
        .port()
        .unwrap();
    (flow, pending, port)
}

#[tokio::test]
async fn the_browser_flow_signs_in_with_pkce_on_a_loopback_redirect() {
    let sim = approving_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(&sim, dir.path());
    let flow = SignInFlow::new(&settings).unwrap();
    let pending = flow.start_browser().await.unwrap();

    let url = url::Url::parse(pending.url()).unwrap();
    assert!(url
        .as_str()
        .starts_with(&settings.oauth_url("authorize").to_string()));
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["client_id"], settings.client_id);
    assert!(query["scope"].contains("offline_access"));
    let redirect = url::Url::parse(&query["redirect_uri"]).unwrap();
    assert_eq!(redirect.scheme(), "http");
    // `localhost` when the port is ours on ::1 too, else 127.0.0.1 alone.
    assert!(
        matches!(redirect.host_str(), Some("localhost" | "127.0.0.1")),
        "{redirect}"
    );
    assert_eq!(redirect.path(), "/");
    assert_eq!(pending.redirect_uri(), redirect.as_str());

    // A request without our state neither ends nor completes the sign-in;
    // then the browser comes back from the sign-in service.
    let port = redirect.port().unwrap();
    let url = pending.url().to_string();
    let browser = tokio::spawn(async move {
        let forged = browse(&format!("http://127.0.0.1:{port}/?code=forged&state=wrong")).await;
        (forged, browse(&url).await)
    });
    let store = Arc::new(MemoryStore::new());
    let tokens = flow.wait_browser(pending).await.unwrap();
    let ((forged_status, forged_page), (status, page)) = browser.await.unwrap();
    assert_eq!(forged_status, 400);
    assert!(forged_page.contains("does not belong"), "{forged_page}");
    assert_eq!(status, 200);
    assert!(page.contains("You can close this window"), "{page}");
    let stored = flow.complete(tokens, store.clone()).await.unwrap();
    assert_eq!(stored.account.id, sim.users()[0].id);
    assert!(stored.tokens.refresh_token.is_some());
    // The code went to the token endpoint with its verifier, once.
    let redemptions = sim
        .requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some("authorization_code"))
        .count();
    assert_eq!(redemptions, 1);
}

#[tokio::test]
async fn idle_local_connections_do_not_hold_the_browsers_answer_back() {
    let sim = approving_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let (flow, pending, port) = start_browser_sign_in(&sim, dir.path()).await;
    // Connections that send nothing, as any local program can open; read
    // one after another, 10 s each, they held the answer for 100 s.
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap(),
        );
    }
    let url = pending.url().to_string();
    let browser = tokio::spawn(async move { browse(&url).await });
    let tokens = flow
        .wait_browser_for(pending, Duration::from_secs(15))
        .await
        .expect("the browser's answer is taken while the others wait");
    let (status, page) = browser.await.unwrap();
    assert_eq!(status, 200, "{page}");
    flow.complete(tokens, Arc::new(MemoryStore::new()))
        .await
        .unwrap();
    drop(idle);
}

#[tokio::test]
async fn a_refusal_in_the_browser_ends_the_flow_and_shows_microsofts_words() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (flow, pending, port) = start_browser_sign_in(&sim, dir.path()).await;
    let state = url::Url::parse(pending.url())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let refusal = format!(
        "http://127.0.0.1:{port}/?error=invalid_request&error_description=AADSTS50011%3A+%3Cb%3Ereply+URL%3C%2Fb%3E+mismatch&state={state}"
    );
    let browser = tokio::spawn(async move { browse(&refusal).await });
    let err = flow.wait_browser(pending).await.unwrap_err();
    let (_, page) = browser.await.unwrap();
    assert_eq!(err.code(), "browser_sign_in_failed");
    assert!(err.to_string().contains("AADSTS50011"), "{err}");
    assert!(
        err.to_string().contains("presently login --device-code"),
        "{err}"
    );
    assert!(page.contains("AADSTS50011"), "{page}");
    assert!(
        page.contains("&lt;b&gt;") && !page.contains("<b>"),
        "{page}"
    );
}

/// Microsoft's published refusal on the redirect carries no `state`: the
/// browser shows what it said, but since anyone may send one to the port,
/// the sign-in goes on waiting, and the real answer still completes it.
#[tokio::test]
async fn a_refusal_without_state_is_shown_but_does_not_end_the_sign_in() {
    let sim = approving_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let (flow, pending, port) = start_browser_sign_in(&sim, dir.path()).await;
    let url = pending.url().to_string();
    let waiting = tokio::spawn(async move {
        let stateless = format!(
            "http://127.0.0.1:{port}/?error=access_denied&error_description=the+user+canceled+the+authentication"
        );
        let (status, page) = browse(&stateless).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("the user canceled the authentication"),
            "{page}"
        );
        assert!(page.contains("goes on waiting"), "{page}");
        browse(&url).await
    });
    let tokens = flow
        .wait_browser_for(pending, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(!tokens.access_token.expose().is_empty());
    let (_, page) = waiting.await.unwrap();
    assert!(page.contains("You are signed in"), "{page}");
}

#[tokio::test(start_paused = true)]
async fn the_browser_flow_gives_up_after_five_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::resolve(&Overrides {
        config_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    let flow = SignInFlow::new(&settings).unwrap();
    let pending = flow.start_browser().await.unwrap();
    let started = tokio::time::Instant::now();
    let err = flow.wait_browser(pending).await.unwrap_err();
    assert_eq!(started.elapsed(), auth::BROWSER_TIMEOUT);
    assert_eq!(auth::BROWSER_TIMEOUT, Duration::from_secs(300));
    assert_eq!(err.code(), "browser_sign_in_failed");
    assert!(err.to_string().contains("within 5 minutes"), "{err}");
    assert!(
        err.to_string().contains("presently login --device-code"),
        "{err}"
    );
}

#[tokio::test]
async fn a_sign_in_for_one_more_permission_must_come_back_as_the_same_account() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let (_dir, settings, store) = fresh_install(&sim);
    let flow = SignInFlow::new(&settings).unwrap();
    let code = flow.start().await.unwrap();
    sim.approve(&code.user_code, None).unwrap();
    let tokens = flow.wait(&code).await.unwrap();
    let first = flow.complete(tokens, store.clone()).await.unwrap();

    // Setting your status needs one more permission: the sign-in page is
    // told who is signed in, rather than offering every account.
    let auth::Access::NeedsConsent(flow) = auth::access(
        &settings,
        store.clone(),
        auth::PRESENCE_WRITE_SCOPE,
        SignInFlow::with_status_access,
    )
    .await
    .unwrap() else {
        panic!("the first sign-in did not ask to set your status");
    };
    let page = flow.start_browser().await.unwrap();
    let query: std::collections::HashMap<_, _> = url::Url::parse(page.url())
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["login_hint"], first.account.username);
    assert!(!query.contains_key("prompt"), "{query:?}");
    drop(page);

    // Someone else signs in with the code: refused, nothing stored.
    let other = sim.users()[1].clone();
    let code = flow.start().await.unwrap();
    sim.approve(&code.user_code, Some(&other.id)).unwrap();
    let tokens = flow.wait(&code).await.unwrap();
    let err = flow.complete(tokens, store.clone()).await.unwrap_err();
    assert_eq!(err.code(), "sign_in_failed");
    let text = err.to_string();
    assert!(text.contains(&first.account.username), "{text}");
    assert!(text.contains("Nothing was changed"), "{text}");
    let kept = StoredSignIn::load(&settings, store.as_ref())
        .unwrap()
        .unwrap();
    assert_eq!(kept.account.id, first.account.id);
    assert_eq!(
        kept.tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose().to_string()),
        first
            .tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose().to_string())
    );
}

#[tokio::test]
async fn a_device_code_blocked_by_conditional_access_names_the_browser() {
    let sim = Sim::start(sim_config()).await.unwrap();
    sim.set_device_code_blocked(true);
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(&sim, dir.path());
    let flow = SignInFlow::new(&settings).unwrap();
    let code = flow.start().await.unwrap();
    sim.approve(&code.user_code, None).unwrap();
    let err = flow.wait(&code).await.unwrap_err();
    assert_eq!(err.code(), "sign_in_blocked");
    let text = err.to_string();
    assert!(text.contains("AADSTS53003"), "{text}");
    assert!(text.contains("Sign in with the browser instead"), "{text}");
    // The browser flow still works there.
    sim.set_auto_approve(true);
    browser_sign_in(&settings, Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn consent_asked_again_on_refresh_keeps_the_sign_in_and_names_the_permission() {
    let sim = approving_sim(sim_config()).await;
    let (_dir, settings, store) = fresh_install(&sim);
    browser_sign_in(&settings, store.clone()).await;
    let session = Session::resume(&settings, store.clone()).await.unwrap();

    sim.set_refresh_consent_required(Some("Presence.Read.All".into()));
    let err = session.token_rejected().await.unwrap_err();
    assert_eq!(err.code(), "consent_required");
    assert!(err.needs_sign_in(), "the person has to sign in to give it");
    let text = err.to_string();
    assert!(text.contains("Presence.Read.All"), "{text}");
    assert!(!text.contains("revoked"), "{text}");
    assert!(
        StoredSignIn::load(&settings, store.as_ref())
            .unwrap()
            .is_some(),
        "the sign-in is kept"
    );

    // Once consent is given, the same stored sign-in renews again.
    sim.set_refresh_consent_required(None);
    let again = Session::resume(&settings, store.clone()).await.unwrap();
    assert!(again.renew_after_rejection(None).await.is_ok());
}

/// A renewal Microsoft answers with "the person must sign in" (multi-factor
/// authentication, Conditional Access, an external challenge; as
/// `interaction_required` or as `invalid_grant` with a suberror) ends the
/// session with a sentence that says so, once: it is not asked again, and
/// the stored sign-in is kept, to work again once the challenge is met.
#[tokio::test]
async fn a_renewal_that_needs_the_person_asks_to_sign_in_again_once() {
    let sim = approving_sim(sim_config()).await;
    for (code, why) in [
        (50076, "multi-factor authentication"),
        (50079, "set up multi-factor authentication"),
        (53003, "Conditional Access"),
        (50158, "security check"),
    ] {
        let (_dir, settings, store) = fresh_install(&sim);
        browser_sign_in(&settings, store.clone()).await;
        let session = Session::resume(&settings, store.clone()).await.unwrap();

        sim.set_refresh_interaction_required(Some(code));
        let err = session.token_rejected().await.unwrap_err();
        assert!(err.needs_sign_in(), "{code}: {err:?}");
        assert_eq!(err.code(), "signed_out", "{code}");
        let text = err.to_string();
        assert!(
            text.starts_with("Microsoft needs you to sign in again (") && text.contains(why),
            "{code}: {text}"
        );
        assert!(text.contains("`presently login`"), "{code}: {text}");
        assert!(text.contains(&format!("AADSTS{code}")), "{code}: {text}");
        for noise in ["\r", "\n", "Trace ID", "Correlation ID", "Timestamp"] {
            assert!(!text.contains(noise), "{code}: {text:?}");
        }
        assert!(!text.contains("revoked"), "{code}: {text}");
        assert!(
            StoredSignIn::load(&settings, store.as_ref())
                .unwrap()
                .is_some(),
            "{code}: the sign-in is kept"
        );
        // Ended: asking for a token again fails the same way, and nothing
        // is sent to the sign-in service.
        let requests_before = sim.requests().len();
        let again = session.current_token().await.unwrap_err();
        assert_eq!(again.to_string(), text, "{code}");
        assert!(session.token_rejected().await.is_err(), "{code}");
        assert_eq!(sim.requests().len(), requests_before, "{code}");

        // Once the challenge is met, the same stored sign-in renews again.
        sim.set_refresh_interaction_required(None);
        let again = Session::resume(&settings, store.clone()).await.unwrap();
        assert!(again.renew_after_rejection(None).await.is_ok(), "{code}");
    }
}

#[tokio::test]
async fn the_largest_real_world_tokens_fit_a_keyring_with_windows_limit() {
    let sim = approving_sim(SimConfig {
        access_token_chars: 8_192,
        refresh_token_chars: 4_096,
        ..sim_config()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(&sim, dir.path());
    let store = Arc::new(MemoryStore::with_windows_limit());

    let signed_in = browser_sign_in(&settings, store.clone()).await;
    assert!(signed_in.tokens.access_token.expose().len() >= 8_192);
    assert!(
        signed_in
            .tokens
            .refresh_token
            .as_ref()
            .unwrap()
            .expose()
            .len()
            >= 4_096
    );
    let entries = store.entries();
    assert!(entries.len() > 1, "split across entries");
    for (key, value) in &entries {
        assert!(
            value.expose().encode_utf16().count() <= MAX_ENTRY_UNITS,
            "{key}"
        );
    }

    // It loads whole, renews, and the renewed tokens are saved the same way.
    let loaded = StoredSignIn::load(&settings, store.as_ref())
        .unwrap()
        .unwrap();
    assert_eq!(loaded.tokens.access_token, signed_in.tokens.access_token);
    let session = Session::resume(&settings, store.clone()).await.unwrap();
    let renewed = session.renew_after_rejection(None).await.unwrap();
    assert_ne!(renewed, signed_in.tokens.access_token);
    let reloaded = StoredSignIn::load(&settings, store.as_ref())
        .unwrap()
        .unwrap();
    assert_eq!(reloaded.tokens.access_token, renewed);

    // Logout removes every entry.
    assert!(auth::sign_out(&settings, store.as_ref()).unwrap());
    assert!(store.entries().is_empty(), "{:?}", store.entries());
}

#[tokio::test]
async fn a_stored_sign_in_is_never_sent_to_other_hosts() {
    let real = approving_sim(sim_config()).await;
    let other = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = uuid::Uuid::new_v4().to_string();
    let settings = settings_at(&real.url(), &real.url(), dir.path(), &client);
    let store = Arc::new(MemoryStore::new());
    browser_sign_in(&settings, store.clone()).await;

    // The same sign-in host, another Graph: refused before anything is sent.
    let moved = settings_at(&real.url(), &other.url(), dir.path(), &client);
    let err = Session::resume(&moved, store.clone()).await.unwrap_err();
    assert!(err.needs_sign_in());
    assert!(
        err.to_string().contains("belongs to another service"),
        "{err}"
    );
    let err = StoredSignIn::load(&moved, store.as_ref()).unwrap_err();
    assert!(
        err.to_string().contains("belongs to another service"),
        "{err}"
    );

    // Another sign-in host is another keyring entry: nothing is found there,
    // and a sign-in there does not replace the first.
    let elsewhere = settings_at(&other.url(), &other.url(), dir.path(), &client);
    assert_ne!(elsewhere.keyring_account(), settings.keyring_account());
    assert!(Session::resume(&elsewhere, store.clone())
        .await
        .unwrap_err()
        .needs_sign_in());
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    assert!(Session::resume(&settings, store.clone()).await.is_ok());
}

#[tokio::test]
async fn the_token_endpoint_is_not_followed_through_a_redirect() {
    let sim = approving_sim(sim_config()).await;
    let elsewhere = Sim::start(sim_config()).await.unwrap();
    let (_dir, settings, store) = fresh_install(&sim);
    browser_sign_in(&settings, store.clone()).await;
    let session = Session::resume(&settings, store.clone()).await.unwrap();

    sim.inject(
        Fault::new(FaultKind::Redirect {
            status: 307,
            location: format!("{}/organizations/oauth2/v2.0/token", elsewhere.url()),
        })
        .on("/organizations/oauth2/v2.0/token"),
    );
    let err = session.renew_after_rejection(None).await.unwrap_err();
    assert!(err.to_string().contains("redirect"), "{err}");
    assert!(
        elsewhere.requests().is_empty(),
        "the refresh token went elsewhere"
    );
    // Nothing was lost: the sign-in renews once the service answers again.
    assert!(session.renew_after_rejection(None).await.is_ok());
}

#[tokio::test]
async fn sessions_sharing_a_sign_in_never_redeem_a_refresh_token_twice() {
    let sim = approving_sim(SimConfig {
        access_token_lifetime: Duration::from_secs(2),
        ..sim_config()
    })
    .await;
    let (_dir, settings, store) = fresh_install(&sim);
    browser_sign_in(&settings, store.clone()).await;
    let sessions: Vec<_> = resume_many(&settings, &store, 4).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1700)).await;
        let tokens = futures::future::join_all(sessions.iter().map(|s| s.current_token())).await;
        for t in tokens {
            t.expect("no session is signed out");
        }
    }
    let stats = sim.refresh_stats();
    assert_eq!(stats.reused, 0, "{stats:?}");
    assert!(stats.redeemed >= 3, "{stats:?}");
}

async fn resume_many(settings: &Settings, store: &Arc<MemoryStore>, n: usize) -> Vec<Arc<Session>> {
    let mut sessions = Vec::new();
    for _ in 0..n {
        sessions.push(Session::resume(settings, store.clone()).await.unwrap());
    }
    sessions
}
