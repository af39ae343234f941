//! `presently watch`: engine events as lines, JSON or for people.
//!
//! The JSON shape is a contract with scripts: fields may be added, never
//! renamed. Times are RFC 3339 in UTC.
//!
//! ```text
//! {"event":"snapshot","at":"...","presences":[{"id":"...","availability":"Busy","activity":"InAMeeting",...}]}
//! {"event":"changed","id":"...","availability":"...","activity":"...","previous":{"availability":"...","activity":"...",...},"at":"..."}
//! {"event":"status","state":"ok|throttled|offline|signed_out|error","detail":"...","retry_after_s":3}
//! {"event":"invalid_ids","ids":["..."],"reason":"not_a_user_id|rejected_by_graph","detail":"..."}
//! {"event":"schedule","id":"...","busy_until":"...|null","free_at":"...|null","outside_working_hours":false,"utc_offset_minutes":60,"at":"..."}
//! ```
//!
//! `schedule` lines come with `--calendar` only ([`CalendarFeed`]): once per
//! person after the snapshot, then whenever one of the fields changes.

use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Local, SecondsFormat, Utc};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::calendar::{self, CalendarEvent, CalendarHandle, Outlook, OutlookChange, Person};
use crate::engine::{Engine, EngineEvent, EngineOptions, EngineStatus, PresenceChange};
use crate::error::{Error, Result};
use crate::graph::GraphClient;
use crate::presence::Presence;
use crate::status::in_full;
pub use crate::text::clean_text;

/// A snapshot lists at most this many people one per line in the human
/// format; beyond that a terminal is no place to read them.
const HUMAN_SNAPSHOT_LINES: usize = 200;

/// Turns engine events into lines.
#[derive(Debug, Clone, Default)]
pub struct Printer {
    json: bool,
    names: HashMap<String, String>,
}

impl Printer {
    /// One JSON object per line.
    pub fn json() -> Printer {
        Printer {
            json: true,
            names: HashMap::new(),
        }
    }

    /// Lines for people; `names` maps user IDs (lower-case) to display names,
    /// and anyone not in it is shown by ID.
    pub fn human(names: HashMap<String, String>) -> Printer {
        Printer {
            json: false,
            names: names
                .into_iter()
                .map(|(id, name)| (id.to_ascii_lowercase(), name))
                .collect(),
        }
    }

    /// The text for one event: one or more lines, each ending in `\n`.
    pub fn format(&self, event: &EngineEvent) -> String {
        let mut text = Vec::new();
        self.write(event, &mut text)
            .expect("writing to memory does not fail");
        String::from_utf8(text).expect("JSON and text lines are UTF-8")
    }

    /// Writes the line (or lines) for `event` to `out`. The snapshot goes
    /// one presence at a time: for 10,000 teammates neither a JSON tree of
    /// everyone nor the whole line is ever held.
    pub fn write<W: Write>(&self, event: &EngineEvent, out: &mut W) -> std::io::Result<()> {
        if !self.json {
            return out.write_all(self.human_lines(event).as_bytes());
        }
        match event {
            EngineEvent::Snapshot { at, presences } => write_snapshot(at, presences, out),
            other => writeln!(out, "{}", event_json(other)),
        }
    }

    /// Writes the line for a teammate's calendar outlook (`--calendar`).
    pub fn write_outlook<W: Write>(
        &self,
        change: &OutlookChange,
        at: &DateTime<Utc>,
        out: &mut W,
    ) -> std::io::Result<()> {
        if self.json {
            return writeln!(out, "{}", outlook_json(change, at));
        }
        let words = calendar::summary(&change.outlook, &at.with_timezone(&Local));
        writeln!(
            out,
            "{}  {}  calendar: {words}",
            clock(at),
            self.name(&change.id)
        )
    }

    fn name(&self, id: &str) -> String {
        match self.names.get(id) {
            Some(name) => clean_text(name, 60),
            None => id.to_string(),
        }
    }

    fn human_lines(&self, event: &EngineEvent) -> String {
        match event {
            EngineEvent::Snapshot { at, presences } => {
                let time = clock(at);
                let mut counts: Vec<(String, usize)> = Vec::new();
                for p in presences {
                    let label = p.availability.label().to_lowercase();
                    match counts.iter_mut().find(|(l, _)| *l == label) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((label, 1)),
                    }
                }
                let summary = counts
                    .iter()
                    .map(|(l, n)| format!("{n} {l}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let who = if presences.len() == 1 {
                    "teammate"
                } else {
                    "teammates"
                };
                let mut out = format!("{time}  Watching {} {who}", presences.len());
                if !summary.is_empty() {
                    out.push_str(": ");
                    out.push_str(&summary);
                }
                out.push_str(".\n");
                for p in presences.iter().take(HUMAN_SNAPSHOT_LINES) {
                    out.push_str(&format!("{time}  {}  {}\n", self.name(&p.id), in_full(p)));
                }
                if presences.len() > HUMAN_SNAPSHOT_LINES {
                    out.push_str(&format!(
                        "{time}  ...and {} more (use --json to see everyone).\n",
                        presences.len() - HUMAN_SNAPSHOT_LINES
                    ));
                }
                out
            }
            EngineEvent::Changed(c) => {
                let mut line = format!(
                    "{}  {}  {}",
                    clock(&c.at),
                    self.name(&c.id),
                    in_full(&c.presence)
                );
                match &c.previous {
                    Some(prev) => {
                        line.push_str(" <- ");
                        line.push_str(&in_full(prev));
                    }
                    None => line.push_str(" (now watched)"),
                }
                line.push('\n');
                line
            }
            EngineEvent::Status(s) => {
                let mut line = format!(
                    "{}  Status: {}. {}",
                    clock(&Utc::now()),
                    s.state.as_str(),
                    s.detail
                );
                if let Some(wait) = s.retry_after {
                    line.push_str(&format!(" Next try in {} s.", ceil_secs(wait)));
                }
                line.push('\n');
                line
            }
            EngineEvent::OwnPresence(p) => {
                format!("{}  You: {}\n", clock(&Utc::now()), in_full(p))
            }
            EngineEvent::InvalidIds { ids, reason } => {
                let shown: Vec<String> = ids.iter().take(20).map(|i| clean_text(i, 60)).collect();
                let more = if ids.len() > shown.len() {
                    format!(" and {} more", ids.len() - shown.len())
                } else {
                    String::new()
                };
                format!(
                    "{}  Skipping {} ID{}, {}: {}{more}\n",
                    clock(&Utc::now()),
                    ids.len(),
                    if ids.len() == 1 { "" } else { "s" },
                    reason.describe(),
                    shown.join(", ")
                )
            }
        }
    }
}

fn clock(at: &DateTime<Utc>) -> String {
    at.with_timezone(&Local).format("%H:%M:%S").to_string()
}

fn rfc3339(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn presence_fields(p: &Presence) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("availability".into(), json!(p.availability));
    m.insert("activity".into(), json!(p.activity));
    m.insert("statusMessage".into(), json!(p.status_message));
    m.insert("outOfOffice".into(), json!(p.out_of_office));
    m.insert("workLocation".into(), json!(p.work_location));
    m
}

/// The snapshot line, one presence at a time: the same text as
/// [`event_json`] gives.
fn write_snapshot<W: Write>(
    at: &DateTime<Utc>,
    presences: &[Presence],
    out: &mut W,
) -> std::io::Result<()> {
    let empty = json!({
        "event": "snapshot",
        "at": rfc3339(at),
        "presences": [],
    })
    .to_string();
    // "presences" sorts last among the keys, so the list ends the object.
    let head = empty
        .strip_suffix("[]}")
        .expect("the snapshot object ends with its empty list");
    out.write_all(head.as_bytes())?;
    out.write_all(b"[")?;
    for (i, p) in presences.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &presence_json(p))?;
    }
    out.write_all(b"]}\n")
}

fn presence_json(p: &Presence) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("id".into(), json!(p.id));
    m.extend(presence_fields(p));
    Value::Object(m)
}

fn change_json(c: &PresenceChange) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("event".into(), json!("changed"));
    m.insert("id".into(), json!(c.id));
    m.extend(presence_fields(&c.presence));
    let previous = c.previous.as_ref().map(|prev| {
        let mut pm = presence_fields(prev);
        pm.insert(
            "since".into(),
            json!(c.previous_since.as_ref().map(rfc3339)),
        );
        Value::Object(pm)
    });
    m.insert("previous".into(), json!(previous));
    m.insert("at".into(), json!(rfc3339(&c.at)));
    Value::Object(m)
}

fn status_json(s: &EngineStatus) -> Value {
    json!({
        "event": "status",
        "state": s.state.as_str(),
        "detail": s.detail,
        "retry_after_s": s.retry_after.map(ceil_secs),
        "interval_s": ceil_secs(s.interval),
        "last_answer_at": s.last_answer_at.as_ref().map(rfc3339),
    })
}

/// The `schedule` line of `watch --json --calendar`.
pub fn outlook_json(change: &OutlookChange, at: &DateTime<Utc>) -> Value {
    let mut m = outlook_fields(&change.outlook);
    m.insert("event".into(), json!("schedule"));
    m.insert("id".into(), json!(change.id));
    m.insert("at".into(), json!(rfc3339(at)));
    Value::Object(m)
}

/// The calendar fields of a teammate, as `watch`, `roster list` and
/// `publish` write them.
pub fn outlook_fields(o: &Outlook) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(
        "busy_until".into(),
        json!(o.busy_until.as_ref().map(rfc3339)),
    );
    m.insert("free_at".into(), json!(o.free_at.as_ref().map(rfc3339)));
    m.insert(
        "outside_working_hours".into(),
        json!(o.outside_working_hours),
    );
    m.insert("utc_offset_minutes".into(), json!(o.utc_offset_minutes));
    m
}

/// `--calendar`: the calendar reader beside the engine. Presence changes
/// steer it (someone in a meeting is read again), and what it says waits
/// until the snapshot is out, so that each person's first outlook follows it.
pub struct CalendarFeed {
    handle: CalendarHandle,
    events: mpsc::Receiver<CalendarEvent>,
    /// Outlooks that came before the snapshot; `None` once it is out.
    held: Option<Vec<OutlookChange>>,
}

impl CalendarFeed {
    /// Starts reading the calendars of `people` through `graph`'s sign-in
    /// (on a throttle gate of its own).
    pub fn start(graph: &GraphClient, people: Vec<Person>) -> CalendarFeed {
        let (handle, events) = calendar::spawn(graph.clone(), people);
        CalendarFeed {
            handle,
            events,
            held: Some(Vec::new()),
        }
    }

    /// Tells the reader what the engine saw.
    pub fn saw(&self, event: &EngineEvent) {
        if let EngineEvent::Changed(c) = event {
            if calendar::triggers_read(&c.presence) {
                self.handle.turned_busy(&c.id);
            }
        }
    }

    /// The snapshot is out: the outlooks held back until now.
    pub fn snapshot_written(&mut self) -> Vec<OutlookChange> {
        self.held.take().unwrap_or_default()
    }

    /// The next outlooks to write, or a problem to tell; held back (and
    /// an empty list given) until the snapshot is out. `None` once the
    /// reader has stopped.
    pub async fn next(&mut self) -> Option<std::result::Result<Vec<OutlookChange>, Error>> {
        match self.events.recv().await? {
            CalendarEvent::Changed(changes) => match &mut self.held {
                Some(held) => {
                    // The latest outlook of each counts.
                    held.retain(|h| !changes.iter().any(|c| c.id == h.id));
                    held.extend(changes);
                    Some(Ok(Vec::new()))
                }
                None => Some(Ok(changes)),
            },
            CalendarEvent::Problem(e) => Some(Err(e)),
        }
    }
}

impl Drop for CalendarFeed {
    fn drop(&mut self) {
        self.handle.stop();
    }
}

/// The JSON object `presently watch --json` prints for an event.
pub fn event_json(event: &EngineEvent) -> Value {
    match event {
        EngineEvent::Snapshot { at, presences } => json!({
            "event": "snapshot",
            "at": rfc3339(at),
            "presences": presences.iter().map(presence_json).collect::<Vec<_>>(),
        }),
        EngineEvent::Changed(c) => change_json(c),
        EngineEvent::Status(s) => status_json(s),
        EngineEvent::OwnPresence(p) => json!({
            "event": "me",
            "presence": presence_json(p),
        }),
        EngineEvent::InvalidIds { ids, reason } => json!({
            "event": "invalid_ids",
            "ids": ids,
            "reason": reason.as_str(),
            "detail": reason.describe(),
        }),
    }
}

/// Polls `ids` and writes a line (or lines) per event to `out`, flushed at
/// once so that a pipe sees each event when it happens.
///
/// Runs until the future is dropped (the CLI drops it on Ctrl-C) or `out` is
/// closed by the reader (then `Ok(())`), or the sign-in is lost: then the
/// `signed_out` status has been written and the result is
/// `Err(Error::SignInNeeded)`.
///
/// With `calendar` (the people whose calendars to read), `schedule` lines
/// come too; a calendar that cannot be read is said on stderr, and
/// presence goes on.
pub async fn run_watch<W: Write>(
    graph: GraphClient,
    ids: Vec<String>,
    options: EngineOptions,
    calendar: Option<Vec<Person>>,
    printer: Printer,
    mut out: W,
) -> Result<()> {
    let mut feed = calendar.map(|people| CalendarFeed::start(&graph, people));
    let (tx, mut rx) = mpsc::channel(256);
    let run = Engine::new(graph, ids, options).run(tx);
    tokio::pin!(run);
    let outcome = loop {
        tokio::select! {
            // Events first: the last ones (the signed_out status) must be
            // written before the run's end is acted on.
            biased;
            event = rx.recv() => match event {
                Some(event) => {
                    if let Err(e) = write_event(&printer, &event, &mut feed, &mut out) {
                        return closed_output(e);
                    }
                }
                None => break None,
            },
            Some(outlooks) = next_outlooks(&mut feed) => match outlooks {
                Ok(changes) => {
                    if let Err(e) = write_outlooks(&printer, &changes, &mut out) {
                        return closed_output(e);
                    }
                }
                Err(e) => eprintln!("presently: the calendars could not be read: {}", clean_text(&e.to_string(), 500)),
            },
            result = &mut run => break Some(result),
        }
    };
    while let Ok(event) = rx.try_recv() {
        if let Err(e) = write_event(&printer, &event, &mut feed, &mut out) {
            return closed_output(e);
        }
    }
    match outcome {
        Some(result) => result,
        None => run.await,
    }
}

/// Writes an engine event, and after the snapshot the outlooks held back
/// for it, then flushes: a pipe sees each event when it happens.
fn write_event<W: Write>(
    printer: &Printer,
    event: &EngineEvent,
    feed: &mut Option<CalendarFeed>,
    out: &mut W,
) -> std::io::Result<()> {
    printer.write(event, out)?;
    if let Some(feed) = feed {
        feed.saw(event);
        if matches!(event, EngineEvent::Snapshot { .. }) {
            return write_outlooks(printer, &feed.snapshot_written(), out);
        }
    }
    out.flush()
}

fn write_outlooks<W: Write>(
    printer: &Printer,
    changes: &[OutlookChange],
    out: &mut W,
) -> std::io::Result<()> {
    let now = Utc::now();
    for change in changes {
        printer.write_outlook(change, &now, out)?;
    }
    out.flush()
}

/// The feed's next outlooks; never, without a feed (or once it stopped).
pub(crate) async fn next_outlooks(
    feed: &mut Option<CalendarFeed>,
) -> Option<std::result::Result<Vec<OutlookChange>, Error>> {
    match feed {
        Some(f) => match f.next().await {
            Some(next) => Some(next),
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

fn closed_output(e: std::io::Error) -> Result<()> {
    if e.kind() == ErrorKind::BrokenPipe {
        // `presently watch --json | head -3`: the reader has all it wanted.
        Ok(())
    } else {
        Err(Error::Storage(format!("Could not write the output: {e}")))
    }
}

/// IDs from `--ids`: separated by commas or white space.
pub fn parse_ids(list: &str) -> Vec<String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// IDs from `--ids-file`: one per line (commas also work); `#` starts a
/// comment, blank lines are skipped.
pub fn ids_from_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Config(format!(
            "Could not read the ID file {}: {e}",
            path.display()
        ))
    })?;
    // Editors on Windows start UTF-8 files with a byte order mark.
    Ok(text
        .trim_start_matches('\u{feff}')
        .lines()
        .flat_map(|line| parse_ids(line.split('#').next().unwrap_or("")))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineState, IdProblem};
    use crate::presence::{Activity, Availability};

    const A: &str = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3";

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-05-06T12:03:04.5Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn busy_in_a_meeting() -> Presence {
        Presence {
            id: A.into(),
            availability: Availability::Busy,
            activity: Activity::InAMeeting,
            status_message: Some("Back \u{1b}[2Jat 3\n".into()),
            out_of_office: None,
            sequence_number: Some("2".into()),
            work_location: None,
        }
    }

    fn change() -> PresenceChange {
        let mut prev = Presence::unknown(A);
        prev.availability = Availability::Available;
        prev.activity = Activity::Available;
        PresenceChange {
            id: A.into(),
            presence: busy_in_a_meeting(),
            previous: Some(prev),
            previous_since: Some(at() - chrono::Duration::minutes(5)),
            at: at(),
        }
    }

    #[test]
    fn json_lines_have_the_promised_fields() {
        let json = Printer::json();
        let snap = json.format(&EngineEvent::Snapshot {
            at: at(),
            presences: vec![busy_in_a_meeting()],
        });
        assert!(snap.ends_with('\n') && snap.matches('\n').count() == 1);
        let v: Value = serde_json::from_str(&snap).unwrap();
        assert_eq!(v["event"], "snapshot");
        assert_eq!(v["at"], "2024-05-06T12:03:04.500Z");
        assert_eq!(v["presences"][0]["id"], A);
        assert_eq!(v["presences"][0]["availability"], "Busy");
        assert_eq!(v["presences"][0]["activity"], "InAMeeting");

        let v: Value = serde_json::from_str(&json.format(&EngineEvent::Changed(change()))).unwrap();
        assert_eq!(v["event"], "changed");
        assert_eq!(v["id"], A);
        assert_eq!(v["availability"], "Busy");
        assert_eq!(v["activity"], "InAMeeting");
        assert_eq!(v["previous"]["availability"], "Available");
        assert_eq!(v["previous"]["activity"], "Available");
        assert_eq!(v["previous"]["since"], "2024-05-06T11:58:04.500Z");
        assert_eq!(v["at"], "2024-05-06T12:03:04.500Z");
        // The note is data in JSON: escaped, not cleaned.
        assert_eq!(v["statusMessage"], "Back \u{1b}[2Jat 3\n");

        let v: Value = serde_json::from_str(&json.format(&EngineEvent::Status(EngineStatus {
            state: EngineState::Throttled,
            detail: "slow down".into(),
            retry_after: Some(Duration::from_millis(2100)),
            interval: Duration::from_secs(30),
            last_answer_at: None,
        })))
        .unwrap();
        assert_eq!(v["event"], "status");
        assert_eq!(v["state"], "throttled");
        assert_eq!(v["detail"], "slow down");
        assert_eq!(v["retry_after_s"], 3);
        assert_eq!(v["interval_s"], 30);

        let v: Value = serde_json::from_str(&json.format(&EngineEvent::Status(EngineStatus {
            state: EngineState::SignedOut,
            detail: "sign in".into(),
            retry_after: None,
            interval: Duration::from_secs(15),
            last_answer_at: None,
        })))
        .unwrap();
        assert_eq!(v["state"], "signed_out");
        assert!(v["retry_after_s"].is_null());

        let v: Value = serde_json::from_str(&json.format(&EngineEvent::InvalidIds {
            ids: vec!["bob".into()],
            reason: IdProblem::NotAUserId,
        }))
        .unwrap();
        assert_eq!(v["event"], "invalid_ids");
        assert_eq!(v["ids"][0], "bob");
    }

    #[test]
    fn a_first_sighting_has_no_previous() {
        let mut c = change();
        c.previous = None;
        c.previous_since = None;
        let v = event_json(&EngineEvent::Changed(c.clone()));
        assert!(v["previous"].is_null());
        let line = Printer::human(HashMap::new()).format(&EngineEvent::Changed(c));
        assert!(line.contains("(now watched)"), "{line}");
    }

    #[test]
    fn human_lines_read_like_teams() {
        let names = HashMap::from([(A.to_uppercase(), "Megan Bowen".to_string())]);
        let line = Printer::human(names).format(&EngineEvent::Changed(change()));
        let time = clock(&at());
        assert_eq!(
            line,
            format!(
                "{time}  Megan Bowen  Busy (In a meeting), note: \"Back [2Jat 3\" <- Available\n"
            )
        );
        // Without a name, the ID.
        let line = Printer::human(HashMap::new()).format(&EngineEvent::Changed(change()));
        assert!(line.starts_with(&format!("{time}  {A}  Busy")), "{line}");
    }

    #[test]
    fn human_snapshot_summarises() {
        let mut b = busy_in_a_meeting();
        b.status_message = None;
        let mut c = b.clone();
        c.id = "66825e03-7ef5-42da-9069-724602c31f6b".into();
        let text = Printer::human(HashMap::new()).format(&EngineEvent::Snapshot {
            at: at(),
            presences: vec![
                b,
                c,
                Presence::unknown("1f1d5e0c-0c4a-4b7e-9b57-1b0e5f1c2d3e"),
            ],
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].ends_with("Watching 3 teammates: 2 busy, 1 unknown."),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn the_snapshot_line_is_the_snapshot_event_as_json() {
        let at = Utc::now();
        let presences: Vec<Presence> = (0..3)
            .map(|i| {
                let mut p = Presence::unknown(format!("00000000-0000-4000-8000-00000000000{i}"));
                p.status_message = Some(format!("note \"{i}\" \u{1b}"));
                p
            })
            .collect();
        for list in [&presences[..], &presences[..1], &[]] {
            let event = EngineEvent::Snapshot {
                at,
                presences: list.to_vec(),
            };
            assert_eq!(
                Printer::json().format(&event),
                format!("{}\n", event_json(&event))
            );
        }
    }

    #[test]
    fn clean_text_cuts_and_neutralises() {
        assert_eq!(clean_text("a\u{7}\u{7}b", 10), "a b");
        assert_eq!(clean_text(&"x".repeat(100), 5), "xxxxx...");
    }

    #[test]
    fn ids_from_flags_and_files() {
        assert_eq!(parse_ids(" a, b ,,c d"), vec!["a", "b", "c", "d"]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.txt");
        std::fs::write(&path, "# my team\na  # Megan\n\n  b\nc,d\n#e\n").unwrap();
        assert_eq!(ids_from_file(&path).unwrap(), vec!["a", "b", "c", "d"]);
        let err = ids_from_file(&dir.path().join("missing.txt")).unwrap_err();
        assert!(
            err.to_string().contains("Could not read the ID file"),
            "{err}"
        );
    }
}
