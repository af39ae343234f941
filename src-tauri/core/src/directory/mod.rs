//! Finding people in the directory through Microsoft Graph: search by name or
//! e-mail, look-up by ID or sign-in name, people I work with, my manager and
//! direct reports, the members of a group or team, and profile photos.
//!
//! Everything goes through [`GraphClient`], so retries and throttling apply.
//! Many look-ups travel in `$batch` requests of at most 20. Lists are followed
//! to their end through `@odata.nextLink`, and only users are kept: groups,
//! contacts and devices can be members too.
//!
//! Photos are fetched once and cached on disk for [`PHOTO_MAX_AGE`]; "this
//! person has no photo" (a 404) is cached too, and shown as initials.
//!
//! The map: this file has what callers see ([`Directory`], [`Person`],
//! [`Group`], [`Photo`]) and the `$batch` retries both halves share;
//! `queries.rs` finds people and groups, `photos.rs` fetches and caches
//! photos, and `wire.rs` reads Graph's directory objects.

mod photos;
pub use photos::is_placeholder;
mod queries;
mod wire;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::error::Result;
use crate::graph::{BatchRequest, BatchResponse, GraphClient};
use crate::roster::Teammate;

/// The user properties Presently asks for.
const USER_FIELDS: &str = "id,displayName,userPrincipalName,mail,jobTitle";

/// The largest page Graph serves for directory lists.
const MAX_PAGE: usize = 999;

/// A cached photo (or "no photo") is fetched again after this long: people
/// rarely change their picture, and each fetch costs a request.
pub const PHOTO_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The largest photo kept: profile photos are some hundred KiB. The
/// `$batch` answer that carries them is bounded as a whole by the Graph
/// client, each photo in it by this.
pub const MAX_PHOTO: usize = 4 << 20;

/// Rounds of retrying the requests inside a `$batch` that Graph answered 429,
/// 503 or 504 (the batch itself succeeded, so the client's retries did not
/// apply to them).
const BATCH_RETRY_ROUNDS: u32 = 3;

/// The permission that reading group members and my groups needs. Users can
/// not grant it themselves: an administrator has to consent for the tenant.
pub const GROUP_PERMISSION: &str = "GroupMember.Read.All";

/// Someone in the directory, with what Presently shows about them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Person {
    /// The user (object) ID, lower case.
    pub id: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub mail: String,
    pub job_title: String,
}

impl Person {
    /// The best name to show: display name, else sign-in name, else mail, else ID.
    pub fn name(&self) -> &str {
        [&self.display_name, &self.user_principal_name, &self.mail]
            .into_iter()
            .find(|s| !s.trim().is_empty())
            .unwrap_or(&self.id)
    }
}

impl From<Person> for Teammate {
    fn from(p: Person) -> Teammate {
        Teammate {
            id: p.id,
            display_name: p.display_name,
            user_principal_name: p.user_principal_name,
            mail: p.mail,
            job_title: p.job_title,
            ..Default::default()
        }
    }
}

/// The people of a directory list (members, direct reports, the people you
/// work with), and how many of its entries were something else: groups,
/// contacts, devices, or entries without a user ID and a sign-in name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listing {
    /// Each person once, in the order listed.
    pub people: Vec<Person>,
    /// Entries that are not people of the organisation, left out.
    pub left_out: usize,
}

/// A group or team the signed-in user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub display_name: String,
    pub description: String,
    /// The group backs a Microsoft Teams team.
    pub is_team: bool,
}

/// The answer to a look-up of many IDs or sign-in names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lookup {
    /// The people found, in the order they were asked for, each once.
    pub found: Vec<Person>,
    /// What was asked for and matches nobody, exactly as it was written.
    pub unknown: Vec<String>,
}

/// A profile photo, or the initials to show instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Photo {
    /// The picture, in the photo cache.
    Picture { path: PathBuf, content_type: String },
    /// The person has no photo: show these initials.
    Initials(String),
}

/// "Megan Bowen" -> "MB", "Cher" -> "C", "megan.bowen@contoso.com" -> "MB".
pub fn initials(name: &str) -> String {
    // A hyphen joins one name ("Smith-Jones"); in an address it separates them.
    let words: Vec<&str> = match name.split_once('@') {
        Some((local, _)) => local.split(['.', '_', '-']).collect(),
        None => name.split_whitespace().collect(),
    };
    let words: Vec<&str> = words
        .into_iter()
        .filter(|w| w.chars().next().is_some_and(char::is_alphanumeric))
        .collect();
    let first = |w: &str| w.chars().next().into_iter().flat_map(char::to_uppercase);
    match words.as_slice() {
        [] => "?".to_string(),
        [one] => first(one).collect(),
        [a, .., b] => first(a).chain(first(b)).collect(),
    }
}

/// The directory of the signed-in user's organisation.
#[derive(Debug, Clone)]
pub struct Directory {
    graph: GraphClient,
    photo_dir: PathBuf,
    photo_max_age: Duration,
}

impl Directory {
    /// A directory that caches photos in `photo_dir`.
    pub fn new(graph: GraphClient, photo_dir: impl Into<PathBuf>) -> Directory {
        Directory {
            graph,
            photo_dir: photo_dir.into(),
            photo_max_age: PHOTO_MAX_AGE,
        }
    }

    /// A directory with the photo cache in the config dir of `settings`.
    pub fn for_settings(graph: GraphClient, settings: &Settings) -> Directory {
        Directory::new(graph, Directory::photo_dir_in(&settings.config_dir))
    }

    /// Where photos are cached for a config dir.
    pub fn photo_dir_in(config_dir: &Path) -> PathBuf {
        config_dir.join("photos")
    }

    /// How long a cached photo is used before it is fetched again.
    pub fn with_photo_max_age(mut self, max_age: Duration) -> Directory {
        self.photo_max_age = max_age;
        self
    }

    pub fn graph(&self) -> &GraphClient {
        &self.graph
    }

    /// Sends `requests` through `$batch`, sending again (up to
    /// [`BATCH_RETRY_ROUNDS`] times) those Graph answered 429, 503 or 504.
    /// The client's throttle gate already holds back for any `Retry-After`;
    /// without one, each round waits longer.
    async fn batch_with_retries(&self, requests: Vec<BatchRequest>) -> Result<Vec<BatchResponse>> {
        let mut answers: Vec<Option<BatchResponse>> = vec![None; requests.len()];
        let mut pending: Vec<usize> = (0..requests.len()).collect();
        for round in 0..=BATCH_RETRY_ROUNDS {
            let send: Vec<BatchRequest> = pending.iter().map(|&i| requests[i].clone()).collect();
            let got = self.graph.batch(&send).await?;
            let mut again = Vec::new();
            let mut told_when = false;
            for (&i, answer) in pending.iter().zip(got) {
                if matches!(answer.status, 429 | 503 | 504) && round < BATCH_RETRY_ROUNDS {
                    told_when |= answer.header("Retry-After").is_some();
                    again.push(i);
                }
                answers[i] = Some(answer);
            }
            if again.is_empty() {
                break;
            }
            if !told_when {
                tokio::time::sleep(Duration::from_secs(1 << round)).await;
            }
            pending = again;
        }
        Ok(answers
            .into_iter()
            .map(|a| a.expect("every request answered"))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_from_names_and_addresses() {
        assert_eq!(initials("Megan Bowen"), "MB");
        assert_eq!(initials("Anne-Marie de la Cruz"), "AC");
        assert_eq!(initials("Ola Smith-Jones"), "OS");
        assert_eq!(initials("cher"), "C");
        assert_eq!(initials("megan.bowen@contoso.com"), "MB");
        assert_eq!(initials("élodie  Żak"), "ÉŻ");
        assert_eq!(initials("  "), "?");
    }
}
