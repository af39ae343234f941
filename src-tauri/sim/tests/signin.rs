//! Device-code sign-in and token refresh, as a client sees them.

mod common;

use std::time::Duration;

use common::*;
use presently_sim::{RefreshStats, SimConfig, SimError};
use serde_json::Value;

#[tokio::test]
async fn device_code_answer_has_everything_a_client_shows() {
    let sim = start(config()).await;
    let code = device_code(&sim, "User.Read offline_access").await;
    let user_code = code["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert!(user_code
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    let uri = code["verification_uri"].as_str().unwrap();
    assert_eq!(uri, format!("{}/devicelogin", sim.url()));
    assert_eq!(code["expires_in"], 900);
    assert_eq!(code["interval"], 1);
    let message = code["message"].as_str().unwrap();
    assert!(
        message.contains(uri) && message.contains(user_code),
        "{message}"
    );
    assert_eq!(sim.pending_codes(), vec![user_code.to_owned()]);
}

#[tokio::test]
async fn device_code_request_checks_tenant_client_and_scope() {
    let sim = start(config()).await;
    let c = client();
    let post = |tenant: String, form: Vec<(&'static str, &'static str)>| {
        let c = c.clone();
        let url = format!("{}/{tenant}/oauth2/v2.0/devicecode", sim.url());
        async move {
            let resp = c.post(url).form(&form).send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let good = vec![("client_id", CLIENT_ID), ("scope", "User.Read")];
    for tenant in [
        "organizations",
        "common",
        "CONTOSO.onmicrosoft.com",
        &sim.tenant_id().to_string(),
    ] {
        assert_eq!(
            post(tenant.to_owned(), good.clone()).await.0,
            200,
            "{tenant}"
        );
    }
    let (status, body) = post("fabrikam.com".into(), good.clone()).await;
    assert_eq!((status, entra_error(&body)), (400, "invalid_request"));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS90002: Tenant 'fabrikam.com' not found"));

    let (status, body) = post(
        "common".into(),
        vec![("client_id", "presently"), ("scope", "User.Read")],
    )
    .await;
    assert_eq!((status, entra_error(&body)), (400, "unauthorized_client"));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS700016"));

    let (status, body) = post("common".into(), vec![("client_id", CLIENT_ID)]).await;
    assert_eq!((status, entra_error(&body)), (400, "invalid_request"));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS900144"));
}

#[tokio::test]
async fn polling_walks_through_pending_slow_down_and_success() {
    // An interval that two polls in a row fall inside however loaded the
    // machine is (1 s was not, under Wine beside other tests).
    let interval = Duration::from_secs(3);
    let sim = start(SimConfig {
        poll_interval: interval,
        ..config()
    })
    .await;
    let code = device_code(
        &sim,
        "https://graph.microsoft.com/User.Read offline_access openid",
    )
    .await;
    let dc = code["device_code"].as_str().unwrap();
    let uc = code["user_code"].as_str().unwrap();

    let (status, body) = poll(&sim, dc).await;
    assert_eq!((status, entra_error(&body)), (400, "authorization_pending"));
    let (status, body) = poll(&sim, dc).await;
    assert_eq!(
        (status, entra_error(&body)),
        (400, "slow_down"),
        "polled sooner than the interval"
    );

    sim.approve(uc, None).unwrap();
    assert!(sim.pending_codes().is_empty());
    // slow_down added 5 s to this code's interval: polling at the interval
    // is still too soon.
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    let (_, body) = poll(&sim, dc).await;
    assert_eq!(entra_error(&body), "slow_down");

    // A fresh code polled at the interval is never told to slow down.
    let code = device_code(&sim, "User.Read Presence.Read.All offline_access").await;
    let dc = code["device_code"].as_str().unwrap();
    assert_eq!(
        entra_error(&poll(&sim, dc).await.1),
        "authorization_pending"
    );
    sim.approve(
        code["user_code"].as_str().unwrap(),
        Some(&sim.users()[3].user_principal_name),
    )
    .unwrap();
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    let (status, tokens) = poll(&sim, dc).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "User.Read Presence.Read.All");
    assert!(tokens["refresh_token"].is_string());

    // The token works, and it is the chosen user's.
    let at = tokens["access_token"].as_str().unwrap();
    let (status, me) = get(&sim, at, "/v1.0/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], sim.users()[3].id.as_str());

    // A device code works once.
    let (status, body) = poll(&sim, dc).await;
    assert_eq!((status, entra_error(&body)), (400, "invalid_grant"));
}

#[tokio::test]
async fn no_refresh_token_without_offline_access() {
    let sim = start(config()).await;
    let code = device_code(&sim, "User.Read").await;
    sim.approve(code["user_code"].as_str().unwrap(), None)
        .unwrap();
    let (status, tokens) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(tokens.get("refresh_token").is_none());
    assert!(tokens.get("id_token").is_none(), "no openid, no id token");
}

#[tokio::test]
async fn declined_consent_missing_and_unknown_codes_stop_the_flow() {
    let sim = start(config()).await;

    let declined = device_code(&sim, "User.Read").await;
    sim.decline(declined["user_code"].as_str().unwrap())
        .unwrap();
    let (status, body) = poll(&sim, declined["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, entra_error(&body)),
        (400, "authorization_declined")
    );

    let no_consent = device_code(&sim, "User.Read").await;
    sim.approve_without_consent(no_consent["user_code"].as_str().unwrap())
        .unwrap();
    let (status, body) = poll(&sim, no_consent["device_code"].as_str().unwrap()).await;
    assert_eq!((status, entra_error(&body)), (400, "invalid_grant"));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS65001: The user or administrator has not consented"));
    assert_eq!(body["suberror"], "consent_required");

    let (status, body) = poll(&sim, "not-a-device-code").await;
    assert_eq!((status, entra_error(&body)), (400, "bad_verification_code"));

    // The same code from another client is not that client's.
    let mine = device_code(&sim, "User.Read").await;
    let (_, body) = token_request(
        &sim,
        &[
            ("grant_type", DEVICE_CODE_GRANT),
            ("client_id", "00000000-0000-0000-0000-0000000000aa"),
            ("device_code", mine["device_code"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(entra_error(&body), "bad_verification_code");

    assert_eq!(
        sim.approve("NOPE12345", None),
        Err(SimError::UnknownCode("NOPE12345".into()))
    );
    let used = declined["user_code"].as_str().unwrap();
    assert!(matches!(
        sim.approve(used, None),
        Err(SimError::CodeNotPending {
            state: "declined",
            ..
        })
    ));
}

#[tokio::test]
async fn codes_expire() {
    let sim = start(SimConfig {
        device_code_lifetime: Duration::from_millis(400),
        ..config()
    })
    .await;
    let code = device_code(&sim, "User.Read").await;
    let uc = code["user_code"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sim.pending_codes().is_empty());
    assert!(matches!(
        sim.approve(&uc, None),
        Err(SimError::CodeExpired(_))
    ));
    let (status, body) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!((status, entra_error(&body)), (400, "expired_token"));
}

#[tokio::test]
async fn refresh_tokens_rotate() {
    let sim = start(config()).await;
    let first = sim.issue_tokens(
        &sim.users()[0].user_principal_name,
        "User.Read offline_access",
    );
    let (status, second) = refresh(&sim, &first.refresh_token).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = second["refresh_token"]
        .as_str()
        .expect("a new refresh token every time");
    assert_ne!(rt2, first.refresh_token);

    let (status, body) = refresh(&sim, &first.refresh_token).await;
    assert_eq!(
        (status, entra_error(&body)),
        (400, "invalid_grant"),
        "the used one is dead"
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS70008"));

    // Bound to the client that redeemed it.
    let (_, body) = token_request(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "00000000-0000-0000-0000-0000000000aa"),
            ("refresh_token", rt2),
        ],
    )
    .await;
    assert_eq!(entra_error(&body), "invalid_grant");

    let (status, third) = refresh(&sim, rt2).await;
    assert_eq!(status, 200);
    let (status, _) = get(&sim, third["access_token"].as_str().unwrap(), "/v1.0/me").await;
    assert_eq!(status, 200);

    let (status, body) = token_request(
        &sim,
        &[("grant_type", "password"), ("client_id", CLIENT_ID)],
    )
    .await;
    assert_eq!(
        (status, entra_error(&body)),
        (400, "unsupported_grant_type")
    );
    let grant_types: Vec<_> = sim
        .requests()
        .iter()
        .map(|r| r.grant_type.clone())
        .collect();
    assert_eq!(grant_types.last().unwrap().as_deref(), Some("password"));
    assert_eq!(grant_types[0].as_deref(), Some("refresh_token"));
}

#[tokio::test]
async fn revoking_kills_access_and_refresh_tokens() {
    let sim = start(config()).await;
    let tokens = sim.issue_tokens(&sim.users()[0].id, ALL_SCOPES);
    assert_eq!(get(&sim, &tokens.access_token, "/v1.0/me").await.0, 200);
    sim.revoke_all();
    let (status, body) = get(&sim, &tokens.access_token, "/v1.0/me").await;
    assert_eq!(
        (status, graph_code(&body)),
        (401, "InvalidAuthenticationToken")
    );
    let (status, body) = refresh(&sim, &tokens.refresh_token).await;
    assert_eq!((status, entra_error(&body)), (400, "invalid_grant"));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS50173: The provided grant has expired due to it being revoked"));
}

#[tokio::test]
async fn sign_in_page_approves_and_escapes() {
    let sim = start(config()).await;
    let code = device_code(&sim, "User.Read offline_access").await;
    let uc = code["user_code"].as_str().unwrap();
    let c = client();

    let page = c
        .get(format!("{}/devicelogin?code=%3Cscript%3E", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("value=\"&lt;script&gt;\"") && !html.contains("<script>"));
    assert!(
        html.contains(&sim.users()[0].id),
        "the people to sign in as are listed"
    );

    let wrong = c
        .post(format!("{}/devicelogin", sim.url()))
        .form(&[("code", "ZZZZZZZZZ"), ("action", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("wasn&#x27;t recognised"));

    let me = &sim.users()[1];
    let typed = uc.to_lowercase();
    let ok = c
        .post(format!("{}/devicelogin", sim.url()))
        .form(&[
            ("code", typed.as_str()),
            ("user", me.id.as_str()),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok
        .text()
        .await
        .unwrap()
        .contains("You have signed in to Presently (simulated). You can close this window."));

    let (status, tokens) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let (_, who) = get(&sim, tokens["access_token"].as_str().unwrap(), "/v1.0/me").await;
    assert_eq!(who["id"], me.id.as_str());
    assert!(sim
        .requests()
        .iter()
        .any(|r| r.path == "/devicelogin" && r.method == "POST" && r.status == 200));
}

#[tokio::test]
async fn auto_approve_signs_in_as_the_first_user() {
    let sim = start(SimConfig {
        auto_approve: true,
        ..config()
    })
    .await;
    let code = device_code(&sim, "User.Read openid").await;
    assert!(sim.pending_codes().is_empty());
    let (status, tokens) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    // The unsigned ID token names who signed in.
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(id_token.split('.').count(), 3);
    let (_, me) = get(&sim, tokens["access_token"].as_str().unwrap(), "/v1.0/me").await;
    assert_eq!(me["id"], sim.users()[0].id.as_str());
}

#[tokio::test]
async fn conditional_access_can_block_the_device_code_flow_only() {
    let sim = start(config()).await;
    let code = device_code(&sim, "User.Read offline_access").await;
    sim.approve(code["user_code"].as_str().unwrap(), None)
        .unwrap();
    sim.set_device_code_blocked(true);
    let (status, body) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!((status, entra_error(&body)), (400, "invalid_grant"));
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with("AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
            && description.contains("\r\nTrace ID: "),
        "{description}"
    );
    assert_eq!(body["suberror"], "message_only");
    assert_eq!(body["error_codes"], serde_json::json!([53003]));

    // The authorization code flow and refresh are not device code: they work.
    sim.set_auto_approve(true);
    let (_, answer) = redirected(&authorize(&sim, &authorize_params("User.Read")).await);
    let (status, _) = redeem_code(&sim, &answer["code"], REDIRECT_URI, Some(VERIFIER)).await;
    assert_eq!(status, 200);
    let tokens = sim.issue_tokens(&sim.users()[0].id, "User.Read");
    assert_eq!(refresh(&sim, &tokens.refresh_token).await.0, 200);

    // Lifting the block lets the approved code through.
    sim.set_device_code_blocked(false);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let (status, tokens) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn withdrawn_consent_fails_refresh_without_using_the_token_up() {
    let sim = start(config()).await;
    let tokens = sim.issue_tokens(&sim.users()[0].id, ALL_SCOPES);
    sim.set_refresh_consent_required(Some("Presence.Read.All".into()));
    for _ in 0..2 {
        let (status, body) = refresh(&sim, &tokens.refresh_token).await;
        assert_eq!((status, entra_error(&body)), (400, "invalid_grant"));
        assert_eq!(body["suberror"], "consent_required");
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.starts_with("AADSTS65001: The user or administrator has not consented")
                && description.contains("'Presence.Read.All'"),
            "{description}"
        );
    }
    assert_eq!(sim.refresh_stats().redeemed, 0);
    assert_eq!(sim.refresh_stats().reused, 0, "refused, not reused");

    sim.set_refresh_consent_required(None);
    let (status, body) = refresh(&sim, &tokens.refresh_token).await;
    assert_eq!(status, 200, "the same refresh token works again: {body}");
}

#[tokio::test]
async fn refresh_stats_count_redemptions_and_reuse() {
    let sim = start(config()).await;
    assert_eq!(sim.refresh_stats(), RefreshStats::default());
    let first = sim.issue_tokens(&sim.users()[0].id, "User.Read");
    let (_, second) = refresh(&sim, &first.refresh_token).await;
    let (_, third) = refresh(&sim, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        sim.refresh_stats(),
        RefreshStats {
            redeemed: 2,
            reused: 0
        }
    );
    // Reusing either spent token counts; a faulted, unknown or revoked one does not.
    refresh(&sim, &first.refresh_token).await;
    refresh(&sim, second["refresh_token"].as_str().unwrap()).await;
    refresh(&sim, "1.AQnever-issued").await;
    sim.inject(presently_sim::Fault::status(503, None).on("/organizations/oauth2/v2.0/token"));
    refresh(&sim, &first.refresh_token).await;
    sim.revoke_all();
    let (status, _) = refresh(&sim, third["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(
        sim.refresh_stats(),
        RefreshStats {
            redeemed: 2,
            reused: 2
        }
    );
}

#[tokio::test]
async fn tokens_have_real_world_sizes() {
    let sim = start(config()).await;
    let code = device_code(&sim, "User.Read offline_access").await;
    sim.approve(code["user_code"].as_str().unwrap(), None)
        .unwrap();
    let (_, tokens) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    assert_eq!((at.len(), rt.len()), (2_400, 1_600), "the defaults");
    let parts: Vec<&str> = at.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT");
    // Base64url of `{"`: every JWT starts with its header's JSON.
    assert!(parts[0].starts_with("eyJ") && parts[1].starts_with("eyJ"));
    assert!(rt.starts_with("1.AQ"));

    let big = start(SimConfig {
        access_token_chars: 8_192,
        refresh_token_chars: 4_096,
        ..config()
    })
    .await;
    let tokens = big.issue_tokens(&big.users()[0].id, "User.Read");
    assert_eq!(
        (tokens.access_token.len(), tokens.refresh_token.len()),
        (8_192, 4_096)
    );
    assert_eq!(get(&big, &tokens.access_token, "/v1.0/me").await.0, 200);
    let (status, next) = refresh(&big, &tokens.refresh_token).await;
    assert_eq!(status, 200);
    let next_at = next["access_token"].as_str().unwrap();
    assert_eq!(next_at.len(), 8_192);
    assert_ne!(next_at, tokens.access_token, "every token is new");
    assert_eq!(get(&big, next_at, "/v1.0/me").await.0, 200);

    let err = presently_sim::Sim::start(SimConfig {
        refresh_token_chars: 100_000,
        ..config()
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("refresh_token_chars"), "{err}");
}
