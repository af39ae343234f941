//! The directory: users, search, paging, people, groups, photos and $batch.

mod common;

use std::collections::HashSet;

use common::*;
use presently_sim::SimConfig;
use serde_json::{json, Value};

async fn get_with(
    sim: &presently_sim::Sim,
    token: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = client()
        .get(format!("{}{path}", sim.url()))
        .bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn me_and_users_by_id_or_upn() {
    let sim = start(config()).await;
    let token = token(&sim);
    let me = &sim.users()[0];
    let (status, body) = get(&sim, &token, "/v1.0/me").await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], me.id.as_str());
    assert_eq!(body["displayName"], me.display_name.as_str());
    assert_eq!(body["userPrincipalName"], me.user_principal_name.as_str());
    assert!(
        body.get("department").is_none(),
        "department needs $select, as in Graph"
    );

    let upn = sim.users()[4].user_principal_name.to_uppercase();
    let (status, body) = get(
        &sim,
        &token,
        &format!("/v1.0/users/{upn}?$select=id,department,jobTitle"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], sim.users()[4].id.as_str());
    assert_eq!(body["department"], sim.users()[4].department.as_str());
    assert!(body.get("displayName").is_none());

    let (status, body) = get(
        &sim,
        &token,
        "/v1.0/users/0b7c3e0a-1111-4a4a-9b9b-123456789abc",
    )
    .await;
    assert_eq!(
        (status, graph_code(&body)),
        (404, "Request_ResourceNotFound")
    );
    let (status, _) = get(&sim, &token, "/v1.0/users?$select=shoeSize").await;
    assert_eq!(status, 400);

    let basic = sim.issue_tokens(&me.id, "User.Read").access_token;
    assert_eq!(get(&sim, &basic, "/v1.0/me").await.0, 200);
    let (status, body) = get(&sim, &basic, "/v1.0/users").await;
    assert_eq!(
        (status, graph_code(&body)),
        (403, "Authorization_RequestDenied")
    );
}

#[tokio::test]
async fn search_needs_consistency_level_and_matches_word_prefixes() {
    let sim = start(SimConfig {
        users: 300,
        ..config()
    })
    .await;
    let token = token(&sim);
    let target = sim.users()[17].clone();
    let prefix: String = target.given_name.chars().take(3).collect();
    let path = format!("/v1.0/users?$search=\"displayName:{prefix}\"&$count=true&$top=999");

    let (status, body) = get(&sim, &token, &path).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"
    );

    let (status, body) = get_with(&sim, &token, &path, &[("ConsistencyLevel", "eventual")]).await;
    assert_eq!(status, 200, "{body}");
    let found = body["value"].as_array().unwrap();
    assert!(found.iter().any(|u| u["id"] == target.id.as_str()));
    let lower = prefix.to_lowercase();
    for u in found {
        let name = u["displayName"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .replace('\'', "");
        assert!(
            name.split_whitespace().any(|w| w.starts_with(&lower)),
            "{name} for {prefix}"
        );
    }
    assert_eq!(body["@odata.count"], found.len());

    let (status, _) = get_with(
        &sim,
        &token,
        "/v1.0/users?$search=displayName:ali",
        &[("ConsistencyLevel", "eventual")],
    )
    .await;
    assert_eq!(status, 400, "the clause must be quoted");

    let filter = format!("/v1.0/users?$filter=startswith(displayName,'{prefix}')");
    let (status, body) = get(&sim, &token, &filter).await;
    assert_eq!(status, 200);
    for u in body["value"].as_array().unwrap() {
        assert!(u["displayName"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .starts_with(&lower));
    }
    let two = format!(
        "/v1.0/users?$filter=id in ('{}','{}')",
        sim.users()[1].id,
        sim.users()[2].id
    );
    let (_, body) = get(&sim, &token, &two).await;
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn big_groups_come_in_pages() {
    let sim = start(SimConfig {
        users: 1200,
        ..config()
    })
    .await;
    let token = token(&sim);
    let (status, groups) = get(&sim, &token, "/v1.0/me/memberOf").await;
    assert_eq!(status, 200);
    let all = groups["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["displayName"] == "All Company")
        .unwrap();
    assert_eq!(all["@odata.type"], "#microsoft.graph.group");
    let id = all["id"].as_str().unwrap();

    for (top, pages) in [(None, 12), (Some(999), 2)] {
        let mut url = format!("{}/v1.0/groups/{id}/members", sim.url());
        if let Some(t) = top {
            url.push_str(&format!("?$top={t}&$select=id,displayName"));
        }
        let mut seen = HashSet::new();
        let mut count = 0;
        loop {
            let resp = client().get(&url).bearer_auth(&token).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            let body: Value = resp.json().await.unwrap();
            count += 1;
            for m in body["value"].as_array().unwrap() {
                assert_eq!(m["@odata.type"], "#microsoft.graph.user");
                assert!(
                    seen.insert(m["id"].as_str().unwrap().to_owned()),
                    "no one twice"
                );
            }
            match body["@odata.nextLink"].as_str() {
                Some(next) => {
                    assert!(
                        next.starts_with(&sim.url()) && next.contains("$skiptoken="),
                        "{next}"
                    );
                    url = next.to_owned();
                }
                None => break,
            }
        }
        assert_eq!((seen.len(), count), (1200, pages), "$top {top:?}");
    }
    let (status, _) = get(
        &sim,
        &token,
        &format!("/v1.0/groups/{id}/members?$top=1000"),
    )
    .await;
    assert_eq!(status, 400);

    let weak = sim
        .issue_tokens(&sim.users()[0].id, "User.Read")
        .access_token;
    assert_eq!(
        get(&sim, &weak, &format!("/v1.0/groups/{id}/members"))
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn manager_reports_people_and_teams_of_me() {
    let sim = start(config()).await;
    let token = token(&sim);
    let me = sim.users()[0].clone();

    let (status, manager) = get(&sim, &token, "/v1.0/me/manager").await;
    assert_eq!(status, 200);
    assert_eq!(manager["id"], me.manager_id.clone().unwrap().as_str());

    let (_, reports) = get(&sim, &token, "/v1.0/me/directReports").await;
    let reports = reports["value"].as_array().unwrap();
    assert!(reports.len() >= 3);
    for r in reports {
        let id = r["id"].as_str().unwrap();
        assert_eq!(
            sim.user(id).unwrap().manager_id.as_deref(),
            Some(me.id.as_str())
        );
    }

    let (status, people) = get(&sim, &token, "/v1.0/me/people?$top=5").await;
    assert_eq!(status, 200);
    let people = people["value"].as_array().unwrap();
    assert_eq!(people.len(), 5);
    assert_eq!(
        people[0]["id"], manager["id"],
        "the manager is the most relevant person"
    );
    assert!(
        people[0]["scoredEmailAddresses"][0]["relevanceScore"]
            .as_f64()
            .unwrap()
            > people[4]["scoredEmailAddresses"][0]["relevanceScore"]
                .as_f64()
                .unwrap()
    );

    let (status, teams) = get(&sim, &token, "/v1.0/me/joinedTeams").await;
    assert_eq!(status, 200);
    assert!(teams["value"].as_array().unwrap().len() >= 2);

    let ceo = sim
        .users()
        .into_iter()
        .find(|u| u.manager_id.is_none())
        .unwrap();
    let (status, body) = get(&sim, &token, &format!("/v1.0/users/{}/manager", ceo.id)).await;
    assert_eq!(
        (status, graph_code(&body)),
        (404, "Request_ResourceNotFound")
    );
}

#[tokio::test]
async fn photos_are_png_or_404() {
    let sim = start(config()).await;
    let token = token(&sim);
    let with = sim.users().into_iter().find(|u| u.has_photo).unwrap();
    let without = sim.users().into_iter().find(|u| !u.has_photo).unwrap();

    let resp = client()
        .get(format!("{}/v1.0/users/{}/photo/$value", sim.url(), with.id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    let (status, body) = get(
        &sim,
        &token,
        &format!("/v1.0/users/{}/photo/$value", without.id),
    )
    .await;
    assert_eq!((status, graph_code(&body)), (404, "ImageNotFound"));
}

#[tokio::test]
async fn batch_runs_up_to_20_requests_through_the_same_rules() {
    let sim = start(SimConfig {
        rate_limit: 2,
        ..config()
    })
    .await;
    let token = token(&sim);
    let url = format!("{}/v1.0/$batch", sim.url());
    let with_photo = sim.users().into_iter().find(|u| u.has_photo).unwrap();
    let presence = |id: &str| {
        json!({"id": id, "method": "POST", "url": "/communications/getPresencesByUserId",
               "headers": {"Content-Type": "application/json"}, "body": {"ids": [sim.users()[1].id]}})
    };
    let body = json!({"requests": [
        {"id": "me", "method": "GET", "url": "/me?$select=id"},
        {"id": "photo", "method": "GET", "url": format!("users/{}/photo/$value", with_photo.id)},
        {"id": "missing", "method": "GET", "url": "/users/0b7c3e0a-1111-4a4a-9b9b-123456789abc"},
        presence("p1"), presence("p2"), presence("p3"),
    ]});
    let resp = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    let by_id = |id: &str| {
        answer["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("me")["status"], 200);
    assert_eq!(by_id("me")["body"]["id"], sim.users()[0].id.as_str());
    assert_eq!(by_id("photo")["headers"]["Content-Type"], "image/png");
    assert!(
        by_id("photo")["body"]
            .as_str()
            .unwrap()
            .starts_with("iVBORw0KGgo"),
        "base64 PNG"
    );
    assert_eq!(by_id("missing")["status"], 404);
    assert_eq!(
        (
            by_id("p1")["status"].as_u64(),
            by_id("p2")["status"].as_u64()
        ),
        (Some(200), Some(200))
    );
    assert_eq!(
        by_id("p3")["status"],
        429,
        "requests inside a batch are throttled one by one"
    );
    assert!(by_id("p3")["headers"]["Retry-After"].is_string());
    let inside = sim.requests().iter().filter(|r| r.in_batch).count();
    assert_eq!(inside, 6);

    let too_many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
        .collect();
    let resp = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"requests": too_many}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(graph_code(&resp.json().await.unwrap()), "BadRequest");

    let no_type = json!({"requests": [{"id": "1", "method": "POST", "url": "/communications/getPresencesByUserId", "body": {"ids": []}}]});
    let resp = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&no_type)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        400,
        "a request with a body needs its Content-Type"
    );
}
