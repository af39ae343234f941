//! `getPresencesByUserId` and the presence endpoints, as a client sees them.

mod common;

use std::time::Duration;

use common::*;
use presently_sim::{PresenceUpdate, SimConfig};
use serde_json::{json, Value};

fn ids(sim: &presently_sim::Sim, n: usize) -> Vec<String> {
    sim.users().into_iter().take(n).map(|u| u.id).collect()
}

#[tokio::test]
async fn graph_needs_a_valid_unexpired_token() {
    // A lifetime the first use below falls inside however loaded the
    // machine is (1 s was not, under Wine beside other tests).
    let lifetime = Duration::from_secs(3);
    let sim = start(SimConfig {
        access_token_lifetime: lifetime,
        ..config()
    })
    .await;
    let c = client();
    let url = format!("{}/v1.0/me/presence", sim.url());

    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    assert_eq!(
        graph_code(&resp.json().await.unwrap()),
        "InvalidAuthenticationToken"
    );

    let (status, body) = get(&sim, "made-up-token", "/v1.0/me/presence").await;
    assert_eq!(
        (status, graph_code(&body)),
        (401, "InvalidAuthenticationToken")
    );

    let token = token(&sim);
    assert_eq!(get(&sim, &token, "/v1.0/me/presence").await.0, 200);
    tokio::time::sleep(lifetime + Duration::from_millis(100)).await;
    let (status, body) = get(&sim, &token, "/v1.0/me/presence").await;
    assert_eq!(
        (status, graph_code(&body)),
        (401, "InvalidAuthenticationToken")
    );
    assert_eq!(
        body["error"]["message"],
        "Access token has expired or is not yet valid."
    );
    assert!(
        sim.requests().iter().filter(|r| r.status == 401).count() >= 3,
        "401s are logged"
    );
}

#[tokio::test]
async fn presences_come_back_in_request_order_with_the_full_resource() {
    let sim = start(config()).await;
    let token = token(&sim);
    let mut wanted = ids(&sim, 5);
    wanted.reverse();
    sim.set_presence(
        &wanted[1],
        PresenceUpdate {
            availability: "Away".into(),
            activity: "OutOfOffice".into(),
            status_message: Some("<b>Back Monday</b> & later".into()),
            out_of_office: Some("On leave".into()),
        },
    )
    .unwrap();
    let resp = presences(&sim, &token, &wanted).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let value = body["value"].as_array().unwrap();
    let got: Vec<&str> = value.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(got, wanted.iter().map(String::as_str).collect::<Vec<_>>());
    let p = &value[1];
    assert_eq!(p["@odata.type"], "#microsoft.graph.presence");
    assert_eq!(
        (p["availability"].as_str(), p["activity"].as_str()),
        (Some("Away"), Some("OutOfOffice"))
    );
    assert_eq!(
        p["statusMessage"]["message"],
        json!({"content": "<b>Back Monday</b> & later", "contentType": "text"})
    );
    assert_eq!(
        p["outOfOfficeSettings"],
        json!({"message": "On leave", "isOutOfOffice": true})
    );
    assert!(p["workLocation"]["workLocationType"].is_string());
    for p in value {
        assert!(p["sequenceNumber"].is_string());
        assert!(
            p.get("statusMessage").is_some()
                && p["outOfOfficeSettings"]["isOutOfOffice"].is_boolean()
        );
    }
    let logged = sim.requests().pop().unwrap();
    assert_eq!((logged.ids, logged.distinct_ids), (Some(5), Some(5)));
    assert_eq!(logged.id_list, wanted);
}

#[tokio::test]
async fn sequence_numbers_grow_with_every_change() {
    let sim = start(config()).await;
    let token = token(&sim);
    let id = sim.users()[2].id.clone();
    let before = sim.presence(&id).unwrap().sequence_number;
    for activity in ["InACall", "InAMeeting"] {
        let update = PresenceUpdate {
            availability: "Busy".into(),
            activity: activity.into(),
            ..Default::default()
        };
        sim.set_presence(&id, update).unwrap();
    }
    let (status, body) = get(&sim, &token, &format!("/v1.0/users/{id}/presence")).await;
    assert_eq!(status, 200);
    let after = body["sequenceNumber"].as_str().unwrap();
    assert!(after > before.as_str(), "{after} > {before}");
    assert_eq!(
        after.len(),
        before.len(),
        "fixed width, so string order is numeric order"
    );
    assert_eq!(body["activity"], "InAMeeting");
    assert_eq!(sim.presence(&id).unwrap().sequence_number, after);
}

#[tokio::test]
async fn at_most_650_ids_and_never_an_empty_list() {
    let sim = start(SimConfig {
        users: 700,
        ..config()
    })
    .await;
    let token = token(&sim);
    let resp = presences(&sim, &token, &ids(&sim, 650)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["value"]
            .as_array()
            .unwrap()
            .len(),
        650
    );

    let resp = presences(&sim, &token, &ids(&sim, 651)).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.bytes().await.unwrap().is_empty(), "a bare 400");
    assert_eq!(sim.requests().pop().unwrap().ids, Some(651));

    let resp = presences(&sim, &token, &[]).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn a_non_guid_fails_the_batch_and_an_unknown_guid_is_left_out() {
    let sim = start(config()).await;
    let token = token(&sim);
    let mut list = ids(&sim, 3);
    list.insert(1, "alice@contoso.onmicrosoft.com".into());
    let resp = presences(&sim, &token, &list).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(graph_code(&body), "BadRequest");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("alice@contoso.onmicrosoft.com"));

    let stranger = "0b7c3e0a-1111-4a4a-9b9b-123456789abc".to_owned();
    let known = ids(&sim, 2);
    let resp = presences(
        &sim,
        &token,
        &[
            known[0].clone(),
            stranger,
            known[1].clone(),
            known[0].clone(),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let got: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![known[0].as_str(), known[1].as_str()]);
    let logged = sim.requests().pop().unwrap();
    assert_eq!((logged.ids, logged.distinct_ids), (Some(4), Some(3)));
}

#[tokio::test]
async fn presence_needs_permission_and_json() {
    let sim = start(config()).await;
    let me = sim.users()[0].id.clone();
    let weak = sim
        .issue_tokens(&me, "User.Read Presence.Read")
        .access_token;
    let resp = presences(&sim, &weak, &ids(&sim, 2)).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        graph_code(&resp.json().await.unwrap()),
        "Authorization_RequestDenied"
    );
    // Presence.Read is enough for one's own presence, not for others'.
    assert_eq!(get(&sim, &weak, "/v1.0/me/presence").await.0, 200);
    let other = &sim.users()[1].id;
    assert_eq!(
        get(&sim, &weak, &format!("/v1.0/users/{other}/presence"))
            .await
            .0,
        403
    );

    let resp = client()
        .post(format!(
            "{}/v1.0/communications/getPresencesByUserId",
            sim.url()
        ))
        .bearer_auth(token(&sim))
        .header("content-type", "text/plain")
        .body(json!({"ids": [me]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(graph_code(&resp.json().await.unwrap()), "BadRequest");
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after_and_counts_throttled_requests() {
    // A window long enough for every request below to fall in it however
    // loaded the machine is (2 s was not, under Wine beside other tests).
    let window = Duration::from_secs(10);
    let sim = start(SimConfig {
        rate_limit: 5,
        rate_window: window,
        ..config()
    })
    .await;
    let token = token(&sim);
    let list = ids(&sim, 3);
    for _ in 0..5 {
        assert_eq!(presences(&sim, &token, &list).await.status(), 200);
    }
    let resp = presences(&sim, &token, &list).await;
    assert_eq!(resp.status(), 429);
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=window.as_secs()).contains(&retry_after),
        "{retry_after}"
    );
    assert_eq!(graph_code(&resp.json().await.unwrap()), "TooManyRequests");
    // Asking again while throttled is refused and counts again.
    assert_eq!(presences(&sim, &token, &list).await.status(), 429);

    // Other endpoints are not throttled by this budget.
    assert_eq!(get(&sim, &token, "/v1.0/me/presence").await.0, 200);

    tokio::time::sleep(window).await;
    assert_eq!(
        presences(&sim, &token, &list).await.status(),
        200,
        "the window has moved on"
    );
    let statuses: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("getPresencesByUserId"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429, 429, 200]);
}

#[tokio::test]
async fn a_cloud_without_presence_answers_404() {
    let sim = start(config()).await;
    let token = token(&sim);
    sim.set_presence_available(false);
    assert_eq!(presences(&sim, &token, &ids(&sim, 1)).await.status(), 404);
    assert_eq!(get(&sim, &token, "/v1.0/me/presence").await.0, 404);
    assert_eq!(
        get(&sim, &token, "/v1.0/me").await.0,
        200,
        "the directory still works"
    );
    sim.set_presence_available(true);
    assert_eq!(presences(&sim, &token, &ids(&sim, 1)).await.status(), 200);
}

#[tokio::test]
async fn automatic_presence_changes_by_itself() {
    let sim = start(SimConfig {
        auto_presence: true,
        presence_tick: Duration::from_millis(20),
        ..config()
    })
    .await;
    let before: Vec<_> = sim
        .users()
        .iter()
        .map(|u| sim.presence(&u.id).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let changed = sim
        .users()
        .iter()
        .zip(&before)
        .filter(|(u, old)| sim.presence(&u.id).unwrap().sequence_number > old.sequence_number)
        .count();
    assert!(
        changed >= 3,
        "about 30 simulated minutes should change several people, changed {changed}"
    );
}

#[tokio::test]
async fn same_seed_same_directory_and_presence() {
    let a = start(SimConfig {
        seed: 7,
        ..config()
    })
    .await;
    let b = start(SimConfig {
        seed: 7,
        ..config()
    })
    .await;
    assert_eq!(
        a.users().iter().map(|u| &u.id).collect::<Vec<_>>(),
        b.users().iter().map(|u| &u.id).collect::<Vec<_>>()
    );
    let u = &a.users()[5].id;
    assert_eq!(a.presence(u), b.presence(u));
}
