//! Microsoft's published answers, end to end: the simulator answers with
//! them in its fixture mode (`presently_sim::Examples`, the copy of
//! `../shared/graph-examples` kept in `src-tauri/core/tests/graph-examples`),
//! and the built `presently` reads them as a user would meet them: presence
//! on the roster, directory searches, imports of group members, reports and
//! a manager, `$batch` look-ups, and the sign-in service's refusals.
//!
//! `/me/people` has no published answer, so it is not among them.

use presently_e2e::{approve, Run, SimConfig, TestEnv};
use presently_sim::Examples;
use serde_json::Value;

/// A tenant of 30 people whose simulator answers with Microsoft's
/// published examples when asked to.
struct Published {
    env: TestEnv,
    examples: Examples,
}

impl Published {
    async fn start() -> Published {
        let examples = Examples::open(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../src-tauri/core/tests/graph-examples"),
        )
        .expect("the corpus");
        let env = TestEnv::new(SimConfig {
            users: 30,
            ..TestEnv::quick()
        })
        .await;
        Published { env, examples }
    }

    /// Started, and signed in with `presently login --no-browser`.
    async fn signed_in() -> Published {
        let t = Published::start().await;
        t.env.login().await;
        t
    }

    /// The simulator answers the next request to `path` with the published
    /// answer `file`.
    fn answers_with(&self, file: &str, path: &str) {
        self.env
            .sim
            .inject(self.examples.answer(file, path).unwrap());
    }

    /// The published answer `file`, as JSON.
    fn body(&self, file: &str) -> Value {
        serde_json::from_slice(&self.examples.canned(file).unwrap().body).unwrap()
    }

    /// The published files of `endpoints` of `kind` ("response", "error").
    fn files(&self, endpoints: &[&str], kind: &str) -> Vec<String> {
        endpoints
            .iter()
            .flat_map(|e| self.examples.files(e, kind))
            .collect()
    }
}

/// The IDs on the roster, as `roster list --json` gives them.
async fn roster_ids(env: &TestEnv) -> Vec<String> {
    let run = env.run(&["roster", "list", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()["teammates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// What Microsoft's support asks for stays out of what people read.
fn clean_sentence(run: &Run) {
    for noise in ["Trace ID", "Correlation ID", "Timestamp:", "\r"] {
        assert!(!run.stderr.contains(noise), "{noise:?} in: {}", run.stderr);
    }
}

#[tokio::test]
async fn published_presence_reaches_the_roster_list() {
    let t = Published::signed_in().await;
    let file = "getpresencesbyuserid-response-1.json";
    let published = t.body(file);
    let people = published["value"].as_array().unwrap();
    let roster: String = people
        .iter()
        .map(|p| format!("[[teammate]]\nid = \"{}\"\n\n", p["id"].as_str().unwrap()))
        .collect();
    std::fs::write(t.env.config_dir.path().join("roster.toml"), roster).unwrap();

    t.answers_with(file, "/v1.0/communications/getPresencesByUserId");
    let run = t.env.run(&["roster", "list", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list = run.json();
    for (teammate, person) in list["teammates"].as_array().unwrap().iter().zip(people) {
        assert_eq!(teammate["id"], person["id"]);
        assert_eq!(teammate["presence"]["availability"], person["availability"]);
        assert_eq!(teammate["presence"]["activity"], person["activity"]);
    }
}

#[tokio::test]
async fn published_user_lists_found_by_search_hold_only_users() {
    let t = Published::signed_in().await;
    let lists = t.files(
        &[
            "GET /users",
            "GET /users?$search=",
            "GET /users?$search= OR ",
            "GET /users?$filter=startswith&$top=1",
            "GET /users?$filter=endsWith(userPrincipalName,'%23EXT%23@...')",
            "GET /users?$select=ext...",
        ],
        "response",
    );
    let mut shown = 0;
    for file in lists {
        t.answers_with(&file, "/v1.0/users");
        let run = t.env.run(&["roster", "search", "contoso"]).await;
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        for item in t.body(&file)["value"].as_array().unwrap() {
            let Some(upn) = item["userPrincipalName"].as_str() else {
                continue;
            };
            // Someone without a user ID (a shortened example, a guest shown
            // by name only) cannot be added: not offered.
            let is_person = item["id"]
                .as_str()
                .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok());
            assert_eq!(
                run.stdout.contains(upn),
                is_person,
                "{file}: {upn}: {}",
                run.stdout
            );
            shown += usize::from(is_person);
        }
    }
    assert!(shown >= 2, "some published users are people");
}

#[tokio::test]
async fn published_members_that_are_not_people_are_left_out_and_counted() {
    let t = Published::start().await;
    t.env
        .login_args(&["login", "--no-browser", "--groups"])
        .await;
    let lists = t.files(
        &[
            "GET /groups/{id}/members",
            "GET /groups/{id}/members?$filter=",
        ],
        "response",
    );
    assert!(lists.len() >= 3, "{lists:?}");
    for file in lists {
        t.answers_with(&file, "/v1.0/groups/");
        let run = t
            .env
            .run(&["roster", "import", "--group", "All Company"])
            .await;
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        // Every published member list holds a placeholder, an ID alone or a
        // group: nobody to watch, and the user is told how many.
        assert!(
            run.stderr.contains("Nothing to import"),
            "{file}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("Left out 1 entry of the members of All Company"),
            "{file}: {}",
            run.stderr
        );
        assert!(roster_ids(&t.env).await.is_empty(), "{file}: nothing added");
    }
}

#[tokio::test]
async fn published_reports_and_manager_import_only_people() {
    let t = Published::signed_in().await;
    for file in t.files(&["GET /me/directReports"], "response") {
        t.answers_with(&file, "/v1.0/me/directReports");
        let run = t.env.run(&["roster", "import", "--reports"]).await;
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("Left out 1 entry of your direct reports"),
            "{file}: {}",
            run.stderr
        );
        assert!(
            roster_ids(&t.env).await.is_empty(),
            "{file}: {}",
            run.stderr
        );
    }
    let file = "manager-response-1.json";
    t.answers_with(file, "/v1.0/me/manager");
    let run = t.env.run(&["roster", "import", "--manager"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let published = t.body(file);
    assert_eq!(
        roster_ids(&t.env).await,
        [published["id"].as_str().unwrap()]
    );
    assert!(
        run.stderr
            .contains(published["displayName"].as_str().unwrap()),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Left out"), "{}", run.stderr);
}

#[tokio::test]
async fn published_batch_answers_give_a_clear_error_and_change_nothing() {
    let t = Published::signed_in().await;
    let users = t.env.sim.users();
    let keys: Vec<&str> = users[1..6].iter().map(|u| u.id.as_str()).collect();
    for file in t.files(&["POST /$batch"], "response") {
        t.answers_with(&file, "/v1.0/$batch");
        let mut args = vec!["roster", "add"];
        args.extend(&keys);
        let run = t.env.run(&args).await;
        // The published batches answer other requests than these look-ups:
        // a clear refusal, one line, and the roster as it was.
        assert_eq!(run.code, 1, "{file}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("presently: "),
            "{file}: {}",
            run.stderr
        );
        assert_eq!(
            run.stderr.trim_end().lines().count(),
            1,
            "{file}: {}",
            run.stderr
        );
        assert!(roster_ids(&t.env).await.is_empty(), "{file}");
    }
}

#[tokio::test]
async fn published_token_errors_are_told_in_one_clean_sentence() {
    let t = Published::start().await;
    let errors = t.files(
        &[
            "POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (authorization_code grant)",
            "POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (refresh_token grant)",
            "POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (ROPC via HDInsight gateway)",
            "POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (jwt-bearer on_behalf_of grant)",
            "POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (client_credentials grant)",
            "POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        ],
        "error",
    );
    assert!(errors.len() >= 8, "{errors:?}");
    for file in errors {
        let published = t.body(&file);
        t.answers_with(&file, "/organizations/oauth2/v2.0/token");
        // The code is approved: the refusal is the token endpoint's own.
        let run = t.env.login_with(approve).await;
        assert_ne!(run.code, 0, "{file}: {}", run.stderr);
        clean_sentence(&run);
        let first_code = published["error_codes"][0].as_u64().unwrap();
        assert!(
            run.stderr.contains(&format!("AADSTS{first_code}")),
            "{file}: {}",
            run.stderr
        );
        assert_eq!(
            t.env.run(&["whoami"]).await.code,
            3,
            "{file}: nobody signed in"
        );
    }
}
