//! The real app in a real window under Xvfb, driven through WebDriver
//! (tauri-driver + WebKitWebDriver): sign in through the browser on the
//! simulated tenant, add a teammate, see a status change arrive, and see a
//! hostile status message shown as plain text. Leaves a screenshot in target/screenshots/.

use std::path::PathBuf;
use std::time::Duration;

use presently_e2e::webdriver::Driver;
use presently_e2e::{
    curl_browser, desktop_bin, files_containing, presence, PrivateSession, TestEnv,
};
use presently_sim::PresenceUpdate;

const EVIL: &str = "<img src=x onerror=alert(1)>";

fn screenshot_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[tokio::test]
async fn sign_in_add_a_teammate_and_see_their_status_change() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = PrivateSession::start();
    std::fs::write(env.config_dir.path().join("config.toml"), "interval = 5\n").unwrap();
    let who = env.sim.users()[3].clone();
    env.sim
        .set_presence(&who.id, presence("Available", "Available"))
        .unwrap();

    let state_home = session.home.path().join("state");
    let driver = Driver::start(&desktop_bin(), |cmd| {
        session.apply(cmd);
        cmd.env("PRESENTLY_LOGIN_URL", env.sim.url())
            .env("PRESENTLY_GRAPH_URL", env.sim.url())
            .env("PRESENTLY_CONFIG_DIR", env.config_dir.path())
            .env("PRESENTLY_CLIENT_ID", &env.client_id)
            .env("BROWSER", curl_browser(None))
            // This app's log alone, not those of other tests' apps.
            .env("XDG_STATE_HOME", &state_home);
    })
    .await;
    let long = Duration::from_secs(30);

    // Sign in: "Sign in" opens Microsoft's page in the browser (here curl,
    // which follows the tenant's redirect back to the app's loopback port).
    env.sim.set_auto_approve(true);
    let button = driver.wait_for("#signin-button", long).await;
    driver.click(&button).await;

    // Add a teammate by searching the directory.
    // An empty roster offers "Add people" in its empty state.
    let add = driver.wait_for("#empty-add", long).await;
    driver.click(&add).await;
    let search = driver.wait_for("#people-search", long).await;
    driver.type_text(&search, &who.display_name).await;
    let result = driver
        .wait_for(
            &format!("#search-results li[data-id=\"{}\"] button", who.id),
            long,
        )
        .await;
    driver.click(&result).await;
    let row = format!("li.row[data-id=\"{}\"]", who.id);
    let done = driver
        .wait_for("#add-dialog button.primary[data-close]", long)
        .await;
    driver.click(&done).await;
    driver.wait_for(&row, long).await;
    driver
        .wait_for_text(&format!("{row} .status-words"), long, |t| {
            t.contains("Available")
        })
        .await;

    // The window tells the app when it has first painted the roster with
    // everyone's presence, and the app logs when that was (bench/app reads it).
    let deadline = std::time::Instant::now() + long;
    loop {
        let found = files_containing(&state_home, "first roster painted");
        if !found.is_empty() {
            let log = std::fs::read_to_string(&found[0]).unwrap();
            assert_eq!(log.matches("first roster painted").count(), 1, "{log}");
            assert!(
                log.lines()
                    .any(|l| l.contains("first roster painted") && l.contains(" ms after start")),
                "{log}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the app never logged the first painted roster"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A status change arrives by itself, hostile status message and all.
    env.sim
        .set_presence(
            &who.id,
            PresenceUpdate {
                availability: "Busy".into(),
                activity: "InAMeeting".into(),
                status_message: Some(EVIL.into()),
                out_of_office: None,
            },
        )
        .unwrap();
    let words = driver
        .wait_for_text(&format!("{row} .status-words"), long, |t| {
            t.contains("meeting")
        })
        .await;
    assert!(words.contains("Busy"), "{words}");
    let message = driver
        .wait_for_text(&format!("{row} .status-message-text"), long, |t| {
            !t.is_empty()
        })
        .await;
    assert_eq!(message, EVIL, "shown as the literal text it is");
    let injected = driver
        .execute("return document.querySelectorAll('img[src=\"x\"], [onerror]').length;")
        .await;
    assert_eq!(injected, 0, "no element was made from the status message");

    let png = driver.screenshot().await;
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(screenshot_path("main-window.png"), png).unwrap();
    driver.quit().await;
}
