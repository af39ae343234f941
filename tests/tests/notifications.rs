//! The tray app really delivers a desktop notification, over D-Bus, when a
//! teammate with the bell becomes available, and none for the start-up
//! snapshot or for teammates without the bell.

use std::time::Duration;

use presently_e2e::{presence, wait_for, PrivateSession, TestEnv};
use presently_sim::PresenceUpdate;

fn busy() -> PresenceUpdate {
    presence("Busy", "InAMeeting")
}

fn available() -> PresenceUpdate {
    presence("Available", "Available")
}

fn presence_polls(env: &TestEnv) -> usize {
    env.sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/getPresencesByUserId") && r.status == 200)
        .count()
}

#[tokio::test]
async fn a_watched_teammate_becoming_available_is_announced_and_nothing_else() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let mut session = PrivateSession::start();
    let log = session.home.path().join("notifications.log");
    session.notification_daemon(&log);

    // Signed in, in this session's keyring.
    env.login_in(&session).await;

    let users = env.sim.users();
    let (watched, unwatched, hostile) = (&users[1], &users[2], &users[3]);
    for u in [watched, unwatched, hostile] {
        env.sim.set_presence(&u.id, busy()).unwrap();
    }
    // A name as the directory might hold it: markup for a notification
    // server that reads the body as markup.
    let evil = "<b>Bold</b> & <a href='https://example.com'>link</a>";
    std::fs::write(
        env.config_dir.path().join("roster.toml"),
        format!(
            "[[teammate]]\nid = \"{}\"\ndisplay_name = \"{}\"\nnotify = true\nfavorite = false\n\n\
             [[teammate]]\nid = \"{}\"\ndisplay_name = \"{}\"\nnotify = false\nfavorite = false\n\n\
             [[teammate]]\nid = \"{}\"\ndisplay_name = \"{evil}\"\nnotify = true\nfavorite = false\n",
            watched.id, watched.display_name, unwatched.id, unwatched.display_name, hostile.id
        ),
    )
    .unwrap();
    std::fs::write(env.config_dir.path().join("config.toml"), "interval = 5\n").unwrap();

    let mut app = env.command(&[]);
    session.apply(&mut app);
    let mut app = app.spawn().unwrap();

    wait_for("the start-up snapshot", Duration::from_secs(60), || {
        presence_polls(&env) >= 1
    })
    .await;
    // A second poll: anything the snapshot would have announced is out by now.
    wait_for("a second poll", Duration::from_secs(30), || {
        presence_polls(&env) >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !before.contains("Notify"),
        "no notification at start-up: {before}"
    );

    env.sim.set_presence(&watched.id, available()).unwrap();
    env.sim.set_presence(&unwatched.id, available()).unwrap();
    env.sim.set_presence(&hostile.id, available()).unwrap();
    let expected = format!("{} is available", watched.display_name);
    wait_for("the notification", Duration::from_secs(30), || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(&expected)
    })
    .await;
    let shown = std::fs::read_to_string(&log).unwrap();
    assert!(shown.contains("was Busy (In a meeting)"), "{shown}");
    assert!(
        !shown.contains(&unwatched.display_name),
        "no bell, no notification: {shown}"
    );
    assert_eq!(
        shown.matches("Notify").count(),
        1,
        "one merged notification: {shown}"
    );
    // The body is markup there: the name arrives escaped, as text.
    assert!(
        shown.contains("&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;a href="),
        "{shown}"
    );
    assert!(!shown.contains("<b>Bold"), "{shown}");

    app.kill().await.unwrap();
}
