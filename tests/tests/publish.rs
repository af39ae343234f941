//! `presently publish` end to end: the built binary against the simulator,
//! a real MQTT broker (Debian's mosquitto, on a free loopback port) and a
//! webhook server of the test's own.

use std::process::Stdio;
use std::time::{Duration, Instant};

use presently_e2e::{free_port, linux_only, Broker, PrivateSession, Run, TestEnv};
use presently_sim::PresenceUpdate;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// How long a test waits for something that should come within a poll or
/// two (polls are 5 s apart): a bound that ends a broken test, not a
/// measure of speed.
const PATIENCE: Duration = Duration::from_secs(60);

/// `presently publish TARGETS` for one teammate, polling every 5 s.
fn start_publish(env: &TestEnv, targets: &[&str], teammate: &str) -> Child {
    let mut args = vec!["publish"];
    args.extend_from_slice(targets);
    args.extend(["--interval", "5", "--ids", teammate]);
    env.command(&args).spawn().unwrap()
}

fn presence(availability: &str, activity: &str, note: Option<&str>) -> PresenceUpdate {
    PresenceUpdate {
        status_message: note.map(str::to_string),
        ..presently_e2e::presence(availability, activity)
    }
}

#[tokio::test]
async fn mqtt_holds_everyones_presence_and_gets_it_again_after_the_broker_restarts() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login().await;
    let whoami = env.run(&["whoami", "--json"]).await.json();
    let (me, tenant) = (
        whoami["id"].as_str().unwrap(),
        whoami["tenant_id"].as_str().unwrap(),
    );
    let teammate = env.sim.users()[3].id.clone();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let broker = Broker::start(dir.path(), port).await;
    let url = format!("mqtt://127.0.0.1:{port}");
    let mut publish = start_publish(
        &env,
        &["--mqtt", &url, "--topic-prefix", "office/teams"],
        &teammate,
    );
    let topic = format!("office/teams/{tenant}/{teammate}");
    let mine = format!("office/teams/{tenant}/me");

    // The snapshot's presence, your own, and Home Assistant's sensor.
    let first = broker
        .retained_json(&topic, |v| v["id"] == teammate.as_str())
        .await;
    assert_eq!(first["me"], false);
    let own = broker.retained_json(&mine, |v| v["me"] == true).await;
    assert_eq!(own["id"], me);
    let object_id = format!("presently_{}", me.replace('-', "_"));
    let config = broker
        .retained_json(&format!("homeassistant/sensor/{object_id}/config"), |_| {
            true
        })
        .await;
    assert_eq!(config["state_topic"], mine.as_str());
    assert_eq!(
        config["availability_topic"],
        format!("office/teams/{tenant}/status")
    );
    assert_eq!(config["unique_id"], object_id.as_str());
    assert_eq!(
        broker
            .retained(&format!("office/teams/{tenant}/status"))
            .await
            .as_deref(),
        Some("online")
    );

    // A change, with a status message written in Teams (HTML), arrives as text.
    env.sim
        .set_presence_html(
            &teammate,
            presence(
                "Busy",
                "InACall",
                Some(r#"<p>R&amp;D review<br>lunch after <img src="https://statics.teams.cdn.office.net/pizza/20_f.png" alt="🍕"></p>"#),
            ),
        )
        .unwrap();
    let busy = broker
        .retained_json(&topic, |v| v["availability"] == "Busy")
        .await;
    assert_eq!(busy["activity"], "InACall");
    assert_eq!(busy["label"], "In a call");
    assert_eq!(busy["statusMessage"], "R&D review\nlunch after 🍕");

    // The broker goes away and comes back empty on the same port: the
    // current state is published again, and the next change still arrives.
    broker.stop().await;
    env.sim
        .set_presence(&teammate, presence("Away", "Away", None))
        .unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let broker = Broker::start(dir.path(), port).await;
    let back = broker.retained_json(&topic, |_| true).await;
    assert!(
        back["availability"] == "Away" || back["availability"] == "Busy",
        "the state held before or after the outage's change: {back}"
    );
    broker.retained_json(&mine, |v| v["me"] == true).await;
    env.sim
        .set_presence(&teammate, presence("DoNotDisturb", "Presenting", None))
        .unwrap();
    let dnd = broker
        .retained_json(&topic, |v| v["availability"] == "DoNotDisturb")
        .await;
    assert_eq!(dnd["activity"], "Presenting");
    // A 20 KB plain-text note, as a colleague once set: published, cut at
    // 4,000 characters and saying so.
    let note = "All day in the lab. ".repeat(1_000);
    env.sim
        .set_presence(&teammate, presence("Away", "Away", Some(&note)))
        .unwrap();
    let long = broker
        .retained_json(&topic, |v| v["availability"] == "Away")
        .await;
    let said = long["statusMessage"].as_str().unwrap();
    assert!(said.ends_with("[… cut at 4,000 characters]"), "{said}");
    assert!(note.starts_with(said.split(" […").next().unwrap()));
    assert!(
        publish.try_wait().unwrap().is_none(),
        "publish keeps running through the outage"
    );
    publish.kill().await.unwrap();
    broker.stop().await;
}

#[tokio::test]
async fn the_broker_password_comes_from_the_keyring() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login().await;
    let teammate = env.sim.users()[4].id.clone();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let user = format!("ha-{}", &presently_e2e::random_guid()[..8]);
    let broker = Broker::start_with(dir.path(), port, Some((&user, "s3cret pass"))).await;
    let url = format!("mqtt://127.0.0.1:{port}");
    let entry = format!("mqtt:{user}@127.0.0.1:{port}");

    // Nothing in the keyring and no terminal to ask on: a clear refusal.
    let run = env
        .run(&[
            "publish",
            "--mqtt",
            &url,
            "--username",
            &user,
            "--ids",
            &teammate,
        ])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("No MQTT password"), "{}", run.stderr);

    if linux_only("typing the password in a pseudo-terminal of script(1)") {
        // The password goes into the keyring where the prompt would have
        // put it (under Wine there is no console to type in).
        presently_e2e::keyring_store(&entry, "s3cret pass");
    } else {
        asked_on_a_terminal(&env, &broker, &url, &user, &teammate, &entry).await;
    }

    // The next run, with no terminal, takes it from the keyring.
    let topic = format!("presently/{}/{teammate}", env.sim.tenant_id());
    env.sim
        .set_presence(
            &teammate,
            presence("DoNotDisturb", "Presenting", Some("second run")),
        )
        .unwrap();
    let mut publish = start_publish(&env, &["--mqtt", &url, "--username", &user], &teammate);
    broker
        .retained_json(&topic, |v| v["statusMessage"] == "second run")
        .await;
    publish.kill().await.unwrap();
    broker.stop().await;
}

/// `publish` on a terminal (a pseudo-terminal of `script`): the broker's
/// password is asked for, not echoed, and kept in the keyring.
async fn asked_on_a_terminal(
    env: &TestEnv,
    broker: &Broker,
    url: &str,
    user: &str,
    teammate: &str,
    entry: &str,
) {
    let line = format!(
        "{} publish --mqtt {url} --username {user} --interval 5 --ids {teammate}",
        presently_e2e::presently_bin().display()
    );
    let mut typed = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("PRESENTLY_LOGIN_URL", env.sim.url())
        .env("PRESENTLY_GRAPH_URL", env.sim.url())
        .env("PRESENTLY_CONFIG_DIR", env.config_dir.path())
        .env("PRESENTLY_CLIENT_ID", &env.client_id)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("script is installed (util-linux)");
    let mut screen = typed.stdout.take().unwrap();
    let mut shown = Vec::new();
    let prompt = async {
        let mut chunk = [0u8; 1024];
        while !String::from_utf8_lossy(&shown).contains("MQTT password for") {
            let n = screen.read(&mut chunk).await.unwrap();
            assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&shown));
            shown.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(PATIENCE, prompt)
        .await
        .expect("the password is asked for");
    let mut keyboard = typed.stdin.take().unwrap();
    keyboard.write_all(b"s3cret pass\n").await.unwrap();
    keyboard.flush().await.unwrap();
    // Topics name the tenant by its directory ID, whatever was configured.
    let topic = format!("presently/{}/{teammate}", env.sim.tenant_id());
    let first = broker.retained_json(&topic, |_| true).await;
    assert_eq!(first["id"], teammate);
    assert_eq!(
        presently_e2e::keyring_lookup(entry).as_deref(),
        Some("s3cret pass")
    );
    typed.kill().await.unwrap();
}

/// A webhook server: answers 500 to the first request and 200 after, and
/// hands over each request's headers and body.
async fn webhook_server() -> (u16, mpsc::UnboundedReceiver<(u16, String, Value)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut answered = 0;
        // Bounded: a test never needs more than a few dozen requests.
        while answered < 200 {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = conn.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    let mut body = buf[end + 4..].to_vec();
                    while body.len() < length {
                        let n = conn.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        body.extend_from_slice(&chunk[..n]);
                    }
                    break (head, body);
                }
            };
            if head.is_empty() {
                continue;
            }
            let status = if answered == 0 { 500 } else { 200 };
            answered += 1;
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = conn.write_all(reply.as_bytes()).await;
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let _ = tx.send((status, head, body));
        }
    });
    (port, rx)
}

async fn next_request(
    rx: &mut mpsc::UnboundedReceiver<(u16, String, Value)>,
) -> (u16, String, Value) {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("a request came")
        .expect("the server runs")
}

/// Also with a proxy set that goes nowhere: this machine's own addresses
/// (the webhook, and here the simulated Graph) are reached directly.
#[tokio::test]
async fn the_webhook_gets_each_change_and_a_failed_post_is_tried_again() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login().await;
    let teammate = env.sim.users()[2].id.clone();
    let (port, mut requests) = webhook_server().await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let mut publish = env
        .command(&[
            "publish",
            "--webhook",
            &url,
            "--header",
            "Authorization: Bearer s3cret",
            "--interval",
            "5",
            "--ids",
            &teammate,
        ])
        .env("HTTP_PROXY", &nowhere)
        .env("http_proxy", &nowhere)
        .env("ALL_PROXY", &nowhere)
        .spawn()
        .unwrap();

    // Your own presence comes first; the server refuses it once.
    let (status, _, refused) = next_request(&mut requests).await;
    assert_eq!(status, 500);
    let (status, head, retried) = next_request(&mut requests).await;
    assert_eq!(status, 200);
    assert_eq!(retried, refused, "the same change, tried again");
    assert_eq!(retried["me"], true);
    assert!(head.starts_with("POST /hook "), "{head}");
    assert!(
        head.lines()
            .any(|l| l.eq_ignore_ascii_case("authorization: Bearer s3cret")),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );

    env.sim
        .set_presence(
            &teammate,
            presence("BeRightBack", "BeRightBack", Some("5 min")),
        )
        .unwrap();
    let change = loop {
        let (_, _, body) = next_request(&mut requests).await;
        if body["id"] == teammate.as_str() {
            break body;
        }
    };
    assert_eq!(change["availability"], "BeRightBack");
    assert_eq!(change["statusMessage"], "5 min");
    assert_eq!(change["me"], false);
    publish.kill().await.unwrap();
}

#[tokio::test]
async fn addresses_that_would_leak_presence_are_refused_before_anything_is_sent() {
    let env = TestEnv::new(TestEnv::quick()).await;
    // (flag, address, words the error must hold, words it must not)
    let refused = [
        (
            "--webhook",
            "http://192.0.2.10/hook",
            "only allowed for loopback",
            "\u{0}",
        ),
        ("--mqtt", "http://127.0.0.1:1883", "mqtt://", "\u{0}"),
        ("--mqtt", "mqtt://user:pw@127.0.0.1", "--username", "pw@"),
    ];
    for (flag, address, says, hides) in refused {
        let run = env.run(&["publish", flag, address, "--ids", "x"]).await;
        assert_eq!(run.code, 1, "{address}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{address}: {}", run.stderr);
        assert!(!run.stderr.contains(hides), "{address}: {}", run.stderr);
    }
    // A password in the clear to another machine, unless the flag says so.
    let plain = ["publish", "--mqtt", "mqtt://192.0.2.10", "--username", "ha"];
    let run = env.run(&[&plain[..], &["--ids", "x"]].concat()).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("in the clear"), "{}", run.stderr);
    assert!(run.stderr.contains("--allow-plaintext"), "{}", run.stderr);
    let run = env.run(&["publish", "--ids", "x"]).await;
    assert_eq!(run.code, 2, "a target is required: {}", run.stderr);
    assert!(env.sim.requests().is_empty(), "nothing reached the tenant");
}

#[tokio::test]
async fn the_desktop_app_publishes_to_the_broker_of_its_settings() {
    if linux_only("the desktop app") {
        return;
    }
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = PrivateSession::start();
    env.login_in(&session).await;
    let teammate = env.sim.users()[2].clone();
    env.sim
        .set_presence(&teammate.id, presence("Busy", "InACall", None))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let broker = Broker::start(dir.path(), port).await;
    let config = env.config_dir.path();
    std::fs::write(
        config.join("roster.toml"),
        format!("[[teammate]]\nid = \"{}\"\n", teammate.id),
    )
    .unwrap();
    std::fs::write(
        config.join("config.toml"),
        format!("interval = 5\n\n[mqtt]\nbroker = \"mqtt://127.0.0.1:{port}\"\ntopic_prefix = \"desk\"\n"),
    )
    .unwrap();

    // The tray app, as started at login: the same topics as `publish`.
    let mut app = env.command(&["--minimized"]);
    session.apply(&mut app);
    let mut app = app.kill_on_drop(true).spawn().unwrap();
    let tenant = env.sim.tenant_id();
    let topic = format!("desk/{tenant}/{}", teammate.id);
    let first = broker
        .retained_json(&topic, |v| v["activity"] == "InACall")
        .await;
    assert_eq!(first["me"], false);
    broker
        .retained_json(&format!("desk/{tenant}/me"), |v| v["me"] == true)
        .await;

    // A change on the simulator arrives within a poll.
    env.sim
        .set_presence(&teammate.id, presence("Available", "Available", None))
        .unwrap();
    broker
        .retained_json(&topic, |v| v["availability"] == "Available")
        .await;
    app.kill().await.unwrap();
}

#[tokio::test]
async fn publish_with_calendar_sends_the_calendar_fields_with_each_presence() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login_args(&["login", "--no-browser", "--calendar"])
        .await;
    let teammate = env.sim.users()[3].id.clone();
    // A calendar the simulator lets others read (a few are not shared).
    env.sim.hide_schedule(&teammate, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let broker = Broker::start(dir.path(), port).await;
    let url = format!("mqtt://127.0.0.1:{port}");
    let mut publish = start_publish(&env, &["--mqtt", &url, "--calendar"], &teammate);
    let topic = format!("presently/{}/{teammate}", env.sim.tenant_id());
    // The presence at once; the calendar's fields with it, filled in once
    // the calendar has been read.
    let sent = broker
        .retained_json(&topic, |v| {
            v.get("outside_working_hours")
                .is_some_and(Value::is_boolean)
                && v.get("utc_offset_minutes").is_some_and(Value::is_i64)
        })
        .await;
    for field in ["busy_until", "free_at"] {
        assert!(
            sent[field].is_null() || sent[field].is_string(),
            "{field}: {sent}"
        );
    }
    assert!(sent["availability"].is_string(), "{sent}");
    // Your own presence has no calendar fields: the calendar is the roster's.
    let mine = broker
        .retained_json(&format!("presently/{}/me", env.sim.tenant_id()), |_| true)
        .await;
    assert!(mine.get("busy_until").is_none(), "{mine}");
    publish.kill().await.unwrap();
}

/// Ctrl-C in the terminal ends `publish` with exit 0, every line it printed
/// whole, and the broker knows it is gone: `status` turns `offline`, so
/// Home Assistant shows the sensor as unavailable.
#[tokio::test]
async fn ctrl_c_ends_publish_and_the_broker_hears_it_is_gone() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login().await;
    let teammate = env.sim.users()[2].id.clone();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let broker = Broker::start(dir.path(), port).await;
    let url = format!("mqtt://127.0.0.1:{port}");
    let mut publish = env.interruptible(&[
        "publish",
        "--mqtt",
        &url,
        "--json",
        "--interval",
        "5",
        "--ids",
        &teammate,
    ]);
    let tenant = env.sim.tenant_id();
    broker
        .retained_json(&format!("presently/{tenant}/{teammate}"), |_| true)
        .await;
    let status = format!("presently/{tenant}/status");
    assert_eq!(broker.retained(&status).await.as_deref(), Some("online"));

    publish.ctrl_c().await;
    let run = tokio::time::timeout(PATIENCE, Run::wait(publish.child))
        .await
        .expect("Ctrl-C ended publish");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.ends_with('\n'), "{:?}", run.stdout);
    for line in run.stdout.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    let started = Instant::now();
    while broker.retained(&status).await.as_deref() != Some("offline") {
        assert!(started.elapsed() < PATIENCE, "status never turned offline");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    broker.stop().await;
}
