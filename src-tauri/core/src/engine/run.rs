use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use rand::Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::batches::{fetch_splitting, BatchOutcome};
use super::{
    Engine, EngineEvent, EngineOptions, EngineState, EngineStatus, IdProblem, LastSeen, Pace,
};
use crate::error::{Error, Result};
use crate::graph::GraphClient;
use crate::presence::{normalize_user_id, Presence, MAX_IDS_PER_REQUEST};

impl Engine {
    /// Polls until `events`' receiver is dropped (then `Ok(())`) or the sign-in
    /// is lost (then, after a `signed_out` status, `Err(Error::SignInNeeded)`).
    /// Every other trouble is reported as a status and retried.
    pub async fn run(self, events: mpsc::Sender<EngineEvent>) -> Result<()> {
        let wall_clock = self.wall_clock;
        let mut run = Run::new(self.graph, self.options, self.seen, events);
        let mut roster = self.ids.subscribe();
        let mut interval = self.interval.subscribe();
        // Keep the senders alive so that `changed()` never reports a closed
        // channel while handles come and go.
        let (_keep_ids, _keep_interval) = (self.ids, self.interval);
        let outcome = async {
            // Cloned first: the borrow guard is not Send and must not live across
            // the await (the engine runs on spawned tasks).
            let ids = roster.borrow_and_update().clone();
            run.set_roster(ids).await?;
            loop {
                let started = Instant::now();
                let wait = run.poll(None).await?;
                // Normally polls start `wait` apart. After throttling the
                // poll itself waited for the gate; counting from its start
                // would send the next one straight after, into a budget that
                // has only just recovered.
                let anchor = if run.throttled {
                    Instant::now()
                } else {
                    started
                };
                let mut wake = anchor + wait;
                let mut last_request = started;
                let mut clocks = Clocks::now(wall_clock);
                let mut check = tokio::time::interval(RESUME_CHECK);
                check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep_until(wake) => break,
                        _ = check.tick() => {
                            // After a suspend, the monotonic clock has not
                            // moved while the world has: what is shown may be
                            // hours old. Poll as soon as the floor allows.
                            if clocks.resumed() {
                                wake = wake.min((last_request + run.pace.min_interval).max(Instant::now()));
                            }
                        }
                        _ = run.events.closed() => return Err(Stop::Unwatched),
                        Ok(()) = interval.changed() => {
                            let asked = *interval.borrow_and_update();
                            run.pace.set_interval(asked);
                        }
                        Ok(()) = roster.changed() => {
                            let ids = roster.borrow_and_update().clone();
                            let added = run.set_roster(ids).await?;
                            if added.is_empty() {
                                continue;
                            }
                            // Only the newcomers, and never sooner than the
                            // floor allows: a roster edited key by key must
                            // not turn into a burst of requests. When the
                            // next poll is that close anyway, it takes them.
                            let floor = run.pace.min_interval;
                            let earliest = (last_request + floor).max(Instant::now());
                            if earliest + floor > wake {
                                continue;
                            }
                            tokio::select! {
                                _ = tokio::time::sleep_until(earliest) => {}
                                _ = run.events.closed() => return Err(Stop::Unwatched),
                            }
                            // Newcomers added while waiting come along.
                            if roster.has_changed().unwrap_or(false) {
                                let ids = roster.borrow_and_update().clone();
                                run.set_roster(ids).await?;
                            }
                            let newcomers: Vec<String> = run
                                .active
                                .iter()
                                .filter(|id| !run.seen().contains(id))
                                .cloned()
                                .collect();
                            last_request = Instant::now();
                            run.poll(Some(newcomers)).await?;
                        }
                    }
                }
            }
        }
        .await;
        match outcome {
            Ok(()) | Err(Stop::Unwatched) => Ok(()),
            Err(Stop::SignIn(e)) => Err(e),
        }
    }
}

/// How often the engine compares the wall clock with the monotonic one.
const RESUME_CHECK: Duration = Duration::from_secs(5);
/// The wall clock running this far ahead of the monotonic one between two
/// checks means the machine was asleep.
const SUSPEND_GAP: Duration = Duration::from_secs(20);

/// The two clocks at a moment: a suspend stops the monotonic one
/// (`CLOCK_MONOTONIC` on Linux) but not the wall clock.
struct Clocks {
    /// Where the wall clock is read: `SystemTime::now` but in tests.
    read_wall: fn() -> std::time::SystemTime,
    wall: std::time::SystemTime,
    mono: Instant,
}

impl Clocks {
    fn now(read_wall: fn() -> std::time::SystemTime) -> Clocks {
        Clocks {
            read_wall,
            wall: read_wall(),
            mono: Instant::now(),
        }
    }

    /// True once per resume: the wall clock went further than the monotonic
    /// clock since the last look. A wall clock set back is not a resume.
    fn resumed(&mut self) -> bool {
        let now = Clocks::now(self.read_wall);
        let wall = now.wall.duration_since(self.wall).unwrap_or_default();
        let mono = now.mono.saturating_duration_since(self.mono);
        *self = now;
        slept(wall, mono)
    }
}

/// Did the machine sleep, when the wall clock moved `wall` and the
/// monotonic clock `mono` over the same stretch?
fn slept(wall: Duration, mono: Duration) -> bool {
    wall.saturating_sub(mono) > SUSPEND_GAP
}

/// Why a run ends.
enum Stop {
    /// Nobody listens any more.
    Unwatched,
    SignIn(Error),
}

type Flow<T = ()> = std::result::Result<T, Stop>;

/// The state of one run of the engine.
struct Run {
    graph: GraphClient,
    options: EngineOptions,
    events: mpsc::Sender<EngineEvent>,
    /// The distinct, valid IDs to poll, in roster order.
    active: Vec<String>,
    reported_invalid: HashSet<String>,
    rejected: HashSet<String>,
    /// Shared with the engine's handles, which read it; only this loop
    /// writes it, a poll at a time.
    seen: Arc<Mutex<LastSeen>>,
    snapshot_sent: bool,
    status: Option<EngineStatus>,
    pace: Pace,
    /// Failed polls in a row (offline or errors), for the backoff.
    failures: u32,
    /// The last poll met a 429.
    throttled: bool,
    /// The user's own presence as last told.
    me: Option<Presence>,
    /// When Graph last answered a presence request.
    last_answer_at: Option<DateTime<Utc>>,
}

impl Run {
    fn new(
        graph: GraphClient,
        options: EngineOptions,
        seen: Arc<Mutex<LastSeen>>,
        events: mpsc::Sender<EngineEvent>,
    ) -> Run {
        let pace = Pace::new(&options);
        Run {
            graph,
            options,
            events,
            active: Vec::new(),
            reported_invalid: HashSet::new(),
            rejected: HashSet::new(),
            seen,
            snapshot_sent: false,
            status: None,
            pace,
            failures: 0,
            throttled: false,
            me: None,
            last_answer_at: None,
        }
    }

    /// The last presences, for this poll's reading or writing. Held only
    /// between awaits: readers wait at most for one answer to be applied.
    fn seen(&self) -> std::sync::MutexGuard<'_, LastSeen> {
        self.seen.lock().unwrap()
    }

    async fn emit(&self, event: EngineEvent) -> Flow {
        self.events.send(event).await.map_err(|_| Stop::Unwatched)
    }

    /// Makes `ids` the roster; returns the IDs that were not polled before.
    async fn set_roster(&mut self, ids: Vec<String>) -> Flow<Vec<String>> {
        let before: HashSet<String> = self.active.iter().cloned().collect();
        let mut distinct = HashSet::with_capacity(ids.len());
        let mut active = Vec::with_capacity(ids.len());
        let mut invalid = Vec::new();
        for raw in ids {
            match normalize_user_id(&raw) {
                Some(id) => {
                    if !self.rejected.contains(&id) && distinct.insert(id.clone()) {
                        active.push(id);
                    }
                }
                None => {
                    if self.reported_invalid.insert(raw.clone()) {
                        invalid.push(raw);
                    }
                }
            }
        }
        self.seen().retain(|id| distinct.contains(id));
        let added = active
            .iter()
            .filter(|id| !before.contains(*id))
            .cloned()
            .collect();
        self.active = active;
        if !invalid.is_empty() {
            self.emit(EngineEvent::InvalidIds {
                ids: invalid,
                reason: IdProblem::NotAUserId,
            })
            .await?;
        }
        Ok(added)
    }

    /// One poll of everyone (or, with `only`, of teammates just added);
    /// returns how long to wait before the next poll.
    async fn poll(&mut self, only: Option<Vec<String>>) -> Flow<Duration> {
        let throttles_before = self.graph.throttle_count();
        let partial = only.is_some();
        let mut ids = only.unwrap_or_else(|| self.active.clone());
        // The user's own ID rides along in a full poll, unless they are on
        // their own roster already.
        let own_id = self.options.own_id.clone().filter(|_| !partial);
        let own_extra = own_id.clone().filter(|me| !self.active.contains(me));
        ids.extend(own_extra.clone());
        let mut outcomes = self.fetch_all(ids).await?;
        let mut own = None;
        if let Some(me) = &own_id {
            for outcome in &mut outcomes {
                for (asked, answer) in &mut outcome.answered {
                    if let Some(p) = answer.iter().find(|p| p.id.eq_ignore_ascii_case(me)) {
                        own = Some(p.clone());
                    }
                    // Not a teammate: kept out of the roster's picture.
                    if own_extra.is_some() {
                        asked.retain(|id| !id.eq_ignore_ascii_case(me));
                        answer.retain(|p| !p.id.eq_ignore_ascii_case(me));
                    }
                }
                if own_extra.is_some() {
                    outcome.rejected.retain(|id| !id.eq_ignore_ascii_case(me));
                }
            }
        }
        let throttled = self.graph.throttle_count() > throttles_before;
        let at = Utc::now();

        let mut changes = Vec::new();
        let mut rejected = Vec::new();
        let mut errors = Vec::new();
        let mut any_answer = false;
        for outcome in outcomes {
            for (asked, answer) in outcome.answered {
                any_answer = true;
                self.last_answer_at = Some(at);
                // Before the snapshot, changes are not news: not listed.
                let report = self.snapshot_sent;
                changes.extend(self.seen().apply_reporting(&asked, answer, at, report));
            }
            rejected.extend(outcome.rejected);
            errors.extend(outcome.error);
        }

        if !rejected.is_empty() {
            let gone: HashSet<&str> = rejected.iter().map(String::as_str).collect();
            self.active.retain(|id| !gone.contains(id.as_str()));
            self.seen().retain(|id| !gone.contains(id));
            self.rejected.extend(rejected.iter().cloned());
            self.emit(EngineEvent::InvalidIds {
                ids: rejected,
                reason: IdProblem::RejectedByGraph,
            })
            .await?;
        }

        // Health first, so that a front end learns "ok again" before it
        // shows what happened while it was not.
        if let Some(i) = errors.iter().position(Error::needs_sign_in) {
            let e = errors.swap_remove(i);
            self.set_status(EngineState::SignedOut, e.to_string(), None)
                .await?;
            return Err(Stop::SignIn(e));
        }
        self.throttled = throttled || errors.iter().any(|e| matches!(e, Error::Throttled { .. }));
        if self.throttled {
            self.pace.on_throttled();
        } else if any_answer && !partial {
            self.pace.on_clean();
        }
        // One state for the poll: throttling says the most about what to do
        // next, then a lost network, then anything else.
        let worst = errors
            .iter()
            .find(|e| matches!(e, Error::Throttled { .. }))
            .or_else(|| errors.iter().find(|e| matches!(e, Error::Network(_))))
            .or(errors.first());
        let wait = if let Some(e) = worst {
            self.failures += 1;
            let wait = self.backoff();
            let (state, retry_after) = match e {
                Error::Throttled { .. } => (
                    EngineState::Throttled,
                    self.graph.throttled_for().or(Some(self.pace.current)),
                ),
                Error::Network(_) => (EngineState::Offline, Some(wait)),
                _ => (EngineState::Error, Some(wait)),
            };
            let detail = match state {
                EngineState::Throttled => THROTTLED.to_string(),
                _ => e.to_string(),
            };
            self.set_status(state, detail, retry_after).await?;
            if state == EngineState::Throttled {
                // The gate holds requests back; the pace has already slowed.
                self.pace.next_wait(&mut rand::thread_rng())
            } else {
                wait
            }
        } else {
            self.failures = 0;
            if throttled {
                self.set_status(EngineState::Throttled, THROTTLED.into(), None)
                    .await?;
            } else {
                let detail = self.pace.describe();
                self.set_status(EngineState::Ok, detail, None).await?;
            }
            self.pace.next_wait(&mut rand::thread_rng())
        };

        if let Some(p) = own {
            if self.me.as_ref().is_none_or(|m| p.differs_from(m)) {
                self.me = Some(p.clone());
                self.emit(EngineEvent::OwnPresence(p)).await?;
            }
        }
        if self.snapshot_sent {
            for change in changes {
                self.emit(EngineEvent::Changed(change)).await?;
            }
        } else if self.active.iter().all(|id| self.seen().contains(id)) {
            // Changes before the first complete poll are part of the picture,
            // not news: a start-up must not be a burst of notifications.
            self.snapshot_sent = true;
            let presences = self.seen().presences(&self.active);
            self.emit(EngineEvent::Snapshot { at, presences }).await?;
        }
        Ok(wait)
    }

    /// Sends every batch, a few at a time, reporting throttling the moment
    /// Graph asks for it rather than when the poll ends.
    async fn fetch_all(&mut self, ids: Vec<String>) -> Flow<Vec<BatchOutcome>> {
        let graph = self.graph.clone();
        let batches: Vec<Vec<String>> = ids
            .chunks(MAX_IDS_PER_REQUEST)
            .map(<[String]>::to_vec)
            .collect();
        let all = stream::iter(batches)
            .map(|batch| {
                let graph = graph.clone();
                async move {
                    fetch_splitting(batch, move |ids| {
                        let graph = graph.clone();
                        async move { graph.poll_presences_by_user_id(&ids).await }
                    })
                    .await
                }
            })
            .buffer_unordered(self.options.concurrency.max(1))
            .collect::<Vec<_>>();
        tokio::pin!(all);
        let mut gate = self.graph.throttle_changes();
        loop {
            tokio::select! {
                outcomes = &mut all => return Ok(outcomes),
                Ok(()) = gate.changed() => {
                    if let Some(wait) = self.graph.throttled_for() {
                        self.set_status(EngineState::Throttled, THROTTLED.into(), Some(wait)).await?;
                    }
                }
            }
        }
    }

    async fn set_status(
        &mut self,
        state: EngineState,
        detail: String,
        retry_after: Option<Duration>,
    ) -> Flow {
        // Offline is one state whatever the socket said (refused, reset,
        // timed out): repeating it as the wording varies would be noise.
        let same = self.status.as_ref().is_some_and(|s| {
            s.state == state && (state == EngineState::Offline || s.detail == detail)
        });
        if same {
            return Ok(());
        }
        let status = EngineStatus {
            state,
            detail,
            retry_after,
            interval: self.pace.current,
            last_answer_at: self.last_answer_at,
        };
        self.status = Some(status.clone());
        self.emit(EngineEvent::Status(status)).await
    }

    /// Exponential backoff with jitter for failures that say nothing about
    /// the budget: half to all of `interval * 2^(failures-1)`, capped.
    fn backoff(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(16);
        let full = self
            .pace
            .current
            .saturating_mul(1 << doublings)
            .min(self.options.max_backoff.max(self.pace.min_interval));
        let share: f64 = rand::thread_rng().gen_range(0.5..=1.0);
        full.mul_f64(share).max(self.pace.min_interval)
    }
}

const THROTTLED: &str = "Microsoft Graph is throttling presence requests: nothing is sent until it allows, and polling slows down.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspend_is_a_wall_clock_far_ahead_of_the_monotonic_one() {
        let secs = Duration::from_secs;
        assert!(!slept(secs(5), secs(5)), "awake");
        assert!(!slept(secs(7), secs(5)), "a loaded machine, NTP slewing");
        assert!(!slept(secs(0), secs(5)), "the wall clock set back");
        assert!(slept(secs(3600), secs(5)), "an hour asleep");
        assert!(slept(secs(30), secs(5)));
        assert!(!slept(Duration::ZERO, Duration::MAX));
        assert!(slept(Duration::MAX, Duration::ZERO));
    }
}
