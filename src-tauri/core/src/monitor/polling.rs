//! Polling: the engine for the current sign-in, what its events change, and
//! when merged notifications are due.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::calendar::{self};
use crate::engine::{Engine, EngineEvent, EngineOptions, EngineStatus, PresenceChange};
use crate::graph::GraphClient;
use crate::notify::Interest;

use super::{Monitor, MonitorEvent, SignInState};

impl Monitor {
    pub fn status(&self) -> Option<EngineStatus> {
        self.state.lock().unwrap().status.clone()
    }

    pub(super) fn start_polling(self: &Arc<Self>, graph: GraphClient) {
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
        let me = self.clone();
        let words = tokio::spawn(async move { me.keep_time_words_current().await });
        {
            let mut state = self.state.lock().unwrap();
            state.engine = Some(handle);
            state.tasks = vec![run, consume, notify, words];
        }
        self.start_calendar();
        self.start_mqtt();
    }

    /// Shows merged notifications when their merge window ends: sleeps
    /// until the notifier's deadline, or until a change starts one.
    pub(super) async fn announce_when_due(&self) {
        loop {
            let deadline = self.state.lock().unwrap().notifier.deadline();
            match deadline {
                None => self.notifications_waiting.notified().await,
                Some(at) => {
                    let left = (at - self.clock.now()).to_std().unwrap_or_default();
                    tokio::select! {
                        _ = tokio::time::sleep(left) => {
                            let due = self.state.lock().unwrap().notifier.due(self.clock.now());
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

    pub(super) fn stop_polling(&self) {
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

    pub(super) fn on_engine_event(&self, event: EngineEvent) {
        match event {
            EngineEvent::Snapshot { at, presences } => {
                let now = self.clock.now();
                let changed = {
                    let state = self.state.lock().unwrap();
                    presences
                        .into_iter()
                        .filter_map(|p| {
                            let t = state.roster.get(&p.id)?;
                            Some(state.shown(t, Some((p, at)), now))
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
                    state.me = Some(presence.clone());
                    match &state.sign_in {
                        SignInState::SignedIn { account } => Some(account.clone()),
                        _ => None,
                    }
                };
                self.emit(MonitorEvent::OwnPresence(Box::new(presence.clone())));
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
            state.shown(&t, Some((change.presence, change.at)), self.clock.now())
        };
        self.emit(MonitorEvent::Presence(vec![changed]));
    }
}
