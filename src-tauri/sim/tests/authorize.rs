//! Sign-in with the authorization code grant and PKCE on a loopback
//! redirect, as a desktop app and its browser see it.

mod common;

use std::time::Duration;

use common::*;
use presently_sim::SimConfig;

const SCOPE: &str = "https://graph.microsoft.com/User.Read Presence.Read.All offline_access openid";

/// Opens the sign-in page and answers it as a person would.
async fn answer_page(sim: &presently_sim::Sim, user: &str, action: &str) -> reqwest::Response {
    let page = authorize(
        sim,
        &with(authorize_params(SCOPE), "prompt", Some("select_account")),
    )
    .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    browser()
        .post(format!("{}/organizations/oauth2/v2.0/authorize", sim.url()))
        .form(&[
            ("request", request_id(&html).as_str()),
            ("user", user),
            ("action", action),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_approves_and_the_app_redeems_the_code_once() {
    let sim = start(config()).await;
    let page = authorize(&sim, &authorize_params(SCOPE)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&sim.users()[19].id),
        "the first 20 people are offered"
    );
    assert!(!html.contains(&sim.users()[20].id));
    assert!(html.contains("Presence.Read.All") && html.contains(CLIENT_ID));

    let who = sim.users()[2].clone();
    let approved = browser()
        .post(format!("{}/organizations/oauth2/v2.0/authorize", sim.url()))
        .form(&[
            ("request", request_id(&html).as_str()),
            ("user", who.user_principal_name.as_str()),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    let (to, answer) = redirected(&approved);
    assert_eq!(to, REDIRECT_URI);
    assert_eq!(answer["state"], "s-42 &=", "state comes back untouched");
    let code = &answer["code"];
    assert!(code.len() > 500, "codes are long, as Entra ID's are");

    let (status, tokens) = redeem_code(&sim, code, REDIRECT_URI, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "User.Read Presence.Read.All openid");
    assert!(
        tokens["refresh_token"].is_string(),
        "offline_access was asked for"
    );
    assert!(tokens["id_token"].is_string(), "openid was asked for");
    let (status, me) = get(&sim, tokens["access_token"].as_str().unwrap(), "/v1.0/me").await;
    assert_eq!((status, me["id"].as_str()), (200, Some(who.id.as_str())));

    // The refresh token is an ordinary one: it rotates.
    let (status, _) = refresh(&sim, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    let (status, again) = redeem_code(&sim, code, REDIRECT_URI, Some(VERIFIER)).await;
    assert_eq!((status, entra_error(&again)), (400, "invalid_grant"));
    assert_eq!(aadsts(again["error_description"].as_str().unwrap()), 54005);

    // An answered page cannot be answered again.
    let twice = browser()
        .post(format!("{}/organizations/oauth2/v2.0/authorize", sim.url()))
        .form(&[
            ("request", request_id(&html).as_str()),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 400);
    assert!(twice
        .text()
        .await
        .unwrap()
        .contains("not waiting for an answer"));
}

#[tokio::test]
async fn no_refresh_or_id_token_unless_asked() {
    let sim = start(SimConfig {
        auto_approve: true,
        ..config()
    })
    .await;
    let resp = authorize(&sim, &authorize_params("User.Read")).await;
    let (_, answer) = redirected(&resp);
    let (status, tokens) = redeem_code(&sim, &answer["code"], REDIRECT_URI, Some(VERIFIER)).await;
    assert_eq!(status, 200);
    assert!(tokens.get("refresh_token").is_none() && tokens.get("id_token").is_none());
}

#[tokio::test]
async fn a_wrong_client_or_redirect_uri_shows_an_error_page_and_never_redirects() {
    let sim = start(config()).await;
    let tenant_url = |tenant: &str| format!("{}/{tenant}/oauth2/v2.0/authorize", sim.url());
    let cases = [
        (tenant_url("fabrikam.com"), authorize_params(SCOPE), 90002),
        (
            tenant_url("common"),
            with(authorize_params(SCOPE), "client_id", Some("presently")),
            700_016,
        ),
        (
            tenant_url("common"),
            with(authorize_params(SCOPE), "client_id", None),
            900_144,
        ),
        (
            tenant_url("common"),
            with(authorize_params(SCOPE), "redirect_uri", None),
            900_144,
        ),
        (
            tenant_url("common"),
            with(
                authorize_params(SCOPE),
                "redirect_uri",
                Some("https://evil.example/"),
            ),
            50011,
        ),
        (
            tenant_url("common"),
            with(
                authorize_params(SCOPE),
                "redirect_uri",
                Some("http://192.168.1.5:8080/"),
            ),
            50011,
        ),
    ];
    for (url, params, code) in cases {
        let resp = browser().get(&url).query(&params).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{url} {params:?}");
        assert!(resp.headers().get("location").is_none());
        let html = resp.text().await.unwrap();
        assert!(html.contains(&format!("AADSTS{code}:")), "{code}: {html}");
    }

    // Everything from outside is escaped on the error page.
    let sneaky = with(
        authorize_params(SCOPE),
        "redirect_uri",
        Some("https://x.example/<script>alert(1)</script>"),
    );
    let html = authorize(&sim, &sneaky).await.text().await.unwrap();
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
}

#[tokio::test]
async fn other_problems_go_back_to_the_app_with_an_error() {
    let sim = start(config()).await;
    let cases = [
        (
            with(authorize_params(SCOPE), "response_type", Some("token")),
            "unsupported_response_type",
            700_051,
        ),
        (
            with(authorize_params(SCOPE), "response_type", None),
            "invalid_request",
            900_144,
        ),
        (
            with(authorize_params(SCOPE), "code_challenge", None),
            "invalid_request",
            9_002_325,
        ),
        (
            with(
                authorize_params(SCOPE),
                "code_challenge_method",
                Some("plain"),
            ),
            "invalid_request",
            50149,
        ),
        (
            with(authorize_params(SCOPE), "code_challenge_method", None),
            "invalid_request",
            50149,
        ),
        (
            with(authorize_params(SCOPE), "code_challenge", Some("short")),
            "invalid_request",
            501_491,
        ),
        (
            with(authorize_params(SCOPE), "scope", None),
            "invalid_request",
            900_144,
        ),
    ];
    for (params, error, code) in cases {
        let resp = authorize(&sim, &params).await;
        let (to, answer) = redirected(&resp);
        assert_eq!(to, REDIRECT_URI);
        assert_eq!(answer["error"], error, "{params:?}");
        assert_eq!(aadsts(&answer["error_description"]), code, "{params:?}");
        assert_eq!(answer["state"], "s-42 &=");
        assert!(!answer.contains_key("code"));
    }

    // A redirect URI with a query of its own keeps it; no state, no state back.
    let own_query = with(
        with(
            authorize_params(SCOPE),
            "redirect_uri",
            Some("http://127.0.0.1:9/cb?app=1"),
        ),
        "state",
        None,
    );
    let resp = authorize(&sim, &with(own_query, "response_type", Some("id_token"))).await;
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("http://127.0.0.1:9/cb?app=1&error=unsupported_response_type&error_description=AADSTS700051%3A%20"), "{location}");
    assert!(!location.contains("state="));
}

#[tokio::test]
async fn declining_and_missing_consent_go_back_as_errors() {
    let sim = start(config()).await;
    let declined = answer_page(&sim, &sim.users()[0].id, "decline").await;
    let (_, answer) = redirected(&declined);
    assert_eq!(answer["error"], "access_denied");
    assert_eq!(
        answer["error_description"],
        "AADSTS65004: User declined to consent to access the app."
    );
    assert_eq!(answer["state"], "s-42 &=");

    let no_consent = answer_page(&sim, &sim.users()[0].id, "approve_without_consent").await;
    let (_, answer) = redirected(&no_consent);
    assert_eq!(answer["error"], "consent_required");
    assert!(answer["error_description"]
        .starts_with("AADSTS65001: The user or administrator has not consented"));

    // A bad answer keeps the page, and the request, waiting.
    let bad = answer_page(&sim, "nobody@nowhere", "approve").await;
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.unwrap();
    assert!(html.contains("Pick who you are from the list."));
    let retried = browser()
        .post(format!("{}/organizations/oauth2/v2.0/authorize", sim.url()))
        .form(&[
            ("request", request_id(&html).as_str()),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    let (_, answer) = redirected(&retried);
    let (status, tokens) = redeem_code(&sim, &answer["code"], REDIRECT_URI, Some(VERIFIER)).await;
    assert_eq!(status, 200);
    let (_, me) = get(&sim, tokens["access_token"].as_str().unwrap(), "/v1.0/me").await;
    assert_eq!(
        me["id"],
        sim.users()[0].id.as_str(),
        "no user picked: the first"
    );
}

#[tokio::test]
async fn redemption_checks_the_verifier_the_redirect_uri_and_the_client() {
    let sim = start(SimConfig {
        auto_approve: true,
        ..config()
    })
    .await;
    let (_, answer) = redirected(&authorize(&sim, &authorize_params(SCOPE)).await);
    let code = &answer["code"];
    let checks = [
        (
            Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"),
            REDIRECT_URI,
            501_481,
        ),
        (None, REDIRECT_URI, 501_481),
        (Some(VERIFIER), "http://localhost:53682", 500_112),
        (Some(VERIFIER), "http://localhost:1/", 500_112),
        (Some(VERIFIER), REDIRECT_URI, 0),
    ];
    for (verifier, redirect_uri, code_expected) in checks {
        let (status, body) = redeem_code(&sim, code, redirect_uri, verifier).await;
        if code_expected == 0 {
            assert_eq!(status, 200, "failed attempts left the code usable: {body}");
            continue;
        }
        assert_eq!(
            (status, entra_error(&body)),
            (400, "invalid_grant"),
            "{verifier:?} {redirect_uri}"
        );
        assert_eq!(
            aadsts(body["error_description"].as_str().unwrap()),
            code_expected
        );
    }

    let (_, answer) = redirected(&authorize(&sim, &authorize_params(SCOPE)).await);
    let (_, body) = token_request(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "00000000-0000-0000-0000-0000000000aa"),
            ("code", &answer["code"]),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(
        entra_error(&body),
        "invalid_grant",
        "issued to another client"
    );
    let (status, body) = redeem_code(&sim, "1.AQnot-a-code", REDIRECT_URI, Some(VERIFIER)).await;
    assert_eq!((status, entra_error(&body)), (400, "invalid_grant"));
    let (_, body) = token_request(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("code", &answer["code"]),
        ],
    )
    .await;
    assert_eq!(
        aadsts(body["error_description"].as_str().unwrap()),
        900_144,
        "no redirect_uri"
    );
}

#[tokio::test(start_paused = true)]
async fn codes_expire_after_ten_minutes_and_pages_after_fifteen() {
    let sim = start(SimConfig {
        auto_approve: true,
        ..config()
    })
    .await;
    let (_, first) = redirected(&authorize(&sim, &authorize_params(SCOPE)).await);
    let (_, second) = redirected(&authorize(&sim, &authorize_params(SCOPE)).await);
    tokio::time::advance(Duration::from_secs(599)).await;
    let (status, _) = redeem_code(&sim, &first["code"], REDIRECT_URI, Some(VERIFIER)).await;
    assert_eq!(status, 200, "still good just before 10 minutes");
    tokio::time::advance(Duration::from_secs(1)).await;
    let (status, body) = redeem_code(&sim, &second["code"], REDIRECT_URI, Some(VERIFIER)).await;
    assert_eq!((status, entra_error(&body)), (400, "invalid_grant"));
    assert_eq!(aadsts(body["error_description"].as_str().unwrap()), 70008);

    sim.set_auto_approve(false);
    let html = authorize(&sim, &authorize_params(SCOPE))
        .await
        .text()
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(15 * 60)).await;
    let late = browser()
        .post(format!("{}/organizations/oauth2/v2.0/authorize", sim.url()))
        .form(&[
            ("request", request_id(&html).as_str()),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 400);
    assert!(late.headers().get("location").is_none());
    assert!(late.text().await.unwrap().contains("AADSTS50089"));
}

#[tokio::test]
async fn the_auto_approve_switch_covers_both_flows() {
    let sim = start(config()).await;
    assert_eq!(
        authorize(&sim, &authorize_params(SCOPE)).await.status(),
        200
    );
    sim.set_auto_approve(true);
    let (_, answer) = redirected(&authorize(&sim, &authorize_params(SCOPE)).await);
    let (_, tokens) = redeem_code(&sim, &answer["code"], REDIRECT_URI, Some(VERIFIER)).await;
    let (_, me) = get(&sim, tokens["access_token"].as_str().unwrap(), "/v1.0/me").await;
    assert_eq!(me["id"], sim.users()[0].id.as_str());

    let code = device_code(&sim, "User.Read").await;
    assert!(sim.pending_codes().is_empty(), "approved at once");
    let (status, _) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    sim.set_auto_approve(false);
    device_code(&sim, "User.Read").await;
    assert_eq!(sim.pending_codes().len(), 1);
    assert_eq!(
        authorize(&sim, &authorize_params(SCOPE)).await.status(),
        200
    );
}

#[tokio::test]
async fn the_sign_in_page_escapes_what_it_shows() {
    let sim = start(config()).await;
    let params = with(
        authorize_params(SCOPE),
        "redirect_uri",
        Some("http://localhost:1/<b>\"x\"</b>"),
    );
    let resp = authorize(&sim, &params).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("http://localhost:1/&lt;b&gt;&quot;x&quot;&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<b>"));
}
