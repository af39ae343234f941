//! Finding people against the simulated tenant: search (and its fallback),
//! look-ups in `$batch` chunks, people, manager, reports, group members over
//! many pages, the permission a group needs, and the photo cache.

use std::collections::HashSet;
use std::time::Duration;

use presently_core::directory::{Directory, Listing, Photo, MAX_PHOTO};
use presently_core::graph::{GraphClient, GraphOptions};
use presently_core::roster::{Roster, Teammate};
use presently_core::Error;
use presently_sim::{Fault, LoggedRequest, Sim, SimConfig, SimUser};

mod common;
use common::{settings_for, FixedToken};

const ALL_SCOPES: &str =
    "User.Read Presence.Read.All User.ReadBasic.All People.Read GroupMember.Read.All";
/// What `presently login` asks for: no group permission.
const SIGN_IN_SCOPES: &str = "User.Read Presence.Read.All User.ReadBasic.All People.Read";

struct Setup {
    sim: Sim,
    dir: Directory,
    config_dir: tempfile::TempDir,
}

async fn setup(users: usize, scopes: &str) -> Setup {
    let sim = Sim::start(SimConfig {
        users,
        auto_presence: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let config_dir = tempfile::tempdir().unwrap();
    let dir = directory_for(&sim, config_dir.path(), scopes);
    Setup {
        sim,
        dir,
        config_dir,
    }
}

/// The directory as the simulator's first user sees it, with `scopes`.
fn directory_for(sim: &Sim, config_dir: &std::path::Path, scopes: &str) -> Directory {
    directory_as(&sim.users()[0].id, sim, config_dir, scopes)
}

/// The directory as `user` sees it, with `scopes` (the simulator signs
/// tokens for anyone).
fn directory_as(user: &str, sim: &Sim, config_dir: &std::path::Path, scopes: &str) -> Directory {
    let settings = settings_for(sim, config_dir);
    let token = sim.issue_tokens(user, scopes).access_token;
    let options = GraphOptions {
        retry_delay: Duration::from_millis(10),
        ..Default::default()
    };
    let graph = GraphClient::with_options(&settings, FixedToken::new(token), options).unwrap();
    Directory::for_settings(graph, &settings)
}

fn graph_requests(sim: &Sim, path_contains: &str) -> Vec<LoggedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.path.contains(path_contains))
        .collect()
}

fn ids(people: &[presently_core::directory::Person]) -> HashSet<String> {
    people.iter().map(|p| p.id.clone()).collect()
}

#[tokio::test]
async fn search_finds_people_by_name_and_by_mail() {
    let s = setup(300, SIGN_IN_SCOPES).await;
    let users = s.sim.users();
    let target = &users[17];
    let first_name = target.given_name.to_lowercase();

    let by_name = s
        .dir
        .search(&first_name[..3.min(first_name.len())], 50)
        .await
        .unwrap();
    assert!(
        by_name.iter().any(|p| p.id == target.id),
        "{first_name} not found"
    );
    // Every hit really matches: a name word, the mail or the sign-in name starts so.
    let prefix = &first_name[..3.min(first_name.len())];
    for p in &by_name {
        let words =
            format!("{} {} {}", p.display_name, p.mail, p.user_principal_name).to_lowercase();
        assert!(
            words
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(prefix)),
            "{p:?} does not match {prefix}"
        );
    }
    let names: Vec<String> = by_name
        .iter()
        .map(|p| p.display_name.to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "results come sorted by name");

    let by_mail = s.dir.search(&target.mail, 10).await.unwrap();
    assert_eq!(by_mail.len(), 1, "{by_mail:?}");
    let found = &by_mail[0];
    assert_eq!(found.id, target.id);
    assert_eq!(found.display_name, target.display_name);
    assert_eq!(found.user_principal_name, target.user_principal_name);
    assert_eq!(found.job_title, target.job_title);

    // $search needs ConsistencyLevel: eventual; the simulator refuses it otherwise.
    let searches = graph_requests(&s.sim, "/v1.0/users");
    assert!(searches
        .iter()
        .all(|r| r.status == 200 && r.query.as_deref().unwrap_or("").contains("$search")));

    let limited = s.dir.search("a", 5).await.unwrap();
    assert!(limited.len() <= 5);
    assert!(s.dir.search("   ", 5).await.unwrap().is_empty());
    assert!(s.dir.search("zzzzqqq", 5).await.unwrap().is_empty());
}

#[tokio::test]
async fn search_falls_back_to_startswith_when_search_is_refused() {
    let s = setup(200, SIGN_IN_SCOPES).await;
    let target = s.sim.users()[9].clone();
    s.sim.inject(Fault::status(400, None).on("/v1.0/users"));
    let found = s.dir.search(&target.surname, 50).await.unwrap();
    assert!(found.iter().any(|p| p.id == target.id), "{found:?}");
    let log = graph_requests(&s.sim, "/v1.0/users");
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].status, 400);
    assert!(log[0].query.as_deref().unwrap().contains("$search"));
    let fallback = log[1].query.as_deref().unwrap();
    assert!(
        fallback.contains("$filter") && fallback.contains("startswith"),
        "{fallback}"
    );
    assert_eq!(log[1].status, 200);
}

#[tokio::test]
async fn look_ups_go_in_batches_of_at_most_20_and_unknown_ones_are_named() {
    let s = setup(300, SIGN_IN_SCOPES).await;
    let users = s.sim.users();
    // By ID, by sign-in name in another case, and two nobody has.
    let mut keys: Vec<String> = users[1..24].iter().map(|u| u.id.clone()).collect();
    keys.extend(
        users[24..46]
            .iter()
            .map(|u| u.user_principal_name.to_uppercase()),
    );
    let ghost_id = "0f0f0f0f-1111-4222-8333-444455556666".to_string();
    let ghost_upn = "Nobody.Here@contoso.onmicrosoft.com".to_string();
    keys.insert(10, ghost_id.clone());
    keys.push(ghost_upn.clone());
    keys.push(users[3].id.to_uppercase()); // the same person twice
    s.sim.clear_log();

    let lookup = s.dir.lookup(&keys).await.unwrap();
    assert_eq!(
        lookup.unknown,
        vec![ghost_id, ghost_upn],
        "named exactly as written"
    );
    let want: Vec<&str> = users[1..46].iter().map(|u| u.id.as_str()).collect();
    let got: Vec<&str> = lookup.found.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(got, want, "found in the order asked, each once");
    assert_eq!(lookup.found[30].display_name, users[31].display_name);

    // The request log: each $batch is preceded by the requests it carried.
    let log = s.sim.requests();
    let mut carried = 0;
    let mut batches = Vec::new();
    for r in &log {
        if r.in_batch {
            carried += 1;
        } else if r.path == "/v1.0/$batch" {
            batches.push(carried);
            carried = 0;
        }
    }
    assert_eq!(
        batches.iter().sum::<usize>(),
        47,
        "distinct keys, each asked once: {batches:?}"
    );
    assert!(
        batches.iter().all(|&n| (1..=20).contains(&n)),
        "{batches:?}"
    );
    assert_eq!(batches.len(), 3);
}

#[tokio::test]
async fn unknown_people_are_not_added_to_the_roster_and_the_rest_are() {
    let s = setup(60, SIGN_IN_SCOPES).await;
    let users = s.sim.users();
    let keys = vec![
        users[5].user_principal_name.clone(),
        "ghost@contoso.onmicrosoft.com".into(),
    ];
    let lookup = s.dir.lookup(&keys).await.unwrap();
    let mut roster = Roster::load(s.config_dir.path()).unwrap();
    for p in lookup.found {
        roster.add(Teammate::from(p));
    }
    roster.save().unwrap();
    let again = Roster::load(s.config_dir.path()).unwrap();
    assert_eq!(again.ids(), vec![users[5].id.clone()]);
    assert!(again.find("ghost@contoso.onmicrosoft.com").is_none());
    assert_eq!(
        lookup.unknown,
        vec!["ghost@contoso.onmicrosoft.com".to_string()]
    );
}

#[tokio::test]
async fn people_manager_and_direct_reports() {
    let s = setup(200, SIGN_IN_SCOPES).await;
    let users = s.sim.users();
    let me = &users[0];
    let manager_id = me.manager_id.clone().expect("me has a manager");

    let manager = s.dir.manager().await.unwrap();
    assert_eq!(manager.left_out, 0);
    let manager = manager.people.into_iter().next().expect("a manager");
    assert_eq!(manager.id, manager_id);
    let expected = users.iter().find(|u| u.id == manager_id).unwrap();
    assert_eq!(manager.display_name, expected.display_name);

    let reports = s.dir.direct_reports().await.unwrap();
    assert_eq!(reports.left_out, 0);
    let reports = reports.people;
    let want: HashSet<String> = users
        .iter()
        .filter(|u| u.manager_id.as_deref() == Some(me.id.as_str()))
        .map(|u| u.id.clone())
        .collect();
    assert!(want.len() >= 3);
    assert_eq!(ids(&reports), want);

    let people = s.dir.people(25).await.unwrap().people;
    assert!(
        people.len() > want.len() && people.len() <= 25,
        "{}",
        people.len()
    );
    assert_eq!(people[0].id, manager_id, "the closest colleague first");
    assert_eq!(ids(&people[1..=want.len()]), want, "then my reports");
    assert!(people.iter().all(|p| p.id != me.id));
    assert!(
        people.iter().all(|p| !p.mail.is_empty()),
        "mail comes from scoredEmailAddresses"
    );
    assert_eq!(ids(&people).len(), people.len(), "each once");
    let few = s.dir.people(3).await.unwrap().people;
    assert_eq!(few, people[..3], "the limit keeps the most relevant");
}

#[tokio::test]
async fn the_top_of_the_tree_has_no_manager() {
    let s = setup(40, SIGN_IN_SCOPES).await;
    let ceo: SimUser = s
        .sim
        .users()
        .into_iter()
        .find(|u| u.manager_id.is_none())
        .unwrap();
    let settings_dir = tempfile::tempdir().unwrap();
    let dir = directory_as(&ceo.id, &s.sim, settings_dir.path(), SIGN_IN_SCOPES);
    assert_eq!(dir.manager().await.unwrap(), Listing::default());
}

#[tokio::test]
async fn a_group_of_1200_is_read_over_every_page() {
    let s = setup(1200, ALL_SCOPES).await;
    let groups = s.dir.my_groups().await.unwrap();
    let all = groups
        .iter()
        .find(|g| g.display_name == "All Company")
        .expect("All Company");
    assert!(groups.iter().any(|g| g.is_team), "{groups:?}");
    s.sim.clear_log();

    let members = s.dir.group_members(&all.id).await.unwrap().people;
    assert_eq!(members.len(), 1200);
    let everyone: HashSet<String> = s.sim.users().into_iter().map(|u| u.id).collect();
    assert_eq!(ids(&members), everyone);

    let pages = graph_requests(&s.sim, "/members");
    assert_eq!(pages.len(), 2, "999 + 201: {pages:?}");
    assert!(
        pages[1].query.as_deref().unwrap().contains("skiptoken"),
        "{:?}",
        pages[1].query
    );

    let group = s.dir.group(&all.id).await.unwrap();
    assert_eq!(group.display_name, "All Company");
}

#[tokio::test]
async fn group_members_without_the_permission_say_an_administrator_must_allow_it() {
    let s = setup(60, SIGN_IN_SCOPES).await;
    let some_group = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
    let err = s.dir.group_members(some_group).await.unwrap_err();
    match &err {
        Error::Graph { status: 403, .. } => {}
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("GroupMember.Read.All"), "{text}");
    assert!(
        text.contains("administrator") && text.contains("consent"),
        "{text}"
    );

    let err = s.dir.my_groups().await.unwrap_err();
    assert!(err.to_string().contains("GroupMember.Read.All"), "{err}");
}

#[tokio::test]
async fn an_unknown_or_malformed_group_is_explained() {
    let s = setup(60, ALL_SCOPES).await;
    let err = s
        .dir
        .group_members("02bd9fd6-8f93-4758-87c3-1fb73740a315")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("No group or team has the ID"),
        "{err}"
    );
    let err = s.dir.group_members("Design team").await.unwrap_err();
    assert_eq!(err.code(), "config");
    assert!(
        graph_requests(&s.sim, "Design").is_empty(),
        "nothing was sent for a non-ID"
    );
}

#[tokio::test]
async fn photos_are_fetched_once_and_a_missing_one_means_initials() {
    let s = setup(120, SIGN_IN_SCOPES).await;
    let users = s.sim.users();
    let with = users.iter().find(|u| u.has_photo).unwrap();
    let without = users.iter().find(|u| !u.has_photo).unwrap();
    let photo_requests = |sim: &Sim| graph_requests(sim, "/photo").len();

    let first = s.dir.photo(&with.id, &with.display_name).await.unwrap();
    let Photo::Picture { path, content_type } = &first else {
        panic!("{first:?}")
    };
    assert_eq!(content_type, "image/png");
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "the decoded picture is on disk"
    );
    assert!(path.starts_with(s.config_dir.path()));
    let after_first = photo_requests(&s.sim);
    assert_eq!(after_first, 1);
    assert_eq!(
        s.dir.photo(&with.id, &with.display_name).await.unwrap(),
        first
    );
    assert_eq!(
        photo_requests(&s.sim),
        after_first,
        "the second look comes from the cache"
    );

    let none = s
        .dir
        .photo(&without.id, &without.display_name)
        .await
        .unwrap();
    // Initials: the first letters of the first and the last word of the name.
    let words: Vec<&str> = without.display_name.split_whitespace().collect();
    let letter = |w: &str| w.chars().next().unwrap().to_uppercase().to_string();
    let expected = format!("{}{}", letter(words[0]), letter(words[words.len() - 1]));
    assert_eq!(none, Photo::Initials(expected));
    let after_none = photo_requests(&s.sim);
    assert_eq!(after_none, after_first + 1);
    assert_eq!(
        s.dir
            .photo(&without.id, &without.display_name)
            .await
            .unwrap(),
        none
    );
    assert_eq!(
        photo_requests(&s.sim),
        after_none,
        "\"no photo\" is remembered too"
    );

    // A cache that is never fresh asks again: that is the rare refresh.
    let eager = directory_for(&s.sim, s.config_dir.path(), SIGN_IN_SCOPES)
        .with_photo_max_age(Duration::ZERO);
    eager.photo(&with.id, &with.display_name).await.unwrap();
    assert_eq!(photo_requests(&s.sim), after_none + 1);

    // A fresh directory on the same config dir uses what is on disk.
    let later = directory_for(&s.sim, s.config_dir.path(), SIGN_IN_SCOPES);
    later.photo(&with.id, &with.display_name).await.unwrap();
    assert_eq!(photo_requests(&s.sim), after_none + 1);
}

#[tokio::test]
async fn many_photos_travel_in_batches_of_20_and_a_failed_refresh_keeps_the_old_one() {
    let s = setup(120, SIGN_IN_SCOPES).await;
    let users = s.sim.users();
    let people: Vec<(String, String)> = users[..45]
        .iter()
        .map(|u| (u.id.clone(), u.display_name.clone()))
        .collect();
    s.sim.clear_log();
    let photos = s.dir.photos(&people).await.unwrap();
    assert_eq!(photos.len(), 45);
    for (u, p) in users[..45].iter().zip(&photos) {
        assert_eq!(
            matches!(p, Photo::Picture { .. }),
            u.has_photo,
            "{}",
            u.display_name
        );
    }
    let batches = graph_requests(&s.sim, "/$batch");
    assert_eq!(batches.len(), 3);
    assert_eq!(graph_requests(&s.sim, "/photo").len(), 45);

    // The refresh fails; the stale pictures are still shown.
    let stale = directory_for(&s.sim, s.config_dir.path(), SIGN_IN_SCOPES)
        .with_photo_max_age(Duration::ZERO);
    s.sim
        .inject(Fault::status(500, None).on("/v1.0/$batch").times(10));
    let again = stale.photos(&people).await.unwrap();
    assert_eq!(again, photos);

    // Without anything cached, the failure is reported.
    let empty = tempfile::tempdir().unwrap();
    let cold = directory_for(&s.sim, empty.path(), SIGN_IN_SCOPES);
    let err = cold
        .photo(&users[0].id, &users[0].display_name)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Graph { status: 500, .. }), "{err:?}");
    s.sim.clear_faults();
}

#[tokio::test]
async fn a_photo_past_the_limit_fails_alone() {
    let s = setup(60, SIGN_IN_SCOPES).await;
    let users = s.sim.users();
    let mut with_photos = users.iter().filter(|u| u.has_photo);
    let (huge, fine, largest) = (
        with_photos.next().unwrap(),
        with_photos.next().unwrap(),
        with_photos.next().unwrap(),
    );
    let without = users.iter().find(|u| !u.has_photo).unwrap();
    s.sim.set_photo_size(&huge.id, Some(MAX_PHOTO + 1)).unwrap();
    s.sim.set_photo_size(&largest.id, Some(MAX_PHOTO)).unwrap();

    let err = s.dir.photo(&huge.id, &huge.display_name).await.unwrap_err();
    assert!(matches!(err, Error::Malformed(_)), "{err:?}");
    assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
    let cached = std::fs::read_dir(Directory::photo_dir_in(s.config_dir.path()))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(cached, 0, "nothing of it is kept");

    // In one batch with others, they still come, and it is initials.
    let people: Vec<(String, String)> = [huge, fine, largest, without]
        .iter()
        .map(|u| (u.id.clone(), u.display_name.clone()))
        .collect();
    let photos = s.dir.photos(&people).await.unwrap();
    assert!(matches!(&photos[0], Photo::Initials(_)), "{:?}", photos[0]);
    assert!(
        matches!(&photos[1], Photo::Picture { .. }),
        "{:?}",
        photos[1]
    );
    let Photo::Picture { path, .. } = &photos[2] else {
        panic!("a photo of exactly the limit is kept: {:?}", photos[2])
    };
    assert_eq!(std::fs::metadata(path).unwrap().len(), MAX_PHOTO as u64);
    assert!(matches!(&photos[3], Photo::Initials(_)), "{:?}", photos[3]);
}

/// Graph serves some people without a photo a one-pixel GIF instead of a
/// 404 (its `/photo` metadata says `image/gif`, 1 x 1): that is initials,
/// remembered like a 404, not a picture of nothing.
#[tokio::test]
async fn graphs_one_pixel_gif_is_no_photo() {
    use base64::Engine as _;
    let s = setup(20, SIGN_IN_SCOPES).await;
    let someone = s.sim.users().into_iter().find(|u| u.has_photo).unwrap();
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";
    let batch = serde_json::json!({"responses": [{
        "id": "0", "status": 200,
        "headers": {"content-type": "image/gif"},
        "body": base64::engine::general_purpose::STANDARD.encode(gif),
    }]});
    s.sim.inject(
        Fault::answer(presently_sim::Canned {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: batch.to_string().into_bytes(),
        })
        .on("/v1.0/$batch"),
    );
    let photo = s
        .dir
        .photo(&someone.id, &someone.display_name)
        .await
        .unwrap();
    assert!(matches!(photo, Photo::Initials(_)), "{photo:?}");
    let batches = graph_requests(&s.sim, "$batch").len();
    assert_eq!(
        s.dir
            .photo(&someone.id, &someone.display_name)
            .await
            .unwrap(),
        photo,
        "remembered"
    );
    assert_eq!(
        graph_requests(&s.sim, "$batch").len(),
        batches,
        "from the cache"
    );
}
