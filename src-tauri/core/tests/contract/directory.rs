//! People, group members, direct reports, the manager and user look-ups:
//! each published answer is served by the simulator in its fixture mode and
//! read by the same [`Directory`] calls `presently roster import` and
//! `roster add` make.
//!
//! What must be read: every entry that is a user of the organisation (a
//! user ID that is a GUID, a sign-in name, and no `@odata.type` other than
//! user) becomes a person with that ID, each once; everything else (groups,
//! contacts, placeholder IDs like `"id-value"`, an ID alone) is counted as
//! left out, never a teammate.

use std::collections::HashSet;

use presently_core::directory::{Directory, Listing, Person};
use presently_core::graph::GraphClient;
use presently_sim::{Examples, Sim, SimConfig};
use serde_json::Value;

use crate::common::{settings_for, FixedToken};
use crate::{corpus, entries};

struct Tenant {
    sim: Sim,
    examples: Examples,
    directory: Directory,
    _config_dir: tempfile::TempDir,
}

async fn tenant() -> Tenant {
    let sim = Sim::start(SimConfig {
        users: 10,
        auto_presence: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let config_dir = tempfile::tempdir().unwrap();
    let settings = settings_for(&sim, config_dir.path());
    let me = sim.users()[0].id.clone();
    let token = sim
        .issue_tokens(
            &me,
            "User.Read User.ReadBasic.All People.Read GroupMember.Read.All",
        )
        .access_token;
    let graph = GraphClient::new(&settings, FixedToken::new(token)).unwrap();
    Tenant {
        examples: Examples::open(corpus()).unwrap(),
        directory: Directory::for_settings(graph, &settings),
        sim,
        _config_dir: config_dir,
    }
}

impl Tenant {
    /// The simulator answers the next request to `path` with the
    /// published answer `file`.
    fn answers_with(&self, file: &str, path: &str) {
        self.sim.inject(self.examples.answer(file, path).unwrap());
    }
}

/// The published entries of a list answer, or the one object of a single
/// answer.
fn published_entries(body: &Value) -> Vec<Value> {
    match body.get("value") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![body.clone()],
    }
}

/// What Presently must make of one published entry: the person's ID, or
/// `None` for something that is not a person.
fn person_id(entry: &Value) -> Option<String> {
    let is_user = match entry["@odata.type"].as_str() {
        None => true,
        Some(t) => t.eq_ignore_ascii_case("#microsoft.graph.user"),
    };
    let id = entry["id"].as_str()?;
    let guid = uuid::Uuid::parse_str(id).ok()?;
    let upn = entry["userPrincipalName"].as_str().unwrap_or_default();
    (is_user && !upn.trim().is_empty()).then(|| guid.to_string())
}

/// The people and the count left out that `file` must give.
fn expected(file: &str) -> (Vec<String>, usize) {
    let body: Value = serde_json::from_slice(&crate::read(file)).unwrap();
    let entries = published_entries(&body);
    let mut seen = HashSet::new();
    let ids: Vec<String> = entries
        .iter()
        .filter_map(person_id)
        .filter(|id| seen.insert(id.clone()))
        .collect();
    let left_out = entries.iter().filter(|e| person_id(e).is_none()).count();
    (ids, left_out)
}

/// `listing` is what `file` must give: its people, in order, each once,
/// and everything else counted as left out.
fn read_as_published(file: &str, listing: &Listing) {
    let (want, left_out) = expected(file);
    assert_eq!(ids(&listing.people), want, "{file}");
    assert_eq!(listing.left_out, left_out, "{file}");
}

fn ids(people: &[Person]) -> Vec<String> {
    people.iter().map(|p| p.id.clone()).collect()
}

fn files(endpoints: &[&str]) -> Vec<String> {
    entries("response", endpoints)
        .iter()
        .filter(|e| e["body_format"] == "json")
        .map(|e| e["file"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_published_member_list_gives_its_users_and_counts_the_rest() {
    let t = tenant().await;
    let group = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
    let files = files(&[
        "GET /groups/{id}/members",
        "GET /groups/{id}/members?$filter=",
        "GET /groups/{id}/members/microsoft.graph.user?$search=",
    ]);
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let prefix = format!("/v1.0/groups/{group}/members");
        t.answers_with(&file, &prefix);
        let listing = t
            .directory
            .group_members(group)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        read_as_published(&file, &listing);
    }
}

#[tokio::test]
async fn every_published_list_of_direct_reports_gives_its_users_and_counts_the_rest() {
    let t = tenant().await;
    for file in files(&["GET /me/directReports"]) {
        t.answers_with(&file, "/v1.0/me/directReports");
        let listing = t
            .directory
            .direct_reports()
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        read_as_published(&file, &listing);
        // Both published lists hold only an ID or a placeholder: nobody.
        assert!(listing.people.is_empty() && listing.left_out == 1, "{file}");
    }
}

#[tokio::test]
async fn the_published_manager_is_read_as_a_person() {
    let t = tenant().await;
    for file in files(&["GET /users/{id | userPrincipalName}/manager"]) {
        t.answers_with(&file, "/v1.0/me/manager");
        let listing = t
            .directory
            .manager()
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        read_as_published(&file, &listing);
        let published: Value = serde_json::from_slice(&crate::read(&file)).unwrap();
        if let Some(manager) = listing.people.first() {
            assert_eq!(manager.display_name, published["displayName"], "{file}");
            assert_eq!(
                manager.user_principal_name, published["userPrincipalName"],
                "{file}"
            );
            assert_eq!(manager.job_title, published["jobTitle"], "{file}");
        }
    }
}

#[tokio::test]
async fn every_published_user_list_searched_gives_only_users() {
    let t = tenant().await;
    let files = files(&[
        "GET /users",
        "GET /users?$filter=identities/any(...)",
        "GET /users?$filter=startswith&$top=1",
        "GET /users?$filter=endswith",
        "GET /users?$search=",
        "GET /users?$search= OR ",
        "GET /users?$filter=endsWith(userPrincipalName,'%23EXT%23@...')",
        "GET /users?$filter=assignedLicenses/any(...)",
        "GET /users?$select=ext...",
        "GET /users?$select=signInActivity",
    ]);
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        t.answers_with(&file, "/v1.0/users");
        let found = t
            .directory
            .search("contoso", 50)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let (want, _) = expected(&file);
        assert_eq!(ids(&found), want, "{file}");
    }
}

/// A user looked up by ID or sign-in name travels inside `$batch`: the
/// published answer of the single request is what Graph puts in the batch.
#[tokio::test]
async fn every_published_user_is_looked_up_or_unknown() {
    let t = tenant().await;
    let files = files(&[
        "GET /users/{id | userPrincipalName}",
        "GET /users/{id | userPrincipalName}?$select=",
        "GET /users/{id | userPrincipalName}?$select=customSecurityAttributes",
        "GET /me",
    ]);
    assert!(files.len() >= 5, "{files:?}");
    for file in files {
        let published: Value = serde_json::from_slice(&crate::read(&file)).unwrap();
        let batch = serde_json::json!({
            "responses": [{"id": "0", "status": 200, "headers": {"Content-Type": "application/json"}, "body": published}]
        });
        t.sim.inject(
            presently_sim::Fault::answer(presently_sim::Canned {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: batch.to_string().into_bytes(),
            })
            .on("/v1.0/$batch"),
        );
        let asked = "someone@contoso.com".to_string();
        let lookup = t
            .directory
            .lookup(std::slice::from_ref(&asked))
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let (want, _) = expected(&file);
        assert_eq!(ids(&lookup.found), want, "{file}");
        if want.is_empty() {
            assert_eq!(
                lookup.unknown,
                [asked],
                "{file}: not a person, so nobody found"
            );
        }
    }
}
