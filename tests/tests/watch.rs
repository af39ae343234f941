//! `presently watch` end to end: JSON lines from the built binary against
//! the simulator, and exit code 3 when the sign-in is lost.

use std::time::Duration;

use presently_e2e::{presence, OutputLines, Run, TestEnv};
use presently_sim::PresenceUpdate;
use serde_json::Value;

/// Reads JSON lines from `lines` until one satisfies `wanted`.
/// How long a line of `watch` may take to come.
const PATIENCE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn json_lines_snapshot_then_changes_and_exit_3_when_signed_out() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login().await;
    let users = env.sim.users();
    let (a, b) = (users[1].id.clone(), users[2].id.clone());
    let ids = format!("{a},{b},not-a-guid");
    let mut child = env
        .command(&["watch", "--json", "--interval", "5", "--ids", &ids])
        .spawn()
        .unwrap();
    let mut lines = OutputLines::stdout(&mut child);

    let invalid = lines
        .json_until(PATIENCE, |v| v["event"] == "invalid_ids")
        .await;
    assert_eq!(invalid["ids"], serde_json::json!(["not-a-guid"]));
    let snapshot = lines
        .json_until(PATIENCE, |v| v["event"] == "snapshot")
        .await;
    let mut seen: Vec<_> = snapshot["presences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(seen, expected);
    assert!(
        snapshot["at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 UTC"
    );

    env.sim
        .set_presence(&a, presence("DoNotDisturb", "Presenting"))
        .unwrap();
    let changed = lines
        .json_until(PATIENCE, |v| v["event"] == "changed")
        .await;
    assert_eq!(changed["id"], a.as_str());
    assert_eq!(changed["availability"], "DoNotDisturb");
    assert_eq!(changed["activity"], "Presenting");
    assert!(changed["previous"]["availability"].is_string());

    env.sim.revoke_all();
    let status = lines
        .json_until(PATIENCE, |v| v["event"] == "status" && v["state"] != "ok")
        .await;
    assert_eq!(status["state"], "signed_out", "{status}");
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("watch ends")
        .unwrap();
    assert_eq!(exit.code(), Some(3));
}

#[tokio::test]
async fn bad_arguments_are_explained() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let run = env.run(&["watch", "--interval", "2", "--ids", "x"]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("at least 5"), "{}", run.stderr);
    for huge in ["86401", "18446744073709551615"] {
        let run = env.run(&["watch", "--interval", huge, "--ids", "x"]).await;
        assert_eq!(run.code, 1, "a sentence, not a panic: {}", run.stderr);
        assert!(run.stderr.contains("at most 86400"), "{}", run.stderr);
    }
    let run = env.run(&["watch", "--interval", "-1", "--ids", "x"]).await;
    assert_eq!(run.code, 2, "not a number of seconds: {}", run.stderr);
    let run = env.run(&["watch", "--ids", "a", "--ids-file", "f"]).await;
    assert_eq!(run.code, 2, "the two are exclusive");
    let run = env
        .run(&["watch", "--ids-file", "/nonexistent/ids.txt"])
        .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("ID file"), "{}", run.stderr);
    let run = env.run(&["watch", "--json"]).await;
    assert_eq!(run.code, 3, "not signed in: {}", run.stderr);
}

#[tokio::test]
async fn the_roster_is_watched_when_no_ids_are_given() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login().await;
    let who = env.sim.users()[5].clone();
    assert_eq!(
        env.run(&["roster", "add", &who.user_principal_name])
            .await
            .code,
        0
    );
    let mut child = env.command(&["watch", "--interval", "5"]).spawn().unwrap();
    let found = OutputLines::stdout(&mut child)
        .text_until(PATIENCE, |l| l.contains(&who.display_name))
        .await;
    assert!(
        found.contains(&who.display_name),
        "readable lines name people"
    );
    child.kill().await.unwrap();
    let _ = Run::wait(child).await;
}

#[tokio::test]
async fn what_the_server_says_reaches_the_terminal_as_text_only() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login().await;
    let who = env.sim.users()[1].id.clone();
    // Values Graph might send one day, or a hostile server now: escape
    // sequences (clear the screen, set the title) and direction overrides.
    env.sim
        .set_presence(
            &who,
            PresenceUpdate {
                availability: "Busy\u{1b}[2J".into(),
                activity: "\u{1b}]0;owned\u{7}Meeting\u{202e}".into(),
                status_message: Some("back \u{1b}[31mlater\u{1b}[0m\r\nsoon".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let mut child = env
        .command(&["watch", "--interval", "5", "--ids", &who])
        .spawn()
        .unwrap();
    let line = OutputLines::stdout(&mut child)
        .text_until(PATIENCE, |l| l.contains("back"))
        .await;
    child.kill().await.unwrap();
    assert!(
        !line
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}')),
        "{line:?}"
    );
    assert!(line.contains("later"), "{line:?}");
}

/// Ctrl-C in the terminal ends `watch` at once with exit 0, every line it
/// printed whole (a script reading its JSON never gets half a line), and
/// the sign-in as it was.
#[tokio::test]
async fn ctrl_c_ends_watch_with_every_line_whole() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login().await;
    let ids = env.sim.users()[1..30]
        .iter()
        .map(|u| u.id.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut watch = env.interruptible(&["watch", "--json", "--interval", "5", "--ids", &ids]);
    let mut out = OutputLines::stdout(&mut watch.child);
    out.text_until(Duration::from_secs(60), |l| l.contains("\"snapshot\""))
        .await;

    watch.ctrl_c().await;
    let rest = async { (out.to_end().await, watch.child.wait().await.unwrap()) };
    let (printed, exit) = tokio::time::timeout(Duration::from_secs(30), rest)
        .await
        .expect("Ctrl-C ended watch within 30 s");
    assert_eq!(exit.code(), Some(0), "{printed}");
    assert!(
        printed.ends_with('\n'),
        "the last line is whole: {printed:?}"
    );
    for line in printed.lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert_ne!(v["state"], "signed_out", "{line}");
    }
    assert_eq!(env.run(&["whoami"]).await.code, 0, "still signed in");
}
