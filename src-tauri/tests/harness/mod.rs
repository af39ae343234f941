//! The test harness of the window's commands: the real app state and
//! handlers on Tauri's mock runtime, against a simulated tenant.

// Each test binary that includes this module uses part of it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use presently::app::{app_state, forward, invoke_handler, settings_or_problem};
use presently::events;
use presently::state::AppState;
use presently_core::config::{Overrides, CONFIG_FILE};
use presently_core::token_store::MemoryStore;
use presently_sim::{Sim, SimConfig};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{App, Listener, WebviewWindow, WebviewWindowBuilder};

pub struct Harness {
    pub sim: Sim,
    pub _dir: tempfile::TempDir,
    pub config_dir: std::path::PathBuf,
    pub app: App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
    /// Every event sent to the window: (name, payload).
    pub seen: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Harness {
    pub async fn new() -> Harness {
        Harness::with_config(None).await
    }

    /// The app started over a config file holding `config`: with a problem
    /// in it, the app runs on the defaults and waits for a fix, as it does
    /// at desktop start.
    pub async fn with_config(config: Option<&str>) -> Harness {
        let sim = Sim::start(SimConfig {
            poll_interval: Duration::from_secs(1),
            auto_presence: false,
            ..Default::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = config {
            std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
        }
        let overrides = Overrides {
            login_url: Some(sim.url()),
            graph_url: Some(sim.url()),
            config_dir: Some(dir.path().to_path_buf()),
            interval_secs: Some(5),
            ..Default::default()
        };
        let (settings, problem) = settings_or_problem(&overrides).unwrap();
        let (state, rx) = app_state(
            settings,
            overrides.clone(),
            Arc::new(MemoryStore::new()),
            false,
            false,
        )
        .unwrap();
        *state.config_problem.lock().unwrap() = problem.clone();
        let app = mock_builder()
            .manage(state)
            .invoke_handler(invoke_handler())
            .build(mock_context(noop_assets()))
            .unwrap();
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        for name in [
            events::SIGN_IN_CHANGED,
            events::ROSTER_CHANGED,
            events::PRESENCE_CHANGED,
            events::TIME_WORDS_CHANGED,
            events::STATUS_CHANGED,
            events::ME_CHANGED,
            events::PAUSE_CHANGED,
            events::CONFIG_PROBLEM,
        ] {
            let seen = seen.clone();
            app.listen_any(name, move |e| {
                let payload = serde_json::from_str(e.payload()).unwrap();
                seen.lock().unwrap().push((name.to_string(), payload));
            });
        }
        tauri::async_runtime::spawn(forward(app.handle().clone(), rx));
        if problem.is_some() {
            let monitor = tauri::Manager::state::<AppState>(&app).monitor.clone();
            tauri::async_runtime::spawn(monitor.start_when_config_is_fixed(
                overrides,
                problem,
                presently::app::ROSTER_CHECK,
            ));
        }
        Harness {
            sim,
            config_dir: dir.path().to_path_buf(),
            _dir: dir,
            app,
            window,
            seen,
        }
    }

    pub fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // The window's origin: Tauri serves the page from
            // http://tauri.localhost on Windows, tauri://localhost elsewhere,
            // and allows commands only from there.
            url: if cfg!(windows) {
                "http://tauri.localhost"
            } else {
                "tauri://localhost"
            }
            .parse()
            .unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request).map(|b| b.deserialize::<Value>().unwrap())
    }

    pub async fn until(&self, what: &str, mut done: impl FnMut(&Harness) -> bool) {
        // 30 s at most: polls are 5 s apart, and other tests load the machine.
        for _ in 0..600 {
            if done(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    pub fn events_named(&self, name: &str) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .collect()
    }

    pub async fn sign_in(&self) {
        let code = self.invoke("start_sign_in", json!({})).unwrap();
        self.sim
            .approve(code["userCode"].as_str().unwrap(), None)
            .unwrap();
        self.until("signed in", |h| {
            h.invoke("get_state", json!({})).unwrap()["signIn"]["state"] == "signed_in"
        })
        .await;
    }
}
