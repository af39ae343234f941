//! `presently status` end to end: the built binary sets, shows and clears
//! your own presence and message against the simulator, asks for
//! Presence.ReadWrite the first time only, and refuses the China cloud.

use std::time::Duration;

use presently_e2e::{approve, presence, OutputLines, Run, TestEnv};
use serde_json::Value;

/// `users()[0]` (who signs in) at work: a chosen presence shows only while
/// one has a Teams session, and the simulated day sends people home.
fn at_work(env: &TestEnv) {
    let update = presence("Available", "Available");
    env.sim
        .set_presence(&env.sim.users()[0].id, update)
        .unwrap();
}

/// Plays `minutes` of the simulated day with me kept at work (a presence
/// set from outside holds for 30 minutes).
fn advance_at_work(env: &TestEnv, mut minutes: u32) {
    while minutes > 0 {
        let step = minutes.min(25);
        at_work(env);
        env.sim.advance(step).unwrap();
        minutes -= step;
    }
}

async fn status_json(env: &TestEnv) -> Value {
    let run = env.run(&["status", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

/// Signed in as `presently login` does (without Presence.ReadWrite), then
/// the first `status set` asks for it with a code and goes on.
async fn consented(env: &TestEnv, args: &[&str]) -> Run {
    env.login().await;
    let stored = env.keyring_sign_in().expect("signed in").0;
    assert!(
        !stored["scope"]
            .as_str()
            .unwrap()
            .contains("Presence.ReadWrite"),
        "login alone does not ask for it"
    );
    let mut with_code = args.to_vec();
    with_code.push("--device-code");
    let run = env.login_args_with(&with_code, approve).await;
    ok(&run);
    assert!(run.stderr.contains("Presence.ReadWrite"), "{}", run.stderr);
    let stored = env.keyring_sign_in().unwrap().0;
    let scope = stored["scope"].as_str().unwrap();
    assert!(scope.contains("Presence.ReadWrite"), "kept: {scope}");
    run
}

/// The first `snapshot` of `watch --json --ids ID`.
async fn watched(env: &TestEnv, id: &str) -> Value {
    let mut child = env
        .command(&["watch", "--json", "--interval", "5", "--ids", id])
        .spawn()
        .unwrap();
    let snapshot = OutputLines::stdout(&mut child)
        .json_until(Duration::from_secs(60), |v| v["event"] == "snapshot")
        .await;
    child.kill().await.unwrap();
    snapshot["presences"][0].clone()
}

#[tokio::test]
async fn set_shows_in_status_and_watch_expires_and_clears() {
    let env = TestEnv::new(TestEnv::quick()).await;
    at_work(&env);
    let me = env.sim.users()[0].id.clone();
    let run = consented(&env, &["status", "set", "dnd", "--for", "1h"]).await;
    assert!(
        run.stderr.contains("Do not disturb, until"),
        "{}",
        run.stderr
    );

    let now = status_json(&env).await;
    assert_eq!(
        (now["availability"].as_str(), now["activity"].as_str()),
        (Some("DoNotDisturb"), Some("DoNotDisturb"))
    );
    assert_eq!(now["label"], "Do not disturb");
    let text = env.run(&["status"]).await;
    ok(&text);
    assert_eq!(text.stdout.trim(), "Do not disturb");
    assert_eq!(watched(&env, &me).await["availability"], "DoNotDisturb");

    advance_at_work(&env, 59);
    assert_eq!(status_json(&env).await["availability"], "DoNotDisturb");
    env.sim.advance(1).unwrap();
    assert_ne!(
        status_json(&env).await["availability"],
        "DoNotDisturb",
        "an hour later"
    );

    // Asked once: the next command needs no sign-in (none could be approved).
    at_work(&env);
    let run = env.run(&["status", "set", "offline"]).await;
    ok(&run);
    assert!(!run.stderr.contains("Sign in"), "{}", run.stderr);
    assert_eq!(status_json(&env).await["activity"], "OffWork");
    ok(&env.run(&["status", "clear"]).await);
    assert_eq!(status_json(&env).await["availability"], "Available");
}

#[tokio::test]
async fn a_message_with_an_end_is_shown_then_cleared() {
    let env = TestEnv::new(TestEnv::quick()).await;
    at_work(&env);
    consented(
        &env,
        &[
            "status",
            "message",
            "Back at 3 <b>not bold</b>",
            "--for",
            "90m",
        ],
    )
    .await;

    let now = status_json(&env).await;
    assert_eq!(
        now["message"], "Back at 3 <b>not bold</b>",
        "text, as written"
    );
    let expiry = now["expiry"].as_str().expect("an end");
    assert!(expiry.ends_with('Z'), "RFC 3339 UTC: {expiry}");
    let text = env.run(&["status"]).await;
    ok(&text);
    assert!(
        text.stdout
            .contains("Message: Back at 3 <b>not bold</b> (until "),
        "{}",
        text.stdout
    );

    env.sim.advance(92).unwrap();
    assert_eq!(status_json(&env).await["message"], Value::Null, "expired");

    ok(&env.run(&["status", "message", "No end"]).await);
    let now = status_json(&env).await;
    assert_eq!(
        (now["message"].as_str(), &now["expiry"]),
        (Some("No end"), &Value::Null)
    );
    ok(&env.run(&["status", "message", "--clear"]).await);
    assert_eq!(status_json(&env).await["message"], Value::Null);
}

#[tokio::test]
async fn refused_in_china_before_anything_is_sent_and_exit_3_when_signed_out() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.sim.clear_log();
    let mut china = env.command(&["status", "set", "busy"]);
    china.env("PRESENTLY_CLOUD", "china");
    let run = Run::of(china).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("not available in the China"),
        "{}",
        run.stderr
    );
    assert!(env.sim.requests().is_empty(), "nothing was sent");

    let run = env.run(&["status", "set", "busy"]).await;
    assert_eq!(run.code, 3, "not signed in: {}", run.stderr);
    let run = env.run(&["status", "set", "lunch"]).await;
    assert_eq!(run.code, 2, "usage: {}", run.stderr);
    let run = env.run(&["status", "set", "busy", "--for", "8d"]).await;
    assert_eq!(run.code, 2, "usage: {}", run.stderr);
    assert!(run.stderr.contains("at most 7 days"), "{}", run.stderr);
}
