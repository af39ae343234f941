//! `presently login | logout | whoami` end to end: the built binary, the
//! simulator, and the real Secret Service of a private session.

use std::time::Duration;

use presently_e2e::{
    files_containing, keyring_lookup, presently_bin, session_home, Run, SimConfig, TestEnv,
};

#[tokio::test]
async fn login_stores_tokens_only_in_the_keyring_and_logout_removes_them() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let login = env.login().await;
    // Microsoft's own message: the page to open and the code.
    assert!(
        login
            .stderr
            .contains(&format!("{}/devicelogin", env.sim.url())),
        "{}",
        login.stderr
    );
    assert!(login.stderr.contains("Signed in as"), "{}", login.stderr);

    let whoami = env.run(&["whoami", "--json"]).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    let me = whoami.json();
    let user = &env.sim.users()[0];
    assert_eq!(me["signed_in"], true);
    assert_eq!(me["id"], user.id.as_str());
    assert_eq!(me["username"], user.user_principal_name.as_str());
    assert_eq!(me["cloud"], "global");
    assert_eq!(me["tenant"], "organizations");
    assert_eq!(me["client_id"], env.client_id.as_str());

    let text = env.run(&["whoami"]).await;
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains(&user.display_name), "{}", text.stdout);

    // The Secret Service holds the sign-in...
    let blob = keyring_lookup(&env.keyring_account()).expect("the keyring holds the sign-in");
    let blob: serde_json::Value = serde_json::from_str(&blob).unwrap();
    let access = blob["access_token"].as_str().unwrap().to_string();
    let refresh = blob["refresh_token"].as_str().unwrap().to_string();
    assert!(access.len() > 10 && refresh.len() > 10);
    // ...and no file, no output and no log has a token.
    for secret in [&access, &refresh] {
        assert!(files_containing(env.config_dir.path(), secret).is_empty());
        assert_eq!(
            files_containing(&session_home(), secret),
            Vec::<std::path::PathBuf>::new()
        );
        for run in [&login, &whoami, &text] {
            assert!(!run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()));
        }
    }

    let logout = env.run(&["logout"]).await;
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(keyring_lookup(&env.keyring_account()).is_none());
    let after = env.run(&["whoami", "--json"]).await;
    assert_eq!(after.code, 3, "not signed in is exit 3");
    assert_eq!(after.json()["signed_in"], false);
    assert!(after.stderr.contains("presently login"), "{}", after.stderr);
}

#[tokio::test]
async fn declined_sign_in_ends_with_a_sentence_and_exit_1() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let run = env.login_with(|sim, code| sim.decline(code).unwrap()).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("declined"), "{}", run.stderr);
    assert!(keyring_lookup(&env.keyring_account()).is_none());
}

#[tokio::test]
async fn consent_required_is_explained() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let run = env
        .login_with(|sim, code| sim.approve_without_consent(code).unwrap())
        .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("consent"), "{}", run.stderr);
    assert!(run.stderr.contains("AADSTS65001"), "{}", run.stderr);
}

#[tokio::test]
async fn an_expired_code_ends_with_a_sentence() {
    let env = TestEnv::new(SimConfig {
        device_code_lifetime: Duration::from_secs(2),
        ..TestEnv::quick()
    })
    .await;
    let run = env.login_with(|_, _| {}).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("expired"), "{}", run.stderr);
}

#[tokio::test]
async fn a_network_error_ends_with_a_sentence() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = env.command(&["login", "--no-browser"]);
    cmd.env("PRESENTLY_LOGIN_URL", format!("http://127.0.0.1:{port}"));
    let run = Run::of(cmd).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("Could not reach the sign-in service"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn usage_errors_exit_2_and_bad_settings_exit_1() {
    let env = TestEnv::new(TestEnv::quick()).await;
    assert_eq!(env.run(&["login", "--no-such-flag"]).await.code, 2);
    assert_eq!(env.run(&["no-such-command"]).await.code, 2);

    let run = env.run(&["--cloud", "mars", "whoami"]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("Unknown cloud"), "{}", run.stderr);

    let run = env
        .run(&["login", "--login-url", "http://login.example.com"])
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("only allowed for loopback"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn cloud_and_tenant_come_from_flag_then_environment_then_config_file() {
    let env = TestEnv::new(TestEnv::quick()).await;
    std::fs::write(
        env.config_dir.path().join("config.toml"),
        "cloud = \"usgov\"\ntenant = \"contoso.onmicrosoft.com\"\n",
    )
    .unwrap();
    let from_file = env.run(&["whoami", "--json"]).await.json();
    assert_eq!(from_file["cloud"], "usgov");
    assert_eq!(from_file["tenant"], "contoso.onmicrosoft.com");

    let mut cmd = env.command(&["whoami", "--json"]);
    cmd.env("PRESENTLY_CLOUD", "dod");
    let from_env = Run::of(cmd).await.json();
    assert_eq!(from_env["cloud"], "dod");
    assert_eq!(from_env["tenant"], "contoso.onmicrosoft.com");

    let mut cmd = env.command(&["whoami", "--json", "--cloud", "china", "--tenant", "common"]);
    cmd.env("PRESENTLY_CLOUD", "dod");
    let from_flag = Run::of(cmd).await.json();
    assert_eq!(from_flag["cloud"], "china");
    assert_eq!(from_flag["tenant"], "common");

    // A sign-in in one tenant says nothing about another.
    let mut cmd = env.command(&[
        "login",
        "--no-browser",
        "--tenant",
        "contoso.onmicrosoft.com",
    ]);
    cmd.env("PRESENTLY_CLOUD", "global");
    let child = cmd.spawn().unwrap();
    let code = env.pending_code().await;
    env.sim.approve(&code, None).unwrap();
    assert_eq!(Run::wait(child).await.code, 0);
    let mut cmd = env.command(&["whoami", "--json", "--cloud", "global"]);
    cmd.env("PRESENTLY_TENANT", "contoso.onmicrosoft.com");
    assert_eq!(Run::of(cmd).await.code, 0);
    let mut cmd = env.command(&[
        "whoami",
        "--json",
        "--cloud",
        "global",
        "--tenant",
        "organizations",
    ]);
    cmd.env("PRESENTLY_TENANT", "x");
    assert_eq!(Run::of(cmd).await.code, 3);
    let mut cmd = env.command(&[
        "logout",
        "--cloud",
        "global",
        "--tenant",
        "contoso.onmicrosoft.com",
    ]);
    cmd.env_remove("PRESENTLY_TENANT");
    assert_eq!(Run::of(cmd).await.code, 0);
}

#[tokio::test]
async fn without_a_keyring_it_says_so_instead_of_falling_back_to_a_file() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let mut cmd = env.command(&["whoami"]);
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/presently-test-bus",
    );
    let run = Run::of(cmd).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("keyring"), "{}", run.stderr);
}

/// A locked keyring: the sign-in is refused with a clear sentence, within the
/// keyring timeout, and nothing is written anywhere else. Runs in a D-Bus
/// session of its own, as locking is visible to everything on the bus.
#[tokio::test]
async fn a_locked_keyring_is_a_clear_error_within_the_timeout() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let home = tempfile::tempdir().unwrap();
    let script = r#"
        set -e
        eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)"
        printf '{}' | secret-tool store --label=x service presently username "$ACCOUNT"
        gdbus call --session --dest org.freedesktop.secrets \
          --object-path /org/freedesktop/secrets \
          --method org.freedesktop.Secret.Service.Lock \
          "['/org/freedesktop/secrets/collection/login']" >/dev/null
        set +e
        "$PRESENTLY" whoami
        echo "exit=$?" >&2
        kill "$GNOME_KEYRING_PID" 2>/dev/null
    "#;
    let mut outer = tokio::process::Command::new("dbus-run-session");
    outer
        .args(["--", "bash", "-c", script])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_RUNTIME_DIR", home.path())
        .env("PRESENTLY", presently_bin())
        .env("ACCOUNT", env.keyring_account())
        .env("PRESENTLY_LOGIN_URL", env.sim.url())
        .env("PRESENTLY_GRAPH_URL", env.sim.url())
        .env("PRESENTLY_CONFIG_DIR", env.config_dir.path())
        .env("PRESENTLY_CLIENT_ID", &env.client_id)
        .env("PRESENTLY_KEYRING_TIMEOUT", "3")
        .env_remove("DISPLAY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let run = Run::of(outer).await;
    assert!(run.stderr.contains("exit=1"), "{}", run.stderr);
    assert!(run.stderr.contains("keyring"), "{}", run.stderr);
    assert!(run.took < Duration::from_secs(60));
}
