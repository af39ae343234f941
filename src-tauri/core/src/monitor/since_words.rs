//! The words about time on each row ("for 25 min", "as of 14:05"): told
//! with each teammate, and told again when they change by themselves, as
//! time passes or Graph stops or starts answering. The window shows them as
//! given.

use std::collections::HashMap;

use chrono::{DateTime, Local, Utc};

use crate::engine::EngineState;
use crate::how_long::{self, SinceWords};

use super::{Monitor, MonitorEvent, SinceWordsChange, State};

impl State {
    /// Graph's last answer, while it gives none: rows say "as of" it.
    fn stale_as_of(&self) -> Option<DateTime<Utc>> {
        let status = self.status.as_ref()?;
        matches!(status.state, EngineState::Offline | EngineState::Error)
            .then_some(status.last_answer_at)
            .flatten()
    }

    /// A row's words about time at `now`, for presence seen `since`.
    pub(super) fn since_words(
        &self,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> SinceWords {
        how_long::since_words(since, self.stale_as_of(), &now.with_timezone(&Local))
    }

    /// Every row's words whose words changed since they were last told (now
    /// taken as told), and when the next row's change by itself.
    fn since_words_changed(
        &mut self,
        now: DateTime<Utc>,
    ) -> (Vec<SinceWordsChange>, Option<DateTime<Utc>>) {
        let mut changed = Vec::new();
        let mut next: Option<DateTime<Utc>> = None;
        let mut told = std::mem::take(&mut self.since_words_told);
        for t in self.roster.teammates() {
            let since = self.last_seen(&t.id).map(|(_, at)| at);
            let words = self.since_words(since, now);
            if let Some(at) = words.changes_at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
            // Nobody is told "" before they are told anything else.
            if told.get(&t.id).map_or("", String::as_str) != words.text {
                told.insert(t.id.clone(), words.text.clone());
                changed.push(SinceWordsChange {
                    id: t.id.clone(),
                    words: words.text,
                });
            }
        }
        self.since_words_told = told;
        (changed, next)
    }
}

impl Monitor {
    /// Takes note of the words each row was told with `event`, and wakes
    /// [`Monitor::keep_since_words_current`] when the next change may move.
    pub(super) fn note_since_words(&self, event: &MonitorEvent) {
        let told: Vec<(&str, &str)> = match event {
            MonitorEvent::Roster(everyone) | MonitorEvent::Presence(everyone) => everyone
                .iter()
                .map(|t| (t.teammate.id.as_str(), t.since_words.as_str()))
                .collect(),
            MonitorEvent::Status(_) => Vec::new(),
            _ => return,
        };
        {
            let mut state = self.state.lock().unwrap();
            if let MonitorEvent::Roster(_) = event {
                state.since_words_told = HashMap::new();
            }
            for (id, words) in told {
                state
                    .since_words_told
                    .insert(id.to_string(), words.to_string());
            }
        }
        self.since_words_waiting.notify_one();
    }

    /// Tells the rows whose words about time changed, when they change: at
    /// the next minute, hour or day of someone's, or at once when Graph
    /// stops or starts answering. Runs while polling.
    pub(super) async fn keep_since_words_current(&self) {
        loop {
            let (changed, next) = self
                .state
                .lock()
                .unwrap()
                .since_words_changed(self.clock.now());
            if !changed.is_empty() {
                self.emit(MonitorEvent::SinceWords(changed));
            }
            match next {
                None => self.since_words_waiting.notified().await,
                Some(at) => {
                    let left = (at - self.clock.now()).to_std().unwrap_or_default();
                    tokio::select! {
                        _ = tokio::time::sleep(left) => {}
                        _ = self.since_words_waiting.notified() => {}
                    }
                }
            }
        }
    }
}
