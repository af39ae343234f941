//! The roster: the teammates whose presence Presently shows, kept in
//! `roster.toml` in the config dir.
//!
//! The file is TOML because people read and edit it: one `[[teammate]]` table
//! per person, in the order they were added.
//!
//! ```toml
//! [[teammate]]
//! id = "4b7c2a47-9d0e-4c61-a1f3-0d8e6f2b5c19"
//! display_name = "Megan Bowen"
//! user_principal_name = "megan.bowen@contoso.com"
//! mail = "megan.bowen@contoso.com"
//! job_title = "Marketing Manager"
//! notify = true
//! favorite = false
//! group = "Design"
//! ```
//!
//! Rules that keep the file safe:
//! - it is replaced atomically (write, fsync, rename), never written in place;
//! - a file that cannot be read is renamed to `roster.toml.broken-<UTC time>`
//!   and the caller is told ([`Roster::recovery`]); it is never overwritten;
//! - keys this version does not know, at the top and inside a teammate, are
//!   kept and written back, so a newer version's data survives an older one;
//! - a save rewrites only what changed: comments, the order of keys and the
//!   way values are written stay as people left them, and a teammate's
//!   comments go only with that teammate;
//! - one person appears once: entries with the same ID (in any letter case)
//!   are merged, flags OR'ed and the newer non-empty details kept;
//! - an edit ([`Roster::edit_file`], the window's and the command line's)
//!   holds [`RosterLock`] from reading the file to replacing it, so that the
//!   app and `presently roster` never write over each other's change, and
//!   replaces the file only when the roster it holds changed.

use std::collections::HashMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::toml_file::{
    create_private_dir, edit_in_place, toml_item, toml_reason, write_atomically, TomlText,
    Unwritable,
};

/// The roster's file name inside the config dir.
pub const ROSTER_FILE: &str = "roster.toml";

/// The lock file beside the roster, held around every read-edit-write.
pub const LOCK_FILE: &str = "roster.lock";

/// How long an edit waits for another one to finish. Edits take
/// milliseconds; this much waiting means the other side is stuck.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Written at the top of a new roster.
const HEADER: &str = "\
# Presently's roster: the teammates whose presence you see.
# One [[teammate]] table per person. You may edit it while Presently is not
# running; your comments are kept when Presently saves.

";

/// The header of rosters written when comments were not kept: it is replaced,
/// since it no longer tells the truth.
const OLD_HEADER: &str = "\
# Presently's roster: the teammates whose presence you see.
# One [[teammate]] table per person. You may edit it while Presently is not
# running; comments other than this one are not kept when Presently saves.

";

/// One person on the roster.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Teammate {
    /// The Graph user (object) ID, lower case. Defaulted only so that a
    /// missing one is reported by teammate number rather than by serde.
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// The sign-in name, e.g. megan.bowen@contoso.com; Teams links use it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_principal_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mail: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub job_title: String,
    /// "Tell me when they become available."
    #[serde(default)]
    pub notify: bool,
    #[serde(default)]
    pub favorite: bool,
    /// "Tell me about every change", not only "available" (needs `notify`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify_every_change: bool,
    /// A label of the user's choosing ("Design", "My team").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Keys this version does not know, written back unchanged.
    #[serde(flatten)]
    pub extra: toml::Table,
}

impl Teammate {
    /// A teammate known only by ID; the details come from the directory.
    pub fn new(id: impl Into<String>) -> Teammate {
        Teammate {
            id: canonical_id(&id.into()),
            ..Default::default()
        }
    }

    /// The best name to show: display name, else sign-in name, else mail, else ID.
    pub fn name(&self) -> &str {
        [&self.display_name, &self.user_principal_name, &self.mail]
            .into_iter()
            .find(|s| !s.trim().is_empty())
            .unwrap_or(&self.id)
    }

    /// Their mailbox address, for their calendar: mail, else the sign-in
    /// name; `None` when the roster has neither.
    pub fn mailbox(&self) -> Option<String> {
        [&self.mail, &self.user_principal_name]
            .into_iter()
            .find(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_string())
    }

    /// True when `key` is this teammate's ID, sign-in name or mail, in any
    /// letter case: the ways people name a colleague on the command line.
    pub fn answers_to(&self, key: &str) -> bool {
        let key = key.trim();
        !key.is_empty()
            && [&self.id, &self.user_principal_name, &self.mail]
                .into_iter()
                .any(|s| s.eq_ignore_ascii_case(key))
    }

    /// Folds a later entry for the same person into this one.
    fn merge(&mut self, newer: Teammate) {
        self.notify |= newer.notify;
        self.favorite |= newer.favorite;
        self.notify_every_change |= newer.notify_every_change;
        for (mine, theirs) in [
            (&mut self.display_name, newer.display_name),
            (&mut self.user_principal_name, newer.user_principal_name),
            (&mut self.mail, newer.mail),
            (&mut self.job_title, newer.job_title),
        ] {
            if !theirs.trim().is_empty() {
                *mine = theirs;
            }
        }
        if newer.group.is_some() {
            self.group = newer.group;
        }
        self.extra.extend(newer.extra);
    }

    /// The form kept in memory and on disk: the ID trimmed and lower case
    /// (Graph writes IDs in lower case, and the poller keys by that form), an
    /// empty group label the same as none.
    fn tidy(mut self) -> Teammate {
        self.id = canonical_id(&self.id);
        if self.group.as_deref().is_some_and(|g| g.trim().is_empty()) {
            self.group = None;
        }
        self
    }
}

fn canonical_id(id: &str) -> String {
    id.trim().to_lowercase()
}

/// What [`Roster::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A new teammate.
    New,
    /// Someone already on the roster; the new details and flags were merged in.
    Merged,
    /// Nothing: the teammate had no ID (a file holding them could not be
    /// read back).
    NoId,
}

/// The roster's lock, held from reading the file to replacing it. It is a
/// file of its own beside the roster, since the roster itself is replaced
/// by a rename on each save; the OS lets go of it when the holder ends,
/// however it ends.
#[derive(Debug)]
pub struct RosterLock {
    _file: fs::File,
}

impl RosterLock {
    /// Takes the lock of the roster in `config_dir`, waiting a few seconds
    /// for an edit under way to finish.
    pub fn acquire(config_dir: &Path) -> Result<RosterLock> {
        RosterLock::acquire_within(config_dir, LOCK_WAIT)
    }

    /// Takes the lock, waiting at most `wait`.
    pub fn acquire_within(config_dir: &Path, wait: Duration) -> Result<RosterLock> {
        let fail = |e: std::io::Error| {
            Error::Storage(format!(
                "Could not lock the roster in {} for an edit: {e}",
                config_dir.display()
            ))
        };
        create_private_dir(config_dir).map_err(fail)?;
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(config_dir.join(LOCK_FILE)).map_err(fail)?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(RosterLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::Storage(format!(
                        "The roster in {} is being changed by another Presently (the app or `presently roster`) that has not finished in {} s. Try again; if this keeps happening, quit the other one.",
                        config_dir.display(),
                        wait.as_secs()
                    )))
                }
                Err(fs::TryLockError::Error(e)) => return Err(fail(e)),
            }
        }
    }
}

/// What an edit does with a roster file that is not a valid roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfUnreadable {
    /// Refuse the edit and leave the file as it is: someone may be halfway
    /// through editing it, and the window can tell them where the mistake is.
    Refuse,
    /// Keep the file aside and edit an empty roster instead, with
    /// [`Roster::recovery`] set to say where the file went (`presently
    /// roster`, which tells the person and ends with exit code 1).
    KeepAside,
}

/// A roster file that could not be read and was kept aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Where the unreadable file is now.
    pub backup: PathBuf,
    /// Why it could not be read.
    pub reason: String,
}

impl Recovery {
    /// A sentence for people: what happened and where their file is.
    pub fn message(&self) -> String {
        format!(
            "The roster file could not be read ({}). It was kept as {} and Presently started with an empty roster; fix that file and move it back to {ROSTER_FILE} to restore it.",
            self.reason,
            self.backup.display()
        )
    }
}

/// The file's shape.
#[derive(Deserialize)]
struct RosterFile {
    #[serde(flatten)]
    extra: toml::Table,
    #[serde(default, rename = "teammate")]
    teammates: Vec<Teammate>,
}

/// The teammates, in the order they were added, each once.
#[derive(Debug, Clone)]
pub struct Roster {
    path: PathBuf,
    teammates: Vec<Teammate>,
    /// Position of each teammate by canonical ID.
    index: HashMap<String, usize>,
    extra: toml::Table,
    /// The file as read, to be written back with people's comments.
    text: TomlText,
    /// The teammates as the file holds them: one per `[[teammate]]` table,
    /// in the same order, duplicates and all.
    as_read: Vec<Teammate>,
    recovery: Option<Recovery>,
    merged_on_load: usize,
    /// True when the file had the old header, replaced in memory.
    header_renewed: bool,
}

impl Roster {
    /// An empty roster that will be saved at `path`.
    pub fn empty(path: impl Into<PathBuf>) -> Roster {
        Roster {
            path: path.into(),
            teammates: Vec::new(),
            index: HashMap::new(),
            extra: toml::Table::new(),
            text: TomlText::with_header(HEADER),
            as_read: Vec::new(),
            recovery: None,
            merged_on_load: 0,
            header_renewed: false,
        }
    }

    /// The path of the roster in `config_dir`.
    pub fn path_in(config_dir: &Path) -> PathBuf {
        config_dir.join(ROSTER_FILE)
    }

    /// Loads `roster.toml` from `config_dir`; see [`Roster::load_file`].
    pub fn load(config_dir: &Path) -> Result<Roster> {
        Roster::load_file(Roster::path_in(config_dir))
    }

    /// Loads the roster at `path`. A missing file is an empty roster. A file
    /// that is not a valid roster is renamed to `<name>.broken-<time>` and an
    /// empty roster returned with [`Roster::recovery`] set, so that the caller
    /// can tell the user; only a file that cannot be opened at all, or cannot
    /// be moved aside, is an error (then nothing may overwrite it).
    pub fn load_file(path: impl Into<PathBuf>) -> Result<Roster> {
        let path = path.into();
        match Roster::parse_file(&path)? {
            Ok(roster) => Ok(roster),
            Err(reason) => {
                let backup = move_aside(&path).map_err(|e| {
                    Error::Storage(format!(
                        "The roster file {} could not be read ({reason}) and could not be kept aside as a backup ({e}). Fix or move the file, then try again.",
                        path.display()
                    ))
                })?;
                tracing::warn!(backup = %backup.display(), %reason, "unreadable roster kept aside");
                let mut roster = Roster::empty(&path);
                roster.recovery = Some(Recovery {
                    backup,
                    reason: reason.to_string(),
                });
                Ok(roster)
            }
        }
    }

    /// Reads the roster at `path` and leaves the file alone whatever it
    /// holds: a file that is not a valid roster is an error, not a recovery
    /// (someone may be halfway through editing it). A missing file is an
    /// empty roster.
    pub fn read(path: impl Into<PathBuf>) -> Result<Roster> {
        let path = path.into();
        Roster::parse_file(&path)?.map_err(|reason| {
            Error::Storage(format!(
                "The roster file {} could not be read ({reason}). It is left as it is: fix it, or move it away.",
                path.display()
            ))
        })
    }

    /// The roster in `config_dir` for what only reads it (`watch`,
    /// `publish`, the app's start): never moved aside, whatever it holds,
    /// since only an edit under the roster's lock may do that. A file that
    /// is not a valid roster gives an empty roster and what to tell the
    /// user; one that cannot be opened at all is an error.
    pub fn read_in(config_dir: &Path) -> Result<(Roster, Option<String>)> {
        let path = Roster::path_in(config_dir);
        match Roster::parse_file(&path)? {
            Ok(roster) => Ok((roster, None)),
            Err(reason) => Ok((
                Roster::empty(&path),
                Some(format!(
                    "The roster file {} could not be read ({reason}). It is left as it is, and nobody is watched from it until it is fixed.",
                    path.display()
                )),
            )),
        }
    }

    /// Reads the roster in `config_dir`, lets `edit` change it and saves it,
    /// holding [`RosterLock`] throughout. A file that is not a valid roster
    /// is refused with its name and the line of the mistake, and stays as it
    /// is: someone may be halfway through editing it.
    pub fn edit_file<T>(
        config_dir: &Path,
        edit: impl FnOnce(&mut Roster) -> T,
    ) -> Result<(T, Roster)> {
        Roster::edit_file_with(config_dir, IfUnreadable::Refuse, edit)
    }

    /// [`Roster::edit_file`], with a file that is not a valid roster
    /// refused or kept aside as `if_unreadable` says. The file is replaced
    /// only when the roster differs from what it holds: an edit that changed
    /// nobody (removing someone who is not there) leaves it untouched, while
    /// one that changed nobody on a file needing tidying (people listed
    /// twice, the old header) writes the tidy form.
    pub fn edit_file_with<T>(
        config_dir: &Path,
        if_unreadable: IfUnreadable,
        edit: impl FnOnce(&mut Roster) -> T,
    ) -> Result<(T, Roster)> {
        let _lock = RosterLock::acquire(config_dir)?;
        let path = Roster::path_in(config_dir);
        let mut roster = match if_unreadable {
            IfUnreadable::KeepAside => Roster::load_file(&path)?,
            IfUnreadable::Refuse => Roster::parse_file(&path)?.map_err(|reason| {
                Error::Storage(format!(
                    "The roster file {} could not be read ({reason}), so the change was not made. Fix the file (or move it away), then try again.",
                    path.display()
                ))
            })?,
        };
        let out = edit(&mut roster);
        if roster.differs_from_file() {
            roster.save()?;
        }
        Ok((out, roster))
    }

    /// True when the roster is not what its file says as it was read: a
    /// teammate added, removed or changed, or the file tidied on reading.
    fn differs_from_file(&self) -> bool {
        self.header_renewed || self.teammates != self.as_read
    }

    /// The roster at `path`, or why its content is not one; `Err` when it
    /// cannot be opened at all.
    fn parse_file(path: &Path) -> Result<std::result::Result<Roster, NotARoster>> {
        let mut roster = Roster::empty(path);
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Ok(roster)),
            Err(e) => {
                return Err(Error::Storage(format!(
                    "The roster file {} could not be opened: {e}",
                    path.display()
                )))
            }
        };
        let (file, mut text) = match parse(&bytes) {
            Ok(parsed) => parsed,
            Err(reason) => return Ok(Err(reason)),
        };
        if text.header() == OLD_HEADER {
            text.set_header(HEADER);
            roster.header_renewed = true;
        }
        roster.text = text;
        roster.as_read = file.teammates.clone();
        roster.extra = file.extra;
        for t in file.teammates {
            if roster.add(t) == Added::Merged {
                roster.merged_on_load += 1;
            }
        }
        Ok(Ok(roster))
    }

    /// Writes the roster atomically. An empty roster is written too: an empty
    /// file says "no teammates", a missing one says "never set up".
    pub fn save(&self) -> Result<()> {
        write_atomically(&self.path, self.to_toml()?.as_bytes())
    }

    /// The text [`Roster::save`] writes: the file as read, with what changed.
    pub fn to_toml(&self) -> Result<String> {
        self.text
            .write(|doc| self.write_teammates(doc))
            .map_err(|e| Error::Storage(format!("Could not write the roster: {e}")))
    }

    /// Puts the teammates in the file's `[[teammate]]` tables. Someone who was
    /// in the file keeps their table (the first, if they were there twice),
    /// rewritten only where something changed; someone new gets a table at
    /// the end; the tables of people no longer on the roster go.
    fn write_teammates(&self, doc: &mut toml_edit::Table) -> std::result::Result<(), Unwritable> {
        let taken = doc.get_mut("teammate").map(std::mem::take);
        // `teammate = [{ ... }]` is a roster too; it is written back as tables.
        if taken
            .as_ref()
            .is_some_and(|item| !item.is_array_of_tables())
        {
            if let Some(mut key) = doc.key_mut("teammate") {
                key.leaf_decor_mut().clear();
            }
        }
        let mut tables: Vec<Option<toml_edit::Table>> = taken
            .and_then(|item| item.into_array_of_tables().ok())
            .map(|tables| tables.into_iter().map(Some).collect())
            .unwrap_or_default();
        let mut in_file = HashMap::new();
        for (i, t) in self.as_read.iter().enumerate().take(tables.len()) {
            in_file.entry(canonical_id(&t.id)).or_insert(i);
        }
        let new: Vec<&Teammate> = self
            .teammates
            .iter()
            .filter(|t| !in_file.contains_key(&t.id))
            .collect();
        // Written together, new tables look as they do in a new file.
        let mut new_tables = Vec::new().into_iter();
        if !new.is_empty() {
            new_tables = toml_item("teammate", &new)?
                .into_array_of_tables()
                .map(|tables| tables.into_iter().collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter();
        }
        let mut written = toml_edit::ArrayOfTables::new();
        for t in &self.teammates {
            let table = match in_file.get(&t.id) {
                Some(&i) => {
                    let mut table = tables[i]
                        .take()
                        .ok_or_else(|| Unwritable::Shape("a teammate appears twice".into()))?;
                    let read = &self.as_read[i];
                    if read != t {
                        edit_in_place(&mut table, &as_toml(read)?, &as_toml(t)?)?;
                    }
                    table
                }
                None => new_tables
                    .next()
                    .ok_or_else(|| Unwritable::Shape("a new teammate was not written".into()))?,
            };
            written.push(table);
        }
        if written.is_empty() {
            doc.remove("teammate");
        } else {
            *doc.entry("teammate").or_insert(toml_edit::Item::None) =
                toml_edit::Item::ArrayOfTables(written);
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Set when the file on disk could not be read and was kept aside.
    pub fn recovery(&self) -> Option<&Recovery> {
        self.recovery.as_ref()
    }

    /// Records that the file on disk could not be read and was kept aside.
    pub fn set_recovery(&mut self, recovery: Recovery) {
        self.recovery = Some(recovery);
    }

    /// How many duplicate entries the loaded file had (now merged).
    pub fn merged_on_load(&self) -> usize {
        self.merged_on_load
    }

    pub fn teammates(&self) -> &[Teammate] {
        &self.teammates
    }

    pub fn len(&self) -> usize {
        self.teammates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.teammates.is_empty()
    }

    /// Every teammate's ID, in roster order, for the presence poller.
    pub fn ids(&self) -> Vec<String> {
        self.teammates.iter().map(|t| t.id.clone()).collect()
    }

    /// The teammate with this ID (any case).
    pub fn get(&self, id: &str) -> Option<&Teammate> {
        self.index
            .get(&canonical_id(id))
            .map(|&i| &self.teammates[i])
    }

    /// The teammate named by ID, sign-in name or mail (any case).
    pub fn find(&self, key: &str) -> Option<&Teammate> {
        self.position(key).map(|i| &self.teammates[i])
    }

    /// Unknown top-level keys of the file, as they were read.
    pub fn extra(&self) -> &toml::Table {
        &self.extra
    }

    /// Adds a teammate, or merges it into the entry with the same ID: flags
    /// are OR'ed (adding never turns a flag off) and non-empty details win.
    pub fn add(&mut self, teammate: Teammate) -> Added {
        let teammate = teammate.tidy();
        if teammate.id.is_empty() {
            return Added::NoId;
        }
        match self.index.get(&teammate.id) {
            Some(&i) => {
                self.teammates[i].merge(teammate);
                Added::Merged
            }
            None => {
                self.index.insert(teammate.id.clone(), self.teammates.len());
                self.teammates.push(teammate);
                Added::New
            }
        }
    }

    /// Removes the teammate named by ID, sign-in name or mail (any case).
    pub fn remove(&mut self, key: &str) -> Option<Teammate> {
        let i = self.position(key)?;
        let gone = self.teammates.remove(i);
        self.reindex();
        Some(gone)
    }

    /// Turns "tell me when they become available" on or off. False when
    /// nobody on the roster answers to `key`.
    pub fn set_notify(&mut self, key: &str, on: bool) -> bool {
        self.edit(key, |t| t.notify = on)
    }

    pub fn set_favorite(&mut self, key: &str, on: bool) -> bool {
        self.edit(key, |t| t.favorite = on)
    }

    pub fn set_notify_every_change(&mut self, key: &str, on: bool) -> bool {
        self.edit(key, |t| t.notify_every_change = on)
    }

    /// Sets or clears (`None` or blank) the group label.
    pub fn set_group(&mut self, key: &str, group: Option<String>) -> bool {
        let group = group.filter(|g| !g.trim().is_empty());
        self.edit(key, |t| t.group = group)
    }

    fn edit(&mut self, key: &str, f: impl FnOnce(&mut Teammate)) -> bool {
        match self.position(key) {
            Some(i) => {
                f(&mut self.teammates[i]);
                true
            }
            None => false,
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.index
            .get(&canonical_id(key))
            .copied()
            .or_else(|| self.teammates.iter().position(|t| t.answers_to(key)))
    }

    fn reindex(&mut self) {
        self.index = self
            .teammates
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
    }
}

/// A teammate as the keys and values of their table.
fn as_toml(teammate: &Teammate) -> std::result::Result<toml::Table, Unwritable> {
    match toml::Value::try_from(teammate)? {
        toml::Value::Table(table) => Ok(table),
        other => Err(Unwritable::Shape(format!(
            "a teammate became {}",
            other.type_str()
        ))),
    }
}

/// Why a file's content is not a roster, in a few words that the sentences
/// naming the file put in brackets. It holds none of the names and addresses
/// the file does: its `Debug` goes to logs as well.
#[derive(Debug, thiserror::Error)]
enum NotARoster {
    #[error("it is not UTF-8 text: {0}")]
    NotUtf8(std::str::Utf8Error),
    /// Not TOML, or not the roster's keys; `reason` with the values it
    /// quoted left out.
    #[error("{reason}{}", line.map(|line| format!(", line {line}")).unwrap_or_default())]
    NotRosterToml { reason: String, line: Option<usize> },
    /// `number` counts the `[[teammate]]` tables from 1.
    #[error("teammate number {number} has no id")]
    NoId { number: usize },
    /// Read as a roster, yet not as a document that can be written back;
    /// only the message is kept, since the TOML error holds the whole text.
    #[error("{0}")]
    NotEditable(String),
}

/// Reads a roster file, or says in a few words why it is not one.
fn parse(bytes: &[u8]) -> std::result::Result<(RosterFile, TomlText), NotARoster> {
    let text = std::str::from_utf8(bytes).map_err(NotARoster::NotUtf8)?;
    let file: RosterFile = toml::from_str(text).map_err(|e| {
        let (reason, line) = toml_reason(text, &e);
        NotARoster::NotRosterToml {
            reason: values_left_out(&reason),
            line,
        }
    })?;
    for (n, t) in file.teammates.iter().enumerate() {
        if t.id.trim().is_empty() {
            return Err(NotARoster::NoId { number: n + 1 });
        }
    }
    let text = TomlText::parse(text)
        .map_err(|e| NotARoster::NotEditable(e.message().trim().to_string()))?;
    Ok((file, text))
}

/// A parse error's words without the text values it quotes: a roster holds
/// people's names and addresses, and its errors go to the log and the
/// screen. The line number says where to look.
fn values_left_out(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut quoted = false;
    for c in reason.chars() {
        match c {
            '"' if quoted => {
                quoted = false;
                out.push_str("\"…\"");
            }
            '"' => quoted = true,
            _ if quoted => {}
            c => out.push(c),
        }
    }
    if quoted {
        out.push_str("\"…");
    }
    out
}

/// Renames an unreadable roster to `<name>.broken-<UTC time>`, adding `-2`,
/// `-3`... rather than replacing an earlier backup.
fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ROSTER_FILE.to_string());
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let dir = path.parent().unwrap_or(Path::new("."));
    for n in 1u32.. {
        let candidate = match n {
            1 => dir.join(format!("{name}.broken-{stamp}")),
            _ => dir.join(format!("{name}.broken-{stamp}-{n}")),
        };
        if candidate.symlink_metadata().is_ok() {
            continue;
        }
        fs::rename(path, &candidate)?;
        return Ok(candidate);
    }
    unreachable!("some backup name is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "4b7c2a47-9d0e-4c61-a1f3-0d8e6f2b5c19";

    /// What goes in brackets after "The roster file ... could not be read":
    /// a few words and the line.
    #[test]
    fn why_a_file_is_not_a_roster_reads_as_a_few_words() {
        let reason = |bytes: &[u8]| parse(bytes).err().expect("not a roster").to_string();
        assert_eq!(
            reason(b"[[teammate]]\nid = \"a\"\n\n[[teammate]]\nid = \" \"\n"),
            "teammate number 2 has no id"
        );
        assert!(
            reason(&[0xff, 0xfe]).starts_with("it is not UTF-8 text: "),
            "{}",
            reason(&[0xff, 0xfe])
        );
        let told = reason(b"# people\n\n[[teammate]]\nid = \"a\"\ndisplay_name = 7\n");
        assert!(told.ends_with(", line 5"), "{told}");
    }

    #[test]
    fn merge_ors_flags_and_keeps_newer_non_empty_details() {
        let mut r = Roster::empty("unused");
        r.add(Teammate {
            id: A.to_uppercase(),
            display_name: "Megan".into(),
            job_title: "Manager".into(),
            notify: true,
            group: Some("Design".into()),
            ..Default::default()
        });
        let second = r.add(Teammate {
            id: A.into(),
            display_name: "Megan Bowen".into(),
            favorite: true,
            ..Default::default()
        });
        assert_eq!(second, Added::Merged);
        assert_eq!(r.len(), 1);
        let t = r.get(A).unwrap();
        assert_eq!(t.id, A, "kept in lower case");
        assert_eq!(t.display_name, "Megan Bowen");
        assert_eq!(t.job_title, "Manager", "an empty detail does not erase one");
        assert!(t.notify && t.favorite);
        assert_eq!(t.group.as_deref(), Some("Design"));
    }

    #[test]
    fn teammates_are_found_by_id_upn_or_mail() {
        let mut r = Roster::empty("unused");
        r.add(Teammate {
            id: A.into(),
            user_principal_name: "megan@contoso.com".into(),
            mail: "m.bowen@contoso.com".into(),
            ..Default::default()
        });
        assert!(r.find("MEGAN@contoso.com").is_some());
        assert!(r.find("m.bowen@contoso.com").is_some());
        assert!(r.find("nobody@contoso.com").is_none());
        assert!(r.find("").is_none());
        assert!(r.set_notify("megan@contoso.com", true));
        assert!(r.get(A).unwrap().notify);
        assert!(!r.set_favorite("nobody", true));
        assert!(r.remove(&A.to_uppercase()).is_some());
        assert!(r.is_empty() && r.get(A).is_none());
    }

    #[test]
    fn a_new_roster_is_written_as_the_toml_library_writes_it() {
        let mut r = Roster::empty("unused");
        let mut megan = Teammate {
            id: A.into(),
            display_name: "Dwayne \"The Rock\" O'Brien".into(),
            mail: "megan@contoso.com".into(),
            notify: true,
            group: Some("Design".into()),
            ..Default::default()
        };
        megan.extra.insert("pronouns".into(), "she/her".into());
        let mut devices = toml::Table::new();
        devices.insert("kind".into(), "phone".into());
        megan
            .extra
            .insert("devices".into(), vec![toml::Value::Table(devices)].into());
        r.add(megan);
        r.add(Teammate::new("02bd9fd6-8f93-4758-87c3-1fb73740a315"));

        #[derive(Serialize)]
        struct File<'a> {
            teammate: &'a [Teammate],
        }
        let body = toml::to_string(&File {
            teammate: r.teammates(),
        })
        .unwrap();
        assert_eq!(r.to_toml().unwrap(), format!("{HEADER}{body}"));
    }

    const B: &str = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

    fn file_in(dir: &tempfile::TempDir) -> Option<String> {
        fs::read_to_string(Roster::path_in(dir.path())).ok()
    }

    #[test]
    fn an_edit_that_changes_nobody_leaves_the_file_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let (gone, _) = Roster::edit_file(dir.path(), |r| r.remove(A)).unwrap();
        assert!(gone.is_none());
        assert_eq!(file_in(&dir), None, "no roster file was made");

        // A roster Presently would write in another form: any save shows.
        let inline = format!("teammate = [{{ id = \"{A}\", notify = true }}]\n");
        fs::write(Roster::path_in(dir.path()), &inline).unwrap();
        for edit in [
            (|r: &mut Roster| r.remove(B).is_some()) as fn(&mut Roster) -> bool,
            |r| r.set_notify(A, true),
            |r| r.add(Teammate::new(A.to_uppercase())) == Added::New,
        ] {
            Roster::edit_file(dir.path(), edit).unwrap();
            assert_eq!(file_in(&dir).as_deref(), Some(inline.as_str()));
        }

        let (_, roster) = Roster::edit_file(dir.path(), |r| r.set_favorite(A, true)).unwrap();
        let written = file_in(&dir).unwrap();
        assert!(written.contains("[[teammate]]"), "{written}");
        assert!(roster.get(A).unwrap().favorite);
    }

    #[test]
    fn an_edit_writes_a_file_that_needed_tidying_even_when_it_changes_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let twice = format!(
            "[[teammate]]\nid = \"{A}\"\n\n[[teammate]]\nid = \"{}\"\n",
            A.to_uppercase()
        );
        fs::write(Roster::path_in(dir.path()), twice).unwrap();
        let (gone, roster) = Roster::edit_file(dir.path(), |r| r.remove(B)).unwrap();
        assert!(gone.is_none());
        assert_eq!(roster.merged_on_load(), 1);
        let written = file_in(&dir).unwrap();
        assert_eq!(written.matches("[[teammate]]").count(), 1, "{written}");

        fs::write(Roster::path_in(dir.path()), OLD_HEADER).unwrap();
        Roster::edit_file(dir.path(), |r| r.remove(B)).unwrap();
        assert_eq!(file_in(&dir).as_deref(), Some(HEADER));
    }

    #[test]
    fn an_edit_may_keep_an_unreadable_file_aside_and_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let broken = "[[teammate]]\nid = \"unterminated\n";
        fs::write(Roster::path_in(dir.path()), broken).unwrap();
        let (added, roster) = Roster::edit_file_with(dir.path(), IfUnreadable::KeepAside, |r| {
            assert!(r.recovery().is_some(), "the edit can tell the person first");
            r.add(Teammate::new(B))
        })
        .unwrap();
        assert_eq!(added, Added::New);
        let recovery = roster.recovery().expect("kept aside");
        assert!(recovery.reason.contains("line 2"), "{}", recovery.reason);
        assert_eq!(fs::read_to_string(&recovery.backup).unwrap(), broken);
        assert_eq!(Roster::load(dir.path()).unwrap().ids(), [B]);

        // Kept aside, nobody added: nothing is written in its place.
        fs::write(Roster::path_in(dir.path()), broken).unwrap();
        let (gone, roster) =
            Roster::edit_file_with(dir.path(), IfUnreadable::KeepAside, |r| r.remove(B)).unwrap();
        assert!(gone.is_none() && roster.recovery().is_some());
        assert_eq!(file_in(&dir), None);
    }

    #[test]
    fn name_falls_back_to_what_is_known() {
        let mut t = Teammate::new(A);
        assert_eq!(t.name(), A);
        t.mail = "m@contoso.com".into();
        assert_eq!(t.name(), "m@contoso.com");
        t.display_name = "Megan".into();
        assert_eq!(t.name(), "Megan");
    }
}
