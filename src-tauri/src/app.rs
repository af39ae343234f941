//! The tray app: builds the Tauri application around the engine's
//! [`Monitor`] and forwards what it reports to the window (events), the tray
//! and the desktop's notifications.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use presently_core::config::{ConfigProblem, Overrides, Settings};
use presently_core::monitor::{Monitor, MonitorEvent, SignInState};
use presently_core::notify::{Notification, Notifier};
use presently_core::token_store::TokenStore;
use tauri::{AppHandle, Manager, RunEvent, Runtime, WindowEvent};
use tokio::sync::mpsc;

use crate::commands;
use crate::error::CommandError;
use crate::events::{self, PauseView, StatusView, TeammateView, TimeWordsView};
use crate::notifications::notify;
use crate::state::{AppState, TrayModel};
use crate::tray;
use crate::window::{show_main_window, MAIN_WINDOW};
use presently_core::args::{keyring, GlobalArgs};
use presently_core::demo::Demo;

/// How often the roster file is checked for edits made outside the app, and
/// a config file that could not be used for a fix.
pub const ROSTER_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// The commands the window may call; the same list is declared in build.rs
/// and allowed in capabilities/main.json.
pub fn invoke_handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![
        commands::get_state,
        commands::start_sign_in,
        commands::start_browser_sign_in,
        commands::cancel_sign_in,
        commands::open_verification_page,
        commands::sign_out,
        commands::get_settings,
        commands::save_settings,
        commands::search_people,
        commands::list_groups,
        commands::add_teammates,
        commands::import_teammates,
        commands::remove_teammate,
        commands::set_teammate_flags,
        commands::open_teams,
        commands::pause_notifications,
        commands::roster_painted,
        commands::open_config_file,
        commands::allow_calendar,
        commands::set_my_status,
        commands::set_my_message,
        commands::save_my_status,
    ]
}

/// The app's state for `settings`, and the channel the engine reports on.
pub fn app_state(
    settings: Settings,
    overrides: Overrides,
    store: Arc<dyn TokenStore>,
    tray_available: bool,
    demo: bool,
) -> presently_core::Result<(AppState, mpsc::UnboundedReceiver<MonitorEvent>)> {
    let quiet = settings.quiet_hours.hours();
    let (monitor, events) = Monitor::new(settings, store, Notifier::new(quiet))?;
    Ok((
        AppState {
            monitor,
            overrides,
            tray_available,
            demo,
            painted: std::sync::atomic::AtomicBool::new(false),
            window_opened: Mutex::new(None),
            config_problem: Mutex::new(None),
            tray: Mutex::new(TrayModel::default()),
        },
        events,
    ))
}

/// `presently` without a command: the tray app.
pub fn run(global: &GlobalArgs) -> ExitCode {
    match start(global) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Started at login, nobody reads stderr: the log keeps it.
            tracing::error!("Presently could not start: {e}");
            eprintln!("presently: {e}");
            // Started at login, nobody reads stderr nor the log: a
            // notification, where a notification service runs without us.
            #[cfg(target_os = "linux")]
            crate::notifications::notify_without_app("Presently could not start", &e.to_string());
            ExitCode::FAILURE
        }
    }
}

fn start(global: &GlobalArgs) -> Result<(), CommandError> {
    // GTK would abort without a display; say what to do instead.
    #[cfg(target_os = "linux")]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err(CommandError::NoDisplay);
    }
    // A display that is named but cannot be opened: GTK (through Tauri)
    // would panic; opened here first, Tauri's own start finds it open.
    #[cfg(target_os = "linux")]
    if gtk::init().is_err() {
        let name = ["WAYLAND_DISPLAY", "DISPLAY"]
            .iter()
            .filter_map(|var| std::env::var(var).ok())
            .find(|name| !name.is_empty())
            .unwrap_or_default();
        return Err(CommandError::DisplayUnusable(name));
    }
    let mut overrides = global.overrides();
    // The demo tenant lives as long as the app: `_demo` is dropped at exit.
    let (_demo, store): (Option<Demo>, Arc<dyn TokenStore>) = if global.demo {
        let demo = tauri::async_runtime::block_on(Demo::start(&overrides, false))?;
        demo.seed_roster()?;
        eprintln!("{}", demo.banner());
        eprintln!(
            "Sign in from the window: the simulated tenant's sign-in page opens in your browser; approve there. (With \"Use a code instead\", approve the code at {}/devicelogin.)",
            demo.sim.url()
        );
        overrides.login_url = Some(demo.sim.url());
        overrides.graph_url = Some(demo.sim.url());
        overrides.config_dir = Some(demo.settings.config_dir.clone());
        let store = demo.store.clone();
        (Some(demo), store)
    } else {
        (None, keyring())
    };
    let (settings, config_problem) = settings_or_problem(&overrides)?;
    let tray_available = tray::available();
    let (state, events) = app_state(
        settings,
        overrides.clone(),
        store,
        tray_available,
        global.demo,
    )?;
    *state.config_problem.lock().unwrap() = config_problem.clone();
    // Started at login: stay in the tray until asked (only if there is one),
    // unless there is a problem to show.
    let show_window = config_problem.is_some() || !(global.minimized && tray_available);
    let monitor = state.monitor.clone();

    let app = tauri::Builder::default()
        // First: a second launch hands over to this one and ends.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main_window(app);
        }))
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .invoke_handler(invoke_handler())
        .register_uri_scheme_protocol(events::PHOTO_SCHEME, |ctx, request| {
            commands::serve_photo(&ctx.app_handle().state::<AppState>(), request.uri().path())
        })
        .setup(move |app| {
            let handle = app.handle().clone();
            if tray_available {
                tray::create(&handle)?;
            }
            if show_window {
                show_main_window(&handle);
            }
            tauri::async_runtime::spawn(forward(handle.clone(), events));
            // `presently roster add` and editors change the roster while
            // the app runs: the window follows within a couple of seconds.
            tauri::async_runtime::spawn(monitor.clone().follow_roster_file(ROSTER_CHECK));
            if config_problem.is_some() {
                tauri::async_runtime::spawn(monitor.start_when_config_is_fixed(
                    overrides,
                    config_problem,
                    ROSTER_CHECK,
                ));
            } else {
                tauri::async_runtime::spawn(async move { monitor.start().await });
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if matches!(event, WindowEvent::Destroyed) && window.label() == MAIN_WINDOW {
                #[cfg(target_os = "linux")]
                crate::window::after_window_closed(window.app_handle().clone());
            }
        })
        .build(tauri::generate_context!())?;
    app.run(move |_, event| {
        // With a tray, closing the window destroys it (and its webview, the
        // WebKit processes with it) while the app goes on in the tray;
        // without one, closing it is the only way to quit. Quit in the tray
        // menu exits with a code, which is never held back.
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            if tray_available {
                api.prevent_exit();
            }
        }
    });
    Ok(())
}

/// The settings to start with. A config file that cannot be used does not
/// stop the app (started at login, it would never appear): it runs on the
/// defaults, without signing in, and says what is wrong with the file in the
/// window and the log until the file is fixed.
pub fn settings_or_problem(
    overrides: &Overrides,
) -> presently_core::Result<(Settings, Option<ConfigProblem>)> {
    match Settings::resolve(overrides) {
        Ok(settings) => Ok((settings, None)),
        Err(presently_core::Error::ConfigFile(problem)) => {
            tracing::error!("{problem} Presently runs on its defaults until the file is fixed.");
            Ok((Settings::without_file(overrides)?, Some(problem)))
        }
        Err(e) => Err(e),
    }
}

/// Forwards the engine's reports: events to the window, the tray, and
/// notifications to the desktop. Each event carries what changed; nothing
/// here reads the monitor back.
pub async fn forward<R: Runtime>(
    app: AppHandle<R>,
    mut events: mpsc::UnboundedReceiver<MonitorEvent>,
) {
    while let Some(event) = events.recv().await {
        let state = app.state::<AppState>();
        let redraw_tray = state.tray.lock().unwrap().apply(&event);
        match event {
            MonitorEvent::SignIn(s) => {
                events::sign_in_changed(&app, &(&s).into());
                if let SignInState::Failed { code, message, .. } = &s {
                    tracing::error!("sign-in failed ({code}): {message}");
                    // In the tray, with no window to say it in: a notification.
                    if app.get_webview_window(MAIN_WINDOW).is_none() {
                        notify(
                            &app,
                            &Notification {
                                title: "Presently cannot use your sign-in".into(),
                                body: message.clone(),
                                ids: Vec::new(),
                            },
                        );
                    }
                }
                if !matches!(s, SignInState::SignedIn { .. }) {
                    events::status_changed(&app, &StatusView::starting());
                }
            }
            MonitorEvent::Roster(everyone) => {
                let views: Vec<TeammateView> = everyone.iter().map(TeammateView::new).collect();
                events::roster_changed(&app, &views);
            }
            MonitorEvent::Presence(changed) => {
                let views: Vec<TeammateView> = changed.iter().map(TeammateView::new).collect();
                events::presence_changed(&app, &views);
            }
            MonitorEvent::Status(status) => events::status_changed(&app, &(&status).into()),
            MonitorEvent::Me { account, presence } => {
                events::me_changed(&app, &TeammateView::me(&account, &presence));
            }
            MonitorEvent::TimeWords(changed) => {
                let views: Vec<TimeWordsView> = changed.iter().map(Into::into).collect();
                events::time_words_changed(&app, &views);
            }
            // Shown as `Me`; the engine publishes it to MQTT itself.
            MonitorEvent::OwnPresence(_) => {}
            MonitorEvent::Pause(until) => events::pause_changed(&app, &PauseView::new(until)),
            MonitorEvent::Notify(n) => notify(&app, &n),
            MonitorEvent::Calendar(c) => events::calendar_changed(&app, &(&c).into()),
            MonitorEvent::ConfigProblem(problem) => {
                events::config_problem(&app, problem.as_ref());
                *state.config_problem.lock().unwrap() = problem;
            }
        }
        if redraw_tray {
            tray::refresh(&app);
        }
    }
}
