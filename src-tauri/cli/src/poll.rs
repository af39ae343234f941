//! What `watch` and `publish` share: what to poll and how to print it, and
//! whose calendars to read with `--calendar`.

use std::path::PathBuf;

use presently_core::auth::{self, Session};
use presently_core::calendar;
use presently_core::roster::Roster;
use presently_core::watch;
use presently_core::Error;

/// What `watch` and `publish` poll, and how they print it.
#[derive(clap::Args, Debug)]
pub struct PollArgs {
    /// One JSON object per line (snapshot, changed, status).
    #[arg(long)]
    pub json: bool,
    /// Seconds between polls (at least 5; default 15 or the config file's `interval`).
    #[arg(long, value_name = "SECS")]
    pub interval: Option<u64>,
    /// These user IDs instead of the roster (comma separated).
    #[arg(long, value_name = "ID,...", conflicts_with = "ids_file")]
    pub ids: Option<String>,
    /// The user IDs in this file (one per line) instead of the roster.
    #[arg(long, value_name = "FILE")]
    pub ids_file: Option<PathBuf>,
    /// Also say when they will be free, from their calendars' free/busy
    /// (needs Calendars.ReadBasic: `presently login --calendar`).
    #[arg(long)]
    pub calendar: bool,
}

impl PollArgs {
    /// The IDs given by `--ids` or `--ids-file`; `None`: the roster's.
    pub fn explicit_ids(&self) -> presently_core::Result<Option<Vec<String>>> {
        Ok(match (&self.ids, &self.ids_file) {
            (Some(list), _) => Some(watch::parse_ids(list)),
            (None, Some(file)) => Some(watch::ids_from_file(file)?),
            (None, None) => None,
        })
    }
}

/// With `--calendar`, whose calendars to read: everyone polled, by the
/// roster's mailbox address where it has one (the reader looks up the
/// rest). Without the permission, says how to get it and goes on without.
pub async fn calendar_for_watch(
    session: &Session,
    wanted: bool,
    ids: &[String],
    roster: Option<&Roster>,
) -> Option<Vec<calendar::Person>> {
    if !wanted {
        return None;
    }
    match calendar_people(session, ids, roster).await {
        Ok(people) => Some(people),
        Err(e) => {
            // The error may carry Graph's words: text only on a terminal.
            eprintln!(
                "presently: {} Going on without calendars.",
                watch::clean_text(&e.to_string(), 500)
            );
            None
        }
    }
}

/// Whose calendars to read for `ids`: by the roster's mailbox address
/// where it has one. Fails when the sign-in may not read calendars.
pub async fn calendar_people(
    session: &Session,
    ids: &[String],
    roster: Option<&Roster>,
) -> presently_core::Result<Vec<calendar::Person>> {
    if !auth::grants(&session.granted().await, calendar::CALENDAR_SCOPE) {
        return Err(Error::PermissionNeeded {
            permission: calendar::CALENDAR_SCOPE,
            how: "run `presently login --calendar`.".into(),
        });
    }
    Ok(ids
        .iter()
        .map(|id| match roster.and_then(|r| r.get(id)) {
            Some(t) => calendar::Person::of(t),
            None => calendar::Person {
                id: id.clone(),
                mailbox: None,
            },
        })
        .collect())
}
