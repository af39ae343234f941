//! `presently roster add | remove | list | import | search` end to end: the
//! built binary against the simulated directory, signed in through the real
//! keyring of a private session.

use presently_e2e::{
    files_containing, linux_only, native_path, platform, presence, session_home, under_wine,
    Platform, Run, SimConfig, TestEnv,
};
use presently_sim::SimUser;
use serde_json::Value;

fn roster_file(env: &TestEnv) -> std::path::PathBuf {
    env.config_dir.path().join("roster.toml")
}

/// `roster list --json`, checked for success.
async fn listed(env: &TestEnv) -> Value {
    let run = env.run(&["roster", "list", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

fn ids_of(list: &Value) -> Vec<String> {
    list["teammates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

fn config(users: usize) -> SimConfig {
    SimConfig {
        users,
        ..TestEnv::quick()
    }
}

#[tokio::test]
async fn add_by_id_and_sign_in_name_with_flags_and_report_unknown_ones() {
    let env = TestEnv::new(config(60)).await;
    env.login().await;
    let users = env.sim.users();
    let (a, b) = (&users[3], &users[4]);
    let upper_upn = b.user_principal_name.to_uppercase();

    let run = env
        .run(&[
            "roster",
            "add",
            &a.id,
            &upper_upn,
            "ghost@contoso.onmicrosoft.com",
            "--notify",
        ])
        .await;
    assert_eq!(
        run.code, 1,
        "an unknown name makes it exit 1: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("ghost@contoso.onmicrosoft.com"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("Added {}", a.display_name)),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.is_empty(),
        "messages go to stderr: {}",
        run.stdout
    );

    let list = listed(&env).await;
    assert_eq!(
        ids_of(&list),
        vec![a.id.clone(), b.id.clone()],
        "the others were added"
    );
    let first = &list["teammates"][0];
    assert_eq!(first["display_name"], a.display_name.as_str());
    assert_eq!(first["user_principal_name"], a.user_principal_name.as_str());
    assert_eq!(first["job_title"], a.job_title.as_str());
    assert_eq!(first["notify"], true);
    assert_eq!(first["favorite"], false);

    // Adding again merges: --favorite is added, --notify stays on.
    let run = env
        .run(&["roster", "add", &a.user_principal_name, "--favorite"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("already on the roster"),
        "{}",
        run.stderr
    );
    let list = listed(&env).await;
    assert_eq!(list["teammates"].as_array().unwrap().len(), 2);
    assert_eq!(list["teammates"][0]["favorite"], true);
    assert_eq!(list["teammates"][0]["notify"], true);

    let text = std::fs::read_to_string(roster_file(&env)).unwrap();
    assert_eq!(
        text.lines().filter(|l| *l == "[[teammate]]").count(),
        2,
        "{text}"
    );
    assert!(text.contains(&format!("id = \"{}\"", a.id)), "{text}");
}

#[tokio::test]
async fn add_from_a_file_and_remove() {
    let env = TestEnv::new(config(60)).await;
    env.login().await;
    let users = env.sim.users();
    let file = env.config_dir.path().join("people.txt");
    std::fs::write(
        &file,
        format!(
            "# my team\n{}\n\n{}\n  {}  \nnot-a-person\n",
            users[5].id, users[6].user_principal_name, users[7].mail
        ),
    )
    .unwrap();
    let run = env
        .run(&[
            "roster",
            "add",
            "--file",
            native_path(&file).to_str().unwrap(),
        ])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("\"not-a-person\""), "{}", run.stderr);
    let ids = ids_of(&listed(&env).await);
    assert_eq!(
        ids,
        vec![
            users[5].id.clone(),
            users[6].id.clone(),
            users[7].id.clone()
        ]
    );

    let run = env
        .run(&[
            "roster",
            "remove",
            &users[6].user_principal_name.to_uppercase(),
            &users[5].id,
        ])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("Removed {}", users[6].display_name)),
        "{}",
        run.stderr
    );
    assert_eq!(ids_of(&listed(&env).await), vec![users[7].id.clone()]);

    let run = env
        .run(&["roster", "remove", "nobody@contoso.onmicrosoft.com"])
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("is not on your roster"),
        "{}",
        run.stderr
    );
    assert_eq!(ids_of(&listed(&env).await), vec![users[7].id.clone()]);
}

#[tokio::test]
async fn list_shows_current_presence_when_signed_in_and_the_roster_without_it_otherwise() {
    let env = TestEnv::new(config(60)).await;
    env.login().await;
    let users = env.sim.users();
    let (busy, free) = (&users[8], &users[9]);
    env.sim
        .set_presence(&busy.id, presence("Busy", "InACall"))
        .unwrap();
    env.sim
        .set_presence(&free.id, presence("Available", "Available"))
        .unwrap();
    let run = env.run(&["roster", "add", &busy.id, &free.id]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        env.run(&["roster", "add", &free.id, "--favorite"])
            .await
            .code,
        0
    );

    let list = listed(&env).await;
    assert_eq!(list["signed_in"], true);
    assert_eq!(list["teammates"][0]["presence"]["availability"], "Busy");
    assert_eq!(list["teammates"][0]["presence"]["activity"], "InACall");
    assert_eq!(
        list["teammates"][1]["presence"]["availability"],
        "Available"
    );

    let text = env.run(&["roster", "list"]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("PRESENCE"),
        "{}",
        text.stdout
    );
    assert!(
        lines[1].starts_with(&free.display_name),
        "favourites first: {}",
        text.stdout
    );
    assert!(
        lines[1].contains("Available") && lines[1].contains("favorite"),
        "{}",
        text.stdout
    );
    assert!(lines[2].starts_with(&busy.display_name), "{}", text.stdout);
    assert!(lines[2].contains("Busy (In a call)"), "{}", text.stdout);

    assert_eq!(env.run(&["logout"]).await.code, 0);
    let run = env.run(&["roster", "list", "--json"]).await;
    assert_eq!(
        run.code, 0,
        "the roster is still worth showing: {}",
        run.stderr
    );
    assert!(run.stderr.contains("presently login"), "{}", run.stderr);
    let list = run.json();
    assert_eq!(list["signed_in"], false);
    assert_eq!(ids_of(&list).len(), 2);
    assert!(list["teammates"][0]["presence"].is_null());
    let text = env.run(&["roster", "list"]).await;
    assert!(!text.stdout.contains("PRESENCE"), "{}", text.stdout);
    assert!(text.stdout.contains(&busy.display_name), "{}", text.stdout);
}

#[tokio::test]
async fn import_manager_reports_and_people() {
    let env = TestEnv::new(config(200)).await;
    env.login().await;
    let users = env.sim.users();
    let me = &users[0];
    let manager = me.manager_id.clone().unwrap();
    let reports: Vec<&SimUser> = users
        .iter()
        .filter(|u| u.manager_id.as_deref() == Some(me.id.as_str()))
        .collect();

    let run = env.run(&["roster", "import", "--manager"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(ids_of(&listed(&env).await), vec![manager.clone()]);

    let run = env.run(&["roster", "import", "--reports"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{} added", reports.len())),
        "{}",
        run.stderr
    );
    let ids = ids_of(&listed(&env).await);
    assert_eq!(ids.len(), 1 + reports.len());
    assert!(reports.iter().all(|r| ids.contains(&r.id)));

    // People I work with start with my manager and my reports: they merge.
    let run = env.run(&["roster", "import", "--people"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{} already on the roster", 1 + reports.len())),
        "{}",
        run.stderr
    );
    let ids = ids_of(&listed(&env).await);
    assert!(ids.len() > 1 + reports.len());
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "nobody twice");
    assert!(!ids.contains(&me.id));
}

#[tokio::test]
async fn import_group_without_admin_consent_says_who_can_allow_it() {
    let env = TestEnv::new(config(60)).await;
    env.login().await;
    let run = env
        .run(&[
            "roster",
            "import",
            "--group",
            "02bd9fd6-8f93-4758-87c3-1fb73740a315",
        ])
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("GroupMember.Read.All"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("administrator"), "{}", run.stderr);
    assert!(!roster_file(&env).exists(), "nothing was written");

    assert_eq!(
        env.run(&["roster", "import"]).await.code,
        2,
        "a source is required"
    );
}

#[tokio::test]
async fn import_a_whole_team_over_every_page_after_login_with_groups() {
    let env = TestEnv::new(config(1200)).await;
    env.login_args(&["login", "--no-browser", "--groups"]).await;
    let run = env
        .run(&["roster", "import", "--group", "All Company"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let me = env.sim.users()[0].id.clone();
    let ids = ids_of(&listed(&env).await);
    assert_eq!(ids.len(), 1199, "everyone but me, over more than one page");
    assert!(!ids.contains(&me));
    let pages = env
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.contains("/members") && r.status == 200)
        .count();
    assert!(pages >= 2, "paged: {pages} requests");
}

#[tokio::test]
async fn search_prints_matches_on_stdout() {
    let env = TestEnv::new(config(120)).await;
    env.login().await;
    let target = env.sim.users()[11].clone();
    let run = env.run(&["roster", "search", &target.display_name]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains(&target.id))
        .unwrap_or_else(|| panic!("{} not listed: {}", target.display_name, run.stdout));
    assert!(line.contains(&target.user_principal_name), "{line}");
    assert!(run.stdout.lines().next().unwrap().starts_with("NAME"));

    // By address: only people whose address starts so (first.last, first.last2...).
    let run = env.run(&["roster", "search", &target.mail]).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains(&target.id), "{}", run.stdout);
    let local = target.mail.split('@').next().unwrap();
    for line in run.stdout.lines().skip(1) {
        assert!(
            line.split_whitespace().any(|w| w.starts_with(local)),
            "{line}"
        );
    }

    let run = env.run(&["roster", "search", "zzqqxx"]).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("Nobody in the directory matches"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn commands_that_need_the_directory_ask_to_sign_in() {
    let env = TestEnv::new(config(40)).await;
    let someone = env.sim.users()[2].id.clone();
    for args in [
        vec!["roster", "add", someone.as_str()],
        vec!["roster", "import", "--manager"],
        vec!["roster", "search", "a"],
    ] {
        let run = env.run(&args).await;
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("presently login"), "{}", run.stderr);
    }
    assert!(!roster_file(&env).exists());
    // Removing needs no directory.
    let run = env.run(&["roster", "remove", someone.as_str()]).await;
    assert_eq!(run.code, 1);
}

/// Reading never moves a roster file, whatever it holds (someone may be
/// halfway through editing it); an edit under the roster's lock keeps a
/// broken one aside and goes on with a fresh roster.
#[tokio::test]
async fn a_corrupt_roster_file_is_left_alone_by_reading_and_kept_aside_by_an_edit() {
    let env = TestEnv::new(config(40)).await;
    env.login().await;
    let broken = b"[[teammate]]\nid = \"unterminated\n";
    std::fs::write(roster_file(&env), broken).unwrap();
    let backups = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(env.config_dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("roster.toml.broken-")
            })
            .collect()
    };

    let run = env.run(&["roster", "list"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("could not be read"), "{}", run.stderr);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    assert!(run.stderr.contains("left as it is"), "{}", run.stderr);
    assert_eq!(backups(), Vec::<std::path::PathBuf>::new());
    assert_eq!(std::fs::read(roster_file(&env)).unwrap(), broken);

    // An edit keeps it aside, says where, and goes on with a fresh roster.
    let someone = env.sim.users()[5].id.clone();
    let run = env.run(&["roster", "add", &someone]).await;
    assert_eq!(run.code, 1, "the file had to be kept aside: {}", run.stderr);
    let kept = backups();
    assert_eq!(kept.len(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("presently: The roster file could not be read (")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("It was kept as "), "{}", run.stderr);
    assert!(run
        .stderr
        .contains(&*kept[0].file_name().unwrap().to_string_lossy()));
    assert!(
        run.stderr
            .contains("Presently started with an empty roster"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&kept[0]).unwrap(), broken);
    assert_eq!(ids_of(&listed(&env).await), vec![someone]);
    assert_eq!(std::fs::read(&kept[0]).unwrap(), broken);
}

/// A removal writes the roster file only when it changes what the file
/// says; people the file listed twice are told of, and written once.
#[tokio::test]
async fn a_removal_writes_the_file_only_when_it_changes_the_roster() {
    let env = TestEnv::new(config(20)).await;
    let users = env.sim.users();
    let (a, b) = (&users[3], &users[4]);
    let run = env.run(&["roster", "remove", &a.id]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not on your roster"),
        "{}",
        run.stderr
    );
    assert!(!roster_file(&env).exists(), "no roster file was made");

    // Written in a form Presently would write otherwise: a save would show.
    let inline = format!("# mine\n\nteammate = [{{ id = \"{}\" }}]\n", a.id);
    std::fs::write(roster_file(&env), &inline).unwrap();
    let run = env.run(&["roster", "remove", &b.id]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(roster_file(&env)).unwrap(), inline);

    let twice = format!(
        "# mine\n\n[[teammate]]\nid = \"{}\"\n\n[[teammate]]\nid = \"{}\"\n\n[[teammate]]\nid = \"{}\"\nfavorite = true\n",
        a.id,
        b.id,
        a.id.to_uppercase()
    );
    std::fs::write(roster_file(&env), twice).unwrap();
    let run = env.run(&["roster", "remove", &b.id]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = |said: &str| run.stderr.lines().position(|l| l == said);
    let note = line("Note: the roster file listed 1 people twice; each is now listed once.");
    let removed = line(&format!("Removed {}.", b.id));
    assert!(
        note.is_some() && note < removed,
        "the note, then the removal: {}",
        run.stderr
    );
    let text = std::fs::read_to_string(roster_file(&env)).unwrap();
    assert!(text.starts_with("# mine\n"), "{text}");
    assert_eq!(text.matches("[[teammate]]").count(), 1, "{text}");
    let list = listed(&env).await;
    assert_eq!(ids_of(&list), std::slice::from_ref(&a.id));
    assert_eq!(list["teammates"][0]["favorite"], true);
}

#[tokio::test]
async fn a_roster_edit_waits_for_one_under_way() {
    if linux_only("flock(1) holding the roster's lock") {
        return;
    }
    let env = TestEnv::new(config(20)).await;
    env.login().await;
    let users = env.sim.users();
    let run = env.run(&["roster", "add", &users[3].id]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Another edit holds the roster's lock (the app, or a second `presently
    // roster`); flock(1) takes the same lock the app does.
    let lock = env.config_dir.path().join("roster.lock");
    let holding = env.config_dir.path().join("holding");
    let mut holder = std::process::Command::new("flock")
        .arg(&lock)
        .arg("-c")
        .arg(format!("touch '{}' && sleep 1", holding.display()))
        .spawn()
        .unwrap();
    presently_e2e::wait_for(
        "the lock to be held",
        std::time::Duration::from_secs(10),
        || holding.exists(),
    )
    .await;
    let run = env.run(&["roster", "remove", &users[3].id]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        holder.try_wait().unwrap().is_some(),
        "the edit finished while another held the lock"
    );
    assert!(ids_of(&listed(&env).await).is_empty());
    holder.wait().unwrap();
}

/// Without `--config-dir`, the roster and settings live where the platform
/// keeps a person's settings: `$XDG_CONFIG_HOME/presently` on Linux,
/// `%APPDATA%\\presently` (the roaming profile) on Windows; never in a Unix
/// dot folder of the home on Windows.
#[tokio::test]
async fn without_a_config_dir_the_roster_is_in_the_platforms_settings_folder() {
    let env = TestEnv::new(config(20)).await;
    env.login().await;
    let someone = env.sim.users()[3].id.clone();
    let home = tempfile::tempdir().unwrap();
    let run_here = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env_remove("PRESENTLY_CONFIG_DIR")
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"));
        Run::of(cmd)
    };
    let added = run_here(&["roster", "add", &someone]).await;
    assert_eq!(added.code, 0, "{}", added.stderr);

    let expected = match platform() {
        Platform::Windows if under_wine() => {
            let users = session_home().join("drive_c/users");
            let mut found: Vec<_> = std::fs::read_dir(&users)
                .unwrap()
                .map(|user| {
                    user.unwrap()
                        .path()
                        .join("AppData/Roaming/presently/roster.toml")
                })
                .filter(|roster| roster.exists())
                .collect();
            assert_eq!(found.len(), 1, "one roster under %APPDATA%: {found:?}");
            found.remove(0)
        }
        Platform::Windows => std::path::PathBuf::from(std::env::var_os("APPDATA").unwrap())
            .join("presently")
            .join("roster.toml"),
        Platform::MacOs => home
            .path()
            .join("Library/Application Support/presently/roster.toml"),
        Platform::Linux => home.path().join("config/presently/roster.toml"),
    };
    if platform() == Platform::Windows {
        assert_eq!(
            files_containing(home.path(), &someone),
            Vec::<std::path::PathBuf>::new(),
            "nothing in a Unix home"
        );
    }
    let text = std::fs::read_to_string(&expected).unwrap();
    assert!(text.contains(&someone), "{}: {text}", expected.display());

    let listed = run_here(&["roster", "list", "--json"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(ids_of(&listed.json()), std::slice::from_ref(&someone));
    let removed = run_here(&["roster", "remove", &someone]).await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
}
