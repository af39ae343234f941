//! The reader's task: whom to read and when, one request at a time, and
//! the outlooks that changed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Local, NaiveTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;

use super::{
    parse_answer, CalendarEvent, Outlook, OutlookChange, Person, ReadWindow, Schedule,
    UnreadableSchedule, CALENDAR_SCOPE, MAX_SCHEDULES_PER_REQUEST, SCHEDULE_PATH,
};
use crate::error::{Error, Result};
use crate::graph::{BatchRequest, GraphClient, MAX_BATCH_REQUESTS};

/// How the reader paces itself. The defaults keep far inside Outlook's
/// limits; tests shorten them.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarOptions {
    /// Everyone's schedule is read again this often (10 minutes).
    pub read_every: Duration,
    /// A person who turned busy is read again at most this often (1 minute).
    pub person_gap: Duration,
    /// After someone turns busy, wait this long for others to join the
    /// same request (5 s).
    pub coalesce: Duration,
    /// Outlooks are worked out again from the schedules held at least this
    /// often, without a request (1 minute).
    pub recompute_every: Duration,
    /// The first pause after a failed request; it doubles with each failure
    /// that follows, up to `read_every` (30 s).
    pub retry_delay: Duration,
    /// The least time between two requests (2 s): however people's
    /// presence changes, the reader sends at most 300 requests in 10
    /// minutes, against Outlook's 10,000 for the signed-in mailbox.
    pub min_spacing: Duration,
}

impl Default for CalendarOptions {
    fn default() -> Self {
        CalendarOptions {
            read_every: Duration::from_secs(600),
            person_gap: Duration::from_secs(60),
            coalesce: Duration::from_secs(5),
            recompute_every: Duration::from_secs(60),
            retry_delay: Duration::from_secs(30),
            min_spacing: Duration::from_secs(2),
        }
    }
}

/// Events wait in a channel this long before the reader waits for the
/// front end.
const EVENT_BUFFER: usize = 64;

/// The shortest pause after a 429.
const MIN_THROTTLED_PAUSE: Duration = Duration::from_secs(1);

/// Tells the reader what to do. Cheap to clone; every clone steers the same
/// reader.
#[derive(Clone)]
pub struct CalendarHandle {
    shared: Arc<Shared>,
}

/// What the handle asks of the reader. A std mutex: it is held only to
/// swap values, never across an `.await`. Repeated asks merge (a set of
/// IDs, the last list of people), so it stays small however often the
/// front end calls.
struct Shared {
    wanted: Mutex<Wanted>,
    changed: Notify,
    /// A watch rather than a flag in `wanted`: a request in flight waits on
    /// it, and only on it.
    stop: watch::Sender<bool>,
}

#[derive(Default)]
struct Wanted {
    people: Option<Vec<Person>>,
    turned_busy: HashSet<String>,
}

impl CalendarHandle {
    fn ask(&self, f: impl FnOnce(&mut Wanted)) {
        let mut wanted = self.shared.wanted.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut wanted);
        drop(wanted);
        self.shared.changed.notify_one();
    }

    /// Whom to watch from now on. Newcomers are read soon; those who left
    /// are forgotten.
    pub fn set_people(&self, people: Vec<Person>) {
        self.ask(|w| w.people = Some(people));
    }

    /// Someone turned busy, in a meeting or presenting (see
    /// [`super::triggers_read`]): read their schedule again soon, with
    /// others who did the same, and not more often than
    /// [`CalendarOptions::person_gap`].
    pub fn turned_busy(&self, id: &str) {
        let id = id.trim().to_ascii_lowercase();
        self.ask(|w| {
            w.turned_busy.insert(id);
        });
    }

    /// Stops the reader, also in the middle of a request.
    pub fn stop(&self) {
        self.shared.stop.send_replace(true);
        self.shared.changed.notify_one();
    }
}

/// Starts the reader on its own task with the default pacing. It reads
/// through a client of its own made from `graph` (same sign-in, its own
/// throttle gate: see [`GraphClient::with_own_throttle`]).
pub fn spawn(
    graph: GraphClient,
    people: Vec<Person>,
) -> (CalendarHandle, mpsc::Receiver<CalendarEvent>) {
    spawn_with(graph, people, CalendarOptions::default())
}

/// [`spawn`] with other pacing. The reader ends on
/// [`CalendarHandle::stop`] or once the receiver is dropped.
pub fn spawn_with(
    graph: GraphClient,
    people: Vec<Person>,
    options: CalendarOptions,
) -> (CalendarHandle, mpsc::Receiver<CalendarEvent>) {
    let shared = Arc::new(Shared {
        wanted: Mutex::new(Wanted {
            people: Some(people),
            ..Wanted::default()
        }),
        changed: Notify::new(),
        stop: watch::channel(false).0,
    });
    let (events, receiver) = mpsc::channel(EVENT_BUFFER);
    let reader = Reader {
        graph: graph.with_own_throttle(),
        shared: shared.clone(),
        events,
        options,
        people: Vec::new(),
        mailboxes: HashMap::new(),
        schedules: HashMap::new(),
        sent: HashMap::new(),
        last_read: HashMap::new(),
        due: Vec::new(),
        triggered: HashMap::new(),
        next_full: Instant::now(),
        hold_until: None,
        last_sent: None,
        lookups_paused_until: None,
        failures: 0,
        last_problem: None,
    };
    tokio::spawn(reader.run());
    (CalendarHandle { shared }, receiver)
}

/// A person's mailbox, as far as it is known.
#[derive(Debug, Clone, PartialEq)]
enum Mailbox {
    Address(String),
    /// The directory has none for them (or does not know them).
    None,
}

struct Reader {
    graph: GraphClient,
    shared: Arc<Shared>,
    events: mpsc::Sender<CalendarEvent>,
    options: CalendarOptions,
    people: Vec<Person>,
    /// By roster ID (lower case).
    mailboxes: HashMap<String, Mailbox>,
    schedules: HashMap<String, Schedule>,
    /// The outlook last sent for each person.
    sent: HashMap<String, Outlook>,
    last_read: HashMap<String, Instant>,
    /// IDs to read at the next request, in order.
    due: Vec<String>,
    /// IDs that turned busy, and when the reader was told.
    triggered: HashMap<String, Instant>,
    next_full: Instant,
    /// No request before this: a failure's pause, or a 429 without
    /// `Retry-After`.
    hold_until: Option<Instant>,
    /// When the last step of requests began, then when it ended.
    last_sent: Option<Instant>,
    /// No mailbox look-up before this: the directory refused one, and
    /// those with a known mailbox must not wait for it.
    lookups_paused_until: Option<Instant>,
    failures: u32,
    /// The problem last told, so that a failure repeated is told once.
    last_problem: Option<String>,
}

/// Why the loop stops.
struct Stopped;

impl Reader {
    async fn run(mut self) {
        let mut next_recompute = Instant::now();
        loop {
            if self.take_wanted().is_err() {
                return;
            }
            let now = Instant::now();
            if now >= self.next_full {
                self.due = self.ids();
                self.next_full = now + self.options.read_every;
            }
            self.move_triggered(now);
            if !self.due.is_empty() && self.may_send(now) {
                self.last_sent = Some(now);
                let mut stop = self.shared.stop.subscribe();
                let result = tokio::select! {
                    result = self.step() => Some(result),
                    _ = stop.wait_for(|stopped| *stopped) => None,
                };
                // Spaced from the end of this step: a step's requests (a
                // look-up, then the schedules) and the next one's can then
                // never reach Outlook closer than `min_spacing`, however
                // long this one took to connect.
                self.last_sent = Some(Instant::now());
                match result {
                    Some(result) => self.after_step(result),
                    None => return,
                }
                next_recompute = Instant::now();
            }
            let now = Instant::now();
            if now >= next_recompute {
                // A front end that stopped reading events must not keep a
                // stopped reader waiting for room in the channel.
                let mut stop = self.shared.stop.subscribe();
                let sent = tokio::select! {
                    sent = self.recompute() => sent.is_ok(),
                    _ = stop.wait_for(|stopped| *stopped) => false,
                };
                if !sent {
                    return;
                }
                next_recompute = now + self.options.recompute_every;
            }
            let wake = self.next_wake(next_recompute);
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = self.shared.changed.notified() => {}
            }
        }
    }

    /// Takes what the handle asked for since the last look.
    fn take_wanted(&mut self) -> std::result::Result<(), Stopped> {
        let (people, busy) = {
            let mut wanted = self.shared.wanted.lock().unwrap_or_else(|e| e.into_inner());
            (
                wanted.people.take(),
                std::mem::take(&mut wanted.turned_busy),
            )
        };
        if *self.shared.stop.borrow() || self.events.is_closed() {
            return Err(Stopped);
        }
        if let Some(people) = people {
            self.set_people(people);
        }
        let now = Instant::now();
        for id in busy {
            if self.people.iter().any(|p| p.id == id) {
                self.triggered.entry(id).or_insert(now);
            }
        }
        Ok(())
    }

    fn set_people(&mut self, people: Vec<Person>) {
        let mut seen = HashSet::new();
        let people: Vec<Person> = people
            .into_iter()
            .map(|p| Person {
                id: p.id.trim().to_ascii_lowercase(),
                mailbox: p
                    .mailbox
                    .map(|m| m.trim().to_string())
                    .filter(|m| !m.is_empty()),
            })
            .filter(|p| !p.id.is_empty() && seen.insert(p.id.clone()))
            .collect();
        let old: HashMap<String, Option<String>> =
            self.people.drain(..).map(|p| (p.id, p.mailbox)).collect();
        for p in &people {
            let same = old.get(&p.id).is_some_and(|m| *m == p.mailbox);
            if !same {
                // New, or their address changed: read them soon.
                self.forget(&p.id);
                match &p.mailbox {
                    Some(address) => {
                        self.mailboxes
                            .insert(p.id.clone(), Mailbox::Address(address.clone()));
                    }
                    None => {
                        self.mailboxes.remove(&p.id);
                    }
                }
                if !self.due.contains(&p.id) {
                    self.due.push(p.id.clone());
                }
            }
        }
        let staying: HashSet<&String> = people.iter().map(|p| &p.id).collect();
        for id in old.keys().filter(|id| !staying.contains(id)) {
            self.forget(id);
            self.mailboxes.remove(id);
        }
        self.due.retain(|id| staying.contains(id));
        self.people = people;
    }

    fn forget(&mut self, id: &str) {
        self.schedules.remove(id);
        self.sent.remove(id);
        self.last_read.remove(id);
        self.triggered.remove(id);
    }

    fn ids(&self) -> Vec<String> {
        self.people.iter().map(|p| p.id.clone()).collect()
    }

    /// Those who turned busy a while ago, and were not read in the last
    /// `person_gap`, become due.
    fn move_triggered(&mut self, now: Instant) {
        let ready: Vec<String> = self
            .triggered
            .iter()
            .filter(|(id, asked)| self.trigger_ready_at(id, **asked) <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ready {
            self.triggered.remove(&id);
            if !self.due.contains(&id) {
                self.due.push(id);
            }
        }
    }

    fn trigger_ready_at(&self, id: &str, asked: Instant) -> Instant {
        let coalesced = asked + self.options.coalesce;
        match self.last_read.get(id) {
            Some(read) => coalesced.max(*read + self.options.person_gap),
            None => coalesced,
        }
    }

    fn may_send(&self, now: Instant) -> bool {
        self.graph.throttled_for().is_none() && self.ready_at().is_none_or(|t| t <= now)
    }

    /// The earliest the next request may leave, but for the throttle gate;
    /// `None`: at any time.
    fn ready_at(&self) -> Option<Instant> {
        let spaced = self.last_sent.map(|t| t + self.options.min_spacing);
        [spaced, self.hold_until].into_iter().flatten().max()
    }

    fn next_wake(&self, next_recompute: Instant) -> Instant {
        let mut wake = next_recompute.min(self.next_full);
        for (id, asked) in &self.triggered {
            wake = wake.min(self.trigger_ready_at(id, *asked));
        }
        if !self.due.is_empty() {
            let mut ready = self.ready_at().unwrap_or_else(Instant::now);
            if let Some(wait) = self.graph.throttled_for() {
                ready = ready.max(Instant::now() + wait);
            }
            wake = wake.min(ready);
        }
        wake
    }

    /// One request: a look-up of mailboxes the reader does not know yet,
    /// or the schedules of up to 20 people who are due.
    async fn step(&mut self) -> Result<()> {
        let may_look_up = self
            .lookups_paused_until
            .is_none_or(|t| t <= Instant::now());
        // Those without a mailbox have nothing to read (and no outlook);
        // those whose look-up must wait are due again at the next full read.
        let mut unreadable = Vec::new();
        for id in &self.due {
            match self.mailboxes.get(id) {
                Some(Mailbox::None) => unreadable.push(id.clone()),
                None if !may_look_up => unreadable.push(id.clone()),
                _ => {}
            }
        }
        for id in &unreadable {
            self.schedules.remove(id);
        }
        self.due.retain(|id| !unreadable.contains(id));

        let unknown: Vec<String> = self
            .due
            .iter()
            .filter(|id| !self.mailboxes.contains_key(*id))
            .take(MAX_BATCH_REQUESTS)
            .cloned()
            .collect();
        if !unknown.is_empty() {
            let looked_up = self.look_up_mailboxes(&unknown).await;
            if looked_up
                .as_ref()
                .is_err_and(|e| !matches!(e, Error::Throttled { .. }))
            {
                self.lookups_paused_until = Some(Instant::now() + self.options.read_every);
            }
            return looked_up;
        }
        let batch: Vec<(String, String)> = self
            .due
            .iter()
            .filter_map(|id| match self.mailboxes.get(id) {
                Some(Mailbox::Address(address)) => Some((id.clone(), address.clone())),
                _ => None,
            })
            .take(MAX_SCHEDULES_PER_REQUEST)
            .collect();
        if batch.is_empty() {
            return Ok(());
        }
        self.read_schedules(&batch).await
    }

    /// `GET /users/{id}?$select=mail,userPrincipalName` in one `$batch`.
    async fn look_up_mailboxes(&mut self, ids: &[String]) -> Result<()> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct User {
            mail: Option<String>,
            user_principal_name: Option<String>,
        }
        const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_');
        let requests: Vec<BatchRequest> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                BatchRequest::get(
                    i.to_string(),
                    format!(
                        "/users/{}?$select=mail,userPrincipalName",
                        percent_encoding::utf8_percent_encode(id, SEGMENT)
                    ),
                )
            })
            .collect();
        let answers = self.graph.batch(&requests).await?;
        let mut unanswered = None;
        for (id, answer) in ids.iter().zip(answers) {
            match answer.status {
                200..=299 => {
                    let address = answer
                        .json::<User>()
                        .ok()
                        .and_then(|u| {
                            [u.mail, u.user_principal_name]
                                .into_iter()
                                .flatten()
                                .find(|a| !a.trim().is_empty())
                        })
                        .map_or(Mailbox::None, |a| Mailbox::Address(a.trim().to_string()));
                    self.mailboxes.insert(id.clone(), address);
                }
                400 | 404 => {
                    self.mailboxes.insert(id.clone(), Mailbox::None);
                }
                // Throttled or failing: asked again after a pause (the
                // gate holds back for a `Retry-After` as well).
                429 => {
                    unanswered.get_or_insert(Error::Throttled {
                        retry_after: self.options.retry_delay,
                    });
                }
                _ => {
                    let e = answer
                        .json::<User>()
                        .err()
                        .unwrap_or_else(|| Error::Malformed("a look-up failed".into()));
                    unanswered.get_or_insert(e);
                }
            }
        }
        unanswered.map_or(Ok(()), Err)
    }

    /// One `getSchedule` request for `batch` (roster ID, address).
    async fn read_schedules(&mut self, batch: &[(String, String)]) -> Result<()> {
        let window = window(Utc::now());
        let at = |t: DateTime<Utc>| json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"});
        let body = json!({
            "schedules": batch.iter().map(|(_, address)| address).collect::<Vec<_>>(),
            "startTime": at(window.start),
            "endTime": at(window.end),
            "availabilityViewInterval": window.slot_minutes,
        });
        let answer = self
            .graph
            .poll_post(
                SCHEDULE_PATH,
                &[("Prefer", "outlook.timezone=\"UTC\"")],
                &body,
            )
            .await
            .map_err(|e| match e {
                Error::Graph {
                    status: 403,
                    message,
                    ..
                } => forbidden(&message),
                e => e,
            })?;
        let schedules = parse_answer(&answer, &window)?;
        let mut by_address: HashMap<String, std::result::Result<Schedule, UnreadableSchedule>> =
            schedules
                .into_iter()
                .map(|(address, s)| (address.trim().to_lowercase(), s))
                .collect();
        let now = Instant::now();
        for (id, address) in batch {
            match by_address.remove(&address.to_lowercase()) {
                Some(Ok(schedule)) => {
                    self.schedules.insert(id.clone(), schedule);
                }
                Some(Err(why)) => {
                    tracing::debug!(%why, "calendar: a schedule could not be read");
                    self.schedules.remove(id);
                }
                // Not in the answer: nothing learnt; the next full read
                // asks again.
                None => {}
            }
            self.last_read.insert(id.clone(), now);
            self.due.retain(|d| d != id);
        }
        Ok(())
    }

    fn after_step(&mut self, result: Result<()>) {
        match result {
            Ok(()) => {
                self.failures = 0;
                self.hold_until = None;
                self.last_problem = None;
            }
            Err(Error::Throttled { retry_after }) => {
                // The gate holds for a `Retry-After`; without one, this
                // does. Never less than a second: a `Retry-After: 0` that
                // keeps coming must not turn into a stream of requests.
                self.hold_until = Some(Instant::now() + retry_after.max(MIN_THROTTLED_PAUSE));
            }
            Err(e) => {
                let pause = if e.code() == crate::error::ErrorCode::PermissionNeeded {
                    self.options.read_every
                } else {
                    self.options
                        .retry_delay
                        .saturating_mul(2u32.saturating_pow(self.failures))
                        .min(self.options.read_every)
                };
                self.failures = self.failures.saturating_add(1);
                self.hold_until = Some(Instant::now() + pause);
                let told = e.to_string();
                if self.last_problem.as_deref() != Some(told.as_str()) {
                    self.last_problem = Some(told);
                    // A full channel must not hold the reader up: the next
                    // failure tells it again.
                    if self.events.try_send(CalendarEvent::Problem(e)).is_err() {
                        self.last_problem = None;
                    }
                }
            }
        }
    }

    /// Works out everyone's outlook now and sends those that changed.
    async fn recompute(&mut self) -> std::result::Result<(), Stopped> {
        let now = Utc::now();
        let mut changes = Vec::new();
        for person in &self.people {
            let outlook = match self.schedules.get(&person.id) {
                Some(schedule) => schedule.outlook_at(now),
                // Unreadable now, told before: say there is nothing to show.
                None if self.sent.contains_key(&person.id) => Outlook::default(),
                None => continue,
            };
            if self.sent.get(&person.id) != Some(&outlook) {
                self.sent.insert(person.id.clone(), outlook.clone());
                changes.push(OutlookChange {
                    id: person.id.clone(),
                    outlook,
                });
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        self.events
            .send(CalendarEvent::Changed(changes))
            .await
            .map_err(|_| Stopped)
    }
}

/// The slot of the `availabilityView` asked for, in minutes: the view is
/// read only for a schedule without items, and a quarter of an hour is as
/// fine as Outlook's own meeting grid.
const VIEW_SLOT_MINUTES: u32 = 15;

/// The time read: from the start of this minute to the end of tomorrow,
/// local time (a day and a bit ahead: enough for "free tomorrow at 9").
pub fn window(now: DateTime<Utc>) -> ReadWindow {
    let start = DateTime::from_timestamp(now.timestamp().div_euclid(60) * 60, 0).unwrap_or(now);
    let fallback = now + chrono::Duration::hours(48);
    let end = now
        .with_timezone(&Local)
        .date_naive()
        .checked_add_days(chrono::Days::new(2))
        .and_then(|day| {
            Local
                .from_local_datetime(&day.and_time(NaiveTime::MIN))
                .earliest()
        })
        .map_or(fallback, |t| t.to_utc());
    ReadWindow {
        start,
        end,
        slot_minutes: VIEW_SLOT_MINUTES,
    }
}

/// Graph's 403 to `getSchedule`: the permission is missing.
fn forbidden(said: &str) -> Error {
    Error::PermissionNeeded {
        permission: CALENDAR_SCOPE,
        how: format!(
            "turn \"when they will be free\" on again in the window, or run `presently login --calendar`, to read teammates' calendars (Microsoft said: {said})"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_runs_to_the_end_of_tomorrow() {
        let now: DateTime<Utc> = "2026-12-05T19:42:31Z".parse().unwrap();
        let ReadWindow { start, end, .. } = window(now);
        assert_eq!(
            start,
            "2026-12-05T19:42:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let local_end = end.with_timezone(&Local);
        assert_eq!(chrono::Timelike::hour(&local_end), 0);
        let days = (local_end.date_naive() - now.with_timezone(&Local).date_naive()).num_days();
        assert_eq!(days, 2);
        assert!(
            end > now + chrono::Duration::hours(24) && end <= now + chrono::Duration::hours(49)
        );
    }
}
