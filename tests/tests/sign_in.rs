//! `presently login | logout | whoami` end to end: the built binary, the
//! simulator, and the real Secret Service of a private session.

use std::time::Duration;

use presently_e2e::{
    answer_login, approve, curl_browser, files_containing, keyring_lookup, linux_only, native_path,
    presently_bin, session_home, windows, OutputLines, Run, Sim, SimConfig, TestEnv,
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
    let (blob, _) = env
        .keyring_sign_in()
        .expect("the keyring holds the sign-in");
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

    if windows() {
        // The realistic tokens (2,400 and 1,600 characters) in entries that
        // Windows takes, read through its own API.
        let entries = env.windows_entries();
        assert_eq!(entries.len(), env.keyring_sign_in().unwrap().1.len());
        assert!(entries.len() >= 4, "{entries:?}");
    }

    let logout = env.run(&["logout"]).await;
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(keyring_lookup(&env.keyring_account()).is_none());
    if windows() {
        assert_eq!(env.windows_entries(), [], "no credential is left");
    }
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
    assert_eq!(answer_login(cmd, &env.sim, approve).await.code, 0);
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
    if linux_only("a session bus without a Secret Service") {
        return;
    }
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
    if linux_only("locking the Secret Service's collection") {
        return;
    }
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

#[tokio::test]
async fn login_signs_in_through_the_browser_by_default() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let run = env.browser_login().await;
    // The address it opened stands on a line of its own, for a person or a
    // script to open when no browser starts.
    let authorize = format!("{}/organizations/oauth2/v2.0/authorize?", env.sim.url());
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with(&authorize))
        .unwrap_or_else(|| panic!("no line with the address: {}", run.stderr));
    assert!(line.contains("code_challenge_method=S256"), "{line}");
    assert!(!line.contains(' '), "{line}");
    assert!(run.stderr.contains("Signed in as"), "{}", run.stderr);
    assert!(
        env.sim.pending_codes().is_empty(),
        "no device code was asked for"
    );
    let whoami = env.run(&["whoami", "--json"]).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    assert_eq!(whoami.json()["login_url"], format!("{}/", env.sim.url()));
}

#[tokio::test]
async fn a_blocked_device_code_says_to_use_the_browser() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.sim.set_device_code_blocked(true);
    let run = env
        .login_args_with(&["login", "--device-code"], approve)
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("AADSTS53003"), "{}", run.stderr);
    assert!(
        run.stderr.contains("Sign in with the browser instead"),
        "{}",
        run.stderr
    );
    // ... and the browser does work there.
    env.browser_login().await;
}

#[tokio::test]
async fn the_largest_real_world_tokens_are_stored_in_entries_that_fit_windows() {
    let env = TestEnv::new(SimConfig {
        access_token_chars: 8_192,
        refresh_token_chars: 4_096,
        ..TestEnv::quick()
    })
    .await;
    env.browser_login().await;
    let (blob, entries) = env.keyring_sign_in().expect("stored");
    assert!(blob["access_token"].as_str().unwrap().len() >= 8_192);
    assert!(blob["refresh_token"].as_str().unwrap().len() >= 4_096);
    assert!(entries.len() >= 11, "{} entries", entries.len());
    for (key, value) in &entries {
        // Windows keeps 1,280 UTF-16 units (2,560 bytes) per credential.
        assert!(value.encode_utf16().count() <= 1_280, "{key}");
    }
    if windows() {
        assert_eq!(env.windows_entries().len(), entries.len());
    }
    // It reads back whole: the stored tokens work for a poll.
    let user = env.sim.users()[1].id.clone();
    let mut watch = env.command(&["watch", "--json", "--ids", &user]);
    let mut child = watch.spawn().unwrap();
    let out = OutputLines::stdout(&mut child)
        .text_until(Duration::from_secs(30), |l| {
            l.contains("\"snapshot\"") || l.contains("signed_out")
        })
        .await;
    assert!(out.contains("\"snapshot\""), "{out}");
    // Logout removes every entry.
    assert_eq!(env.run(&["logout"]).await.code, 0);
    for (key, _) in &entries {
        assert!(keyring_lookup(key).is_none(), "{key} is left");
    }
    if windows() {
        assert_eq!(env.windows_entries(), [], "no credential is left");
    }
}

#[tokio::test]
async fn a_sign_in_is_never_sent_to_another_host() {
    let env = TestEnv::new(TestEnv::quick()).await;
    env.login().await;
    let other = Sim::start(TestEnv::quick()).await.unwrap();

    // The sign-in's own host, another Graph: every command refuses, exit 3,
    // and nothing reaches the other host.
    for args in [
        &["whoami"][..],
        &["watch", "--ids", "x"],
        &["roster", "list"],
    ] {
        let mut cmd = env.command(args);
        cmd.env("PRESENTLY_GRAPH_URL", other.url());
        let run = Run::of(cmd).await;
        if args[0] == "roster" {
            // Listing the roster needs no sign-in and sends nothing.
            assert_eq!(run.code, 0, "{}", run.stderr);
            continue;
        }
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("belongs to another service"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());

    // A sign-in at another host is another entry: the first one stays.
    let mut cmd = env.command(&["login", "--no-browser"]);
    cmd.env("PRESENTLY_LOGIN_URL", other.url())
        .env("PRESENTLY_GRAPH_URL", other.url());
    assert_eq!(answer_login(cmd, &other, approve).await.code, 0);
    assert_eq!(
        env.run(&["whoami"]).await.code,
        0,
        "the first sign-in is still there"
    );
}

#[tokio::test]
async fn tls_trusts_a_company_root_given_in_ssl_cert_file() {
    let env = TestEnv::new(SimConfig {
        tls: true,
        ..TestEnv::quick()
    })
    .await;
    assert!(env.sim.url().starts_with("https://"));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("company-root.pem");
    std::fs::write(&ca, env.sim.ca_certificate_pem().unwrap()).unwrap();

    // Without the company's root, the connection is refused, and said so.
    let mut cmd = env.command(&["login", "--device-code"]);
    cmd.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
    let run = Run::of(cmd).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("Could not reach the sign-in service"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("root certificate"), "{}", run.stderr);

    // With it, in the OS-store way (SSL_CERT_FILE), everything works.
    env.sim.set_auto_approve(true);
    let mut cmd = env.command(&["login"]);
    cmd.env("SSL_CERT_FILE", native_path(&ca))
        .env("BROWSER", curl_browser(Some(&ca)));
    let run = Run::of(cmd).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut cmd = env.command(&["whoami", "--json"]);
    cmd.env("SSL_CERT_FILE", native_path(&ca));
    let run = Run::of(cmd).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A sign-in service elsewhere is asked through the proxy the environment
/// names (this machine's own addresses never are: a proxy elsewhere would
/// reach its own).
#[tokio::test]
async fn requests_go_through_the_proxy_named_in_the_environment() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let env = TestEnv::new(TestEnv::quick()).await;
    // A proxy that notes the request it is asked to forward and refuses it.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let noted = tokio::spawn(async move {
        let (mut conn, _) = proxy.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = conn.read(&mut buf).await.unwrap();
        let _ = conn
            .write_all(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await;
        String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    });
    let mut cmd = env.command(&["login", "--device-code"]);
    cmd.env("PRESENTLY_LOGIN_URL", "https://login.contoso.test")
        .env("HTTPS_PROXY", &proxy_url)
        .env("https_proxy", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    let run = Run::of(cmd).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = tokio::time::timeout(Duration::from_secs(10), noted)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(line, "CONNECT login.contoso.test:443 HTTP/1.1");
    assert!(
        env.sim.requests().is_empty(),
        "nothing went around the proxy"
    );
}
