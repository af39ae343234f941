//! One sign-in shared by real processes at the same moment: three
//! `presently watch` and the tray app (on Windows under Wine, the three
//! `presently.exe watch` only), with 10-second tokens, for a minute.
//! Refresh tokens rotate, so a token redeemed twice would sign a process
//! out; the file lock around "read, renew, save" must prevent it.

use std::time::Duration;

use presently_e2e::{platform, Platform, PrivateSession, SimConfig, TestEnv};

#[tokio::test]
async fn watches_and_the_app_renew_one_sign_in_without_signing_each_other_out() {
    let env = TestEnv::new(SimConfig {
        access_token_lifetime: Duration::from_secs(10),
        ..TestEnv::quick()
    })
    .await;
    // A session of its own: the app's single-instance guard lives on the
    // bus. Elsewhere the watches only: no webview in Wine.
    let session = (platform() == Platform::Linux).then(PrivateSession::start);
    match &session {
        Some(session) => env.login_in(session).await,
        None => drop(env.login().await),
    }

    let users = env.sim.users();
    let ids = users[1..6]
        .iter()
        .map(|u| u.id.as_str())
        .collect::<Vec<_>>()
        .join(",");
    std::fs::write(
        env.config_dir.path().join("roster.toml"),
        format!(
            "[[teammate]]\nid = \"{}\"\ndisplay_name = \"A\"\n",
            users[1].id
        ),
    )
    .unwrap();
    let mut processes = Vec::new();
    for _ in 0..3 {
        let mut watch = env.command(&["watch", "--json", "--interval", "5", "--ids", &ids]);
        if let Some(session) = &session {
            session.apply(&mut watch);
        }
        processes.push(watch.spawn().unwrap());
    }
    if let Some(session) = &session {
        std::fs::write(env.config_dir.path().join("config.toml"), "interval = 5\n").unwrap();
        let mut app = env.command(&["--minimized"]);
        session.apply(&mut app);
        processes.push(app.spawn().unwrap());
    }

    tokio::time::sleep(Duration::from_secs(60)).await;
    for (n, p) in processes.iter_mut().enumerate() {
        assert!(
            p.try_wait().unwrap().is_none(),
            "process {n} ended: nobody may be signed out"
        );
    }
    let stats = env.sim.refresh_stats();
    assert_eq!(
        stats.reused, 0,
        "a refresh token was redeemed twice: {stats:?}"
    );
    // Tokens of 10 s are renewed every few seconds, by whichever process
    // finds them due first; the others take the renewed ones from the keyring.
    assert!(stats.redeemed >= 5, "{stats:?}");
    assert!(
        stats.redeemed <= 30,
        "each renewal is shared, not repeated: {stats:?}"
    );

    let mut outputs = Vec::new();
    for mut p in processes {
        p.start_kill().unwrap();
        outputs.push(p.wait_with_output().await.unwrap());
    }
    for out in &outputs[..3] {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("\"snapshot\""), "{stdout}");
        assert!(!stdout.contains("signed_out"), "{stdout}");
    }
}
