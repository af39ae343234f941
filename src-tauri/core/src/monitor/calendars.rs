//! "When they will be free": reading the roster's calendars while it is on
//! and the sign-in may.

use std::sync::Arc;

use crate::auth::{self, SignInFlow, SignInMethod};
use crate::calendar::{self, CalendarEvent, CALENDAR_SCOPE};
use crate::error::{Error, ErrorCode, Result};
use crate::roster::Roster;

use super::{teammate_state, CalendarState, Monitor, MonitorEvent, SignInState};

impl Monitor {
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
    pub(super) fn start_calendar(self: &Arc<Self>) {
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
    pub(super) fn stop_calendar(&self) {
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
                    changes
                        .iter()
                        .filter_map(|c| {
                            let t = state.roster.get(&c.id)?;
                            Some(teammate_state(&state, t, self.clock.now()))
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
}

/// The roster's people, by mailbox address where it is known.
pub(super) fn calendar_people(roster: &Roster) -> Vec<calendar::Person> {
    roster
        .teammates()
        .iter()
        .map(calendar::Person::of)
        .collect()
}
