//! The desktop app's engine room: sign-in state, the roster with everyone's
//! latest presence, the poller's health, the user's own presence and the
//! notification policy, in one place that front ends drive and listen to.
//!
//! It is the tray app's counterpart of `presently watch`: the same
//! [`Engine`] underneath, plus what a window needs: the pause of
//! notifications and when it ends, the photo cache, when merged
//! notifications are due. Front ends call its methods and receive
//! [`MonitorEvent`]s on a channel, each carrying what changed (whole
//! teammates, not IDs to look up), so that they need not read it back; it
//! never reaches into them. Presence itself is kept once, by the engine.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::auth::{self, Account, DeviceCode, Prompt, Session, SignInFlow, SignInMethod};
use crate::broker::MqttSetting;
use crate::calendar::{self, CalendarEvent, CalendarHandle, Outlook, CALENDAR_SCOPE};
use crate::config::{Overrides, Settings};
use crate::directory::{Directory, Photo};
use crate::engine::{
    Engine, EngineEvent, EngineHandle, EngineOptions, EngineStatus, PresenceChange,
};
use crate::error::{ConfigProblem, Error, ErrorCode, Result};
use crate::graph::GraphClient;
pub use crate::my_status::MyStatusChange;
use crate::my_status::{self, OwnStatus};
use crate::notify::{Interest, Notification, Notifier};
use crate::presence::Presence;
use crate::publish::{self, MqttPublisher, MqttTarget, Whose};
use crate::roster::{Roster, Teammate};
use crate::secret::Secret;
use crate::token_store::TokenStore;

/// Where sign-in stands, as the window shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInState {
    SignedOut {
        reason: Option<String>,
    },
    /// Waiting for a device code to be entered.
    SigningIn {
        code: CodeShown,
    },
    /// Waiting for the sign-in in the system browser, opened on `url`.
    InBrowser {
        url: String,
    },
    SignedIn {
        account: Account,
    },
    /// The last attempt ended without a sign-in; `code` is the error's code
    /// (sign_in_declined, sign_in_expired, consent_required, ...).
    Failed {
        code: ErrorCode,
        message: String,
        /// What a window shows beside its own words: Microsoft's words, or
        /// the reason, without command-line advice (see [`Error::detail`]).
        detail: Option<String>,
    },
}

impl SignInState {
    /// The state after a sign-in attempt ended with `e`.
    pub fn failed(e: &Error) -> SignInState {
        SignInState::Failed {
            code: e.code(),
            message: e.to_string(),
            detail: e.detail(),
        }
    }
}

/// The part of a device code people see.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeShown {
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
    pub expires_at: DateTime<Utc>,
}

impl CodeShown {
    fn of(code: &DeviceCode) -> CodeShown {
        CodeShown {
            user_code: code.user_code.clone(),
            verification_uri: code.verification_uri.clone(),
            message: code.message.clone(),
            expires_at: Utc::now()
                + chrono::Duration::from_std(code.expires_in).unwrap_or_default(),
        }
    }
}

/// A teammate and what is known of their presence.
#[derive(Debug, Clone, PartialEq)]
pub struct TeammateState {
    pub teammate: Teammate,
    pub presence: Option<Presence>,
    /// When the current presence was first seen.
    pub since: Option<DateTime<Utc>>,
    /// Their photo in the photo cache; none (yet) means initials.
    pub photo: Option<PhotoFile>,
    /// What their calendar says, with "when they will be free" on and
    /// their calendar read.
    pub outlook: Option<Outlook>,
}

/// A teammate's photo in the photo cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoFile {
    pub path: PathBuf,
    pub content_type: String,
}

/// What the monitor tells its front ends: each carries what changed.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorEvent {
    SignIn(SignInState),
    /// The roster changed (added, removed, flags, photos, presence gone
    /// with a sign-out): everyone, in roster order.
    Roster(Vec<TeammateState>),
    /// These teammates' presence changed.
    Presence(Vec<TeammateState>),
    Status(EngineStatus),
    /// The signed-in user's own presence changed. (Boxed: the largest
    /// event by far, and not the most frequent.)
    Me {
        account: Box<Account>,
        presence: Box<Presence>,
    },
    /// Notifications are paused until then, or no longer (`None`): on a
    /// pause, a resume, and when a pause runs out by itself.
    Pause(Option<DateTime<Utc>>),
    Notify(Notification),
    /// Where "when they will be free" stands.
    Calendar(CalendarState),
    /// The config file the app began without (see
    /// [`Monitor::start_when_config_is_fixed`]) is wrong in a new way, or
    /// (`None`) can be used again.
    ConfigProblem(Option<ConfigProblem>),
}

/// What became of a [`MyStatusChange`].
#[derive(Debug, Clone, PartialEq)]
pub enum MyStatusOutcome {
    /// Done; your presence as it is now has been sent as [`MonitorEvent::Me`].
    Done,
    /// The sign-in may not set your status yet: a sign-in asking for
    /// [`auth::PRESENCE_WRITE_SCOPE`] has begun (this is its state), and the
    /// change is made once it is through.
    Consent(SignInState),
}

/// Where "when they will be free" stands, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CalendarState {
    /// Turned off (the default), or nobody is signed in.
    #[default]
    Off,
    /// Turned on, but the sign-in may not read calendars yet: the window
    /// offers to allow it ([`Monitor::allow_calendar`]).
    NeedsPermission,
    /// Reading.
    On,
    /// Reading failed in a way that lasts, in the user's words; the reader
    /// tries again by itself.
    Problem(String),
}

struct State {
    settings: Settings,
    sign_in: SignInState,
    session: Option<Arc<Session>>,
    graph: Option<GraphClient>,
    roster: Roster,
    /// Why the roster file could not be read at start, until it can: the
    /// window says so, and the file is left as it is.
    roster_problem: Option<String>,
    /// The roster file as last read or written, to notice edits made
    /// outside the app.
    roster_stamp: Option<FileStamp>,
    /// Photos fetched so far by teammate ID; `None`: they have none.
    photos: HashMap<String, Option<PhotoFile>>,
    me: Option<Presence>,
    status: Option<EngineStatus>,
    notifier: Notifier,
    engine: Option<EngineHandle>,
    tasks: Vec<JoinHandle<()>>,
    sign_in_task: Option<JoinHandle<()>>,
    /// Says "resumed" when a pause runs out by itself.
    pause_task: Option<JoinHandle<()>>,
    calendar: Option<CalendarHandle>,
    calendar_state: CalendarState,
    /// What each teammate's calendar says, by ID, while the calendar is on.
    outlooks: HashMap<String, Outlook>,
    /// A change to your own status waiting for the sign-in that allows it.
    status_after_consent: Option<MyStatusChange>,
    /// Presence published to an MQTT broker (`[mqtt]`), while signed in.
    mqtt: Option<MqttPublisher>,
}

/// See the module documentation.
pub struct Monitor {
    store: Arc<dyn TokenStore>,
    // A std mutex: it is never held across an await, only to read or update.
    state: Mutex<State>,
    events: mpsc::UnboundedSender<MonitorEvent>,
    /// Held while a sign-in starts, so that two quick clicks leave exactly
    /// one sign-in running (the second replaces the first).
    sign_in_gate: tokio::sync::Mutex<()>,
    /// Wakes the notification task when a change starts a merge window.
    notifications_waiting: tokio::sync::Notify,
}

impl Monitor {
    /// A monitor for `settings`, with its roster loaded. Events go to the
    /// returned receiver.
    pub fn new(
        settings: Settings,
        store: Arc<dyn TokenStore>,
        notifier: Notifier,
    ) -> Result<(Arc<Monitor>, mpsc::UnboundedReceiver<MonitorEvent>)> {
        // Only read here: a file that is not a valid roster is left as it
        // is (only an edit under the roster's lock may move it aside).
        let (roster, roster_problem) = Roster::read_in(&settings.config_dir)?;
        if let Some(problem) = &roster_problem {
            tracing::warn!("{problem}");
        }
        let roster_stamp = FileStamp::of(roster.path());
        let (tx, rx) = mpsc::unbounded_channel();
        let monitor = Arc::new(Monitor {
            store,
            state: Mutex::new(State {
                settings,
                sign_in: SignInState::SignedOut { reason: None },
                session: None,
                graph: None,
                roster,
                roster_problem,
                roster_stamp,
                photos: HashMap::new(),
                me: None,
                status: None,
                notifier,
                engine: None,
                tasks: Vec::new(),
                sign_in_task: None,
                pause_task: None,
                calendar: None,
                calendar_state: CalendarState::Off,
                outlooks: HashMap::new(),
                status_after_consent: None,
                mqtt: None,
            }),
            events: tx,
            sign_in_gate: tokio::sync::Mutex::new(()),
            notifications_waiting: tokio::sync::Notify::new(),
        });
        Ok((monitor, rx))
    }

    fn emit(&self, event: MonitorEvent) {
        let _ = self.events.send(event);
    }

    fn set_sign_in(&self, state: SignInState) {
        self.state.lock().unwrap().sign_in = state.clone();
        self.emit(MonitorEvent::SignIn(state));
    }

    pub fn settings(&self) -> Settings {
        self.state.lock().unwrap().settings.clone()
    }

    pub fn sign_in_state(&self) -> SignInState {
        self.state.lock().unwrap().sign_in.clone()
    }

    pub fn status(&self) -> Option<EngineStatus> {
        self.state.lock().unwrap().status.clone()
    }

    pub fn me(&self) -> Option<Presence> {
        self.state.lock().unwrap().me.clone()
    }

    /// Why the roster file could not be read, while that lasts.
    pub fn roster_recovery(&self) -> Option<String> {
        self.state.lock().unwrap().roster_problem.clone()
    }

    /// Everyone on the roster with their latest presence, in roster order.
    pub fn teammates(&self) -> Vec<TeammateState> {
        everyone(&self.state.lock().unwrap())
    }

    /// Tells the front ends the whole roster.
    fn emit_roster(&self) {
        let everyone = self.teammates();
        self.emit(MonitorEvent::Roster(everyone));
    }

    /// The photo of `id` in the photo cache, if they have one.
    pub fn photo(&self, id: &str) -> Option<PhotoFile> {
        self.state.lock().unwrap().photos.get(id).cloned().flatten()
    }

    /// Fetches the photos not fetched yet (the directory keeps them on disk),
    /// then tells the front ends the roster with them.
    pub async fn load_photos(self: &Arc<Self>) {
        let (directory, missing) = {
            let state = self.state.lock().unwrap();
            let Some(graph) = state.graph.clone() else {
                return;
            };
            let missing: Vec<(String, String)> = state
                .roster
                .teammates()
                .iter()
                .filter(|t| !state.photos.contains_key(&t.id))
                .map(|t| (t.id.clone(), t.name().to_string()))
                .collect();
            (Directory::for_settings(graph, &state.settings), missing)
        };
        if missing.is_empty() {
            return;
        }
        let photos = match directory.photos(&missing).await {
            Ok(photos) => photos,
            Err(e) => {
                tracing::warn!("photos could not be fetched: {e}");
                return;
            }
        };
        {
            let mut state = self.state.lock().unwrap();
            for ((id, _), photo) in missing.into_iter().zip(photos) {
                let file = match photo {
                    Photo::Picture { path, content_type } => Some(PhotoFile { path, content_type }),
                    Photo::Initials(_) => None,
                };
                state.photos.insert(id, file);
            }
        }
        self.emit_roster();
    }

    /// [`Monitor::load_photos`] in the background, when signed in.
    fn load_photos_later(self: &Arc<Self>) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let me = self.clone();
            runtime.spawn(async move { me.load_photos().await });
        }
    }

    pub fn teammate(&self, id: &str) -> Option<TeammateState> {
        let state = self.state.lock().unwrap();
        state.roster.get(id).map(|t| teammate_state(&state, t))
    }

    /// Resumes a stored sign-in, if there is one, and starts polling.
    pub async fn start(self: &Arc<Self>) {
        let settings = self.settings();
        match Session::resume(&settings, self.store.clone()).await {
            Ok(session) => self.signed_in(session),
            Err(e) if e.needs_sign_in() => {
                self.set_sign_in(SignInState::SignedOut { reason: None })
            }
            Err(e) => self.set_sign_in(SignInState::failed(&e)),
        }
    }

    /// Starts the device-code flow and returns the code to show. The outcome
    /// arrives as a [`MonitorEvent::SignIn`].
    pub async fn begin_sign_in(self: &Arc<Self>) -> Result<CodeShown> {
        match self.begin(SignInMethod::DeviceCode).await? {
            SignInState::SigningIn { code } => Ok(code),
            other => unreachable!("a device code sign-in shows a code, not {other:?}"),
        }
    }

    /// Starts the sign-in in the browser and returns the address to open
    /// there. The outcome arrives as a [`MonitorEvent::SignIn`].
    pub async fn begin_browser_sign_in(self: &Arc<Self>) -> Result<String> {
        match self.begin(SignInMethod::Browser).await? {
            SignInState::InBrowser { url } => Ok(url),
            other => unreachable!("a browser sign-in shows a page, not {other:?}"),
        }
    }

    /// Starts a sign-in (replacing one under way), says what the person is
    /// to do, and waits for them in the background; then stores the sign-in
    /// and starts polling.
    async fn begin(self: &Arc<Self>, method: SignInMethod) -> Result<SignInState> {
        let mut flow = SignInFlow::new(&self.settings())?;
        if self.settings().calendar {
            flow = flow.with_calendar_access();
        }
        self.begin_with(flow, method).await
    }

    /// [`Monitor::begin`] with the flow given (one that asks for more).
    async fn begin_with(
        self: &Arc<Self>,
        flow: SignInFlow,
        method: SignInMethod,
    ) -> Result<SignInState> {
        let _gate = self.sign_in_gate.lock().await;
        self.cancel_sign_in();
        let started = flow.begin(method).await?;
        let waiting = match started.prompt() {
            Prompt::Code(code) => SignInState::SigningIn {
                code: CodeShown::of(code),
            },
            Prompt::Browser { url } => SignInState::InBrowser {
                url: url.to_string(),
            },
        };
        self.set_sign_in(waiting.clone());
        let me = self.clone();
        let task = tokio::spawn(async move {
            let settings = me.settings();
            match started
                .finish(me.store.clone())
                .await
                .and_then(|stored| Session::from_stored(&settings, me.store.clone(), stored))
            {
                Ok(session) => me.signed_in(session),
                Err(e) => {
                    // A status change waiting for this sign-in is not made.
                    me.state.lock().unwrap().status_after_consent = None;
                    me.set_sign_in(SignInState::failed(&e))
                }
            }
        });
        self.state.lock().unwrap().sign_in_task = Some(task);
        Ok(waiting)
    }

    /// "When they will be free" is on but the sign-in may not read
    /// calendars: signs in again asking for [`CALENDAR_SCOPE`] too (keeping
    /// every permission granted before), the way [`Monitor::begin`] does.
    pub async fn allow_calendar(self: &Arc<Self>, method: SignInMethod) -> Result<SignInState> {
        let session = self.state.lock().unwrap().session.clone();
        let Some(session) = session else {
            return Err(Error::SignInNeeded("Sign in first.".into()));
        };
        let granted = session.granted().await;
        let flow = SignInFlow::new(&self.settings())?
            .keeping(&granted)
            .as_account(session.account())
            .with_calendar_access();
        self.begin_with(flow, method).await
    }

    /// Changes your own status. The first time, when the sign-in may not
    /// (incremental consent), it signs in again with `method` asking for
    /// that too, keeping every permission given before, and makes the
    /// change once through. Refused at once in the China cloud.
    pub async fn change_my_status(
        self: &Arc<Self>,
        change: MyStatusChange,
        method: SignInMethod,
    ) -> Result<MyStatusOutcome> {
        let settings = self.settings();
        my_status::check_cloud(&settings)?;
        let session = self.state.lock().unwrap().session.clone();
        let Some(session) = session else {
            return Err(Error::SignInNeeded("Sign in first.".into()));
        };
        let granted = session.granted().await;
        if !auth::grants(&granted, auth::PRESENCE_WRITE_SCOPE) {
            let flow = SignInFlow::new(&settings)?
                .keeping(&granted)
                .as_account(session.account())
                .with_status_access();
            let waiting = self.begin_with(flow, method).await?;
            self.state.lock().unwrap().status_after_consent = Some(change);
            return Ok(MyStatusOutcome::Consent(waiting));
        }
        self.make_status_change(&session, change).await?;
        Ok(MyStatusOutcome::Done)
    }

    async fn make_status_change(
        &self,
        session: &Arc<Session>,
        change: MyStatusChange,
    ) -> Result<()> {
        let graph = self.graph()?;
        let account = session.account().clone();
        let own = OwnStatus::new(graph, &account);
        own.apply(&change).await?;
        // Shown at once rather than at the next poll; the poll confirms it.
        match own.read().await {
            Ok(now) => self.emit(MonitorEvent::Me {
                account: Box::new(account),
                presence: Box::new(now.presence),
            }),
            Err(e) => tracing::warn!("your new status could not be read back: {e}"),
        }
        Ok(())
    }

    /// After a sign-in: the status change that waited for it, if any.
    fn resume_status_change(self: &Arc<Self>, session: &Arc<Session>) {
        let Some(change) = self.state.lock().unwrap().status_after_consent.take() else {
            return;
        };
        let me = self.clone();
        let session = session.clone();
        tokio::spawn(async move {
            let allowed = auth::grants(&session.granted().await, auth::PRESENCE_WRITE_SCOPE);
            let result = if allowed {
                me.make_status_change(&session, change).await
            } else {
                Err(Error::PermissionNeeded {
                    permission: auth::PRESENCE_WRITE_SCOPE,
                    how: "the sign-in did not grant it; your organisation may not allow it.".into(),
                })
            };
            if let Err(e) = result {
                tracing::warn!("your status could not be set: {e}");
                me.emit(MonitorEvent::Notify(Notification {
                    title: "Your status could not be set".into(),
                    body: e.to_string(),
                    ids: Vec::new(),
                }));
            }
        });
    }

    /// Keeps the password of `setting`'s user at its broker in the keyring
    /// (the window's settings), where `presently publish` finds it too. When
    /// publishing to that broker already, it starts again with the new
    /// password (a change of the setting itself restarts it anyway).
    pub async fn keep_mqtt_password(
        self: &Arc<Self>,
        setting: &MqttSetting,
        password: String,
    ) -> Result<()> {
        let Some(user) = setting.username.clone() else {
            return Err(Error::InvalidInput(
                "A password needs a user name for the MQTT broker.".into(),
            ));
        };
        let entry = crate::broker::password_entry(&setting.url()?, &user);
        let store = self.store.clone();
        let password = Secret::new(password);
        auth::blocking(move || store.save(&entry, &password)).await?;
        let in_use = self.state.lock().unwrap().settings.mqtt.as_ref() == Some(setting);
        if in_use {
            self.start_mqtt();
        }
        Ok(())
    }

    /// Starts publishing to the broker of the settings, if any, for the
    /// signed-in account: in the background, as the broker may be away
    /// (it is tried again with backoff) and the keyring slow.
    fn start_mqtt(self: &Arc<Self>) {
        let (setting, account) = {
            let mut state = self.state.lock().unwrap();
            state.mqtt = None;
            let account = state.session.as_ref().map(|s| s.account().clone());
            (state.settings.mqtt.clone(), account)
        };
        let (Some(setting), Some(account)) = (setting, account) else {
            return;
        };
        let me = self.clone();
        let task = tokio::spawn(async move {
            match me.mqtt_target(&setting, &account).await {
                Ok(target) => match MqttPublisher::start(target) {
                    Ok(publisher) => {
                        let mut state = me.state.lock().unwrap();
                        // Everyone known so far; then each change as it comes.
                        if let Some(p) = &state.me {
                            publisher.presence(
                                &p.id,
                                Whose::Mine,
                                &person_json(&state, p, Whose::Mine, Utc::now()),
                            );
                        }
                        for t in everyone(&state) {
                            if let (Some(p), Some(at)) = (&t.presence, t.since) {
                                publisher.presence(
                                    &p.id,
                                    Whose::Teammate,
                                    &person_json(&state, p, Whose::Teammate, at),
                                );
                            }
                        }
                        state.mqtt = Some(publisher);
                    }
                    Err(e) => me.mqtt_failed(&e),
                },
                Err(e) => me.mqtt_failed(&e),
            }
        });
        self.state.lock().unwrap().tasks.push(task);
    }

    async fn mqtt_target(&self, setting: &MqttSetting, account: &Account) -> Result<MqttTarget> {
        let url = setting.check_plaintext()?;
        let password = match &setting.username {
            None => None,
            Some(user) => {
                let entry = crate::broker::password_entry(&url, user);
                let store = self.store.clone();
                let found = auth::blocking(move || store.load(&entry)).await?;
                Some(found.ok_or_else(|| {
                    Error::Config(format!(
                        "No password for {user} at the MQTT broker is kept yet: enter it in the settings."
                    ))
                })?)
            }
        };
        Ok(MqttTarget {
            url,
            username: setting.username.clone(),
            password,
            topic_prefix: setting.topic_prefix.clone(),
            tenant: account.tenant_key().to_string(),
            me: Some((account.id.clone(), account.display_name.clone())),
        })
    }

    fn mqtt_failed(&self, e: &Error) {
        tracing::warn!("presence is not published to MQTT: {e}");
        self.emit(MonitorEvent::Notify(Notification {
            title: "Presence is not published to MQTT".into(),
            body: e.to_string(),
            ids: Vec::new(),
        }));
    }

    pub fn calendar_state(&self) -> CalendarState {
        self.state.lock().unwrap().calendar_state.clone()
    }

    fn set_calendar_state(&self, calendar: CalendarState) {
        {
            let mut state = self.state.lock().unwrap();
            if state.calendar_state == calendar {
                return;
            }
            state.calendar_state = calendar.clone();
        }
        self.emit(MonitorEvent::Calendar(calendar));
    }

    /// Starts reading calendars when they are turned on and the sign-in may
    /// read them; says which it is. The reader stops with the polling.
    fn start_calendar(self: &Arc<Self>) {
        self.stop_calendar();
        let (on, session, graph) = {
            let state = self.state.lock().unwrap();
            (
                state.settings.calendar,
                state.session.clone(),
                state.graph.clone(),
            )
        };
        let (true, Some(session), Some(graph)) = (on, session, graph) else {
            return;
        };
        let me = self.clone();
        let task = tokio::spawn(async move {
            let granted = session.granted().await;
            if !me.state.lock().unwrap().settings.calendar {
                return; // turned off while the keyring was read
            }
            if !auth::grants(&granted, CALENDAR_SCOPE) {
                me.set_calendar_state(CalendarState::NeedsPermission);
                return;
            }
            let people = me.calendar_people();
            let (handle, mut events) = calendar::spawn(graph, people);
            me.state.lock().unwrap().calendar = Some(handle);
            me.set_calendar_state(CalendarState::On);
            while let Some(event) = events.recv().await {
                me.on_calendar_event(event);
            }
        });
        self.state.lock().unwrap().tasks.push(task);
    }

    /// Stops reading calendars and forgets what they said.
    fn stop_calendar(&self) {
        let had = {
            let mut state = self.state.lock().unwrap();
            if let Some(handle) = state.calendar.take() {
                handle.stop();
            }
            !std::mem::take(&mut state.outlooks).is_empty()
        };
        self.set_calendar_state(CalendarState::Off);
        if had {
            self.emit_roster();
        }
    }

    fn calendar_people(&self) -> Vec<calendar::Person> {
        calendar_people(&self.state.lock().unwrap().roster)
    }

    fn on_calendar_event(&self, event: CalendarEvent) {
        match event {
            CalendarEvent::Changed(changes) => {
                let changed = {
                    let mut state = self.state.lock().unwrap();
                    for c in &changes {
                        state.outlooks.insert(c.id.clone(), c.outlook.clone());
                    }
                    if let Some(mqtt) = &state.mqtt {
                        for c in &changes {
                            let seen = state.engine.as_ref().and_then(|e| e.last_seen(&c.id));
                            if let Some((p, at)) = seen {
                                mqtt.presence(
                                    &c.id,
                                    Whose::Teammate,
                                    &person_json(&state, &p, Whose::Teammate, at),
                                );
                            }
                        }
                    }
                    changes
                        .iter()
                        .filter_map(|c| {
                            let t = state.roster.get(&c.id)?;
                            Some(teammate_state(&state, t))
                        })
                        .collect::<Vec<_>>()
                };
                self.set_calendar_state(CalendarState::On);
                if !changed.is_empty() {
                    self.emit(MonitorEvent::Presence(changed));
                }
            }
            CalendarEvent::Problem(e) => {
                let needs_permission = matches!(
                    e.code(),
                    ErrorCode::ConsentRequired | ErrorCode::PermissionNeeded
                );
                self.set_calendar_state(if needs_permission {
                    CalendarState::NeedsPermission
                } else {
                    CalendarState::Problem(e.to_string())
                });
            }
        }
    }

    /// Whether a sign-in (by code or in the browser) is waiting to finish.
    pub fn sign_in_running(&self) -> bool {
        self.state
            .lock()
            .unwrap()
            .sign_in_task
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }

    pub fn cancel_sign_in(&self) {
        let task = {
            let mut state = self.state.lock().unwrap();
            state.status_after_consent = None;
            state.sign_in_task.take()
        };
        if let Some(task) = task {
            task.abort();
            if matches!(
                self.sign_in_state(),
                SignInState::SigningIn { .. } | SignInState::InBrowser { .. }
            ) {
                self.set_sign_in(SignInState::SignedOut { reason: None });
            }
        }
    }

    /// Stops polling and removes the stored sign-in. The roster stays.
    pub async fn sign_out(&self) -> Result<()> {
        self.end_session();
        let settings = self.settings();
        let store = self.store.clone();
        auth::blocking(move || auth::sign_out(&settings, store.as_ref()).map(|_| ())).await?;
        self.set_sign_in(SignInState::SignedOut { reason: None });
        Ok(())
    }

    fn signed_in(self: &Arc<Self>, session: Arc<Session>) {
        let account = session.account().clone();
        let graph = match GraphClient::new(&self.settings(), session.clone()) {
            Ok(g) => g,
            Err(e) => return self.set_sign_in(SignInState::failed(&e)),
        };
        {
            let mut state = self.state.lock().unwrap();
            state.session = Some(session.clone());
            state.graph = Some(graph.clone());
        }
        self.set_sign_in(SignInState::SignedIn { account });
        self.start_polling(graph);
        self.emit_roster();
        self.load_photos_later();
        self.resume_status_change(&session);
    }

    fn start_polling(self: &Arc<Self>, graph: GraphClient) {
        self.stop_polling();
        let (ids, interval, own_id) = {
            let state = self.state.lock().unwrap();
            let own_id = state.session.as_ref().map(|s| s.account().id.clone());
            (state.roster.ids(), state.settings.interval, own_id)
        };
        let engine = Engine::new(
            graph.clone(),
            ids,
            EngineOptions {
                interval,
                own_id,
                ..Default::default()
            },
        );
        let handle = engine.handle();
        let (tx, mut rx) = mpsc::channel(256);
        let me = self.clone();
        let run = tokio::spawn(async move {
            if let Err(e) = engine.run(tx).await {
                me.lost(e);
            }
        });
        let me = self.clone();
        let consume = tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                me.on_engine_event(event);
            }
        });
        let me = self.clone();
        let notify = tokio::spawn(async move { me.announce_when_due().await });
        {
            let mut state = self.state.lock().unwrap();
            state.engine = Some(handle);
            state.tasks = vec![run, consume, notify];
        }
        self.start_calendar();
        self.start_mqtt();
    }

    /// Shows merged notifications when their merge window ends: sleeps
    /// until the notifier's deadline, or until a change starts one.
    async fn announce_when_due(&self) {
        loop {
            let deadline = self.state.lock().unwrap().notifier.deadline();
            match deadline {
                None => self.notifications_waiting.notified().await,
                Some(at) => {
                    let left = (at - Utc::now()).to_std().unwrap_or_default();
                    tokio::select! {
                        _ = tokio::time::sleep(left) => {
                            let due = self.state.lock().unwrap().notifier.due(Utc::now());
                            if let Some(n) = due {
                                self.emit(MonitorEvent::Notify(n));
                            }
                        }
                        _ = self.notifications_waiting.notified() => {}
                    }
                }
            }
        }
    }

    fn stop_polling(&self) {
        {
            let mut state = self.state.lock().unwrap();
            for task in state.tasks.drain(..) {
                task.abort();
            }
            state.engine = None;
            state.mqtt = None;
        }
        self.stop_calendar();
    }

    /// Stops polling and forgets the session (the keyring is not touched).
    fn end_session(&self) {
        self.stop_polling();
        {
            let mut state = self.state.lock().unwrap();
            state.graph = None;
            state.session = None;
            state.me = None;
            state.status = None;
        }
        // Nobody's presence is known any more.
        self.emit_roster();
    }

    /// The sign-in was lost while polling (revoked, expired): say why and keep
    /// everything else.
    fn lost(&self, e: Error) {
        if e.needs_sign_in() {
            self.end_session();
            self.set_sign_in(SignInState::SignedOut {
                reason: Some(e.to_string()),
            });
        }
    }

    fn on_engine_event(&self, event: EngineEvent) {
        match event {
            EngineEvent::Snapshot { at, presences } => {
                let changed = {
                    let state = self.state.lock().unwrap();
                    presences
                        .into_iter()
                        .filter_map(|p| {
                            let t = state.roster.get(&p.id)?;
                            if let Some(mqtt) = &state.mqtt {
                                mqtt.presence(
                                    &p.id,
                                    Whose::Teammate,
                                    &person_json(&state, &p, Whose::Teammate, at),
                                );
                            }
                            Some(TeammateState {
                                teammate: t.clone(),
                                photo: state.photos.get(&t.id).cloned().flatten(),
                                outlook: state.outlooks.get(&t.id).cloned(),
                                presence: Some(p),
                                since: Some(at),
                            })
                        })
                        .collect()
                };
                self.emit(MonitorEvent::Presence(changed));
            }
            EngineEvent::Changed(change) => self.on_change(change),
            EngineEvent::Status(status) => {
                self.state.lock().unwrap().status = Some(status.clone());
                self.emit(MonitorEvent::Status(status));
            }
            EngineEvent::OwnPresence(presence) => {
                let account = {
                    let mut state = self.state.lock().unwrap();
                    state.notifier.set_own_presence(&presence);
                    if let Some(mqtt) = &state.mqtt {
                        mqtt.presence(
                            &presence.id,
                            Whose::Mine,
                            &person_json(&state, &presence, Whose::Mine, Utc::now()),
                        );
                    }
                    state.me = Some(presence.clone());
                    match &state.sign_in {
                        SignInState::SignedIn { account } => Some(account.clone()),
                        _ => None,
                    }
                };
                if let Some(account) = account {
                    self.emit(MonitorEvent::Me {
                        account: Box::new(account),
                        presence: Box::new(presence),
                    });
                }
            }
            EngineEvent::InvalidIds { ids, reason } => {
                tracing::warn!(
                    count = ids.len(),
                    reason = reason.as_str(),
                    "IDs left out of polling"
                );
            }
        }
    }

    fn on_change(&self, change: PresenceChange) {
        let changed = {
            let mut state = self.state.lock().unwrap();
            let Some(t) = state.roster.get(&change.id).cloned() else {
                return;
            };
            let outlook = state.outlooks.get(&t.id).cloned();
            let interest = Interest {
                display_name: t.name().to_string(),
                notify: t.notify,
                every_change: t.notify_every_change,
                busy_until: outlook.as_ref().and_then(|o| o.busy_until),
            };
            if state.notifier.consider(&change, &interest, change.at) {
                self.notifications_waiting.notify_one();
            }
            if let Some(reader) = &state.calendar {
                if calendar::triggers_read(&change.presence) {
                    reader.turned_busy(&change.id);
                }
            }
            if let Some(mqtt) = &state.mqtt {
                mqtt.presence(
                    &change.id,
                    Whose::Teammate,
                    &person_json(&state, &change.presence, Whose::Teammate, change.at),
                );
            }
            TeammateState {
                photo: state.photos.get(&t.id).cloned().flatten(),
                teammate: t,
                presence: Some(change.presence),
                since: Some(change.at),
                outlook,
            }
        };
        self.emit(MonitorEvent::Presence(vec![changed]));
    }

    /// Pauses notifications for `length` (zero resumes); returns until when.
    /// The front ends hear of it, and again when the pause runs out.
    pub fn pause_notifications_for(self: &Arc<Self>, length: Duration) -> Option<DateTime<Utc>> {
        let until = (!length.is_zero()).then(|| {
            Utc::now() + chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX)
        });
        let ends = until.and_then(|_| {
            let runtime = tokio::runtime::Handle::try_current().ok()?;
            let me = self.clone();
            Some(runtime.spawn(async move {
                tokio::time::sleep(length).await;
                me.emit(MonitorEvent::Pause(None));
            }))
        });
        {
            let mut state = self.state.lock().unwrap();
            state.notifier.pause_until(until);
            if let Some(old) = std::mem::replace(&mut state.pause_task, ends) {
                old.abort();
            }
        }
        self.emit(MonitorEvent::Pause(until));
        until
    }

    pub fn notifications_paused_until(&self) -> Option<DateTime<Utc>> {
        self.state.lock().unwrap().notifier.paused_until(Utc::now())
    }

    /// The Graph client of the current sign-in.
    pub fn graph(&self) -> Result<GraphClient> {
        self.state
            .lock()
            .unwrap()
            .graph
            .clone()
            .ok_or_else(|| Error::SignInNeeded("Sign in first.".into()))
    }

    /// Changes the roster with `edit`, saves it, and tells the poller and the
    /// front ends. The edit starts from the file, not the copy in memory
    /// (`presently roster add` may have changed it while the app ran) and
    /// holds the roster's lock until the file is replaced. A file that does
    /// not parse (someone is editing it) is left as it is and the edit
    /// refused, naming the file and the line.
    pub fn edit_roster<T>(self: &Arc<Self>, edit: impl FnOnce(&mut Roster) -> T) -> Result<T> {
        let config_dir = self.state.lock().unwrap().settings.config_dir.clone();
        // Not under the state's lock: waiting for the roster's lock must not
        // stop the poller or the window from reading the state.
        let (out, roster) = Roster::edit_file(&config_dir, edit)?;
        {
            let mut state = self.state.lock().unwrap();
            state.roster_stamp = FileStamp::of(roster.path());
            install_roster(&mut state, roster);
        }
        self.emit_roster();
        self.load_photos_later();
        Ok(out)
    }

    /// Follows the roster file for edits made outside the app (`presently
    /// roster add`, an editor) until the monitor is dropped: every `every`
    /// it runs [`Monitor::reload_roster_if_changed`].
    pub async fn follow_roster_file(self: Arc<Self>, every: Duration) {
        let monitor = Arc::downgrade(&self);
        drop(self);
        loop {
            tokio::time::sleep(every).await;
            match monitor.upgrade() {
                Some(m) => {
                    m.reload_roster_if_changed();
                }
                None => return,
            }
        }
    }

    /// Takes in the roster file if it changed since the app last read or
    /// wrote it (modification time or size), as if the window had made the
    /// edit; true if the roster changed. A file that is not a valid roster is
    /// left alone, and the roster in memory kept, until it changes again.
    pub fn reload_roster_if_changed(self: &Arc<Self>) -> bool {
        let changed = {
            let mut state = self.state.lock().unwrap();
            let path = state.roster.path().to_path_buf();
            let stamp = FileStamp::of(&path);
            if stamp == state.roster_stamp {
                return false;
            }
            state.roster_stamp = stamp;
            match Roster::read(&path) {
                Ok(roster) if roster.teammates() == state.roster.teammates() => {
                    // Fixed, to what the app already had.
                    state.roster_problem.take().is_some()
                }
                Ok(roster) => {
                    install_roster(&mut state, roster);
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the roster file changed but could not be read; keeping the roster");
                    false
                }
            }
        };
        if changed {
            self.emit_roster();
            self.load_photos_later();
        }
        changed
    }

    /// For an app that began on the defaults because the config file could
    /// not be used (`known` says why): reads the file again every `every`
    /// until it can be used, telling each new problem once, then says it is
    /// fixed and starts on it.
    pub async fn start_when_config_is_fixed(
        self: Arc<Self>,
        overrides: Overrides,
        mut known: Option<ConfigProblem>,
        every: Duration,
    ) {
        loop {
            tokio::time::sleep(every).await;
            match Settings::resolve(&overrides) {
                Ok(settings) => {
                    tracing::info!("the config file can be used again");
                    self.emit(MonitorEvent::ConfigProblem(None));
                    self.start_with(settings).await;
                    return;
                }
                Err(Error::ConfigFile(problem)) => {
                    if known.as_ref() != Some(&problem) {
                        tracing::error!("{problem}");
                        self.emit(MonitorEvent::ConfigProblem(Some(problem.clone())));
                        known = Some(problem);
                    }
                }
                Err(e) => tracing::error!("the settings could not be read: {e}"),
            }
        }
    }

    /// Takes `settings` and starts, for an app that began without usable
    /// settings (a config file it could not read, now fixed).
    pub async fn start_with(self: &Arc<Self>, settings: Settings) {
        {
            let mut state = self.state.lock().unwrap();
            state.notifier.set_quiet_hours(settings.quiet_hours.hours());
            state.settings = settings;
        }
        self.start().await;
    }

    /// Replaces the settings (cloud, tenant, client, interval, quiet hours):
    /// a different cloud, tenant or client means a different sign-in.
    pub async fn apply_settings(self: &Arc<Self>, settings: Settings) {
        let same_account = {
            let mut state = self.state.lock().unwrap();
            let same = state.settings.keyring_account() == settings.keyring_account()
                && state.settings.login_url == settings.login_url
                && state.settings.graph_url == settings.graph_url;
            // The same sign-in keeps its engine: its pace and the Graph
            // client's Retry-After gate stay; only the interval asked for moves.
            if same && state.settings.interval != settings.interval {
                if let Some(engine) = &state.engine {
                    engine.set_interval(settings.interval);
                }
            }
            state.notifier.set_quiet_hours(settings.quiet_hours.hours());
            let calendar_turned = state.settings.calendar != settings.calendar;
            let mqtt_changed = state.settings.mqtt != settings.mqtt;
            state.settings = settings;
            (same, calendar_turned, mqtt_changed)
        };
        let (same_account, calendar_turned, mqtt_changed) = same_account;
        if !same_account {
            self.end_session();
            self.start().await;
            return;
        }
        if calendar_turned {
            self.start_calendar();
        }
        if mqtt_changed {
            self.start_mqtt();
        }
    }
}

/// Makes `roster` (read or written whole) the one shown and polled; the
/// broker forgets whoever left.
fn install_roster(state: &mut State, roster: Roster) {
    state.roster_problem = None;
    if let Some(engine) = &state.engine {
        engine.set_ids(roster.ids());
    }
    if let Some(mqtt) = &state.mqtt {
        for gone in state.roster.ids() {
            if roster.get(&gone).is_none() {
                mqtt.forget(&gone);
            }
        }
    }
    if let Some(reader) = &state.calendar {
        reader.set_people(calendar_people(&roster));
        let ids: std::collections::HashSet<String> = roster.ids().into_iter().collect();
        state.outlooks.retain(|id, _| ids.contains(id));
    }
    state.roster = roster;
}

/// The roster's people, by mailbox address where it is known.
fn calendar_people(roster: &Roster) -> Vec<calendar::Person> {
    roster
        .teammates()
        .iter()
        .map(calendar::Person::of)
        .collect()
}

/// What says a file changed: its modification time and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
}

impl FileStamp {
    /// `None` when there is no file.
    fn of(path: &std::path::Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}

/// What is published for `p`: `presently publish`'s object, with the
/// calendar's fields while "when they will be free" is on.
fn person_json(state: &State, p: &Presence, whose: Whose, at: DateTime<Utc>) -> serde_json::Value {
    let tenant = state
        .session
        .as_ref()
        .map(|s| s.account().tenant_key().to_string())
        .unwrap_or_default();
    let outlook = match whose {
        Whose::Teammate if state.calendar.is_some() => {
            Some(state.outlooks.get(&p.id).cloned().unwrap_or_default())
        }
        _ => None,
    };
    publish::person_json(p, whose, &tenant, &at, outlook.as_ref())
}

/// `t` with the engine's last presence of them (none while signed out)
/// and their photo.
fn teammate_state(state: &State, t: &Teammate) -> TeammateState {
    let seen = state.engine.as_ref().and_then(|e| e.last_seen(&t.id));
    let (presence, since) = seen.map_or((None, None), |(p, at)| (Some(p), Some(at)));
    TeammateState {
        teammate: t.clone(),
        presence,
        since,
        photo: state.photos.get(&t.id).cloned().flatten(),
        outlook: state.outlooks.get(&t.id).cloned(),
    }
}

fn everyone(state: &State) -> Vec<TeammateState> {
    state
        .roster
        .teammates()
        .iter()
        .map(|t| teammate_state(state, t))
        .collect()
}
