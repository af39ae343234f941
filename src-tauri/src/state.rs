//! What the app keeps between events and commands: [`AppState`], managed by
//! Tauri, and the tray's [`TrayModel`].

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use presently_core::config::{ConfigProblem, Overrides};
use presently_core::directory::Directory;
use presently_core::monitor::{Monitor, MonitorEvent, SignInState, TeammateState};
use presently_core::presence::Presence;

use crate::error::{CommandError, CommandResult};
use crate::events::TeammateView;

/// Favorites listed in the tray menu; more would make it a second roster.
pub const MENU_FAVORITES: usize = 12;

/// What the app keeps for its commands.
pub struct AppState {
    pub monitor: Arc<Monitor>,
    /// Flags and environment of this launch: they beat the config file.
    pub overrides: Overrides,
    pub tray_available: bool,
    /// Running against the embedded demo tenant: nothing may outlive it.
    pub demo: bool,
    /// The window has reported its first painted roster.
    pub painted: AtomicBool,
    /// When the window was last created, until its roster is painted: how
    /// long opening it from the tray takes.
    pub window_opened: Mutex<Option<std::time::Instant>>,
    /// What is wrong with the config file, while the app runs without it.
    pub config_problem: Mutex<Option<ConfigProblem>>,
    /// What the tray shows, kept from the monitor's events.
    pub tray: Mutex<TrayModel>,
}

impl AppState {
    pub fn roster_views(&self) -> Vec<TeammateView> {
        self.monitor
            .teammates()
            .iter()
            .map(TeammateView::new)
            .collect()
    }

    pub fn me_view(&self) -> Option<TeammateView> {
        match (self.monitor.sign_in_state(), self.monitor.me()) {
            (SignInState::SignedIn { account }, Some(me)) => Some(TeammateView::me(&account, &me)),
            _ => None,
        }
    }

    /// Refuses while the config file cannot be used: a sign-in now would go
    /// to the default cloud and tenant, not the ones the file names, and
    /// saved settings would replace what the file says.
    pub fn settings_usable(&self) -> CommandResult<()> {
        match &*self.config_problem.lock().unwrap() {
            Some(problem) => Err(CommandError::config(format!(
                "{problem} Fix the file first: it says where to sign in."
            ))),
            None => Ok(()),
        }
    }

    pub fn directory(&self) -> CommandResult<Directory> {
        let graph = self.monitor.graph()?;
        Ok(Directory::for_settings(graph, &self.monitor.settings()))
    }
}

/// What the tray shows, kept up to date from the monitor's events, so that
/// drawing it never reads the monitor back.
#[derive(Debug, Clone, Default)]
pub struct TrayModel {
    pub signed_in: bool,
    /// Your own presence: the icon.
    pub me: Option<Presence>,
    pub paused: bool,
    /// The first favorites, in roster order, with their presence.
    pub favorites: Vec<TeammateState>,
    /// "Set my status" is offered (not in the China cloud).
    pub can_set_status: bool,
}

impl TrayModel {
    /// Takes in what `event` says; true when the tray shows something new.
    pub fn apply(&mut self, event: &MonitorEvent) -> bool {
        match event {
            MonitorEvent::SignIn(s) => {
                self.signed_in = matches!(s, SignInState::SignedIn { .. });
                self.can_set_status = matches!(s, SignInState::SignedIn { account }
                    if presently_core::my_status::offered_in(account.cloud));
                if !self.signed_in {
                    self.me = None;
                }
                true
            }
            MonitorEvent::Roster(everyone) => {
                self.favorites = everyone
                    .iter()
                    .filter(|t| t.teammate.favorite)
                    .take(MENU_FAVORITES)
                    .cloned()
                    .collect();
                true
            }
            MonitorEvent::Presence(changed) => {
                let mut any = false;
                for t in changed {
                    if let Some(f) = self
                        .favorites
                        .iter_mut()
                        .find(|f| f.teammate.id == t.teammate.id)
                    {
                        *f = t.clone();
                        any = true;
                    }
                }
                any
            }
            MonitorEvent::Me { presence, .. } => {
                self.me = Some(presence.as_ref().clone());
                true
            }
            MonitorEvent::Pause(until) => {
                self.paused = until.is_some();
                true
            }
            MonitorEvent::Status(_)
            | MonitorEvent::OwnPresence(_)
            | MonitorEvent::TimeWords(_)
            | MonitorEvent::Notify(_)
            | MonitorEvent::Calendar(_)
            | MonitorEvent::ConfigProblem(_) => false,
        }
    }

    pub fn paused(&self) -> bool {
        self.paused
    }
}
