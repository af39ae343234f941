//! The words about time on each row: how long ("for 25 min", "as of 14:05"
//! while Graph gives no answers) and the calendar's ("until 14:30",
//! "outside working hours (22:10 there)"). Told with each teammate, and told
//! again when they change by themselves, as time passes or Graph stops or
//! starts answering. The window shows them as given.

use std::collections::HashMap;

use chrono::{DateTime, Local, Utc};

use crate::calendar;
use crate::engine::EngineState;
use crate::how_long;
use crate::roster::Teammate;

use super::{Monitor, MonitorEvent, State, TimeWordsChange};

/// A row's words at some time, and when they next change by themselves.
struct Timed {
    words: TimeWordsChange,
    changes_at: Option<DateTime<Utc>>,
}

impl State {
    /// Graph's last answer, while it gives none: rows say "as of" it.
    fn stale_as_of(&self) -> Option<DateTime<Utc>> {
        let status = self.status.as_ref()?;
        matches!(status.state, EngineState::Offline | EngineState::Error)
            .then_some(status.last_answer_at)
            .flatten()
    }

    /// `t`'s row's words about time at `now`, for presence seen `since`.
    pub(super) fn time_words(
        &self,
        t: &Teammate,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> TimeWordsChange {
        self.timed_words(t, since, now).words
    }

    fn timed_words(&self, t: &Teammate, since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Timed {
        let here = now.with_timezone(&Local);
        let how_long = how_long::since_words(since, self.stale_as_of(), &here);
        let outlook = self.outlooks.get(&t.id);
        let calendar_at = outlook.and_then(|o| calendar::words_change_at(o, &here));
        Timed {
            words: TimeWordsChange {
                id: t.id.clone(),
                since_words: how_long.text,
                calendar_words: outlook.map_or_else(Vec::new, |o| calendar::in_words(o, &here)),
            },
            changes_at: [how_long.changes_at, calendar_at]
                .into_iter()
                .flatten()
                .min(),
        }
    }

    /// The rows whose words changed since they were last told (now taken as
    /// told), and when the next row's change by themselves.
    fn time_words_changed(
        &mut self,
        now: DateTime<Utc>,
    ) -> (Vec<TimeWordsChange>, Option<DateTime<Utc>>) {
        let mut changed = Vec::new();
        let mut next: Option<DateTime<Utc>> = None;
        let mut told = std::mem::take(&mut self.time_words_told);
        for t in self.roster.teammates() {
            let since = self.last_seen(&t.id).map(|(_, at)| at);
            let Timed { words, changes_at } = self.timed_words(t, since, now);
            next = [next, changes_at].into_iter().flatten().min();
            // Nobody is told no words before they are told some.
            let before = told.get(&t.id).map_or((&[][..], ""), |w| {
                (w.calendar_words.as_slice(), w.since_words.as_str())
            });
            if before != (words.calendar_words.as_slice(), words.since_words.as_str()) {
                told.insert(t.id.clone(), words.clone());
                changed.push(words);
            }
        }
        self.time_words_told = told;
        (changed, next)
    }
}

impl Monitor {
    /// Takes note of the words each row was told with `event`, and wakes
    /// [`Monitor::keep_time_words_current`] when the next change may move.
    pub(super) fn note_time_words(&self, event: &MonitorEvent) {
        let told: Vec<TimeWordsChange> = match event {
            MonitorEvent::Roster(everyone) | MonitorEvent::Presence(everyone) => everyone
                .iter()
                .map(|t| TimeWordsChange {
                    id: t.teammate.id.clone(),
                    since_words: t.since_words.clone(),
                    calendar_words: t.calendar_words.clone(),
                })
                .collect(),
            MonitorEvent::Status(_) => Vec::new(),
            _ => return,
        };
        {
            let mut state = self.state.lock().unwrap();
            if let MonitorEvent::Roster(_) = event {
                state.time_words_told = HashMap::new();
            }
            for words in told {
                state.time_words_told.insert(words.id.clone(), words);
            }
        }
        self.time_words_waiting.notify_one();
    }

    /// Tells the rows whose words about time changed, when they change: at
    /// the next minute, hour or day of someone's how long, the next minute
    /// of someone's time of day there, the next midnight for times of day
    /// here, or at once when Graph stops or starts answering. Runs while
    /// polling.
    pub(super) async fn keep_time_words_current(&self) {
        loop {
            let (changed, next) = self
                .state
                .lock()
                .unwrap()
                .time_words_changed(self.clock.now());
            if !changed.is_empty() {
                self.emit(MonitorEvent::TimeWords(changed));
            }
            match next {
                None => self.time_words_waiting.notified().await,
                Some(at) => {
                    let left = (at - self.clock.now()).to_std().unwrap_or_default();
                    tokio::select! {
                        _ = tokio::time::sleep(left) => {}
                        _ = self.time_words_waiting.notified() => {}
                    }
                }
            }
        }
    }
}
