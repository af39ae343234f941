//! One read of everyone's calendar, for a command that prints and ends
//! (`presently roster list`).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::{spawn, CalendarEvent, GraphClient, Outlook, Person};
use crate::error::Result;

/// Reads the outlooks of `people` once, by roster ID (lower case), with the
/// reader's own pacing, and stops it. Whoever has not come within
/// `patience` is left out; a problem before anyone came is the error.
pub async fn read_once(
    graph: GraphClient,
    people: Vec<Person>,
    patience: Duration,
) -> Result<HashMap<String, Outlook>> {
    let wanted: HashSet<String> = people
        .iter()
        .map(|p| p.id.trim().to_ascii_lowercase())
        .collect();
    let (handle, mut events) = spawn(graph, people);
    let mut outlooks = HashMap::new();
    let deadline = tokio::time::Instant::now() + patience;
    let outcome = loop {
        if outlooks.len() >= wanted.len() {
            break Ok(());
        }
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(CalendarEvent::Changed(changes))) => {
                for c in changes {
                    outlooks.insert(c.id, c.outlook);
                }
            }
            Ok(Some(CalendarEvent::Problem(e))) if outlooks.is_empty() => break Err(e),
            Ok(Some(CalendarEvent::Problem(e))) => {
                tracing::warn!("some calendars could not be read: {e}");
                break Ok(());
            }
            Ok(None) | Err(_) => break Ok(()),
        }
    };
    handle.stop();
    outcome.map(|()| outlooks)
}
