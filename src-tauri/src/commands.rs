//! Every command the window may call. Each is thin: read the arguments, ask
//! the engine, map the error to `{code, message}`. They are generic over the
//! runtime so that `tauri::test`'s mock runtime drives the real handlers.

use std::sync::atomic::Ordering;

use chrono::SecondsFormat;
use presently_core::auth::SignInMethod;
use presently_core::config::{self, QuietHoursSetting, Settings, CONFIG_FILE};
use presently_core::import::{self, Flags, Found, ImportSource};
use presently_core::monitor::{MyStatusChange, MyStatusOutcome, SignInState};
use presently_core::my_status::{self, MyStatusForm};
use presently_core::secret::Secret;
use presently_core::teams::{self, TeamsAction};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::events::{
    self, BrowserSignInView, CalendarStateView, ConfigProblemView, DeviceCodeView, GroupView,
    MyStatusSavedView, MyStatusView, PauseView, PersonView, SignInView, StatusChoiceView,
    StatusView, TeammateView,
};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuietHoursView {
    pub enabled: bool,
    /// "HH:MM", local time.
    pub start: String,
    pub end: String,
}

/// The settings as the window shows them; `save_settings` takes them back
/// as typed ([`SettingsForm`]), the interval's field as the window's
/// number field gives it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView<Interval = u64> {
    pub cloud: String,
    pub tenant: String,
    pub client_id: String,
    pub quiet_hours: QuietHoursView,
    pub interval_secs: Interval,
    /// Start at login; the OS's own record is the truth, not the config file.
    #[serde(default)]
    pub autostart: bool,
    /// "When they will be free": read the roster's free/busy.
    #[serde(default)]
    pub calendar: bool,
    /// Publish presence to an MQTT broker; none: off.
    #[serde(default)]
    pub mqtt: Option<MqttView>,
}

/// `[mqtt]` for the window. The password goes one way only: typed in the
/// window, kept in the keyring, never sent back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MqttView {
    pub broker: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub topic_prefix: Option<String>,
    /// A new password for `username`; none or empty keeps the one kept.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// Said while `allow_plaintext` in the file lets the password go to
    /// another machine without TLS.
    #[serde(default, skip_deserializing)]
    pub plaintext_warning: Option<String>,
}

/// The settings as typed in the window, for `save_settings`: each field
/// as the window's field gives it. The engine cleans and checks them
/// ([`config::SettingsForm`]).
pub type SettingsForm = SettingsView<Typed>;

/// A field the window sends as typed, or as a number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Typed {
    Text(String),
    Number(serde_json::Number),
}

impl SettingsView<Typed> {
    /// The form for the engine; start at login is the app's own.
    fn form(&self) -> config::SettingsForm {
        let q = &self.quiet_hours;
        let mqtt = self.mqtt.as_ref();
        let text = |field: Option<&Option<String>>| field.cloned().flatten().unwrap_or_default();
        config::SettingsForm {
            cloud: self.cloud.clone(),
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            interval: match &self.interval_secs {
                Typed::Text(t) => t.clone(),
                Typed::Number(n) => n.to_string(),
            },
            quiet_hours: config::QuietHoursForm {
                enabled: q.enabled,
                start: q.start.clone(),
                end: q.end.clone(),
            },
            calendar: self.calendar,
            mqtt: config::MqttForm {
                broker: mqtt.map(|m| m.broker.clone()).unwrap_or_default(),
                username: text(mqtt.map(|m| &m.username)),
                password: Secret::new(text(mqtt.map(|m| &m.password))),
                topic_prefix: text(mqtt.map(|m| &m.topic_prefix)),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AppStateView {
    pub sign_in: SignInView,
    pub roster: Vec<TeammateView>,
    pub status: StatusView,
    pub settings: SettingsView,
    pub tray_available: bool,
    pub notifications_paused_until: Option<String>,
    pub me: Option<TeammateView>,
    /// Where "when they will be free" stands.
    pub calendar: CalendarStateView,
    /// The statuses you may set yourself, with their labels.
    pub status_choices: Vec<StatusChoiceView>,
    /// False where Graph cannot set a status (the China cloud).
    pub can_set_status: bool,
    /// Why not, in the engine's words, where you cannot; none where you can.
    pub cannot_set_status: Option<String>,
    /// Set when the roster file could not be read and was kept aside.
    pub roster_problem: Option<String>,
    /// Set while the config file cannot be used: the app runs on the
    /// defaults and the window offers to open the file.
    pub config_problem: Option<ConfigProblemView>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RosterReport {
    /// Names of the people added.
    pub added: Vec<String>,
    /// What was asked for and matched nobody, as it was written.
    pub unknown: Vec<String>,
    /// How many entries of an imported list were not people (groups,
    /// contacts, entries without an ID), and the sentence that says so.
    pub left_out: usize,
    pub left_out_note: Option<String>,
    /// All of it in one line, as the window shows it: "Added 2 people: A,
    /// B. Not found: x."
    pub summary: String,
    pub roster: Vec<TeammateView>,
}

impl From<&QuietHoursSetting> for QuietHoursView {
    fn from(q: &QuietHoursSetting) -> Self {
        QuietHoursView {
            enabled: q.enabled,
            start: QuietHoursSetting::clock(q.start),
            end: QuietHoursSetting::clock(q.end),
        }
    }
}

fn settings_view(settings: &Settings) -> SettingsView {
    SettingsView {
        cloud: settings.cloud.id().into(),
        tenant: settings.tenant.clone(),
        client_id: settings.client_id.clone(),
        quiet_hours: (&settings.quiet_hours).into(),
        interval_secs: settings.interval.as_secs(),
        autostart: crate::autostart::is_enabled(),
        calendar: settings.calendar,
        mqtt: settings.mqtt.as_ref().map(|m| MqttView {
            broker: m.broker.clone(),
            username: m.username.clone(),
            topic_prefix: Some(m.topic_prefix.clone()),
            password: None,
            plaintext_warning: m.plaintext_warning(),
        }),
    }
}

/// The answer to a `photo:` request: the picture of a teammate whose photo
/// is cached, by ID (never by path), or 404.
pub fn serve_photo(state: &AppState, path: &str) -> tauri::http::Response<Vec<u8>> {
    use tauri::http::{header, Response, StatusCode};
    let id = path.trim_start_matches('/');
    let file = state.monitor.photo(id);
    let picture = file.and_then(|f| std::fs::read(&f.path).ok().map(|bytes| (f, bytes)));
    match picture {
        Some((file, bytes)) => Response::builder()
            .header(header::CONTENT_TYPE, image_type(&file.content_type))
            .header(header::CACHE_CONTROL, "max-age=3600")
            .header("X-Content-Type-Options", "nosniff")
            .body(bytes),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Vec::new()),
    }
    .expect("a response of valid parts")
}

/// Only images are served as images.
fn image_type(content_type: &str) -> &str {
    if content_type.starts_with("image/") && !content_type.contains(['\r', '\n']) {
        content_type
    } else {
        "image/jpeg"
    }
}

/// Everything the window needs to draw itself after (re)loading.
#[tauri::command]
pub async fn get_state(state: State<'_, AppState>) -> CommandResult<AppStateView> {
    let monitor = &state.monitor;
    let cannot_set_status = my_status::check_cloud(&monitor.settings())
        .err()
        .map(|why| why.to_string());
    Ok(AppStateView {
        sign_in: (&monitor.sign_in_state()).into(),
        roster: state.roster_views(),
        status: monitor
            .status()
            .as_ref()
            .map(Into::into)
            .unwrap_or_else(StatusView::starting),
        settings: settings_view(&monitor.settings()),
        tray_available: state.tray_available,
        notifications_paused_until: monitor
            .notifications_paused_until()
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        me: state.me_view(),
        calendar: (&monitor.calendar_state()).into(),
        status_choices: events::status_choices(),
        can_set_status: cannot_set_status.is_none(),
        cannot_set_status,
        roster_problem: monitor.roster_recovery(),
        config_problem: state
            .config_problem
            .lock()
            .unwrap()
            .as_ref()
            .map(Into::into),
    })
}

/// Opens `config.toml` in the program the desktop opens such files with
/// (its text editor), creating an empty one first if there is none.
#[tauri::command]
pub async fn open_config_file(state: State<'_, AppState>) -> CommandResult<()> {
    let dir = state.monitor.settings().config_dir;
    let path = dir.join(CONFIG_FILE);
    if !path.exists() {
        presently_core::toml_file::write_atomically(&path, b"")?;
    }
    presently_core::browser::open_file(&path).map_err(|source| CommandError::Open {
        what: path.display().to_string(),
        source,
    })
}

/// Starts the device-code sign-in; the outcome arrives as `sign-in-changed`.
#[tauri::command]
pub async fn start_sign_in(state: State<'_, AppState>) -> CommandResult<DeviceCodeView> {
    state.settings_usable()?;
    let code = state.monitor.begin_sign_in().await?;
    Ok((&code).into())
}

#[tauri::command]
pub async fn cancel_sign_in(state: State<'_, AppState>) -> CommandResult<()> {
    state.monitor.cancel_sign_in();
    Ok(())
}

/// Starts the sign-in in the system browser and opens it there; the outcome
/// arrives as `sign-in-changed`. Returns the address, for the window to show
/// should no browser start.
#[tauri::command]
pub async fn start_browser_sign_in(state: State<'_, AppState>) -> CommandResult<BrowserSignInView> {
    state.settings_usable()?;
    let url = state.monitor.begin_browser_sign_in().await?;
    // Not opening is not fatal: the window shows the address to open by hand.
    let opened = open_url(&url).is_ok();
    Ok(BrowserSignInView { url, opened })
}

/// "When they will be free" is on but the sign-in may not read calendars:
/// signs in again in the browser, asking for that permission too. The
/// outcome arrives as `sign-in-changed`, then `calendar-changed`.
#[tauri::command]
pub async fn allow_calendar(state: State<'_, AppState>) -> CommandResult<BrowserSignInView> {
    state.settings_usable()?;
    let url = match state.monitor.allow_calendar(SignInMethod::Browser).await? {
        SignInState::InBrowser { url } => url,
        other => unreachable!("a browser sign-in shows a page, not {other:?}"),
    };
    let opened = open_url(&url).is_ok();
    Ok(BrowserSignInView { url, opened })
}

/// Makes a change to your own status; the first time, through the browser
/// sign-in that allows it, which this opens. None when it is made, else
/// what the window shows while it waits for that sign-in.
async fn change_my_status(
    monitor: &std::sync::Arc<presently_core::monitor::Monitor>,
    change: MyStatusChange,
) -> CommandResult<Option<MyStatusView>> {
    match monitor
        .change_my_status(change, SignInMethod::Browser)
        .await?
    {
        MyStatusOutcome::Done => Ok(None),
        MyStatusOutcome::Consent(waiting) => {
            let url = match waiting {
                SignInState::InBrowser { url } => url,
                other => unreachable!("a browser sign-in shows a page, not {other:?}"),
            };
            let opened = open_url(&url).is_ok();
            Ok(Some(MyStatusView {
                state: "consent",
                url: Some(url),
                opened,
            }))
        }
    }
}

/// Save in "Set your status", with the form as typed: the engine makes
/// what changed from your status as the window shows it, the status
/// before the message. When one waits for the permission, the answer says
/// so, with the changes left for the window to make with `set_my_status`
/// and `set_my_message` once that sign-in is through.
#[tauri::command]
pub async fn save_my_status(
    state: State<'_, AppState>,
    form: MyStatusForm,
) -> CommandResult<MyStatusSavedView> {
    let before = state.me_view().and_then(|me| me.status_message);
    let changes = form.changes(before.as_deref(), &chrono::Local::now())?;
    for (made, change) in changes.iter().enumerate() {
        if let Some(waiting) = change_my_status(&state.monitor, change.clone()).await? {
            return Ok(MyStatusSavedView {
                outcome: waiting,
                rest: changes[made + 1..].iter().map(Into::into).collect(),
            });
        }
    }
    Ok(MyStatusSavedView {
        outcome: MyStatusView::done(),
        rest: Vec::new(),
    })
}

/// Sets your presence (`choice`: a word of [`status_choices`], `reset`
/// going back to what Teams works out) for `duration` (`30m`, `1h`, `7d`;
/// none: Microsoft's default).
#[tauri::command]
pub async fn set_my_status(
    state: State<'_, AppState>,
    choice: String,
    duration: Option<String>,
) -> CommandResult<MyStatusView> {
    let change = MyStatusChange::presence(&choice, duration.as_deref())?;
    let waiting = change_my_status(&state.monitor, change).await?;
    Ok(waiting.unwrap_or_else(MyStatusView::done))
}

/// Sets your status message for `duration` (none: until changed); no text
/// clears it.
#[tauri::command]
pub async fn set_my_message(
    state: State<'_, AppState>,
    text: Option<String>,
    duration: Option<String>,
) -> CommandResult<MyStatusView> {
    let change = MyStatusChange::message(text, duration.as_deref())?;
    let waiting = change_my_status(&state.monitor, change).await?;
    Ok(waiting.unwrap_or_else(MyStatusView::done))
}

/// Opens the page of the sign-in under way again: the code's verification
/// page, or Microsoft's sign-in page of the browser sign-in.
#[tauri::command]
pub async fn open_verification_page(state: State<'_, AppState>) -> CommandResult<()> {
    match state.monitor.sign_in_state() {
        SignInState::SigningIn { code } => open_url(&code.verification_uri),
        SignInState::InBrowser { url } => open_url(&url),
        _ => Err(CommandError::invalid_input(
            "There is no sign-in under way right now.",
        )),
    }
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> CommandResult<()> {
    state.monitor.sign_out().await?;
    Ok(())
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CommandResult<SettingsView> {
    Ok(settings_view(&state.monitor.settings()))
}

/// Checks and saves the settings, given as typed. Nothing is written
/// unless every value is valid, so a typo never loses the settings that
/// worked.
#[tauri::command]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: SettingsForm,
) -> CommandResult<SettingsView> {
    // The window shows the defaults while the file cannot be used: saving
    // them would write over what the file says (the tenant, the cloud).
    state.settings_usable()?;
    let current = state.monitor.settings();
    let asked = settings.form().change(&current)?;
    if settings.autostart && state.demo {
        return Err(CommandError::config(
            "Start at login is not available in the demo.",
        ));
    }
    asked.change.save(&current.config_dir)?;
    if let (Some(setting), Some(password)) = (&asked.change.mqtt, asked.mqtt_password) {
        state
            .monitor
            .keep_mqtt_password(setting, password.expose().to_string())
            .await?;
    }
    if settings.autostart != crate::autostart::is_enabled() {
        crate::autostart::set_enabled(settings.autostart)?;
    }

    let resolved = Settings::resolve(&state.overrides)?;
    state.monitor.apply_settings(resolved.clone()).await;
    Ok(settings_view(&resolved))
}

#[tauri::command]
pub async fn search_people(
    state: State<'_, AppState>,
    text: String,
) -> CommandResult<Vec<PersonView>> {
    let found = state.directory()?.search(&text, 25).await?;
    Ok(found
        .iter()
        .map(|p| PersonView::new(p, state.monitor.teammate(&p.id).is_some()))
        .collect())
}

#[tauri::command]
pub async fn list_groups(state: State<'_, AppState>) -> CommandResult<Vec<GroupView>> {
    let groups = state.directory()?.my_groups().await?;
    Ok(groups.iter().map(Into::into).collect())
}

/// Adds people by ID or sign-in name; the ones the directory does not know
/// are reported by name and not added.
#[tauri::command]
pub async fn add_teammates(
    state: State<'_, AppState>,
    ids: Vec<String>,
) -> CommandResult<RosterReport> {
    let found = import::look_up(&state.directory()?, &ids).await?;
    add_found(&state, found)
}

/// Brings in a whole group of people at once: `source` is manager, reports,
/// people or group (with `group_id`).
#[tauri::command]
pub async fn import_teammates(
    state: State<'_, AppState>,
    source: String,
    group_id: Option<String>,
) -> CommandResult<RosterReport> {
    let source = ImportSource::parse(&source, group_id).map_err(presently_core::Error::from)?;
    let me = match state.monitor.sign_in_state() {
        SignInState::SignedIn { account } => account.id,
        _ => String::new(),
    };
    let found = import::gather(&state.directory()?, &source, &me).await?;
    add_found(&state, found)
}

/// Puts `found` on the roster; the photos of newcomers follow in a
/// `roster-changed` event.
fn add_found(state: &AppState, found: Found) -> CommandResult<RosterReport> {
    let report = state
        .monitor
        .edit_roster(|roster| import::add_found(roster, &found, Flags::default()))?;
    Ok(RosterReport {
        added: report.added.iter().map(|p| p.name().to_string()).collect(),
        left_out: found.left_out,
        left_out_note: found.left_out_sentence(),
        summary: report.summary(&found),
        unknown: found.unknown,
        roster: state.roster_views(),
    })
}

#[tauri::command]
pub async fn remove_teammate(
    state: State<'_, AppState>,
    id: String,
) -> CommandResult<Vec<TeammateView>> {
    let removed = state.monitor.edit_roster(|r| r.remove(&id))?;
    if removed.is_none() {
        return Err(CommandError::not_found(
            "That person is not on your roster.",
        ));
    }
    Ok(state.roster_views())
}

#[tauri::command]
pub async fn set_teammate_flags(
    state: State<'_, AppState>,
    id: String,
    notify: Option<bool>,
    favorite: Option<bool>,
    notify_every_change: Option<bool>,
) -> CommandResult<TeammateView> {
    let found = state.monitor.edit_roster(|r| {
        let mut found = r.get(&id).is_some();
        if let Some(on) = notify {
            found &= r.set_notify(&id, on);
        }
        if let Some(on) = favorite {
            found &= r.set_favorite(&id, on);
        }
        if let Some(on) = notify_every_change {
            found &= r.set_notify_every_change(&id, on);
        }
        found
    })?;
    if !found {
        return Err(CommandError::not_found(
            "That person is not on your roster.",
        ));
    }
    state
        .monitor
        .teammate(&id)
        .map(|t| TeammateView::new(&t))
        .ok_or_else(|| CommandError::not_found("That person is not on your roster."))
}

/// Opens a chat or a call with a teammate in Microsoft Teams.
#[tauri::command]
pub async fn open_teams(
    state: State<'_, AppState>,
    id: String,
    action: String,
) -> CommandResult<()> {
    let t = state
        .monitor
        .teammate(&id)
        .ok_or_else(|| CommandError::not_found("That person is not on your roster."))?;
    let action: TeamsAction = action.parse()?;
    let url = teams::link(state.monitor.settings().cloud, &t.teammate, action)?;
    open_url(&url)
}

/// Pauses notifications for `minutes` (0 resumes). The window and the tray
/// hear of it from the monitor, and again when the pause runs out.
#[tauri::command]
pub async fn pause_notifications(
    state: State<'_, AppState>,
    minutes: u32,
) -> CommandResult<PauseView> {
    let length = std::time::Duration::from_secs(u64::from(minutes) * 60);
    Ok(PauseView::new(
        state.monitor.pause_notifications_for(length),
    ))
}

/// The window has painted the roster with everyone's presence for the first
/// time: logged once per launch, with the time since the process started
/// (`bench/app` reads the line).
#[tauri::command]
pub fn roster_painted(state: State<'_, AppState>) {
    if !state.painted.swap(true, Ordering::Relaxed) {
        tracing::info!(
            "first roster painted {} ms after start",
            crate::window::launched().elapsed().as_millis()
        );
    }
    if let Some(opened) = state.window_opened.lock().unwrap().take() {
        tracing::info!(
            "roster painted {} ms after the window was opened",
            opened.elapsed().as_millis()
        );
    }
}

fn open_url(url: &str) -> CommandResult<()> {
    // Only web pages: never a file or a custom scheme from untrusted text.
    let parsed = url::Url::parse(url)
        .map_err(|_| CommandError::invalid_input("That address is not a web page."))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(CommandError::invalid_input(
            "That address is not a web page.",
        ));
    }
    presently_core::browser::open(url).map_err(|source| CommandError::Open {
        what: "your browser".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_pages_are_opened() {
        assert_eq!(
            open_url("file:///etc/passwd").unwrap_err().code(),
            "invalid_input"
        );
        assert_eq!(
            open_url("javascript:alert(1)").unwrap_err().code(),
            "invalid_input"
        );
    }

    #[test]
    fn quiet_hours_are_shown_as_hh_mm() {
        let q = QuietHoursSetting::parse(true, "18:00", " 8:30").unwrap();
        assert_eq!(QuietHoursView::from(&q).end, "08:30");
    }

    /// The window sends its fields as typed; what `get_settings` gave (a
    /// number of seconds, no broker) is taken too.
    #[test]
    fn the_settings_go_to_the_engine_as_typed() {
        let typed: SettingsForm = serde_json::from_value(serde_json::json!({
            "cloud": "global",
            "tenant": " contoso.com ",
            "clientId": "14d82eec-204b-4c2f-b7e8-296a70dab67e",
            "quietHours": {"enabled": false, "start": "", "end": "08:00:00"},
            "intervalSecs": " 30 ",
            "autostart": true,
            "calendar": true,
            "mqtt": {"broker": " mqtt://broker.lan ", "username": " ", "password": " pw", "topicPrefix": ""},
        }))
        .unwrap();
        let form = typed.form();
        assert_eq!(
            (form.tenant.as_str(), form.interval.as_str(), form.calendar),
            (" contoso.com ", " 30 ", true)
        );
        assert_eq!(
            (
                form.quiet_hours.start.as_str(),
                form.quiet_hours.end.as_str()
            ),
            ("", "08:00:00")
        );
        assert_eq!(
            (
                form.mqtt.broker.as_str(),
                form.mqtt.username.as_str(),
                form.mqtt.password.expose(),
                form.mqtt.topic_prefix.as_str()
            ),
            (" mqtt://broker.lan ", " ", " pw", "")
        );
        assert!(typed.autostart);

        let given_back: SettingsForm = serde_json::from_value(serde_json::json!({
            "cloud": "global",
            "tenant": "organizations",
            "clientId": "14d82eec-204b-4c2f-b7e8-296a70dab67e",
            "quietHours": {"enabled": false, "start": "18:00", "end": "08:00"},
            "intervalSecs": 30,
            "mqtt": null,
        }))
        .unwrap();
        let form = given_back.form();
        assert_eq!(form.interval, "30");
        assert_eq!(
            (form.mqtt.broker.as_str(), form.mqtt.password.expose()),
            ("", "")
        );
        assert!(!given_back.autostart);
    }

    /// The window points at the field the engine refused.
    #[test]
    fn a_refused_field_is_named_beside_the_message() {
        let e: CommandError = presently_core::Error::FormField {
            key: "mqtt.broker",
            reason: "The broker’s address starts with mqtt:// or mqtts://.".into(),
        }
        .into();
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({
                "code": "config",
                "message": "The broker’s address starts with mqtt:// or mqtts://.",
                "key": "mqtt.broker"
            })
        );
    }

    #[test]
    fn errors_keep_their_stable_code() {
        let e: CommandError = presently_core::Error::SignInNeeded("Sign in first.".into()).into();
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "signed_out", "message": "Sign in first."})
        );
    }

    #[test]
    fn what_could_not_be_opened_keeps_its_code_and_sentence() {
        let e = CommandError::Open {
            what: "your browser".into(),
            source: presently_core::browser::OpenError::NoOpener,
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({
                "code": "open_failed",
                "message": "Could not open your browser: no program to open it with was found"
            })
        );
    }

    /// The window offers help on `autostart_failed`, and shows the sentence
    /// as start at login gave it.
    #[test]
    fn start_at_login_errors_keep_their_code_and_sentence() {
        let e: CommandError = crate::error::AutostartError::NoHomeFolder.into();
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({
                "code": "autostart_failed",
                "message": "Could not turn on start at login: your home folder could not be found."
            })
        );
    }
}
