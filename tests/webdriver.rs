//! A small WebDriver client for driving the real app through `tauri-driver`
//! (which starts WebKitWebDriver, which starts the app). Plain HTTP and JSON:
//! the few calls these tests need.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The W3C key under which an element reference travels.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: tokio::process::Child,
}

/// `tauri-driver` from PATH, or from cargo's bin directory.
fn tauri_driver() -> std::path::PathBuf {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dirs_home().join(".cargo"))
        .join("bin/tauri-driver");
    if cargo_bin.exists() {
        return cargo_bin;
    }
    "tauri-driver".into()
}

fn dirs_home() -> std::path::PathBuf {
    std::env::var_os("HOME").map(Into::into).unwrap_or_default()
}

impl Driver {
    /// Starts `tauri-driver` with `configure`'s environment and opens a
    /// session on `app` (which the driver launches).
    pub async fn start(app: &Path, configure: impl FnOnce(&mut tokio::process::Command)) -> Driver {
        let (port, native) = (crate::free_port(), crate::free_port());
        let mut cmd = tokio::process::Command::new(tauri_driver());
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
        configure(&mut cmd);
        let driver = cmd
            .spawn()
            .expect("tauri-driver runs (cargo install tauri-driver --version ^2 --locked)");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "tauri-driver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app},
        }}});
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("a WebDriver session")
            .json()
            .await
            .unwrap();
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_string();
        Driver {
            http,
            base,
            session,
            driver,
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| json!({"error": e.to_string()}))?;
        let ok = resp.status().is_success();
        let value: Value = resp
            .json()
            .await
            .map_err(|e| json!({"error": e.to_string()}))?;
        if ok {
            Ok(value["value"].clone())
        } else {
            Err(value["value"].clone())
        }
    }

    /// The first element matching `css`, if there is one now.
    pub async fn find(&self, css: &str) -> Option<String> {
        self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .await
        .ok()
        .and_then(|v| v[ELEMENT].as_str().map(str::to_string))
    }

    /// Waits until an element matching `css` exists and is displayed.
    pub async fn wait_for(&self, css: &str, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(el) = self.find(css).await {
                if self.displayed(&el).await {
                    return el;
                }
            }
            if started.elapsed() >= limit {
                self.fail(&format!("timed out after {limit:?} waiting for {css}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn displayed(&self, el: &str) -> bool {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{el}/displayed"),
            None,
        )
        .await
        .map(|v| v == json!(true))
        .unwrap_or(false)
    }

    pub async fn click(&self, el: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await
        .unwrap_or_else(|e| panic!("click failed: {e}"));
    }

    pub async fn type_text(&self, el: &str, text: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await
        .unwrap_or_else(|e| panic!("typing failed: {e}"));
    }

    /// The text content of the first element matching `css`, if any.
    pub async fn text_of(&self, css: &str) -> Option<String> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({
                    "script": "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                    "args": [css],
                })),
            )
            .await
            .ok()?;
        v.as_str().map(str::to_string)
    }

    /// Waits until the text of `css` satisfies `done`; returns it.
    pub async fn wait_for_text(
        &self,
        css: &str,
        limit: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            if let Some(text) = self.text_of(css).await {
                if done(&text) {
                    return text;
                }
            }
            if started.elapsed() >= limit {
                self.fail(&format!(
                    "timed out after {limit:?} waiting on the text of {css}"
                ))
                .await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs `script` in the page (`return ...;` gives a value).
    pub async fn execute(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let b64 = self
            .call(reqwest::Method::GET, "/screenshot", None)
            .await
            .expect("a screenshot");
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("base64 PNG")
    }

    /// Fails the test, leaving a screenshot of what the window showed.
    pub async fn fail(&self, why: &str) -> ! {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/failure.png");
        let _ = std::fs::create_dir_all(path.parent().unwrap());
        let _ = std::fs::write(&path, self.screenshot().await);
        panic!("{why} (the window is in {})", path.display());
    }

    pub async fn quit(mut self) {
        let _ = self.call(reqwest::Method::DELETE, "", None).await;
        let _ = self.driver.kill().await;
    }
}
