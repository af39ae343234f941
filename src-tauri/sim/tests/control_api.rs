//! The `/_sim` control API, driven over HTTP as end-to-end tests drive it.

mod common;

use common::*;
use serde_json::{json, Value};

async fn control(
    sim: &presently_sim::Sim,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let c = client();
    let url = format!("{}{path}", sim.url());
    let req = match method {
        "GET" => c.get(url),
        "DELETE" => c.delete(url),
        _ => c.post(url),
    };
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let resp = req.send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn users_presence_and_codes_over_http() {
    let sim = start(config()).await;
    let (status, users) = control(&sim, "GET", "/_sim/users", None).await;
    assert_eq!(status, 200);
    assert_eq!(users.as_array().unwrap().len(), 40);
    assert_eq!(users[0]["id"], sim.users()[0].id.as_str());
    assert!(users[0]["user_principal_name"].is_string());

    // A refusal has its message and, beside it, a code to match on.
    let (status, refused) = control(&sim, "GET", "/_sim/presence/nobody", None).await;
    assert_eq!(status, 400);
    assert_eq!(refused["code"], "unknown_user", "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("'nobody'"),
        "{refused}"
    );

    let id = sim.users()[3].id.clone();
    let body = json!({"id": id, "availability": "DoNotDisturb", "activity": "Presenting", "statusMessage": "Demo"});
    let (status, p) = control(&sim, "POST", "/_sim/presence", Some(body)).await;
    assert_eq!(status, 200, "{p}");
    let token = token(&sim);
    let (_, graph) = get(&sim, &token, &format!("/v1.0/users/{id}/presence")).await;
    assert_eq!(graph["activity"], "Presenting");
    assert_eq!(graph["statusMessage"]["message"]["content"], "Demo");
    assert_eq!(graph["statusMessage"]["message"]["contentType"], "text");
    assert_eq!(graph["sequenceNumber"], p["sequence_number"]);

    // A message written in Teams is HTML, and Graph says so.
    let body = json!({"id": id, "availability": "Busy", "activity": "Busy",
        "statusMessage": "<p>R&amp;D</p>", "statusMessageContentType": "html"});
    assert_eq!(
        control(&sim, "POST", "/_sim/presence", Some(body)).await.0,
        200
    );
    let (_, graph) = get(&sim, &token, &format!("/v1.0/users/{id}/presence")).await;
    assert_eq!(
        graph["statusMessage"]["message"],
        json!({"content": "<p>R&amp;D</p>", "contentType": "html"})
    );
    let body = json!({"id": id, "availability": "Busy", "activity": "Busy",
        "statusMessage": "x", "statusMessageContentType": "markdown"});
    let (status, refused) = control(&sim, "POST", "/_sim/presence", Some(body)).await;
    assert_eq!(status, 400, "{refused}");

    let code = device_code(&sim, "User.Read").await;
    let (_, codes) = control(&sim, "GET", "/_sim/codes", None).await;
    assert_eq!(codes, json!([code["user_code"]]));
    let upn = sim.users()[2].user_principal_name.clone();
    let (status, _) = control(
        &sim,
        "POST",
        "/_sim/approve",
        Some(json!({"user_code": code["user_code"], "user": upn})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, tokens) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let (_, me) = get(&sim, tokens["access_token"].as_str().unwrap(), "/v1.0/me").await;
    assert_eq!(me["userPrincipalName"], upn.as_str());

    let other = device_code(&sim, "User.Read").await;
    let (status, _) = control(
        &sim,
        "POST",
        "/_sim/decline",
        Some(json!({"user_code": other["user_code"]})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = control(
        &sim,
        "POST",
        "/_sim/approve",
        Some(json!({"user_code": other["user_code"]})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("declined"),
        "{body}"
    );
    assert_eq!(body["code"], "code_not_pending", "{body}");

    let third = device_code(&sim, "User.Read").await;
    let (status, _) = control(
        &sim,
        "POST",
        "/_sim/approve_without_consent",
        Some(json!({"user_code": third["user_code"]})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = poll(&sim, third["device_code"].as_str().unwrap()).await;
    assert_eq!(body["suberror"], "consent_required");
}

#[tokio::test]
async fn faults_revoke_availability_and_log_over_http() {
    let sim = start(config()).await;
    let token = token(&sim);
    let fault = json!({"kind": "status", "status": 429, "retry_after": "3", "path": "/v1.0/me", "count": 1});
    assert_eq!(
        control(&sim, "POST", "/_sim/faults", Some(fault)).await.0,
        200
    );
    let resp = client()
        .get(format!("{}/v1.0/me", sim.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            resp.headers()["retry-after"].to_str().unwrap()
        ),
        (429, "3")
    );

    let slow = json!({"kind": "slow", "delay_ms": 50});
    assert_eq!(
        control(&sim, "POST", "/_sim/faults", Some(slow)).await.0,
        200
    );
    assert_eq!(control(&sim, "DELETE", "/_sim/faults", None).await.0, 200);
    assert_eq!(get(&sim, &token, "/v1.0/me").await.0, 200);

    assert_eq!(
        control(
            &sim,
            "POST",
            "/_sim/presence_available",
            Some(json!({"available": false}))
        )
        .await
        .0,
        200
    );
    assert_eq!(get(&sim, &token, "/v1.0/me/presence").await.0, 404);

    let (status, log) = control(&sim, "GET", "/_sim/log", None).await;
    assert_eq!(status, 200);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 3, "control requests are not logged: {log:?}");
    assert_eq!(log[0]["status"], 429);
    assert_eq!(log[0]["fault"], "status 429");
    assert!(log[0]["at_ms"].is_u64());
    assert_eq!(log[2]["path"], "/v1.0/me/presence");
    assert_eq!(control(&sim, "DELETE", "/_sim/log", None).await.0, 200);
    assert!(sim.requests().is_empty());

    assert_eq!(
        control(&sim, "POST", "/_sim/revoke", Some(json!({})))
            .await
            .0,
        200
    );
    assert_eq!(get(&sim, &token, "/v1.0/me").await.0, 401);

    let (status, tokens) = control(
        &sim,
        "POST",
        "/_sim/tokens",
        Some(json!({"user": sim.users()[1].id, "scopes": "User.Read"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, me) = get(&sim, tokens["access_token"].as_str().unwrap(), "/v1.0/me").await;
    assert_eq!(me["id"], sim.users()[1].id.as_str());
}

#[tokio::test]
async fn bad_control_input_is_a_400_that_says_why() {
    let sim = start(config()).await;
    let cases = [
        (
            "/_sim/faults",
            json!({"kind": "explode"}),
            "unknown fault kind",
        ),
        (
            "/_sim/faults",
            json!({"kind": "status"}),
            "needs \"status\"",
        ),
        ("/_sim/faults", json!({"kind": "slow"}), "delay_ms"),
        ("/_sim/faults", json!({"kind": "drop", "count": 0}), "count"),
        (
            "/_sim/presence",
            json!({"id": "nobody", "availability": "Busy", "activity": "Busy"}),
            "nobody",
        ),
        (
            "/_sim/presence",
            json!({"availability": "Busy"}),
            "invalid JSON body for POST /_sim/presence",
        ),
        (
            "/_sim/approve",
            json!({"user_code": "XXXXXXXXX"}),
            "XXXXXXXXX",
        ),
        (
            "/_sim/presence_available",
            json!({"available": "no"}),
            "invalid JSON",
        ),
    ];
    for (path, body, says) in cases {
        let (status, answer) = control(&sim, "POST", path, Some(body.clone())).await;
        assert_eq!(status, 400, "{path} {body}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(says), "{path} {body}: {message}");
    }
}

#[tokio::test]
async fn sign_in_switches_and_refresh_stats_over_http() {
    let sim = start(config()).await;
    let (_, index) = control(&sim, "GET", "/_sim", None).await;
    let listed = index["endpoints"].to_string();
    for route in [
        "/_sim/auto_approve",
        "/_sim/block_device_code",
        "/_sim/refresh_consent_required",
        "/_sim/refresh_stats",
        "/_sim/ca_certificate",
        "redirect",
    ] {
        assert!(listed.contains(route), "{route} is listed");
    }

    let on = json!({"enabled": true});
    assert_eq!(
        control(&sim, "POST", "/_sim/auto_approve", Some(on))
            .await
            .0,
        200
    );
    let code = device_code(&sim, "User.Read").await;
    assert!(sim.pending_codes().is_empty(), "approved at once");
    let (status, body) = control(
        &sim,
        "POST",
        "/_sim/auto_approve",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!((status, body), (200, json!({"ok": true})));

    let block = json!({"blocked": true});
    assert_eq!(
        control(&sim, "POST", "/_sim/block_device_code", Some(block))
            .await
            .0,
        200
    );
    let (_, body) = poll(&sim, code["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error_codes"], json!([53003]));
    let unblock = json!({"blocked": false});
    assert_eq!(
        control(&sim, "POST", "/_sim/block_device_code", Some(unblock))
            .await
            .0,
        200
    );

    let tokens = sim.issue_tokens(&sim.users()[0].id, "User.Read");
    let consent = json!({"permission": "User.Read"});
    assert_eq!(
        control(
            &sim,
            "POST",
            "/_sim/refresh_consent_required",
            Some(consent)
        )
        .await
        .0,
        200
    );
    let (_, body) = refresh(&sim, &tokens.refresh_token).await;
    assert_eq!(body["suberror"], "consent_required");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("'User.Read'"));
    let off = json!({"permission": null});
    assert_eq!(
        control(&sim, "POST", "/_sim/refresh_consent_required", Some(off))
            .await
            .0,
        200
    );
    let (_, next) = refresh(&sim, &tokens.refresh_token).await;
    refresh(&sim, &tokens.refresh_token).await;
    assert!(next["refresh_token"].is_string());

    let (status, stats) = control(&sim, "GET", "/_sim/refresh_stats", None).await;
    assert_eq!((status, stats), (200, json!({"redeemed": 1, "reused": 1})));

    let (status, body) = control(&sim, "GET", "/_sim/ca_certificate", None).await;
    assert_eq!(status, 404, "no TLS, no CA");
    assert!(body["error"].as_str().unwrap().contains("plain HTTP"));

    let redirect = json!({"kind": "redirect", "status": 308, "location": "https://elsewhere.example/", "path": "/v1.0/me"});
    assert_eq!(
        control(&sim, "POST", "/_sim/faults", Some(redirect))
            .await
            .0,
        200
    );
    let resp = browser()
        .get(format!("{}/v1.0/me", sim.url()))
        .bearer_auth(token(&sim))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 308);
    assert_eq!(resp.headers()["location"], "https://elsewhere.example/");
}

#[tokio::test]
async fn bad_switch_input_is_a_400_that_says_why() {
    let sim = start(config()).await;
    let cases = [
        (
            "/_sim/auto_approve",
            json!({"enabled": "yes"}),
            "invalid JSON body for POST /_sim/auto_approve",
        ),
        ("/_sim/auto_approve", json!({}), "missing field `enabled`"),
        (
            "/_sim/block_device_code",
            json!({"block": true}),
            "unknown field",
        ),
        (
            "/_sim/refresh_consent_required",
            json!({}),
            "missing field `permission`",
        ),
        (
            "/_sim/refresh_consent_required",
            json!({"permission": " "}),
            "must name a permission",
        ),
        (
            "/_sim/faults",
            json!({"kind": "redirect", "status": 307}),
            "needs \"location\"",
        ),
    ];
    for (path, body, says) in cases {
        let (status, answer) = control(&sim, "POST", path, Some(body.clone())).await;
        assert_eq!(status, 400, "{path} {body}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(says), "{path} {body}: {message}");
    }
}

#[tokio::test]
async fn an_app_is_registered_and_consented_over_http() {
    const APP: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
    let sim = start(config()).await;
    let (status, answer) = control(
        &sim,
        "POST",
        "/_sim/app_secret",
        Some(json!({"client_id": APP})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let secret = answer["secret"].as_str().unwrap().to_owned();
    let cert = include_str!("fixtures/app.pem");
    let (status, answer) = control(
        &sim,
        "POST",
        "/_sim/app_certificate",
        Some(json!({"client_id": APP, "certificate": cert})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["thumbprint"].as_str().map(str::len), Some(40));
    let (status, answer) = control(
        &sim,
        "POST",
        "/_sim/admin_consent",
        Some(json!({"client_id": APP, "permissions": ["Presence.Read.All"]})),
    )
    .await;
    assert_eq!((status, answer["ok"].as_bool()), (200, Some(true)));

    let url = format!("{}/{}/oauth2/v2.0/token", sim.url(), sim.tenant_id());
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("client_secret", secret.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let resp = client().post(url).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let ids = vec![sim.users()[1].id.clone()];
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(presences(&sim, token, &ids).await.status(), 200);

    // What Entra ID would not take is refused with a code to match on.
    for (path, body) in [
        ("/_sim/app_secret", json!({"client_id": "relay"})),
        (
            "/_sim/app_certificate",
            json!({"client_id": APP, "certificate": include_str!("fixtures/app.key")}),
        ),
        (
            "/_sim/admin_consent",
            json!({"client_id": APP, "permissions": ["Presence.ReadWrite"]}),
        ),
    ] {
        let (status, answer) = control(&sim, "POST", path, Some(body)).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(
            answer["code"], "invalid_app_registration",
            "{path}: {answer}"
        );
    }
    let (status, answer) = control(
        &sim,
        "POST",
        "/_sim/admin_consent",
        Some(json!({"client_id": APP})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("missing field `permissions`"),
        "{answer}"
    );
}
