//! The presence engine against the simulator, over loopback. The simulator's
//! request log is the witness: what was sent, when, with which IDs.
//!
//! On paused time: the simulator runs on the test's own runtime and stamps
//! its log with the same clock, and tokio moves a paused clock on only when
//! no task can run and no socket is ready. A request written to loopback is
//! ready on the other side at once, so the simulator always answers before
//! a timer fires early; a wait of the engine's costs no real time, and the
//! gaps in the log are the engine's own waits.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use presently_core::auth::AccessTokens;
use presently_core::cloud::Cloud;
use presently_core::config::{Settings, DEFAULT_CLIENT_ID};
use presently_core::engine::{
    Engine, EngineEvent, EngineHandle, EngineOptions, EngineState, IdProblem, PresenceChange,
};
use presently_core::graph::{BatchRequest, GraphClient, GraphOptions};
use presently_core::presence::{Activity, Availability, Presence};
use presently_core::watch::{run_watch, Printer};
use presently_core::{Error, Result, Secret};
use presently_sim::{Fault, FaultKind, LoggedRequest, PresenceUpdate, Sim, SimConfig};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const PRESENCE: &str = "/v1.0/communications/getPresencesByUserId";
const SCOPES: &str = "User.Read Presence.Read.All User.ReadBasic.All offline_access";
const WAIT: Duration = Duration::from_secs(12);

// ------------------------------------------------------------------ set-up

async fn sim_with(config: SimConfig) -> Sim {
    Sim::start(SimConfig {
        auto_presence: false,
        ..config
    })
    .await
    .expect("the simulator starts")
}

async fn sim(users: usize) -> Sim {
    sim_with(SimConfig {
        users,
        ..Default::default()
    })
    .await
}

fn ids(sim: &Sim) -> Vec<String> {
    sim.users().into_iter().map(|u| u.id).collect()
}

fn settings(sim: &Sim) -> Settings {
    let url = url::Url::parse(&sim.url()).unwrap();
    Settings {
        cloud: Cloud::Global,
        tenant: "organizations".into(),
        client_id: DEFAULT_CLIENT_ID.into(),
        login_url: url.clone(),
        graph_url: url,
        config_dir: std::env::temp_dir(),
        interval: Duration::from_secs(15),
        quiet_hours: Default::default(),
        calendar: false,
        mqtt: None,
    }
}

/// Tokens as the real sign-in session hands them out: a stored pair, and a
/// refresh-token grant against the simulator's token endpoint when Graph
/// rejects the access token (refresh tokens rotate).
struct SimTokens {
    http: reqwest::Client,
    token_url: String,
    pair: Mutex<(Secret, String)>,
    refreshes: AtomicUsize,
}

impl SimTokens {
    fn new(sim: &Sim) -> Arc<SimTokens> {
        let t = sim.issue_tokens(&sim.users()[0].id, SCOPES);
        Arc::new(SimTokens {
            http: reqwest::Client::new(),
            token_url: format!("{}/organizations/oauth2/v2.0/token", sim.url()),
            pair: Mutex::new((Secret::new(t.access_token), t.refresh_token)),
            refreshes: AtomicUsize::new(0),
        })
    }
}

impl AccessTokens for SimTokens {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret>> {
        Box::pin(async move { Ok(self.pair.lock().unwrap().0.clone()) })
    }

    fn token_rejected(&self) -> BoxFuture<'_, Result<Secret>> {
        Box::pin(async move {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            let refresh = self.pair.lock().unwrap().1.clone();
            let answer = self
                .http
                .post(&self.token_url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", DEFAULT_CLIENT_ID),
                    ("refresh_token", refresh.as_str()),
                ])
                .send()
                .await
                .map_err(|e| Error::Network(e.to_string()))?;
            let ok = answer.status().is_success();
            let body: Value = answer
                .json()
                .await
                .map_err(|e| Error::Malformed(e.to_string()))?;
            if !ok {
                return Err(Error::SignInNeeded(format!(
                    "Your sign-in has ended ({}). Run `presently login`.",
                    body["error"].as_str().unwrap_or("refused")
                )));
            }
            let access = Secret::new(body["access_token"].as_str().unwrap());
            let refresh = body["refresh_token"].as_str().unwrap().to_string();
            *self.pair.lock().unwrap() = (access.clone(), refresh);
            Ok(access)
        })
    }
}

fn quick_graph() -> GraphOptions {
    GraphOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_retries: 3,
        retry_delay: Duration::from_millis(100),
        max_retry_delay: Duration::from_secs(2),
    }
}

fn client_with(sim: &Sim, options: GraphOptions) -> (GraphClient, Arc<SimTokens>) {
    let tokens = SimTokens::new(sim);
    let graph = GraphClient::with_options(&settings(sim), tokens.clone(), options).unwrap();
    (graph, tokens)
}

fn client(sim: &Sim) -> GraphClient {
    client_with(sim, quick_graph()).0
}

fn quick_engine() -> EngineOptions {
    EngineOptions {
        interval: Duration::from_millis(300),
        min_interval: Duration::from_millis(50),
        max_interval: Duration::from_secs(5),
        max_backoff: Duration::from_secs(1),
        concurrency: 4,
        own_id: None,
    }
}

struct Running {
    events: mpsc::Receiver<EngineEvent>,
    task: JoinHandle<Result<()>>,
    handle: EngineHandle,
}

fn start(graph: GraphClient, ids: Vec<String>, options: EngineOptions) -> Running {
    let engine = Engine::new(graph, ids, options);
    let handle = engine.handle();
    let (tx, events) = mpsc::channel(1024);
    let task = tokio::spawn(engine.run(tx));
    Running {
        events,
        task,
        handle,
    }
}

impl Running {
    /// Events up to and including the first one `wanted` accepts.
    async fn until(
        &mut self,
        what: &str,
        wanted: impl Fn(&EngineEvent) -> bool,
    ) -> Vec<EngineEvent> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => {
                    let done = wanted(&event);
                    seen.push(event);
                    if done {
                        return seen;
                    }
                }
                Ok(None) => panic!("the engine stopped before {what}; events: {seen:#?}"),
                Err(_) => panic!("no {what} within {WAIT:?}; events: {seen:#?}"),
            }
        }
    }

    async fn snapshot(&mut self) -> (Vec<EngineEvent>, Vec<Presence>) {
        let seen = self
            .until("snapshot", |e| matches!(e, EngineEvent::Snapshot { .. }))
            .await;
        let Some(EngineEvent::Snapshot { presences, .. }) = seen.last().cloned() else {
            unreachable!()
        };
        (seen, presences)
    }

    fn drain(&mut self) -> Vec<EngineEvent> {
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        out
    }
}

/// An engine for all of `sim`'s users that sends one request at a time, so
/// that the simulator's log shows them in order.
fn start_one_request_at_a_time(sim: &Sim) -> Running {
    start(
        client(sim),
        ids(sim),
        EngineOptions {
            concurrency: 1,
            ..quick_engine()
        },
    )
}

fn is_status(e: &EngineEvent, state: EngineState) -> bool {
    matches!(e, EngineEvent::Status(s) if s.state == state)
}

fn changes(events: &[EngineEvent]) -> Vec<&PresenceChange> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Changed(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// Presence requests, in order of arrival.
fn presence_requests(sim: &Sim) -> Vec<LoggedRequest> {
    let mut r: Vec<LoggedRequest> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == PRESENCE)
        .collect();
    r.sort_by_key(|r| r.at);
    r
}

/// Waits until the simulator has seen at least `n` presence requests.
async fn wait_for_requests(sim: &Sim, n: usize) -> Vec<LoggedRequest> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let r = presence_requests(sim);
        if r.len() >= n {
            return r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} presence requests arrived",
            r.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A presence update that differs visibly from what `id` shows now.
fn different(sim: &Sim, id: &str) -> PresenceUpdate {
    let now = sim.presence(id).unwrap();
    let (availability, activity) = if now.activity == "InAMeeting" {
        ("Away", "Away")
    } else {
        ("Busy", "InAMeeting")
    };
    PresenceUpdate {
        availability: availability.into(),
        activity: activity.into(),
        status_message: now.status_message,
        out_of_office: now.out_of_office,
    }
}

/// The update that leaves `id` looking exactly as it does (a new stamp only).
fn same(sim: &Sim, id: &str) -> PresenceUpdate {
    let now = sim.presence(id).unwrap();
    PresenceUpdate {
        availability: now.availability,
        activity: now.activity,
        status_message: now.status_message,
        out_of_office: now.out_of_office,
    }
}

fn gap(later: &LoggedRequest, earlier: &LoggedRequest) -> Duration {
    later.at.saturating_sub(earlier.at)
}

// ------------------------------------------------------- 1. batching

#[tokio::test(start_paused = true)]
async fn one_poll_sends_ceil_n_over_650_requests_covering_each_valid_id_once() {
    let sim = sim(1400).await;
    let mut roster = ids(&sim);
    let nobody = "00000000-0000-4000-8000-000000000001".to_string();
    // Duplicates (one in another letter case), two non-IDs and one GUID nobody has.
    roster.push(roster[5].clone());
    roster.push(roster[700].to_uppercase());
    roster.push("megan@contoso.com".into());
    roster.push("not-a-guid".into());
    roster.push(nobody.clone());
    let valid: HashSet<String> = ids(&sim).into_iter().chain([nobody.clone()]).collect();
    assert_eq!(valid.len(), 1401);

    let mut run = start(client(&sim), roster, quick_engine());
    let (before, snapshot) = run.snapshot().await;
    assert_eq!(
        before[0],
        EngineEvent::InvalidIds {
            ids: vec!["megan@contoso.com".into(), "not-a-guid".into()],
            reason: IdProblem::NotAUserId,
        },
        "invalid IDs are reported before anything is sent"
    );
    assert!(
        changes(&before).is_empty(),
        "the first poll is a snapshot, not changes"
    );
    assert_eq!(snapshot.len(), 1401);
    let by_id: HashMap<&str, &Presence> = snapshot.iter().map(|p| (p.id.as_str(), p)).collect();
    assert_eq!(
        by_id[nobody.as_str()].availability,
        Availability::PresenceUnknown
    );
    for id in ids(&sim).iter().step_by(97) {
        let held = sim.presence(id).unwrap();
        assert_eq!(
            by_id[id.as_str()].availability,
            Availability::parse(&held.availability)
        );
        assert_eq!(by_id[id.as_str()].activity, Activity::parse(&held.activity));
    }

    // Two polls: three requests each (ceil(1401/650) = 3).
    let log = wait_for_requests(&sim, 6).await;
    for poll in log[..6].chunks(3) {
        let mut covered = HashSet::new();
        for r in poll {
            assert_eq!(r.status, 200);
            let n = r.ids.unwrap();
            assert!(n <= 650, "{n} IDs in one request");
            assert_eq!(r.distinct_ids, Some(n), "no ID twice in a request");
            for id in &r.id_list {
                assert!(
                    covered.insert(id.to_lowercase()),
                    "{id} sent twice in one poll"
                );
            }
        }
        assert_eq!(
            covered, valid,
            "every valid ID, and nothing else, once per poll"
        );
    }
    assert!(
        changes(&run.drain()).is_empty(),
        "nothing changed, nothing reported"
    );
}

#[tokio::test(start_paused = true)]
async fn a_batch_refused_with_400_is_split_and_only_the_refused_id_is_dropped() {
    let sim = sim(3).await;
    // The whole batch is refused, then the first half of the split: that
    // half is one ID, which Graph thereby refuses on its own.
    sim.inject(Fault::status(400, None).on(PRESENCE).times(2));
    let mut run = start_one_request_at_a_time(&sim);
    let (before, snapshot) = run.snapshot().await;
    // The simulator does not log the IDs of a request it failed on purpose;
    // the one it answered after the two refusals names the good ones.
    let log = presence_requests(&sim);
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![400, 400, 200],
        "whole batch, one half, the other half"
    );
    let good: HashSet<String> = log[2].id_list.iter().cloned().collect();
    assert_eq!(good.len(), 2);
    let bad: Vec<String> = ids(&sim)
        .into_iter()
        .filter(|i| !good.contains(i))
        .collect();
    assert!(
        before.contains(&EngineEvent::InvalidIds {
            ids: bad,
            reason: IdProblem::RejectedByGraph,
        }),
        "{before:#?}"
    );
    let seen: HashSet<String> = snapshot.iter().map(|p| p.id.clone()).collect();
    assert_eq!(seen, good, "the others are still known");

    // Later polls leave the refused ID out and keep everyone else.
    let n = log.len();
    let later = wait_for_requests(&sim, n + 3).await;
    for r in &later[n..] {
        assert_eq!(r.status, 200);
        let sent: HashSet<String> = r.id_list.iter().cloned().collect();
        assert_eq!(sent, good);
    }
}

#[tokio::test(start_paused = true)]
async fn a_passing_400_drops_nobody_and_the_next_poll_is_back_to_two_requests() {
    let sim = sim(700).await;
    sim.inject(Fault::status(400, None).on(PRESENCE));
    let mut run = start_one_request_at_a_time(&sim);
    let (before, snapshot) = run.snapshot().await;
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, EngineEvent::InvalidIds { .. })),
        "{before:#?}"
    );
    assert_eq!(snapshot.len(), 700);
    // 650 refused, its halves answered, then the 50; then a normal poll.
    let log = wait_for_requests(&sim, 6).await;
    // (The simulator does not log the IDs of a request it failed on purpose.)
    let shape: Vec<(u16, Option<usize>)> = log[..6].iter().map(|r| (r.status, r.ids)).collect();
    assert_eq!(
        shape,
        vec![
            (400, None),
            (200, Some(325)),
            (200, Some(325)),
            (200, Some(50)),
            (200, Some(650)),
            (200, Some(50))
        ]
    );
    let first_poll: HashSet<&String> = log[1..4].iter().flat_map(|r| &r.id_list).collect();
    assert_eq!(first_poll.len(), 700);
}

#[tokio::test(start_paused = true)]
async fn when_graph_refuses_every_id_alone_nobody_is_dropped() {
    let sim = sim(2).await;
    sim.inject(Fault::status(400, None).on(PRESENCE).times(3));
    let mut run = start(client(&sim), ids(&sim), quick_engine());
    let (before, snapshot) = run.snapshot().await;
    assert!(
        before.iter().any(|e| is_status(e, EngineState::Error)),
        "{before:#?}"
    );
    assert!(!before
        .iter()
        .any(|e| matches!(e, EngineEvent::InvalidIds { .. })));
    assert_eq!(snapshot.len(), 2);
}

// ------------------------------------------------------- 2. throttling

#[tokio::test(start_paused = true)]
async fn no_presence_request_goes_out_before_retry_after_runs_out() {
    let sim = sim(1300).await;
    let mut run = start_one_request_at_a_time(&sim);
    run.snapshot().await;
    sim.inject(Fault::status(429, Some("2")).on(PRESENCE));
    let seen = run
        .until("throttled", |e| is_status(e, EngineState::Throttled))
        .await;
    let EngineEvent::Status(throttled) = seen.last().unwrap() else {
        unreachable!()
    };
    let wait = throttled
        .retry_after
        .expect("a throttled status says how long");
    assert!(
        wait > Duration::from_secs(1) && wait <= Duration::from_secs(2),
        "{wait:?}"
    );
    let seen = run
        .until("ok again", |e| is_status(e, EngineState::Ok))
        .await;
    let EngineEvent::Status(ok) = seen.last().unwrap() else {
        unreachable!()
    };
    assert!(
        ok.interval > quick_engine().interval,
        "throttling slowed polling down: {ok:?}"
    );
    assert!(ok.detail.contains("shared"), "{ok:?}");

    let i = presence_requests(&sim)
        .iter()
        .position(|r| r.status == 429)
        .expect("the 429 is logged");
    // Its poll's other batch, and the next poll's two.
    let log = wait_for_requests(&sim, i + 4).await;
    let throttled_at = &log[i];
    let after = &log[i + 1..];
    for r in after {
        assert!(
            gap(r, throttled_at) >= Duration::from_secs(2),
            "a request went out {:?} after a 429 that asked for 2 s",
            gap(r, throttled_at)
        );
    }
    // The poller does not retry a 429: the other batch of the poll goes
    // out after Retry-After, and the next poll asks for the refused batch
    // again, each as a first try.
    assert!(after.iter().all(|r| r.retry_attempt.is_none()), "{after:?}");
    // And the two batches still alternate: the refused one was not sent again
    // before the next poll (the simulator does not log refused bodies).
    assert_ne!(after[0].id_list, after[1].id_list);
    assert_eq!((after[0].status, after[1].status), (200, 200));
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_is_obeyed() {
    let sim = sim(3).await;
    let graph = client(&sim);
    let until = SystemTime::now() + Duration::from_secs(3);
    let date = httpdate::fmt_http_date(until);
    let date_time = httpdate::parse_http_date(&date).unwrap();
    sim.inject(Fault::status(429, Some(&date)).on(PRESENCE));

    let ids = ids(&sim);
    let call = tokio::spawn({
        let graph = graph.clone();
        async move { graph.presences_by_user_id(&ids).await }
    });
    while graph.throttled_for().is_none() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The 429 arrived before this moment, so the date is at most this far off.
    let must_wait = date_time
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    assert!(
        must_wait > Duration::from_millis(1500),
        "the test needs a date well ahead"
    );
    let answer = call.await.unwrap().unwrap();
    assert_eq!(answer.len(), 3);
    let log = presence_requests(&sim);
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].status, log[1].status), (429, 200));
    assert!(
        gap(&log[1], &log[0]) >= must_wait,
        "{:?} < {must_wait:?}",
        gap(&log[1], &log[0])
    );
}

#[tokio::test(start_paused = true)]
async fn a_closed_gate_holds_back_every_request_of_the_client() {
    let sim = sim(3).await;
    let graph = client(&sim);
    let ids = ids(&sim);
    sim.inject(Fault::status(429, Some("2")).on(PRESENCE));
    let first = tokio::spawn({
        let (graph, ids) = (graph.clone(), ids.clone());
        async move { graph.presences_by_user_id(&ids[..1]).await }
    });
    while graph.throttled_for().is_none() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Other batches and other endpoints, started while the gate is closed.
    let (a, b, c) = tokio::join!(
        first,
        graph.presences_by_user_id(&ids[1..]),
        graph.get_json::<Value>("me"),
    );
    a.unwrap().unwrap();
    b.unwrap();
    assert_eq!(c.unwrap()["id"], ids[0]);

    let mut log: Vec<LoggedRequest> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1.0/"))
        .collect();
    log.sort_by_key(|r| r.at);
    assert_eq!(log[0].status, 429);
    assert_eq!(log.len(), 4);
    for r in &log[1..] {
        assert!(
            gap(r, &log[0]) >= Duration::from_secs(2),
            "{} went out {:?} after the 429",
            r.path,
            gap(r, &log[0])
        );
    }
}

#[tokio::test(start_paused = true)]
async fn server_busy_answers_are_retried_like_the_sdk_does() {
    let sim = sim(2).await;
    let graph = client(&sim);
    let ids = ids(&sim);

    // 503 twice, no Retry-After: waits 100 ms * 2^n, with Retry-Attempt: n.
    sim.inject(Fault::status(503, None).on(PRESENCE).times(2));
    assert_eq!(graph.presences_by_user_id(&ids).await.unwrap().len(), 2);
    let log = presence_requests(&sim);
    let attempts: Vec<Option<u32>> = log.iter().map(|r| r.retry_attempt).collect();
    assert_eq!(attempts, vec![None, Some(1), Some(2)]);
    assert!(gap(&log[1], &log[0]) >= Duration::from_millis(200));
    assert!(gap(&log[2], &log[1]) >= Duration::from_millis(400));

    // 504 every time: three retries, then the error.
    sim.clear_log();
    sim.inject(Fault::status(504, None).on(PRESENCE).times(4));
    let err = graph.presences_by_user_id(&ids).await.unwrap_err();
    assert!(matches!(err, Error::Graph { status: 504, .. }), "{err:?}");
    assert_eq!(presence_requests(&sim).len(), 4);
    assert_eq!(presence_requests(&sim)[3].retry_attempt, Some(3));

    // 429 every time: the caller learns it is throttled.
    sim.clear_log();
    sim.inject(Fault::status(429, Some("0")).on(PRESENCE).times(4));
    let err = graph.presences_by_user_id(&ids).await.unwrap_err();
    assert!(matches!(err, Error::Throttled { .. }), "{err:?}");
    assert_eq!(err.code(), "throttled");

    // Other errors are not retried.
    sim.clear_log();
    sim.inject(Fault::status(500, None).on(PRESENCE));
    let err = graph.presences_by_user_id(&ids).await.unwrap_err();
    assert!(matches!(err, Error::Graph { status: 500, .. }), "{err:?}");
    assert_eq!(presence_requests(&sim).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn sustained_throttling_slows_polling_to_a_pace_the_budget_allows() {
    // A budget of 2 requests per second, which polling every 400 ms exceeds.
    let sim = sim_with(SimConfig {
        users: 1,
        rate_limit: 2,
        rate_window: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let options = EngineOptions {
        interval: Duration::from_millis(400),
        ..quick_engine()
    };
    // The first 429 is injected so that it comes however slow this machine
    // is; from then on the simulator's own budget decides.
    sim.inject(Fault::status(429, Some("1")).on(PRESENCE));
    let mut run = start(client(&sim), ids(&sim), options.clone());
    let seen = run
        .until("a pace set by the shared budget", |e| {
            matches!(e, EngineEvent::Status(s) if s.state == EngineState::Ok && s.detail.contains("shared"))
        })
        .await;
    assert!(
        seen.iter().any(|e| is_status(e, EngineState::Throttled)),
        "{seen:#?}"
    );
    let EngineEvent::Status(settled) = seen.last().unwrap() else {
        unreachable!()
    };
    assert!(settled.interval > options.interval, "{settled:?}");

    // It settles: a stretch of polls with no 429 at all.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(12);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let log = presence_requests(&sim);
        let last_429 = log
            .iter()
            .rev()
            .find(|r| r.status == 429)
            .map(|r| r.at)
            .unwrap();
        let clean_since: Vec<&LoggedRequest> = log.iter().filter(|r| r.at > last_429).collect();
        if clean_since.len() >= 6 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still throttled: {log:#?}"
        );
    }
    // And whenever a 429 came, Graph's Retry-After (at least 1 s) was obeyed.
    let log = presence_requests(&sim);
    let throttled = log.iter().filter(|r| r.status == 429).count();
    // Polling at a fixed 400 ms would meet a 429 every third request.
    assert!(throttled <= 4, "{throttled} 429s: {log:#?}");
    for (i, r) in log.iter().enumerate().filter(|(_, r)| r.status == 429) {
        if let Some(next) = log.get(i + 1) {
            assert!(gap(next, r) >= Duration::from_secs(1), "{log:#?}");
        }
    }
}

// ------------------------------------------------ network and server trouble

#[tokio::test(start_paused = true)]
async fn network_loss_and_timeouts_back_off_and_recover_by_themselves() {
    let sim = sim(3).await;
    let graph = client_with(
        &sim,
        GraphOptions {
            request_timeout: Duration::from_millis(800),
            ..quick_graph()
        },
    )
    .0;
    let mut run = start(graph, ids(&sim), quick_engine());
    run.snapshot().await;

    let n = presence_requests(&sim).len();
    sim.inject(Fault::new(FaultKind::Drop).on(PRESENCE).times(3));
    let seen = run
        .until("back online", |e| is_status(e, EngineState::Ok))
        .await;
    let offline: Vec<&EngineEvent> = seen
        .iter()
        .filter(|e| is_status(e, EngineState::Offline))
        .collect();
    assert_eq!(
        offline.len(),
        1,
        "one status per change of state: {seen:#?}"
    );
    assert!(changes(&seen).is_empty());
    // Jittered exponential backoff: at least half of 300 ms, 600 ms, 1 s.
    let log = wait_for_requests(&sim, n + 4).await;
    let first_drop = log.iter().position(|r| r.status == 0).unwrap();
    let trouble = &log[first_drop - 1..first_drop + 4];
    let statuses: Vec<u16> = trouble.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 0, 0, 0, 200]);
    assert!(gap(&trouble[2], &trouble[1]) >= Duration::from_millis(150));
    assert!(gap(&trouble[3], &trouble[2]) >= Duration::from_millis(300));
    assert!(
        gap(&trouble[4], &trouble[3]) >= Duration::from_millis(500),
        "backs off beyond the interval"
    );

    // A request that takes too long is a timeout: offline too.
    sim.inject(
        Fault::new(FaultKind::Slow {
            delay: Duration::from_secs(3),
        })
        .on(PRESENCE),
    );
    let seen = run
        .until("offline", |e| is_status(e, EngineState::Offline))
        .await;
    let EngineEvent::Status(s) = seen.last().unwrap() else {
        unreachable!()
    };
    assert!(s.detail.contains("timed out"), "{s:?}");
    run.until("back online", |e| is_status(e, EngineState::Ok))
        .await;
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_reported_once_and_recovered_from() {
    let sim = sim(3).await;
    let mut run = start(client(&sim), ids(&sim), quick_engine());
    run.snapshot().await;
    sim.inject(Fault::status(500, None).on(PRESENCE).times(3));
    let seen = run
        .until("ok again", |e| is_status(e, EngineState::Ok))
        .await;
    let errors: Vec<&EngineEvent> = seen
        .iter()
        .filter(|e| is_status(e, EngineState::Error))
        .collect();
    assert_eq!(errors.len(), 1, "{seen:#?}");
    let EngineEvent::Status(s) = errors[0] else {
        unreachable!()
    };
    assert!(s.detail.contains("500"), "{s:?}");
    assert!(changes(&seen).is_empty(), "a failed poll changes nobody");
}

#[tokio::test(start_paused = true)]
async fn presence_missing_from_the_cloud_is_said_plainly() {
    let sim = sim(2).await;
    sim.set_presence_available(false);
    let graph = client(&sim);
    let err = graph.my_presence().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("presence is not available in this cloud"),
        "{err}"
    );
    let mut run = start(graph, ids(&sim), quick_engine());
    let seen = run
        .until("an error", |e| is_status(e, EngineState::Error))
        .await;
    let EngineEvent::Status(s) = seen.last().unwrap() else {
        unreachable!()
    };
    assert!(
        s.detail.contains("presence is not available in this cloud"),
        "{s:?}"
    );
    assert!(!seen
        .iter()
        .any(|e| matches!(e, EngineEvent::Snapshot { .. })));
}

// ------------------------------------------------------- 3. changes

#[tokio::test(start_paused = true)]
async fn the_first_poll_is_a_snapshot_then_one_change_per_real_change() {
    let sim = sim(8).await;
    let roster = ids(&sim);
    let mut run = start(client(&sim), roster.clone(), quick_engine());
    let (before, snapshot) = run.snapshot().await;
    assert!(changes(&before).is_empty());
    let at_snapshot = match before.last().unwrap() {
        EngineEvent::Snapshot { at, .. } => *at,
        _ => unreachable!(),
    };
    let shown: Vec<String> = snapshot.iter().map(|p| p.id.clone()).collect();
    assert_eq!(shown, roster, "everyone, in roster order");

    let [meeting, noted, silent, away, novel] = [1, 2, 3, 4, 5].map(|i| roster[i].clone());
    sim.set_presence(&meeting, different(&sim, &meeting))
        .unwrap();
    let mut note = same(&sim, &noted);
    note.status_message = Some("Back at 3".into());
    sim.set_presence(&noted, note).unwrap();
    sim.set_presence(&silent, same(&sim, &silent)).unwrap();
    let mut leave = same(&sim, &away);
    leave.out_of_office = Some("On leave until Monday".into());
    sim.set_presence(&away, leave).unwrap();
    sim.set_presence(
        &novel,
        PresenceUpdate {
            availability: "doNotDisturb".into(),
            activity: "focusing".into(),
            ..Default::default()
        },
    )
    .unwrap();

    let n = presence_requests(&sim).len();
    // Three more polls: by then every answer above has been applied.
    wait_for_requests(&sim, n + 3).await;
    let events = run.drain();
    let got = changes(&events);
    let who: Vec<&str> = got.iter().map(|c| c.id.as_str()).collect();
    let mut sorted = who.clone();
    sorted.sort();
    let mut expected = vec![
        meeting.as_str(),
        noted.as_str(),
        away.as_str(),
        novel.as_str(),
    ];
    expected.sort();
    assert_eq!(
        sorted, expected,
        "one change each; a new stamp alone is none"
    );

    let by: HashMap<&str, &PresenceChange> = got.iter().map(|c| (c.id.as_str(), *c)).collect();
    let before_of = |id: &str| snapshot.iter().find(|p| p.id == id).unwrap().clone();
    let m = by[meeting.as_str()];
    assert_eq!(
        m.previous.as_ref(),
        Some(&before_of(&meeting)),
        "what was shown before"
    );
    assert_eq!(
        m.previous_since,
        Some(at_snapshot),
        "seen since the snapshot"
    );
    assert!(m.at > at_snapshot);
    assert_eq!(
        by[noted.as_str()].presence.status_message.as_deref(),
        Some("Back at 3")
    );
    assert!(by[away.as_str()].presence.is_out_of_office());
    let f = &by[novel.as_str()].presence;
    assert_eq!(
        f.availability,
        Availability::DoNotDisturb,
        "any letter case"
    );
    assert_eq!(
        f.activity,
        Activity::Other("focusing".into()),
        "unknown values kept as they came"
    );
}

#[tokio::test(start_paused = true)]
async fn a_malformed_answer_changes_nothing_and_is_reported() {
    let sim = sim(4).await;
    let roster = ids(&sim);
    let mut run = start(client(&sim), roster.clone(), quick_engine());
    run.snapshot().await;
    sim.inject(Fault::new(FaultKind::Malformed).on(PRESENCE));
    sim.set_presence(&roster[1], different(&sim, &roster[1]))
        .unwrap();
    let seen = run
        .until(
            "the change",
            |e| matches!(e, EngineEvent::Changed(c) if c.id == roster[1]),
        )
        .await;
    let error = seen
        .iter()
        .position(|e| is_status(e, EngineState::Error))
        .expect("reported");
    let EngineEvent::Status(s) = &seen[error] else {
        unreachable!()
    };
    assert!(s.detail.contains("could not be read"), "{s:?}");
    let ok = seen
        .iter()
        .position(|e| is_status(e, EngineState::Ok))
        .expect("recovered");
    assert!(error < ok && ok < seen.len() - 1, "{seen:#?}");
    assert_eq!(changes(&seen).len(), 1, "nobody became unknown: {seen:#?}");
    assert!(presence_requests(&sim)
        .iter()
        .any(|r| r.fault.as_deref() == Some("malformed")));
}

#[tokio::test(start_paused = true)]
async fn the_roster_can_change_while_running() {
    let sim = sim(6).await;
    let all = ids(&sim);
    let mut run = start(client(&sim), all[..3].to_vec(), quick_engine());
    let (_, snapshot) = run.snapshot().await;
    assert_eq!(snapshot.len(), 3);

    let mut next = all[1..5].to_vec();
    next.push("junk".into());
    run.handle.set_ids(next);
    let seen = run
        .until(
            "the newcomers",
            |e| matches!(e, EngineEvent::Changed(c) if c.id == all[4]),
        )
        .await;
    assert!(seen.contains(&EngineEvent::InvalidIds {
        ids: vec!["junk".into()],
        reason: IdProblem::NotAUserId,
    }));
    let newcomers: Vec<&PresenceChange> = changes(&seen);
    let ids_seen: Vec<&str> = newcomers.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids_seen,
        vec![all[3].as_str(), all[4].as_str()],
        "only the new ones, once"
    );
    assert!(newcomers.iter().all(|c| c.previous.is_none()));

    // The newcomers were asked about on their own; the next regular poll
    // asks about everyone on the roster.
    let log = presence_requests(&sim);
    let newcomers_request: HashSet<String> = log.last().unwrap().id_list.iter().cloned().collect();
    assert_eq!(
        newcomers_request,
        all[3..5].iter().cloned().collect::<HashSet<_>>()
    );
    let n = log.len();
    let log = wait_for_requests(&sim, n + 1).await;
    let sent: HashSet<String> = log[n].id_list.iter().cloned().collect();
    assert_eq!(sent, all[1..5].iter().cloned().collect::<HashSet<_>>());
}

// ----------------------------------------- 5. no request it need not send

#[tokio::test(start_paused = true)]
async fn a_roster_edit_polls_only_the_added_ids_and_a_flag_toggle_sends_nothing() {
    let sim = sim(8).await;
    let all = ids(&sim);
    let options = EngineOptions {
        interval: Duration::from_secs(4),
        min_interval: Duration::from_millis(500),
        ..quick_engine()
    };
    let mut run = start(client(&sim), all[..4].to_vec(), options);
    run.snapshot().await;
    let first_poll = presence_requests(&sim);
    assert_eq!(first_poll.len(), 1);

    // A bell or a star: the same IDs again. Nothing goes out before the next
    // regular poll, 3.2 to 4.8 s after the first.
    run.handle.set_ids(all[..4].to_vec());
    run.handle.set_ids(all[..3].to_vec());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        presence_requests(&sim).len(),
        1,
        "a toggle or a removal sent a request"
    );

    // Two added at once: one request with just them, not sooner than the
    // floor after the last request.
    run.handle.set_ids(all[..6].to_vec());
    run.until(
        "the newcomers",
        |e| matches!(e, EngineEvent::Changed(c) if c.id == all[5]),
    )
    .await;
    let log = presence_requests(&sim);
    let added = log.last().unwrap();
    let sent: HashSet<&String> = added.id_list.iter().collect();
    assert_eq!(sent, all[3..6].iter().collect::<HashSet<_>>());
    assert!(gap(added, &first_poll[0]) >= Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn own_presence_rides_along_in_the_rosters_requests() {
    let sim = sim(3).await;
    let me = sim.users()[0].id.clone();
    let teammates = ids(&sim)[1..].to_vec();
    let options = EngineOptions {
        own_id: Some(me.clone()),
        ..quick_engine()
    };
    let mut run = start(client(&sim), teammates.clone(), options);
    let seen = run
        .until("own presence", |e| matches!(e, EngineEvent::OwnPresence(_)))
        .await;
    assert!(matches!(seen.last(), Some(EngineEvent::OwnPresence(p)) if p.id == me));
    // Not a teammate: the snapshot holds the roster only.
    let (_, snapshot) = run.snapshot().await;
    assert_eq!(snapshot.len(), teammates.len());
    assert!(snapshot.iter().all(|p| p.id != me));

    // A change is told once, as the user's own, never as a teammate's.
    sim.set_presence(&me, different(&sim, &me)).unwrap();
    let seen = run
        .until("the change", |e| matches!(e, EngineEvent::OwnPresence(_)))
        .await;
    assert!(changes(&seen).iter().all(|c| c.id != me), "{seen:#?}");
    // One request a poll, the user among its IDs; no request of its own.
    let log = presence_requests(&sim);
    assert!(log.iter().all(|r| r.id_list.contains(&me)));
    assert!(sim.requests().iter().all(|r| r.path != "/v1.0/me/presence"));
}

#[tokio::test(start_paused = true)]
async fn a_batch_graph_refuses_over_and_over_costs_a_bounded_number_of_requests() {
    let sim = sim(650).await;
    sim.inject(Fault::status(400, None).on(PRESENCE).times(10_000));
    let options = EngineOptions {
        interval: Duration::from_secs(2),
        max_backoff: Duration::from_secs(5),
        ..quick_engine()
    };
    let mut run = start(client(&sim), ids(&sim), options);
    let seen = run
        .until("the error", |e| is_status(e, EngineState::Error))
        .await;
    assert!(!seen
        .iter()
        .any(|e| matches!(e, EngineEvent::InvalidIds { .. })));
    // 2·⌈log2(650)⌉ + 1 = 21 beyond the batch's own, then it waits.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let first_poll = presence_requests(&sim);
    assert_eq!(first_poll.len(), 1 + 21, "{} requests", first_poll.len());
    let n = first_poll.len();
    let next = wait_for_requests(&sim, n + 1).await;
    assert!(
        gap(&next[n], &first_poll[0]) >= Duration::from_millis(900),
        "the next poll waited for its time: {:?}",
        gap(&next[n], &first_poll[0])
    );
}

// ------------------------------------------------------------ sign-in

#[tokio::test(start_paused = true)]
async fn an_expired_token_is_refreshed_quietly_and_a_revoked_sign_in_ends_the_run() {
    let sim = sim_with(SimConfig {
        users: 3,
        access_token_lifetime: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let (graph, tokens) = client_with(&sim, quick_graph());
    let mut run = start(graph, ids(&sim), quick_engine());
    run.snapshot().await;
    // Outlive the token: Graph says 401, the session refreshes, polling goes on.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let log = sim.requests();
    let refused = log
        .iter()
        .position(|r| r.path == PRESENCE && r.status == 401)
        .expect("the token expired");
    assert!(log[refused..]
        .iter()
        .any(|r| r.grant_type.as_deref() == Some("refresh_token") && r.status == 200));
    assert!(log[refused..]
        .iter()
        .any(|r| r.path == PRESENCE && r.status == 200));
    assert!(tokens.refreshes.load(Ordering::SeqCst) >= 1);
    let quiet = run.drain();
    assert!(
        quiet.iter().all(|e| !matches!(e, EngineEvent::Status(_))),
        "{quiet:#?}"
    );

    sim.revoke_all();
    let seen = run
        .until("signed out", |e| is_status(e, EngineState::SignedOut))
        .await;
    assert!(changes(&seen).is_empty());
    let result = tokio::time::timeout(WAIT, &mut run.task)
        .await
        .unwrap()
        .unwrap();
    let err = result.unwrap_err();
    assert!(err.needs_sign_in(), "{err:?}");
    let n = presence_requests(&sim).len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        presence_requests(&sim).len(),
        n,
        "nothing is sent once signed out"
    );
}

// ------------------------------------------------------------ watch

/// A writer the test can read while `run_watch` writes to it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect()
    }

    async fn wait_for(&self, event: &str) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let lines = self.lines();
            if lines.iter().any(|l| l["event"] == event) {
                return lines;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {event} line: {lines:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn is_utc_rfc3339(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

#[tokio::test(start_paused = true)]
async fn watch_prints_json_lines_and_ends_with_sign_in_needed() {
    let sim = sim(4).await;
    let roster = ids(&sim);
    let out = Shared::default();
    let watch = tokio::spawn(run_watch(
        client(&sim),
        roster.clone(),
        quick_engine(),
        None,
        Printer::json(),
        out.clone(),
    ));

    let lines = out.wait_for("snapshot").await;
    assert_eq!(lines[0]["event"], "status");
    assert_eq!(lines[0]["state"], "ok");
    let snap = lines.iter().find(|l| l["event"] == "snapshot").unwrap();
    assert!(is_utc_rfc3339(&snap["at"]));
    let presences = snap["presences"].as_array().unwrap();
    assert_eq!(presences.len(), 4);
    for p in presences {
        assert!(
            p["id"].is_string() && p["availability"].is_string() && p["activity"].is_string(),
            "{p}"
        );
    }

    let before = sim.presence(&roster[2]).unwrap();
    let update = different(&sim, &roster[2]);
    sim.set_presence(&roster[2], update.clone()).unwrap();
    let lines = out.wait_for("changed").await;
    let changed = lines.iter().find(|l| l["event"] == "changed").unwrap();
    assert_eq!(changed["id"], roster[2]);
    assert_eq!(changed["availability"], update.availability);
    assert_eq!(changed["activity"], update.activity);
    assert_eq!(changed["previous"]["availability"], before.availability);
    assert_eq!(changed["previous"]["activity"], before.activity);
    assert!(is_utc_rfc3339(&changed["at"]));
    assert!(is_utc_rfc3339(&changed["previous"]["since"]));

    sim.revoke_all();
    let result = tokio::time::timeout(WAIT, watch).await.unwrap().unwrap();
    assert!(result.unwrap_err().needs_sign_in());
    let lines = out.lines();
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "status");
    assert_eq!(last["state"], "signed_out");
    assert!(
        last["detail"].as_str().unwrap().contains("presently login"),
        "{last}"
    );
    assert!(last.get("retry_after_s").is_some());
}

// ------------------------------------------------------ directory helpers

#[tokio::test(start_paused = true)]
async fn directory_helpers_follow_next_links_and_batch_by_twenty() {
    let sim = sim(35).await;
    let graph = client(&sim);
    let users: Vec<Value> = graph
        .get_all("users?$select=id,displayName&$top=10", &[], 1000)
        .await
        .unwrap();
    assert_eq!(users.len(), 35);
    let got: HashSet<String> = users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, ids(&sim).into_iter().collect::<HashSet<_>>());
    let pages = sim
        .requests()
        .iter()
        .filter(|r| r.path == "/v1.0/users")
        .count();
    assert_eq!(pages, 4);

    sim.clear_log();
    let first: Vec<Value> = graph.get_all("users?$top=10", &[], 15).await.unwrap();
    assert_eq!(first.len(), 15);
    assert_eq!(sim.requests().len(), 2, "no page beyond what was asked");

    sim.clear_log();
    let requests: Vec<BatchRequest> = ids(&sim)[..25]
        .iter()
        .enumerate()
        .map(|(i, id)| {
            BatchRequest::get(i.to_string(), format!("/users/{id}?$select=id,displayName"))
        })
        .collect();
    let answers = graph.batch(&requests).await.unwrap();
    assert_eq!(answers.len(), 25);
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a.id, i.to_string());
        assert_eq!(a.json::<Value>().unwrap()["id"], ids(&sim)[i]);
    }
    let batches = sim
        .requests()
        .iter()
        .filter(|r| r.path == "/v1.0/$batch")
        .count();
    assert_eq!(batches, 2);
}

/// A server that answers every request with `head` and then `body_len`
/// bytes of a JSON array that never ends, as fast as they are taken.
async fn endless_answer(head: &'static str, body_len: usize) -> url::Url {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let _ = conn.read(&mut request).await;
                if conn.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0;
                let _ = conn.write_all(b"{\"value\":[").await;
                while sent < body_len {
                    if conn.write_all(&chunk).await.is_err() {
                        return;
                    }
                    sent += chunk.len();
                }
            });
        }
    });
    url
}

#[tokio::test(start_paused = true)]
async fn an_answer_far_too_large_is_not_read_and_the_engine_goes_on() {
    let sim = sim(2).await;
    for head in [
        // Said up front...
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n",
        // ...or not: read until the limit, then cut off.
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
    ] {
        let url = endless_answer(head, 100 * 1024 * 1024).await;
        let mut settings = settings(&sim);
        settings.graph_url = url;
        let graph =
            GraphClient::with_options(&settings, SimTokens::new(&sim), quick_graph()).unwrap();
        let mut run = start(graph, ids(&sim), quick_engine());
        let seen = run
            .until("the error", |e| is_status(e, EngineState::Error))
            .await;
        let Some(EngineEvent::Status(status)) = seen.last() else {
            unreachable!()
        };
        assert!(status.detail.contains("larger than 4096 KiB"), "{status:?}");
        // It goes on polling: the next poll meets the same and says nothing new.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(!run.task.is_finished(), "the engine stopped");
    }
}

// ------------------------------------------------------------ resume from suspend

/// How far the wall clocks of the two tests below have jumped ahead, in
/// seconds: what a suspend does to the wall clock while the monotonic one
/// stands still. One per test, as tests run side by side.
static JUMPED_AFTER_SLEEP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static JUMPED_WHILE_THROTTLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn wall_after_sleep() -> SystemTime {
    SystemTime::now() + Duration::from_secs(JUMPED_AFTER_SLEEP.load(Ordering::SeqCst))
}

fn wall_while_throttled() -> SystemTime {
    SystemTime::now() + Duration::from_secs(JUMPED_WHILE_THROTTLED.load(Ordering::SeqCst))
}

/// Presence requests in the simulator's log once there are `n`, or all
/// there are by `deadline`.
async fn presence_requests_once(sim: &Sim, n: usize, deadline: Duration) -> Vec<LoggedRequest> {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        let seen = presence_requests(sim);
        if seen.len() >= n || tokio::time::Instant::now() >= until {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A resume from suspend (the wall clock an hour ahead of the monotonic
/// one) is noticed within the engine's check, every 5 s, and the next poll
/// is sent then, as soon as the minimum interval allows, not after the
/// minute the interval asks for. It is one poll: then the interval holds
/// again.
#[tokio::test(start_paused = true)]
async fn a_resume_from_suspend_polls_at_once_instead_of_waiting_out_the_interval() {
    let sim = sim(2).await;
    let options = EngineOptions {
        interval: Duration::from_secs(60),
        max_interval: Duration::from_secs(120),
        ..quick_engine()
    };
    let engine = Engine::new(client(&sim), ids(&sim), options).with_wall_clock(wall_after_sleep);
    let (tx, mut events) = mpsc::channel(1024);
    let task = tokio::spawn(engine.run(tx));
    let first = loop {
        match tokio::time::timeout(WAIT, events.recv()).await {
            Ok(Some(EngineEvent::Snapshot { .. })) => break presence_requests(&sim),
            Ok(Some(_)) => {}
            other => panic!("no snapshot: {other:?}"),
        }
    };
    assert_eq!(first.len(), 1);

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(presence_requests(&sim).len(), 1, "polled before the resume");
    JUMPED_AFTER_SLEEP.store(3600, Ordering::SeqCst);
    let after = presence_requests_once(&sim, 2, Duration::from_secs(15)).await;
    assert_eq!(after.len(), 2, "no poll after the resume");
    let gap = after[1].at - after[0].at;
    assert!(
        gap < Duration::from_secs(15),
        "the interval was waited out: {gap:?}"
    );

    // Noticed once: the next poll is the interval's again.
    let later = presence_requests_once(&sim, 3, Duration::from_secs(7)).await;
    assert_eq!(later.len(), 2, "polled again at once: {later:?}");
    assert!(!task.is_finished());
    drop(events);
}

/// A resume while Graph's `Retry-After` is still in force moves the next
/// poll earlier, but no request is sent before `Retry-After` ends.
#[tokio::test(start_paused = true)]
async fn a_resume_from_suspend_still_waits_for_retry_after() {
    let sim = sim(2).await;
    sim.inject(Fault::status(429, Some("8")).on(PRESENCE));
    let options = EngineOptions {
        interval: Duration::from_secs(60),
        max_interval: Duration::from_secs(120),
        ..quick_engine()
    };
    let engine =
        Engine::new(client(&sim), ids(&sim), options).with_wall_clock(wall_while_throttled);
    let (tx, mut events) = mpsc::channel(1024);
    let task = tokio::spawn(engine.run(tx));
    let first = presence_requests_once(&sim, 1, WAIT).await;
    assert_eq!(first.len(), 1);

    tokio::time::sleep(Duration::from_secs(1)).await;
    JUMPED_WHILE_THROTTLED.store(3600, Ordering::SeqCst);
    let after = presence_requests_once(&sim, 2, Duration::from_secs(20)).await;
    assert_eq!(after.len(), 2, "no poll after the resume");
    let gap = after[1].at - after[0].at;
    assert!(
        gap >= Duration::from_secs(8),
        "sent inside Retry-After: {gap:?}"
    );
    assert!(
        gap < Duration::from_secs(20),
        "the interval was waited out: {gap:?}"
    );
    // The poll after the resume is the one that answers.
    let snapshot = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Some(EngineEvent::Snapshot { presences, .. }) => return presences,
                Some(_) => {}
                None => panic!("the engine stopped"),
            }
        }
    })
    .await
    .expect("a snapshot after Retry-After");
    assert_eq!(snapshot.len(), 2);
    assert!(!task.is_finished());
}
