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

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use crate::config::{write_atomically, Settings};
use crate::error::{Error, Result};
use crate::graph::{BatchRequest, BatchResponse, GraphClient};
use crate::http::Object;
use crate::presence::normalize_user_id;
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

    /// People whose name, e-mail or sign-in name starts with the words of
    /// `text` (at most `limit`, by name). A user ID finds that user.
    ///
    /// Uses `$search` (which needs `ConsistencyLevel: eventual`); where the
    /// tenant refuses it, falls back to `$filter=startswith(...)`.
    pub async fn search(&self, text: &str, limit: usize) -> Result<Vec<Person>> {
        let text = text.trim();
        if text.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        if normalize_user_id(text).is_some() {
            return Ok(self.user(text).await?.into_iter().collect());
        }
        let top = limit.min(MAX_PAGE);
        // A double quote would end the search clause early, a backslash
        // would escape the closing one.
        let words: String = text.chars().filter(|c| !matches!(c, '"' | '\\')).collect();
        let search = ["displayName", "mail", "userPrincipalName"]
            .iter()
            .map(|p| format!("\"{p}:{words}\""))
            .collect::<Vec<_>>()
            .join(" OR ");
        let path = format!(
            "users?$search={}&$select={USER_FIELDS}&$orderby=displayName&$top={top}",
            encode_query(&search)
        );
        let found = self
            .graph
            .get_all::<WireObject>(&path, &[("ConsistencyLevel", "eventual")], limit)
            .await;
        let wire = match found {
            Ok(wire) => wire,
            Err(Error::Graph { status, .. }) if matches!(status, 400 | 405 | 501) => {
                tracing::debug!(status, "$search refused; searching with $filter");
                self.search_by_prefix(text, limit).await?
            }
            Err(e) => {
                return Err(explain_forbidden(
                    e,
                    "search the directory",
                    "User.ReadBasic.All",
                ))
            }
        };
        Ok(users_only(wire))
    }

    /// `$filter=startswith(...)`: what every tenant supports, without
    /// advanced queries, so without `$orderby` (the result is sorted here).
    async fn search_by_prefix(&self, text: &str, limit: usize) -> Result<Vec<WireObject>> {
        let quoted = text.replace('\'', "''");
        let filter = [
            "displayName",
            "givenName",
            "surname",
            "mail",
            "userPrincipalName",
        ]
        .iter()
        .map(|p| format!("startswith({p},'{quoted}')"))
        .collect::<Vec<_>>()
        .join(" or ");
        let path = format!(
            "users?$filter={}&$select={USER_FIELDS}&$top={}",
            encode_query(&filter),
            limit.min(MAX_PAGE)
        );
        let mut found: Vec<WireObject> = self
            .graph
            .get_all(&path, &[], limit)
            .await
            .map_err(|e| explain_forbidden(e, "search the directory", "User.ReadBasic.All"))?;
        found.sort_by_cached_key(|w| w.display_name.clone().unwrap_or_default().to_lowercase());
        Ok(found)
    }

    /// One user by ID or sign-in name; `None` when nobody has it.
    pub async fn user(&self, id_or_upn: &str) -> Result<Option<Person>> {
        let mut lookup = self.lookup(&[id_or_upn.to_string()]).await?;
        Ok(lookup.found.pop())
    }

    /// Many users by ID or sign-in name, through `$batch` (20 to a request).
    /// Those Graph does not know come back in [`Lookup::unknown`] as written.
    pub async fn lookup(&self, keys: &[String]) -> Result<Lookup> {
        let mut asked: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for key in keys.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
            if seen.insert(key.to_lowercase()) {
                asked.push(key);
            }
        }
        let requests: Vec<BatchRequest> = asked
            .iter()
            .enumerate()
            .map(|(i, key)| {
                BatchRequest::get(
                    i.to_string(),
                    format!("/users/{}?$select={USER_FIELDS}", encode_segment(key)),
                )
            })
            .collect();
        let answers = self
            .batch_with_retries(requests)
            .await
            .map_err(|e| explain_forbidden(e, "look up users", "User.ReadBasic.All"))?;

        let mut lookup = Lookup::default();
        let mut found_ids = HashSet::new();
        for (key, answer) in asked.iter().zip(answers) {
            match answer.status {
                200..=299 => {
                    let wire: WireObject = answer.json()?;
                    match wire.into_person() {
                        // Asking by ID and by sign-in name finds one person once.
                        Some(p) if found_ids.insert(p.id.clone()) => lookup.found.push(p),
                        Some(_) => {}
                        None => lookup.unknown.push(key.to_string()),
                    }
                }
                // 404: nobody has it. 400: Graph could not even read it as an
                // ID or a sign-in name; to the person asking, the same thing.
                400 | 404 => lookup.unknown.push(key.to_string()),
                _ => {
                    let e = answer.json::<serde_json::Value>().err().unwrap_or_else(|| {
                        Error::Malformed(format!("the look-up of \"{key}\" failed"))
                    });
                    return Err(explain_forbidden(e, "look up users", "User.ReadBasic.All"));
                }
            }
        }
        Ok(lookup)
    }

    /// The people the signed-in user works with most (`/me/people`), most
    /// relevant first, colleagues in the organisation only.
    pub async fn people(&self, limit: usize) -> Result<Vec<Person>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let path = format!("me/people?$top={}", limit.min(MAX_PAGE));
        let wire: Vec<WireObject> =
            self.graph.get_all(&path, &[], limit).await.map_err(|e| {
                explain_forbidden(e, "list the people you work with", "People.Read")
            })?;
        Ok(users_only(wire))
    }

    /// The signed-in user's manager; `None` when the directory has none.
    pub async fn manager(&self) -> Result<Option<Person>> {
        let path = format!("me/manager?$select={USER_FIELDS}");
        match self.graph.get_json::<WireObject>(&path).await {
            Ok(wire) => Ok(wire.into_person()),
            Err(Error::Graph { status: 404, .. }) => Ok(None),
            Err(e) => Err(explain_forbidden(
                e,
                "read your manager",
                "User.ReadBasic.All",
            )),
        }
    }

    /// The signed-in user's direct reports (people only, every page).
    pub async fn direct_reports(&self) -> Result<Vec<Person>> {
        let path = format!("me/directReports?$select={USER_FIELDS}&$top={MAX_PAGE}");
        let wire: Vec<WireObject> = self
            .graph
            .get_all(&path, &[], usize::MAX)
            .await
            .map_err(|e| explain_forbidden(e, "read your direct reports", "User.ReadBasic.All"))?;
        Ok(users_only(wire))
    }

    /// The users in a group or team (every page; nested groups, contacts and
    /// devices left out). Needs [`GROUP_PERMISSION`].
    pub async fn group_members(&self, group_id: &str) -> Result<Vec<Person>> {
        let id = group_guid(group_id)?;
        let path = format!("groups/{id}/members?$select={USER_FIELDS}&$top={MAX_PAGE}");
        let wire: Vec<WireObject> = self
            .graph
            .get_all(&path, &[], usize::MAX)
            .await
            .map_err(|e| group_error(e, group_id))?;
        Ok(users_only(wire))
    }

    /// One group's name and kind. Needs [`GROUP_PERMISSION`].
    pub async fn group(&self, group_id: &str) -> Result<Group> {
        let id = group_guid(group_id)?;
        let path =
            format!("groups/{id}?$select=id,displayName,description,resourceProvisioningOptions");
        let wire: WireObject = self
            .graph
            .get_json(&path)
            .await
            .map_err(|e| group_error(e, group_id))?;
        wire.into_group().ok_or_else(|| {
            Error::Malformed(format!("the group \"{group_id}\" came back without an ID"))
        })
    }

    /// The groups and teams the signed-in user is a member of. Needs
    /// [`GROUP_PERMISSION`].
    pub async fn my_groups(&self) -> Result<Vec<Group>> {
        let path = format!("me/memberOf?$top={MAX_PAGE}");
        let wire: Vec<WireObject> = self
            .graph
            .get_all(&path, &[], usize::MAX)
            .await
            .map_err(|e| explain_forbidden(e, "list your groups and teams", GROUP_PERMISSION))?;
        Ok(wire
            .into_iter()
            .filter(|w| w.is_type("group"))
            .filter_map(WireObject::into_group)
            .collect())
    }

    /// Someone's photo or initials, from the cache when it is fresh; an
    /// error when it could not be had (a failed request, a photo past
    /// [`MAX_PHOTO`]) and none is cached. See [`Directory::photos`].
    pub async fn photo(&self, id: &str, name: &str) -> Result<Photo> {
        let mut photos = self
            .fetch_photos(&[(id.to_string(), name.to_string())])
            .await?;
        photos.pop().expect("one answer per person")
    }

    /// Photos (or initials) for `(id, name)` pairs, in the same order.
    ///
    /// A fresh cache entry answers without a request; the rest are fetched
    /// through `$batch`. A 404 means "no photo" and is cached too. When a
    /// refresh fails, a stale picture is better than none and is used. One
    /// person's photo that cannot be had (refused, or past [`MAX_PHOTO`])
    /// costs nobody else theirs: that person gets initials, and the reason
    /// goes to the log. The error is only for a request that failed as a
    /// whole with nothing cached.
    pub async fn photos(&self, people: &[(String, String)]) -> Result<Vec<Photo>> {
        let photos = self.fetch_photos(people).await?;
        Ok(photos
            .into_iter()
            .zip(people)
            .map(|(photo, (id, name))| {
                photo.unwrap_or_else(|e| {
                    tracing::warn!("no photo for {id}, initials instead: {e}");
                    Photo::Initials(initials(name))
                })
            })
            .collect())
    }

    /// Each person's photo or why there is none; the error alone when the
    /// requests failed as a whole and someone has nothing cached.
    async fn fetch_photos(&self, people: &[(String, String)]) -> Result<Vec<Result<Photo>>> {
        enum Slot {
            Ready(Photo),
            Fetch { id: String, stale: Option<Photo> },
        }
        let mut slots = Vec::with_capacity(people.len());
        let mut fetch: Vec<String> = Vec::new();
        let mut asked = HashSet::new();
        for (id, name) in people {
            // Only a GUID may name a file in the cache.
            let slot = match normalize_user_id(id) {
                None => Slot::Ready(Photo::Initials(initials(name))),
                Some(id) => match self.cached_photo(&id, name) {
                    Some((photo, true)) => Slot::Ready(photo),
                    cached => {
                        if asked.insert(id.clone()) {
                            fetch.push(id.clone());
                        }
                        Slot::Fetch {
                            id,
                            stale: cached.map(|(photo, _)| photo),
                        }
                    }
                },
            };
            slots.push(slot);
        }

        let mut fetched: HashMap<String, Result<StoredPhoto>> = HashMap::new();
        if !fetch.is_empty() {
            let requests: Vec<BatchRequest> = fetch
                .iter()
                .enumerate()
                .map(|(n, id)| {
                    BatchRequest::get(n.to_string(), format!("/users/{id}/photo/$value"))
                })
                .collect();
            match self.batch_with_retries(requests).await {
                Ok(answers) => {
                    for (id, answer) in fetch.iter().zip(answers) {
                        fetched.insert(id.clone(), self.store_photo(id, &answer));
                    }
                }
                Err(e)
                    if slots
                        .iter()
                        .any(|s| matches!(s, Slot::Fetch { stale: None, .. })) =>
                {
                    return Err(e)
                }
                Err(e) => tracing::debug!("photo refresh failed, using cached photos: {e}"),
            }
        }

        let mut out = Vec::with_capacity(slots.len());
        for (slot, (_, name)) in slots.into_iter().zip(people) {
            let photo = match slot {
                Slot::Ready(photo) => Ok(photo),
                Slot::Fetch { id, stale } => {
                    let got = fetched.get(&id).map(|r| r.as_ref().ok().cloned());
                    match (got, stale) {
                        (Some(Some(stored)), _) => Ok(stored.into_photo(name)),
                        // A stale picture is better than none when a refresh fails.
                        (_, Some(old)) => Ok(old),
                        (_, None) => Err(match fetched.get(&id) {
                            Some(Err(e)) => e.clone(),
                            _ => Error::Malformed(format!("no photo answer for {id}")),
                        }),
                    }
                }
            };
            out.push(photo);
        }
        Ok(out)
    }

    /// The cached photo of `id` and whether it is still fresh.
    fn cached_photo(&self, id: &str, name: &str) -> Option<(Photo, bool)> {
        for (ext, content_type) in PHOTO_KINDS {
            let path = self.photo_dir.join(format!("{id}.{ext}"));
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            let age = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .unwrap_or(Duration::ZERO);
            let fresh = age < self.photo_max_age;
            let photo = if *ext == NO_PHOTO {
                Photo::Initials(initials(name))
            } else {
                Photo::Picture {
                    path,
                    content_type: content_type.to_string(),
                }
            };
            return Some((photo, fresh));
        }
        None
    }

    /// Writes one photo answer to the cache, replacing what was there.
    fn store_photo(&self, id: &str, answer: &BatchResponse) -> Result<StoredPhoto> {
        let (ext, content_type, bytes) = match answer.status {
            200..=299 => {
                let content_type = answer
                    .header("Content-Type")
                    .unwrap_or("image/jpeg")
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                let ext = PHOTO_KINDS
                    .iter()
                    .find(|(_, ct)| *ct == content_type)
                    .map(|(ext, _)| *ext)
                    .unwrap_or("img");
                // Binary answers travel base64-encoded inside a batch.
                let bytes = answer
                    .body
                    .as_str()
                    .and_then(decode_base64)
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| Error::Malformed(format!("the photo of {id} is not base64")))?;
                if bytes.len() > MAX_PHOTO {
                    return Err(Error::Malformed(format!(
                        "the photo of {id} is larger than {} MiB, far more than a profile photo can be; it was not kept",
                        MAX_PHOTO >> 20
                    )));
                }
                (ext, content_type, bytes)
            }
            404 => (NO_PHOTO, String::new(), Vec::new()),
            _ => {
                return Err(answer
                    .json::<serde_json::Value>()
                    .err()
                    .unwrap_or_else(|| Error::Malformed(format!("the photo of {id} failed"))))
            }
        };
        let path = self.photo_dir.join(format!("{id}.{ext}"));
        write_atomically(&path, &bytes)?;
        for (other, _) in PHOTO_KINDS.iter().filter(|(e, _)| *e != ext) {
            let _ = fs::remove_file(self.photo_dir.join(format!("{id}.{other}")));
        }
        Ok(if ext == NO_PHOTO {
            StoredPhoto::None
        } else {
            StoredPhoto::Picture { path, content_type }
        })
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

/// File extensions in the photo cache and the content types they hold.
const PHOTO_KINDS: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("gif", "image/gif"),
    ("bmp", "image/bmp"),
    ("img", "application/octet-stream"),
    (NO_PHOTO, ""),
];
/// The extension of the empty file that remembers "this person has no photo".
const NO_PHOTO: &str = "none";

#[derive(Debug, Clone)]
enum StoredPhoto {
    Picture { path: PathBuf, content_type: String },
    None,
}

impl StoredPhoto {
    fn into_photo(self, name: &str) -> Photo {
        match self {
            StoredPhoto::Picture { path, content_type } => Photo::Picture { path, content_type },
            StoredPhoto::None => Photo::Initials(initials(name)),
        }
    }
}

/// A directory object as Graph lists it: a user, a group, a contact or a
/// person from `/me/people`. Every field may be missing.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireObject {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    id: Option<String>,
    display_name: Option<String>,
    user_principal_name: Option<String>,
    mail: Option<String>,
    job_title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    resource_provisioning_options: Option<Vec<String>>,
    /// `/me/people` only.
    #[serde(default)]
    scored_email_addresses: Option<Vec<Object<ScoredAddress>>>,
    /// `/me/people` only: who or what this entry is.
    person_type: Option<Object<PersonType>>,
}

#[derive(Debug, Deserialize)]
struct ScoredAddress {
    address: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PersonType {
    class: Option<String>,
    subclass: Option<String>,
}

impl WireObject {
    /// True when `@odata.type` names this type, or says nothing.
    fn is_type(&self, kind: &str) -> bool {
        match &self.odata_type {
            None => true,
            Some(t) => t.eq_ignore_ascii_case(&format!("#microsoft.graph.{kind}")),
        }
    }

    /// The person, if this is a user of the organisation with a valid ID.
    fn into_person(self) -> Option<Person> {
        if !self.is_type("user") {
            return None;
        }
        if let Some(Object(pt)) = &self.person_type {
            // `/me/people` also ranks groups, external contacts and guests
            // from outside the directory, none of whom have presence here.
            let eq = |v: &Option<String>, want: &str| {
                v.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(want))
            };
            if !(eq(&pt.class, "Person") && eq(&pt.subclass, "OrganizationUser")) {
                return None;
            }
        }
        let id = normalize_user_id(self.id.as_deref()?)?;
        let mail = self.mail.filter(|m| !m.is_empty()).or_else(|| {
            self.scored_email_addresses
                .and_then(|a| a.into_iter().find_map(|Object(s)| s.address))
        });
        Some(Person {
            id,
            display_name: self.display_name.unwrap_or_default(),
            user_principal_name: self.user_principal_name.unwrap_or_default(),
            mail: mail.unwrap_or_default(),
            job_title: self.job_title.unwrap_or_default(),
        })
    }

    fn into_group(self) -> Option<Group> {
        let id = self.id.filter(|i| !i.is_empty())?;
        Some(Group {
            id: id.to_lowercase(),
            display_name: self.display_name.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            is_team: self
                .resource_provisioning_options
                .is_some_and(|o| o.iter().any(|x| x.eq_ignore_ascii_case("Team"))),
        })
    }
}

/// Users only, each once, in the order given.
fn users_only(wire: Vec<WireObject>) -> Vec<Person> {
    let mut seen = HashSet::new();
    wire.into_iter()
        .filter_map(WireObject::into_person)
        .filter(|p| seen.insert(p.id.clone()))
        .collect()
}

fn group_guid(raw: &str) -> Result<String> {
    normalize_user_id(raw).ok_or_else(|| {
        Error::Config(format!(
            "\"{raw}\" is not a group ID: a group or team ID is a GUID like 02bd9fd6-8f93-4758-87c3-1fb73740a315."
        ))
    })
}

fn group_error(e: Error, group_id: &str) -> Error {
    match e {
        Error::Graph {
            status: 404, code, ..
        } => Error::Graph {
            status: 404,
            code,
            message: format!("No group or team has the ID {group_id}."),
        },
        e => explain_forbidden(e, "read the members of a group or team", GROUP_PERMISSION),
    }
}

/// A 403 says which permission is missing and who can grant it.
fn explain_forbidden(e: Error, to: &str, permission: &str) -> Error {
    match e {
        Error::Graph {
            status: 403,
            code,
            message,
        } => {
            let who = if permission == GROUP_PERMISSION {
                "Only an administrator can allow it: your organisation has to grant admin consent to this app for that permission, or you can sign in with an app registration of your own that has it (--client-id)."
            } else {
                "Sign in again with `presently login` to grant it, or ask an administrator if your organisation does not allow it."
            };
            Error::Graph {
                status: 403,
                code,
                message: format!(
                    "Presently is not allowed to {to}: that needs the {permission} permission. {who} (Microsoft said: {message})"
                ),
            }
        }
        e => e,
    }
}

/// Percent-encodes a query value. `+` and `&` would otherwise be read as a
/// space and a new parameter, `#` as the start of a fragment.
fn encode_query(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters and
/// the `@` of sign-in names. Everything else is encoded: guests' sign-in names
/// contain `#EXT#`.
const SEGMENT_KEEPS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// Percent-encodes one path segment.
fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT_KEEPS).to_string()
}

/// Standard base64 (with or without padding; white space ignored), as Graph
/// encodes binary bodies inside `$batch` answers.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    LENIENT.decode(clean).ok()
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

    #[test]
    fn base64_round_trips_every_length() {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(200))
                .collect();
            // Graph pads; without padding is read too.
            assert_eq!(
                decode_base64(&STANDARD_NO_PAD.encode(&bytes)).unwrap(),
                bytes,
                "length {len}"
            );
            assert_eq!(
                decode_base64(&STANDARD.encode(&bytes)).unwrap(),
                bytes,
                "length {len}"
            );
        }
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8").unwrap(), b"hello");
        assert!(decode_base64("a*==").is_none());
        assert!(decode_base64("abcde").is_none());
    }

    #[test]
    fn path_segments_and_queries_are_encoded() {
        assert_eq!(
            encode_segment("guest_gmail.com#EXT#@contoso.onmicrosoft.com"),
            "guest_gmail.com%23EXT%23@contoso.onmicrosoft.com"
        );
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(
            encode_query("\"displayName:a&b\" OR x+y"),
            "%22displayName%3Aa%26b%22+OR+x%2By"
        );
    }

    #[test]
    fn only_organisation_users_become_people() {
        let wire: Vec<WireObject> = serde_json::from_value(serde_json::json!([
            {"@odata.type": "#microsoft.graph.user", "id": "4B7C2A47-9D0E-4C61-A1F3-0D8E6F2B5C19", "displayName": "Megan", "mail": null},
            {"@odata.type": "#microsoft.graph.group", "id": "02bd9fd6-8f93-4758-87c3-1fb73740a315", "displayName": "Sales"},
            {"@odata.type": "#microsoft.graph.orgContact", "id": "12bd9fd6-8f93-4758-87c3-1fb73740a315"},
            {"id": "22bd9fd6-8f93-4758-87c3-1fb73740a315", "displayName": "Ext", "personType": {"class": "Person", "subclass": "PersonalContact"}},
            {"id": "32bd9fd6-8f93-4758-87c3-1fb73740a315", "displayName": "Alex", "personType": {"class": "Person", "subclass": "OrganizationUser"},
             "scoredEmailAddresses": [{"address": "alex@contoso.com", "relevanceScore": 8}]},
            {"id": "not-a-guid", "displayName": "Broken"},
            {"@odata.type": "#microsoft.graph.user", "id": "4b7c2a47-9d0e-4c61-a1f3-0d8e6f2b5c19", "displayName": "Megan again"}
        ]))
        .unwrap();
        let people = users_only(wire);
        let names: Vec<&str> = people.iter().map(|p| p.display_name.as_str()).collect();
        assert_eq!(names, ["Megan", "Alex"]);
        assert_eq!(people[0].id, "4b7c2a47-9d0e-4c61-a1f3-0d8e6f2b5c19");
        assert_eq!(people[1].mail, "alex@contoso.com");
    }
}
