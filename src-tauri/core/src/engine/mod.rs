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
//!
//! # The map
//!
//! - This file: what front ends see ([`Engine`], [`EngineHandle`],
//!   [`EngineEvent`], [`EngineStatus`], [`EngineOptions`]).
//! - [`LastSeen`] (`last_seen.rs`): each teammate's last presence, and what
//!   an answer changes.
//! - [`Pace`] (`pace.rs`): the interval, throttling's floor and the jitter.
//! - `batches.rs`: one batch of IDs, split in halves where Graph refuses it.
//! - `run.rs`: the run loop (roster and interval changes, suspends) and one
//!   poll from request to events.

mod batches;
mod last_seen;
mod pace;
mod run;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::config::{DEFAULT_INTERVAL, MIN_INTERVAL};
use crate::graph::GraphClient;
use crate::presence::Presence;

pub use last_seen::LastSeen;
pub use pace::Pace;

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

/// Changes the roster of a running engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    ids: Arc<watch::Sender<Vec<String>>>,
    interval: Arc<watch::Sender<Duration>>,
    seen: Arc<std::sync::Mutex<LastSeen>>,
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

    /// The engine's last presence of `id` and since when it has been so:
    /// the one record of presence, which front ends read rather than keep
    /// a copy of their own.
    pub fn last_seen(&self, id: &str) -> Option<(Presence, DateTime<Utc>)> {
        self.seen.lock().unwrap().seen(id)
    }

    /// The handle of an engine that has seen `seen` and polls no more, for
    /// tests of what is built on the engine.
    #[cfg(test)]
    pub(crate) fn holding(seen: LastSeen) -> EngineHandle {
        EngineHandle {
            ids: Arc::new(watch::channel(Vec::new()).0),
            interval: Arc::new(watch::channel(Duration::from_secs(30)).0),
            seen: Arc::new(std::sync::Mutex::new(seen)),
        }
    }
}

/// The poller. See the module documentation.
#[derive(Debug)]
pub struct Engine {
    graph: GraphClient,
    ids: Arc<watch::Sender<Vec<String>>>,
    interval: Arc<watch::Sender<Duration>>,
    seen: Arc<std::sync::Mutex<LastSeen>>,
    options: EngineOptions,
    /// The wall clock, compared with the monotonic one to notice a resume
    /// from suspend: `SystemTime::now` but in tests.
    wall_clock: fn() -> std::time::SystemTime,
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
            seen: Arc::default(),
            options,
            wall_clock: std::time::SystemTime::now,
        }
    }

    /// The same engine, reading the wall clock from `now` instead of the
    /// system's. A suspend stops the monotonic clock but not the wall clock;
    /// a test makes `now` jump ahead to show the engine a resume. Not for
    /// anything but tests.
    #[doc(hidden)]
    pub fn with_wall_clock(mut self, now: fn() -> std::time::SystemTime) -> Engine {
        self.wall_clock = now;
        self
    }

    pub fn handle(&self) -> EngineHandle {
        EngineHandle {
            ids: self.ids.clone(),
            interval: self.interval.clone(),
            seen: self.seen.clone(),
        }
    }
}

#[cfg(test)]
mod test_support {
    use crate::presence::{Activity, Availability, Presence};

    pub(super) fn id(n: u32) -> String {
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    pub(super) fn p(id: &str, a: &str, act: &str, seq: &str) -> Presence {
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
}
