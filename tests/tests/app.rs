//! The tray app as a process: one instance at a time.

use std::time::Duration;

use presently_e2e::{wait_for, PrivateSession, Run, TestEnv};

/// The D-Bus name tauri-plugin-single-instance holds for this app.
const INSTANCE_NAME: &str = "app.presently.desktop.SingleInstance";

#[tokio::test]
async fn a_second_launch_hands_over_to_the_first_and_ends() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = PrivateSession::start();
    let mut first = env.command(&[]);
    session.apply(&mut first);
    let mut first = first.spawn().unwrap();
    wait_for("the first instance", Duration::from_secs(60), || {
        session.name_has_owner(INSTANCE_NAME)
    })
    .await;

    let mut second = env.command(&[]);
    session.apply(&mut second);
    let second = Run::of(second).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.took < Duration::from_secs(30));
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first one keeps running"
    );
    assert!(session.name_has_owner(INSTANCE_NAME));
    first.kill().await.unwrap();
}

#[tokio::test]
async fn without_a_display_it_says_what_to_use_instead() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let mut cmd = env.command(&[]);
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let run = Run::of(cmd).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("presently watch"), "{}", run.stderr);
}
