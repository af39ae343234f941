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
//!
//! One file a job: [`sign_in`], [`own_status`], [`mqtt`], [`calendars`],
//! [`polling`] (and notification timing), [`pause`], [`roster_file`],
//! [`settings`], [`photos`], [`time_words`] (rows' words about time);
//! [`events`] is what they report. This file holds what they share and the
//! decisions that take in more than one job: what a new sign-in starts, and
//! what ending it stops. Listeners (MQTT publishing, the rows' words about
//! time) hear every event before the front ends do; the coordinator's
//! decisions in time are tested on paused time ([`tests`]).

mod calendars;
mod events;
mod mqtt;
mod own_status;
mod pause;
mod photos;
mod polling;
mod roster_file;
mod settings;
mod sign_in;
#[cfg(test)]
mod tests;
mod time_words;

use mqtt::Publishing;
use roster_file::FileStamp;

pub use events::{
    CalendarState, CodeShown, MonitorEvent, MyStatusOutcome, PhotoFile, SignInState, TeammateState,
    TimeWordsChange,
};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::auth::Session;
use crate::calendar::{CalendarHandle, Outlook};
use crate::config::Settings;
use crate::engine::{EngineHandle, EngineStatus};
use crate::error::{Error, Result};
use crate::graph::GraphClient;
pub use crate::my_status::MyStatusChange;
use crate::notify::Notifier;
use crate::presence::Presence;
use crate::roster::{Roster, Teammate};
use crate::token_store::TokenStore;

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
    mqtt: Option<Publishing>,
    /// The words about time each row was last told, by teammate ID.
    time_words_told: HashMap<String, TimeWordsChange>,
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
    /// Wakes the task that keeps rows' words about time current when what
    /// they depend on changed.
    time_words_waiting: tokio::sync::Notify,
    /// The time of day it goes by.
    clock: Clock,
}

/// The time of day the monitor goes by (when a pause ends, when merged
/// notifications are due): the system's, or in tests one that moves with
/// tokio's paused clock, so that its timers and its dates agree.
#[derive(Clone)]
struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    fn system() -> Clock {
        Clock(Arc::new(Utc::now))
    }

    fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl Monitor {
    /// A monitor for `settings`, with its roster loaded. Events go to the
    /// returned receiver.
    pub fn new(
        settings: Settings,
        store: Arc<dyn TokenStore>,
        notifier: Notifier,
    ) -> Result<(Arc<Monitor>, mpsc::UnboundedReceiver<MonitorEvent>)> {
        Monitor::with_clock(settings, store, notifier, Clock::system())
    }

    fn with_clock(
        settings: Settings,
        store: Arc<dyn TokenStore>,
        notifier: Notifier,
        clock: Clock,
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
                time_words_told: HashMap::new(),
            }),
            events: tx,
            sign_in_gate: tokio::sync::Mutex::new(()),
            notifications_waiting: tokio::sync::Notify::new(),
            time_words_waiting: tokio::sync::Notify::new(),
            clock,
        });
        Ok((monitor, rx))
    }

    /// Tells the monitor's listeners (MQTT publishing, the rows' words about
    /// time), then its front ends.
    fn emit(&self, event: MonitorEvent) {
        self.publish(&event);
        self.note_time_words(&event);
        let _ = self.events.send(event);
    }

    /// Everyone on the roster with their latest presence, in roster order.
    pub fn teammates(&self) -> Vec<TeammateState> {
        everyone(&self.state.lock().unwrap(), self.clock.now())
    }

    /// Tells the front ends the whole roster.
    fn emit_roster(&self) {
        let everyone = self.teammates();
        self.emit(MonitorEvent::Roster(everyone));
    }

    pub fn teammate(&self, id: &str) -> Option<TeammateState> {
        let state = self.state.lock().unwrap();
        state
            .roster
            .get(id)
            .map(|t| teammate_state(&state, t, self.clock.now()))
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
}

impl State {
    /// `t` as the front ends are told of them: `seen` (their presence and
    /// since when), their photo and outlook, and the words about time on
    /// their row at `now`.
    fn shown(
        &self,
        t: &Teammate,
        seen: Option<(Presence, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> TeammateState {
        let (presence, since) = seen.map_or((None, None), |(p, at)| (Some(p), Some(at)));
        let words = self.time_words(t, since, now);
        TeammateState {
            since_words: words.since_words,
            calendar_words: words.calendar_words,
            teammate: t.clone(),
            presence,
            since,
            photo: self.photos.get(&t.id).cloned().flatten(),
            outlook: self.outlooks.get(&t.id).cloned(),
        }
    }

    /// The engine's last presence of `id` and since when; none while
    /// signed out.
    fn last_seen(&self, id: &str) -> Option<(Presence, DateTime<Utc>)> {
        self.engine.as_ref().and_then(|e| e.last_seen(id))
    }
}

/// `t` with the engine's last presence of them.
fn teammate_state(state: &State, t: &Teammate, now: DateTime<Utc>) -> TeammateState {
    state.shown(t, state.last_seen(&t.id), now)
}

fn everyone(state: &State, now: DateTime<Utc>) -> Vec<TeammateState> {
    state
        .roster
        .teammates()
        .iter()
        .map(|t| teammate_state(state, t, now))
        .collect()
}
