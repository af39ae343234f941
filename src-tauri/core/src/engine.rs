//! The presence poller: roster IDs in, presence changes out.
//!
//! One poll asks for everyone in `ceil(N/650)` `getPresencesByUserId`
//! requests of distinct, GUID-checked IDs, a few at a time. The answers update
//! [`LastSeen`], which keeps each teammate's last presence and turns answers
//! into [`PresenceChange`]s. The first complete poll is announced as one
//! [`EngineEvent::Snapshot`]; after that only real changes are emitted, and the
//! engine's health as an [`EngineStatus`] whenever it changes.
//!
//! # Pacing: sharing the tenant's budget
//!
//! All installs of one client ID in a tenant share 1,500 presence requests per
//! 30 s: a fleet of K installs sending B requests per poll needs an interval of
//! at least K*B/50 s. No install can know K, but every install learns when the
//! fleet is over budget: Graph answers 429. What Graph does then is harsh: the
//! refused requests count against the budget too, so a fleet that sends more
//! than the budget has every request refused until it sends less. The pace
//! ([`Pace`]) is built for that:
//!
//! - a 429 is not retried inside the poll (the retry policy of one-off
//!   requests, the SDK's, would send up to four requests per batch into a
//!   budget that is already spent); the batch keeps its last presence and the
//!   next poll asks again, after `Retry-After`;
//! - a poll that met a 429 lengthens the interval by 30 % (up to
//!   `max_interval`), and the interval it was throttled at becomes unusable:
//!   the floor rises to 20 % above it;
//! - each clean poll closes a quarter of the gap between the interval and that
//!   floor (at least one step, a fifth of the configured interval), so the
//!   interval recovers, but never below the floor;
//! - every wait is the interval give or take a fifth, at random, and half
//!   after a throttled poll, so that installs started or throttled together
//!   drift apart instead of meeting the limit together at every poll.
//!
//! Small steps matter more than fast ones: installs throttled together grow
//! their intervals together, and leave the throttling within one step of each
//! other, so the fleet settles close to the fair K*B/50 s with every install
//! near it; doubling instead leaves some installs twice as slow as others for
//! good. The floor is kept for the life of the run: a fleet rarely shrinks,
//! and the cost of staying slow is freshness, not the budget. `bench/fleet`
//! (`examples/fleet.rs`) runs this very code for fleets of 10 to 10,000
//! installs; BENCHMARKS.md has the numbers.
//!
//! Network loss, timeouts and server errors are different: they say nothing
//! about the budget, so they leave the pace alone and back off exponentially
//! with jitter (so that many installs do not come back in step) until a poll
//! works again.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use rand::Rng;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::config::{DEFAULT_INTERVAL, MIN_INTERVAL};
use crate::error::{Error, Result};
use crate::graph::GraphClient;
use crate::presence::{normalize_user_id, Presence, MAX_IDS_PER_REQUEST};

/// How the engine polls.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    /// Time between the starts of two polls when all is well (default 15 s).
    pub interval: Duration,
    /// The shortest interval accepted; `interval` is raised to it. 5 s: the
    /// product's floor. Only tests lower it.
    pub min_interval: Duration,
    /// The longest interval throttling may push the engine to (600 s: the
    /// budget of 10,000 installs of about 1.4 requests each needs 275 s).
    pub max_interval: Duration,
    /// The longest wait between tries while offline or while Graph fails.
    pub max_backoff: Duration,
    /// Presence requests in flight at once during one poll.
    pub concurrency: usize,
    /// The signed-in user's ID: their own presence is asked for in the same
    /// requests as the roster's (one ID more in a batch, not a request of
    /// its own), so it follows the same pace and Retry-After gate.
    pub own_id: Option<String>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            interval: DEFAULT_INTERVAL,
            min_interval: MIN_INTERVAL,
            max_interval: Duration::from_secs(600),
            max_backoff: Duration::from_secs(120),
            concurrency: 4,
            own_id: None,
        }
    }
}

/// What the engine tells its front end.
// A change is large next to the other events, but events are few and each is
// moved once; a Box would only make front ends' matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// Everyone's presence, once, after the first poll that covered everyone.
    Snapshot {
        at: DateTime<Utc>,
        presences: Vec<Presence>,
    },
    /// One teammate's presence changed in a way people notice.
    Changed(PresenceChange),
    /// The engine's health changed.
    Status(EngineStatus),
    /// IDs that are not polled, and why.
    InvalidIds { ids: Vec<String>, reason: IdProblem },
    /// The signed-in user's own presence, first and whenever it changes
    /// (with [`EngineOptions::own_id`]).
    OwnPresence(Presence),
}

/// Why an ID is left out of polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdProblem {
    /// Not a user object ID (a GUID); never sent.
    NotAUserId,
    /// Graph refused a request holding only this ID (400); no longer sent.
    RejectedByGraph,
}

impl IdProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            IdProblem::NotAUserId => "not_a_user_id",
            IdProblem::RejectedByGraph => "rejected_by_graph",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            IdProblem::NotAUserId => {
                "not a user object ID (a GUID such as fa8bf3dc-eca7-46b7-bad1-db199b62afc3)"
            }
            IdProblem::RejectedByGraph => "refused by Microsoft Graph",
        }
    }
}

/// One teammate's presence changed.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceChange {
    pub id: String,
    pub presence: Presence,
    /// What was shown before; `None` for someone added to the roster after the
    /// snapshot, seen for the first time.
    pub previous: Option<Presence>,
    /// When the previous presence was first seen.
    pub previous_since: Option<DateTime<Utc>>,
    /// When this change was seen.
    pub at: DateTime<Utc>,
}

/// The engine's health, in the words of `presently watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineState {
    /// Polling works.
    Ok,
    /// Graph asked to slow down; nothing is sent until `retry_after` is over.
    Throttled,
    /// Graph cannot be reached (no network, timeouts).
    Offline,
    /// The sign-in was lost; the engine has stopped.
    SignedOut,
    /// Graph answers, but with errors or nonsense.
    Error,
}

impl EngineState {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineState::Ok => "ok",
            EngineState::Throttled => "throttled",
            EngineState::Offline => "offline",
            EngineState::SignedOut => "signed_out",
            EngineState::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EngineStatus {
    pub state: EngineState,
    /// A sentence for people.
    pub detail: String,
    /// When the next request may go out, if the engine is waiting.
    pub retry_after: Option<Duration>,
    /// The poll interval in force.
    pub interval: Duration,
    /// When Graph last answered: what is shown is as of then. While offline
    /// or failing, front ends say so ("as of 14:05") rather than show old
    /// presence as current.
    pub last_answer_at: Option<DateTime<Utc>>,
}

/// The last presence of each teammate, and the diff of a new answer against it.
#[derive(Debug, Clone, Default)]
pub struct LastSeen {
    held: HashMap<String, Seen>,
}

#[derive(Debug, Clone)]
struct Seen {
    presence: Presence,
    /// When this presence (as people see it) was first seen.
    since: DateTime<Utc>,
}

impl LastSeen {
    pub fn new() -> LastSeen {
        LastSeen::default()
    }

    pub fn get(&self, id: &str) -> Option<&Presence> {
        self.held.get(id).map(|s| &s.presence)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.held.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Forgets everyone for whom `keep` is false.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.held.retain(|id, _| keep(id));
    }

    /// The held presences of `ids`, in that order (someone never seen is
    /// left out).
    pub fn presences(&self, ids: &[String]) -> Vec<Presence> {
        ids.iter().filter_map(|id| self.get(id).cloned()).collect()
    }

    /// Applies Graph's `answer` to a request for the distinct IDs `asked`, seen
    /// at `at`; returns one change per teammate whose presence changed as
    /// people see it (`previous: None` for someone seen for the first time).
    ///
    /// An asked ID missing from the answer becomes `PresenceUnknown`. An entry
    /// with an older `sequenceNumber` than the one held is stale and ignored;
    /// entries for IDs that were not asked are ignored too.
    pub fn apply(
        &mut self,
        asked: &[String],
        answer: Vec<Presence>,
        at: DateTime<Utc>,
    ) -> Vec<PresenceChange> {
        self.apply_reporting(asked, answer, at, true)
    }

    /// [`LastSeen::apply`]; with `report` false the changes are applied but
    /// not listed (before the first snapshot, when nobody wants them: for
    /// 10,000 teammates the list would double the poll's memory).
    fn apply_reporting(
        &mut self,
        asked: &[String],
        answer: Vec<Presence>,
        at: DateTime<Utc>,
        report: bool,
    ) -> Vec<PresenceChange> {
        // Slots follow `asked`, keyed by borrowed IDs: no string is copied
        // for the 10,000 entries of a large roster.
        let position: HashMap<&str, usize> = asked
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut slots: Vec<Option<Presence>> = vec![None; asked.len()];
        for p in answer {
            let Some(&i) = position.get(p.id.as_str()) else {
                continue;
            };
            match &slots[i] {
                // Graph repeated someone: keep the newer of the two.
                Some(kept) if p.is_older_than(kept) => {}
                _ => slots[i] = Some(p),
            }
        }

        let mut changes = Vec::new();
        for (id, slot) in asked.iter().zip(slots) {
            let new = slot.unwrap_or_else(|| Presence::unknown(id.clone()));
            match self.held.get_mut(id.as_str()) {
                None => {
                    if report {
                        changes.push(PresenceChange {
                            id: id.clone(),
                            presence: new.clone(),
                            previous: None,
                            previous_since: None,
                            at,
                        });
                    }
                    self.held.insert(
                        id.clone(),
                        Seen {
                            presence: new,
                            since: at,
                        },
                    );
                }
                Some(seen) => {
                    if new.is_older_than(&seen.presence) {
                        continue;
                    }
                    if new.differs_from(&seen.presence) {
                        let previous = std::mem::replace(&mut seen.presence, new);
                        let previous_since = std::mem::replace(&mut seen.since, at);
                        if !report {
                            continue;
                        }
                        changes.push(PresenceChange {
                            id: id.clone(),
                            presence: seen.presence.clone(),
                            previous: Some(previous),
                            previous_since: Some(previous_since),
                            at,
                        });
                    } else {
                        // Same to the eye; keep the newer stamp so that a
                        // later stale answer is still recognised.
                        seen.presence = new;
                    }
                }
            }
        }
        changes
    }
}

/// Changes the roster of a running engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    ids: Arc<watch::Sender<Vec<String>>>,
    interval: Arc<watch::Sender<Duration>>,
}

impl EngineHandle {
    /// Changes the interval asked for (a setting), keeping what the engine
    /// has learnt: the floor that throttling set stays, and so does any
    /// Retry-After gate of the Graph client.
    pub fn set_interval(&self, interval: Duration) {
        self.interval.send_replace(interval);
    }

    /// Replaces the IDs to poll. Teammates who stay keep their state; new ones
    /// are polled on their own at the earliest `min_interval` after the last
    /// request (or with the next poll, when that comes about as soon) and
    /// appear as changes with no previous value. Removing teammates, or
    /// sending the same list again (a bell or a star), sends nothing.
    pub fn set_ids(&self, ids: Vec<String>) {
        self.ids.send_replace(ids);
    }
}

/// The poller. See the module documentation.
#[derive(Debug)]
pub struct Engine {
    graph: GraphClient,
    ids: Arc<watch::Sender<Vec<String>>>,
    interval: Arc<watch::Sender<Duration>>,
    options: EngineOptions,
}

impl Engine {
    /// An engine for the user object IDs `ids` (any order, duplicates and
    /// invalid ones allowed: they are reported, not sent).
    pub fn new(graph: GraphClient, ids: Vec<String>, options: EngineOptions) -> Engine {
        let (tx, _) = watch::channel(ids);
        let (interval, _) = watch::channel(options.interval);
        Engine {
            graph,
            ids: Arc::new(tx),
            interval: Arc::new(interval),
            options,
        }
    }

    pub fn handle(&self) -> EngineHandle {
        EngineHandle {
            ids: self.ids.clone(),
            interval: self.interval.clone(),
        }
    }

    /// Polls until `events`' receiver is dropped (then `Ok(())`) or the sign-in
    /// is lost (then, after a `signed_out` status, `Err(Error::SignInNeeded)`).
    /// Every other trouble is reported as a status and retried.
    pub async fn run(self, events: mpsc::Sender<EngineEvent>) -> Result<()> {
        let mut run = Run::new(self.graph, self.options, events);
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
                let mut clocks = Clocks::now();
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
                                .filter(|id| !run.seen.contains(id))
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
    wall: std::time::SystemTime,
    mono: Instant,
}

impl Clocks {
    fn now() -> Clocks {
        Clocks {
            wall: std::time::SystemTime::now(),
            mono: Instant::now(),
        }
    }

    /// True once per resume: the wall clock went further than the monotonic
    /// clock since the last look. A wall clock set back is not a resume.
    fn resumed(&mut self) -> bool {
        let now = Clocks::now();
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
    seen: LastSeen,
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

/// What one batch of IDs gave, after any splitting.
#[derive(Debug, Default)]
struct BatchOutcome {
    answered: Vec<(Vec<String>, Vec<Presence>)>,
    rejected: Vec<String>,
    error: Option<Error>,
}

impl Run {
    fn new(graph: GraphClient, options: EngineOptions, events: mpsc::Sender<EngineEvent>) -> Run {
        let pace = Pace::new(&options);
        Run {
            graph,
            options,
            events,
            active: Vec::new(),
            reported_invalid: HashSet::new(),
            rejected: HashSet::new(),
            seen: LastSeen::new(),
            snapshot_sent: false,
            status: None,
            pace,
            failures: 0,
            throttled: false,
            me: None,
            last_answer_at: None,
        }
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
        self.seen.retain(|id| distinct.contains(id));
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
                changes.extend(self.seen.apply_reporting(&asked, answer, at, report));
            }
            rejected.extend(outcome.rejected);
            errors.extend(outcome.error);
        }

        if !rejected.is_empty() {
            let gone: HashSet<&str> = rejected.iter().map(String::as_str).collect();
            self.active.retain(|id| !gone.contains(id.as_str()));
            self.seen.retain(|id| !gone.contains(id));
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
        } else if self.active.iter().all(|id| self.seen.contains(id)) {
            // Changes before the first complete poll are part of the picture,
            // not news: a start-up must not be a burst of notifications.
            self.snapshot_sent = true;
            self.emit(EngineEvent::Snapshot {
                at,
                presences: self.seen.presences(&self.active),
            })
            .await?;
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

/// Fetches one batch; a batch Graph refuses with 400 is split in halves until
/// the IDs it refuses on their own are found. The others are still answered.
///
/// The search is bounded: at most `2·⌈log2(n)⌉ + 1` requests besides the
/// batch's own, enough to find one refused ID among `n`. What is left then
/// keeps its last presence until the next poll, which goes on from there
/// (IDs found are no longer sent). If nothing was answered at all, the
/// refusal is Graph's or the request's, not the IDs': nobody is dropped.
async fn fetch_splitting<F, Fut>(batch: Vec<String>, fetch: F) -> BatchOutcome
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<Presence>>>,
{
    let whole = batch.len();
    let extra_allowed = split_budget(whole);
    let mut out = BatchOutcome::default();
    let mut todo = vec![batch];
    let mut first_refusal = None;
    let mut sent = 0;
    while let Some(part) = todo.pop() {
        if sent > extra_allowed {
            // The rest waits for the next poll.
            out.error = first_refusal.clone();
            break;
        }
        sent += 1;
        match fetch(part.clone()).await {
            Ok(answer) => out.answered.push((part, answer)),
            Err(e @ Error::Graph { status: 400, .. }) => {
                if part.len() > 1 {
                    let mut left = part;
                    let right = left.split_off(left.len() / 2);
                    todo.push(right);
                    todo.push(left);
                } else {
                    out.rejected.push(part.into_iter().next().expect("one ID"));
                }
                first_refusal.get_or_insert(e);
            }
            Err(e) => {
                // Whatever was not asked yet keeps its last presence.
                out.error = Some(e);
                return out;
            }
        }
    }
    if whole > 1 && out.answered.is_empty() && !out.rejected.is_empty() {
        out.rejected.clear();
        out.error = first_refusal;
    }
    out
}

/// `2·⌈log2(n)⌉ + 1`: the requests a bisection may add to a batch of `n`.
fn split_budget(n: usize) -> usize {
    let log2_ceil = usize::BITS - n.max(1).saturating_sub(1).leading_zeros();
    2 * log2_ceil as usize + 1
}

/// How far one wait may stray from the interval, either way...
const JITTER: f64 = 0.2;
/// ...and after a throttled poll, so that installs throttled together spread
/// out over their next interval.
const THROTTLED_JITTER: f64 = 0.5;
/// A throttled poll lengthens the interval by this factor...
const BACK_OFF: f64 = 1.3;
/// ...and makes this multiple of the interval it was throttled at the floor.
const FLOOR_ABOVE_THROTTLED: f64 = 1.2;
/// The share of the gap to the floor that each clean poll closes.
const RECOVERY: f64 = 0.25;

/// The poll interval, paced by throttling; see the module documentation.
/// Public so that the fleet simulation (`examples/fleet.rs`, run by
/// `bench/fleet`) drives this very code rather than a copy of it.
#[derive(Debug, Clone)]
pub struct Pace {
    base: Duration,
    min_interval: Duration,
    max: Duration,
    step: Duration,
    /// The fleet-safe floor: the base, or higher once throttling taught it.
    floor: Duration,
    /// What throttling taught: 1.2 times the highest interval throttled at.
    taught: Duration,
    current: Duration,
    /// The last poll met a 429.
    throttled: bool,
}

impl Pace {
    pub fn new(o: &EngineOptions) -> Pace {
        let base = o.interval.max(o.min_interval);
        Pace {
            base,
            min_interval: o.min_interval,
            max: o.max_interval.max(base),
            step: (base / 5).max(Duration::from_millis(1)),
            floor: base,
            taught: Duration::ZERO,
            current: base,
            throttled: false,
        }
    }

    /// A new interval asked for (a setting). The floor learnt from
    /// throttling stays: a setting cannot take the fleet back over budget.
    pub fn set_interval(&mut self, interval: Duration) {
        let base = interval.max(self.min_interval);
        self.base = base;
        self.step = (base / 5).max(Duration::from_millis(1));
        self.max = self.max.max(base);
        self.floor = base.max(self.taught).min(self.max);
        // Still recovering from throttling: go on from where it is, above
        // the new floor; otherwise the new interval holds at once.
        self.current = if self.current > self.floor && self.throttled {
            self.current
        } else {
            self.floor
        };
    }

    /// The interval polls keep on average.
    pub fn interval(&self) -> Duration {
        self.current
    }

    /// The wait before the next poll: the interval give or take a fifth (a
    /// half after a throttled poll), at random, never below the minimum.
    /// Without it, installs that start together or that one full window
    /// throttled together keep polling in step and meet the limit together
    /// every time.
    pub fn next_wait(&self, rng: &mut impl Rng) -> Duration {
        let jitter = if self.throttled {
            THROTTLED_JITTER
        } else {
            JITTER
        };
        self.current
            .mul_f64(rng.gen_range(1.0 - jitter..=1.0 + jitter))
            .max(self.min_interval)
    }

    /// A poll met a 429.
    pub fn on_throttled(&mut self) {
        let throttled_at = self.current;
        self.taught = self.taught.max(throttled_at.mul_f64(FLOOR_ABOVE_THROTTLED));
        self.floor = self.floor.max(self.taught).min(self.max);
        self.current = throttled_at.mul_f64(BACK_OFF).clamp(self.floor, self.max);
        self.throttled = true;
    }

    /// A poll was answered without a 429.
    pub fn on_clean(&mut self) {
        let gap = self.current.saturating_sub(self.floor);
        self.current = self
            .current
            .saturating_sub(self.step.max(gap.mul_f64(RECOVERY)))
            .max(self.floor);
        self.throttled = false;
    }

    fn describe(&self) -> String {
        let secs = |d: Duration| format_secs(d);
        if self.current > self.floor {
            "Recovering from throttling: polling a little faster after each clean poll.".into()
        } else if self.floor > self.base {
            format!(
                "Polling every {}: the tenant's request budget is shared with other installs.",
                secs(self.floor)
            )
        } else {
            format!("Polling every {}.", secs(self.base))
        }
    }
}

fn format_secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presence::{Activity, Availability, OutOfOffice};
    use std::sync::Mutex;

    fn id(n: u32) -> String {
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    fn p(id: &str, a: &str, act: &str, seq: &str) -> Presence {
        Presence {
            id: id.into(),
            availability: Availability::parse(a),
            activity: Activity::parse(act),
            status_message: None,
            out_of_office: None,
            sequence_number: Some(seq.into()),
            work_location: None,
        }
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn first_sight_then_only_real_changes() {
        let (a, b) = (id(1), id(2));
        let mut seen = LastSeen::new();
        let first = seen.apply(
            &[a.clone(), b.clone()],
            vec![
                p(&a, "Available", "Available", "1"),
                p(&b, "Busy", "InACall", "1"),
            ],
            t(0),
        );
        assert_eq!(first.len(), 2);
        assert!(first.iter().all(|c| c.previous.is_none()));

        // The same presence with a new stamp is no change.
        let none = seen.apply(
            &[a.clone(), b.clone()],
            vec![
                p(&a, "Available", "Available", "2"),
                p(&b, "Busy", "InACall", "2"),
            ],
            t(15),
        );
        assert!(none.is_empty());

        let one = seen.apply(
            &[a.clone(), b.clone()],
            vec![
                p(&a, "Busy", "InAMeeting", "3"),
                p(&b, "Busy", "InACall", "3"),
            ],
            t(30),
        );
        assert_eq!(one.len(), 1);
        let c = &one[0];
        assert_eq!(c.id, a);
        assert_eq!(c.presence.activity, Activity::InAMeeting);
        assert_eq!(
            c.previous.as_ref().unwrap().availability,
            Availability::Available
        );
        assert_eq!(
            c.previous_since,
            Some(t(0)),
            "first seen, not last confirmed"
        );
        assert_eq!(c.at, t(30));
    }

    #[test]
    fn status_notes_and_out_of_office_are_changes() {
        let a = id(1);
        let mut seen = LastSeen::new();
        seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Away", "Away", "1")],
            t(0),
        );
        let mut noted = p(&a, "Away", "Away", "2");
        noted.status_message = Some("Back at 3".into());
        assert_eq!(
            seen.apply(std::slice::from_ref(&a), vec![noted.clone()], t(1))
                .len(),
            1
        );
        let mut ooo = noted;
        ooo.sequence_number = Some("3".into());
        ooo.out_of_office = Some(OutOfOffice {
            is_out_of_office: true,
            message: None,
        });
        let c = seen.apply(std::slice::from_ref(&a), vec![ooo], t(2));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].previous_since, Some(t(1)));
    }

    #[test]
    fn stale_answers_are_ignored() {
        let a = id(1);
        let mut seen = LastSeen::new();
        seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Busy", "InACall", "0000B")],
            t(0),
        );
        let stale = seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Available", "Available", "0000A")],
            t(1),
        );
        assert!(stale.is_empty());
        assert_eq!(seen.get(&a).unwrap().availability, Availability::Busy);
        // A newer one is taken.
        let fresh = seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Away", "Away", "0000C")],
            t(2),
        );
        assert_eq!(fresh.len(), 1);
        // And the held stamp moved, so "0000B" is now stale too.
        assert!(seen
            .apply(
                std::slice::from_ref(&a),
                vec![p(&a, "Busy", "InACall", "0000B")],
                t(3)
            )
            .is_empty());
    }

    #[test]
    fn missing_means_unknown_and_extra_entries_are_ignored() {
        let (a, b, stranger) = (id(1), id(2), id(99));
        let mut seen = LastSeen::new();
        seen.apply(
            &[a.clone(), b.clone()],
            vec![p(&a, "Busy", "Busy", "1"), p(&b, "Away", "Away", "1")],
            t(0),
        );
        let c = seen.apply(
            &[a.clone(), b.clone()],
            vec![
                p(&b, "Away", "Away", "2"),
                p(&stranger, "Busy", "Busy", "1"),
            ],
            t(1),
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].id, a);
        assert_eq!(c[0].presence.availability, Availability::PresenceUnknown);
        assert!(!seen.contains(&stranger));
        // Unknown again is no news.
        assert!(seen
            .apply(std::slice::from_ref(&a), vec![], t(2))
            .is_empty());
        // Back from unknown: any stamp is taken.
        assert_eq!(
            seen.apply(
                std::slice::from_ref(&a),
                vec![p(&a, "Busy", "Busy", "0")],
                t(3)
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_repeated_entry_keeps_the_newer() {
        let a = id(1);
        let mut seen = LastSeen::new();
        seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Busy", "Busy", "2"), p(&a, "Away", "Away", "1")],
            t(0),
        );
        assert_eq!(seen.get(&a).unwrap().availability, Availability::Busy);
    }

    fn refusing(
        bad: &'static [u32],
        calls: Arc<Mutex<Vec<usize>>>,
    ) -> impl Fn(Vec<String>) -> futures::future::BoxFuture<'static, Result<Vec<Presence>>> {
        move |ids: Vec<String>| {
            calls.lock().unwrap().push(ids.len());
            let refuse = ids.iter().any(|i| bad.iter().any(|b| *i == id(*b)));
            Box::pin(async move {
                if refuse {
                    Err(Error::Graph {
                        status: 400,
                        code: String::new(),
                        message: "Bad Request".into(),
                    })
                } else {
                    Ok(ids
                        .iter()
                        .map(|i| p(i, "Available", "Available", "1"))
                        .collect())
                }
            })
        }
    }

    #[tokio::test]
    async fn splitting_finds_a_refused_id_and_answers_the_rest() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let batch: Vec<String> = (0..650).map(id).collect();
        let out = fetch_splitting(batch.clone(), refusing(&[417], calls.clone())).await;
        assert!(out.error.is_none());
        assert_eq!(out.rejected, vec![id(417)]);
        let mut answered: Vec<String> = out.answered.iter().flat_map(|(a, _)| a.clone()).collect();
        answered.sort();
        let rest: Vec<String> = batch.into_iter().filter(|i| *i != id(417)).collect();
        assert_eq!(answered, rest, "everyone else is answered exactly once");
        let calls = calls.lock().unwrap();
        assert_eq!(calls[0], 650);
        assert!(
            calls.len() <= 1 + split_budget(650),
            "{} requests",
            calls.len()
        );
    }

    #[tokio::test]
    async fn two_refused_ids_are_found_over_two_polls_within_the_bound() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let mut batch: Vec<String> = (0..650).map(id).collect();
        let mut found = Vec::new();
        for poll in 0..3 {
            calls.lock().unwrap().clear();
            let out = fetch_splitting(batch.clone(), refusing(&[17, 400], calls.clone())).await;
            assert!(
                calls.lock().unwrap().len() <= 1 + split_budget(650),
                "poll {poll}"
            );
            batch.retain(|i| !out.rejected.contains(i));
            found.extend(out.rejected);
            if found.len() == 2 {
                break;
            }
        }
        found.sort();
        assert_eq!(found, vec![id(17), id(400)]);
    }

    #[tokio::test]
    async fn a_batch_refused_over_and_over_costs_a_bounded_number_of_requests() {
        static EVERYONE: [u32; 650] = {
            let mut all = [0u32; 650];
            let mut i = 0;
            while i < 650 {
                all[i] = i as u32;
                i += 1;
            }
            all
        };
        let calls = Arc::new(Mutex::new(Vec::new()));
        let out = fetch_splitting(
            (0..650).map(id).collect(),
            refusing(&EVERYONE, calls.clone()),
        )
        .await;
        assert_eq!(split_budget(650), 2 * 10 + 1);
        assert_eq!(calls.lock().unwrap().len(), 1 + split_budget(650));
        assert!(
            out.rejected.is_empty(),
            "nobody is dropped for Graph's refusal"
        );
        assert!(out.answered.is_empty());
        assert!(matches!(out.error, Some(Error::Graph { status: 400, .. })));
    }

    #[tokio::test]
    async fn a_refusal_of_everything_drops_nobody() {
        static ALL: [u32; 4] = [0, 1, 2, 3];
        let calls = Arc::new(Mutex::new(Vec::new()));
        let out = fetch_splitting((0..4).map(id).collect(), refusing(&ALL, calls)).await;
        assert!(out.rejected.is_empty());
        assert!(matches!(out.error, Some(Error::Graph { status: 400, .. })));
    }

    #[tokio::test]
    async fn other_errors_stop_the_batch_without_rejecting() {
        let out = fetch_splitting((0..3).map(id).collect(), |_ids| async {
            Err::<Vec<Presence>, _>(Error::Network("down".into()))
        })
        .await;
        assert!(out.rejected.is_empty() && out.answered.is_empty());
        assert!(matches!(out.error, Some(Error::Network(_))));
    }

    #[test]
    fn throttling_lengthens_the_interval_which_recovers_to_the_fleet_floor() {
        let secs = Duration::from_secs;
        let mut pace = Pace::new(&EngineOptions::default());
        assert_eq!(pace.current, secs(15));
        pace.on_clean();
        assert_eq!(pace.current, secs(15), "never below the interval asked");
        assert!(
            pace.describe().contains("every 15 s"),
            "{}",
            pace.describe()
        );

        pace.on_throttled();
        assert_eq!(pace.current, Duration::from_millis(19_500), "30 % longer");
        assert_eq!(pace.floor, secs(18), "15 s was throttled: never again");
        assert!(
            pace.describe().contains("Recovering"),
            "{}",
            pace.describe()
        );
        pace.on_clean();
        assert_eq!(
            pace.current,
            Duration::from_millis(18_000),
            "a step at least"
        );
        assert!(pace.describe().contains("shared"), "{}", pace.describe());

        // Throttled again at the floor: the floor rises with it.
        pace.on_throttled();
        assert_eq!(pace.floor, Duration::from_millis(21_600));
        assert_eq!(pace.current, Duration::from_millis(23_400));

        // Far above the floor, each clean poll closes a quarter of the gap.
        for _ in 0..12 {
            pace.on_throttled();
        }
        let floor = pace.floor;
        let gap = pace.current - floor;
        pace.on_clean();
        assert_eq!(pace.current - floor, gap - gap / 4);
        for _ in 0..40 {
            pace.on_clean();
        }
        assert_eq!(pace.current, floor);

        for _ in 0..40 {
            pace.on_throttled();
        }
        assert_eq!(pace.current, secs(600), "capped");
        assert_eq!(pace.floor, secs(600));
    }

    #[test]
    fn a_new_interval_setting_keeps_the_floor_throttling_taught() {
        let secs = Duration::from_secs;
        let mut pace = Pace::new(&EngineOptions {
            interval: secs(15),
            ..Default::default()
        });
        pace.set_interval(secs(30));
        assert_eq!(pace.interval(), secs(30), "untaught: the setting rules");
        pace.set_interval(secs(15));
        assert_eq!(pace.interval(), secs(15));
        pace.on_throttled();
        for _ in 0..100 {
            pace.on_clean();
        }
        let floor = pace.interval();
        assert_eq!(floor, secs(18), "1.2 × the throttled 15 s");
        pace.set_interval(secs(5));
        assert_eq!(
            pace.interval(),
            floor,
            "a shorter setting cannot undo the floor"
        );
        pace.set_interval(secs(60));
        assert_eq!(pace.interval(), secs(60), "a longer one is kept");
        pace.set_interval(secs(5));
        assert_eq!(pace.interval(), floor, "and the floor is still known");
    }

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

    #[test]
    fn the_interval_never_goes_below_the_minimum() {
        let pace = Pace::new(&EngineOptions {
            interval: Duration::from_secs(1),
            ..Default::default()
        });
        assert_eq!(pace.current, MIN_INTERVAL);
        let mut rng = rand::thread_rng();
        for _ in 0..1_000 {
            assert!(pace.next_wait(&mut rng) >= MIN_INTERVAL);
        }
    }

    /// 2,000 waits of `pace`: (shortest, longest, mean) in seconds.
    fn waits(pace: &Pace) -> (f64, f64, f64) {
        let mut rng = rand::thread_rng();
        let waits: Vec<f64> = (0..2_000)
            .map(|_| pace.next_wait(&mut rng).as_secs_f64())
            .collect();
        let (lo, hi) = waits
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &w| (lo.min(w), hi.max(w)));
        (lo, hi, waits.iter().sum::<f64>() / waits.len() as f64)
    }

    #[test]
    fn waits_spread_around_the_interval_and_wider_after_throttling() {
        let mut pace = Pace::new(&EngineOptions {
            interval: Duration::from_secs(30),
            ..Default::default()
        });
        // Within a fifth of the 30 s interval either way, using most of it,
        // and 30 s on average: the budget sees the same rate.
        let (lo, hi, mean) = waits(&pace);
        assert!(lo >= 24.0 && hi <= 36.0, "{lo}..{hi}");
        assert!(
            lo < 25.0 && hi > 35.0,
            "{lo}..{hi}: installs must drift apart"
        );
        assert!((mean - 30.0).abs() < 0.5, "{mean}");

        // After a 429 (interval 39 s), within a half either way.
        pace.on_throttled();
        let (lo, hi, mean) = waits(&pace);
        assert!(lo >= 19.5 && hi <= 58.5, "{lo}..{hi}");
        assert!(lo < 22.0 && hi > 56.0, "{lo}..{hi}");
        assert!((mean - 39.0).abs() < 1.0, "{mean}");
        pace.on_clean();
        let (lo, hi, _) = waits(&pace);
        assert!(hi - lo < 0.41 * pace.current.as_secs_f64(), "{lo}..{hi}");
    }
}
