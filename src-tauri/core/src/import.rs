//! Bringing people onto the roster, with one set of rules for the command
//! line (`presently roster add` and `import`) and the window: who is looked
//! up, how many of "the people you work with" come, which label a group
//! import gives, and that you are never your own teammate.

use crate::directory::{Directory, Group, Person};
use crate::error::{Error, Result};
use crate::presence::normalize_user_id;
use crate::roster::{Added, Roster, Teammate};
use crate::text::clean_text;

/// How many of "the people you work with most" an import brings.
pub const PEOPLE_TO_IMPORT: usize = 25;

/// Where an import takes people from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportSource {
    Manager,
    /// Your direct reports.
    Reports,
    /// The people you work with most (`/me/people`).
    People,
    /// The members of a group or team, by ID or by its exact name among
    /// your own groups and teams.
    Group(String),
}

impl ImportSource {
    /// The source named `kind` in the words both front ends use: the
    /// window's `source` and the command line's flags are "manager",
    /// "reports", "people" and "group", the last with the group's ID or
    /// name in `group`.
    pub fn parse(kind: &str, group: Option<String>) -> Result<ImportSource, NotASource> {
        match (kind, group) {
            ("manager", _) => Ok(ImportSource::Manager),
            ("reports", _) => Ok(ImportSource::Reports),
            ("people", _) => Ok(ImportSource::People),
            ("group", Some(group)) => Ok(ImportSource::Group(group)),
            ("group", None) => Err(NotASource::NoGroup),
            (other, _) => Err(NotASource::Unknown(other.to_string())),
        }
    }
}

/// Why what was asked for is not a source to import from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotASource {
    /// "group" without saying which.
    #[error("Choose a team to import.")]
    NoGroup,
    /// A kind that is none of the four, as it was given.
    #[error("\"{0}\" is not something to import from.")]
    Unknown(String),
}

impl From<NotASource> for Error {
    fn from(e: NotASource) -> Error {
        Error::InvalidInput(e.to_string())
    }
}

/// The people an addition found, and how to speak of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub people: Vec<Person>,
    /// What they are, for a sentence: "your manager", "the members of Design".
    pub what: String,
    /// The group label newcomers get: the name of the group imported.
    pub label: Option<String>,
    /// What was asked for and matched nobody, as it was written.
    pub unknown: Vec<String>,
    /// Entries of the list that were not people of the organisation
    /// (groups, contacts, entries without an ID or sign-in name).
    pub left_out: usize,
}

impl Found {
    /// What was left out, as a sentence; `None` when nothing was.
    pub fn left_out_sentence(&self) -> Option<String> {
        match self.left_out {
            0 => None,
            1 => Some(format!(
                "Left out 1 entry of {} that is not a person in your organisation (a group, a contact, or an entry without a user ID and sign-in name).",
                self.what
            )),
            n => Some(format!(
                "Left out {n} entries of {} that are not people in your organisation (groups, contacts, or entries without a user ID and sign-in name).",
                self.what
            )),
        }
    }
}

/// Flags newcomers get (`presently roster add --notify --favorite`). An
/// addition never turns a flag off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub notify: bool,
    pub favorite: bool,
}

/// What an addition did, person by person.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub added: Vec<Person>,
    /// Already on the roster: their details were refreshed.
    pub merged: Vec<Person>,
    /// Left out for having no ID (a directory answer without one).
    pub skipped: usize,
}

impl Report {
    /// What an addition did, in one line, as the window says it: who came
    /// ("Added Megan Bowen.", "Added 2 people: A, B." or "No one new to add:
    /// they are all in your list already."), who was not found, and what
    /// `found` left out. The command line says it person by person instead.
    pub fn summary(&self, found: &Found) -> String {
        let names: Vec<&str> = self.added.iter().map(Person::name).collect();
        let mut parts = vec![match names.as_slice() {
            // The sentence about what was left out says why.
            [] if found.left_out > 0 => "No one new to add.".to_string(),
            [] => "No one new to add: they are all in your list already.".to_string(),
            [one] => format!("Added {one}."),
            all => format!("Added {} people: {}.", all.len(), all.join(", ")),
        }];
        if !found.unknown.is_empty() {
            parts.push(format!("Not found: {}.", found.unknown.join(", ")));
        }
        parts.extend(found.left_out_sentence());
        parts.join(" ")
    }
}

/// The people named by `keys` (user IDs, sign-in names or mail addresses).
pub async fn look_up(directory: &Directory, keys: &[String]) -> Result<Found> {
    if keys.iter().all(|k| k.trim().is_empty()) {
        return Err(Error::InvalidInput(
            "Nobody to add: give user IDs or sign-in names, or a file with one a line.".into(),
        ));
    }
    let lookup = directory.lookup(keys).await?;
    Ok(Found {
        people: lookup.found,
        what: "the people asked for".into(),
        label: None,
        unknown: lookup.unknown,
        left_out: 0,
    })
}

/// The people of `source`, without `me` (your own presence has its own
/// place, not a row on the roster).
pub async fn gather(directory: &Directory, source: &ImportSource, me: &str) -> Result<Found> {
    let (listing, what, label) = match source {
        ImportSource::Manager => (directory.manager().await?, "your manager".to_string(), None),
        ImportSource::Reports => (
            directory.direct_reports().await?,
            "your direct reports".to_string(),
            None,
        ),
        ImportSource::People => (
            directory.people(PEOPLE_TO_IMPORT).await?,
            "the people you work with most".to_string(),
            None,
        ),
        ImportSource::Group(wanted) => {
            let group = find_group(directory, wanted).await?;
            let members = directory.group_members(&group.id).await?;
            let what = format!("the members of {}", clean_text(&group.display_name, 200));
            (members, what, Some(group.display_name))
        }
    };
    let people = listing
        .people
        .into_iter()
        .filter(|p: &Person| me.is_empty() || !p.id.eq_ignore_ascii_case(me))
        .collect();
    Ok(Found {
        people,
        what,
        label,
        unknown: Vec::new(),
        left_out: listing.left_out,
    })
}

/// Puts `found`'s people on `roster`. Newcomers get `flags` and the label
/// of the group they came from; a label someone already chose for a
/// teammate is theirs and stays.
pub fn add_found(roster: &mut Roster, found: &Found, flags: Flags) -> Report {
    let mut report = Report::default();
    for person in &found.people {
        let mut teammate = Teammate::from(person.clone());
        teammate.notify = flags.notify;
        teammate.favorite = flags.favorite;
        if roster.get(&teammate.id).is_none() {
            teammate.group = found.label.clone();
        }
        match roster.add(teammate) {
            Added::New => report.added.push(person.clone()),
            Added::Merged => report.merged.push(person.clone()),
            Added::NoId => report.skipped += 1,
        }
    }
    report
}

/// A group by ID, or by its exact name (any case) among your own groups and
/// teams.
pub async fn find_group(directory: &Directory, wanted: &str) -> Result<Group> {
    if normalize_user_id(wanted).is_some() {
        return directory.group(wanted).await;
    }
    let groups = directory.my_groups().await?;
    let matching: Vec<&Group> = groups
        .iter()
        .filter(|g| g.display_name.trim().eq_ignore_ascii_case(wanted.trim()))
        .collect();
    let listing = |gs: &[&Group]| {
        gs.iter()
            .map(|g| format!("  {}  {}", g.id, clean_text(&g.display_name, 200)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let all: Vec<&Group> = groups.iter().collect();
            Err(Error::NotFound(format!(
                "You are not in a group or team named \"{}\". Give its ID, or one of your groups and teams:\n{}",
                clean_text(wanted, 200),
                listing(&all)
            )))
        }
        several => Err(Error::InvalidInput(format!(
            "Several of your groups and teams are named \"{}\"; give the ID of the one you mean:\n{}",
            clean_text(wanted, 200),
            listing(several)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str) -> Person {
        Person {
            id: format!("id-{name}"),
            display_name: name.into(),
            ..Person::default()
        }
    }

    fn found(unknown: &[&str], left_out: usize) -> Found {
        Found {
            people: Vec::new(),
            what: "the members of Design".into(),
            label: Some("Design".into()),
            unknown: unknown.iter().map(|u| u.to_string()).collect(),
            left_out,
        }
    }

    #[test]
    fn an_addition_is_summed_up_in_the_windows_words() {
        let added = |names: &[&str]| Report {
            added: names.iter().map(|n| person(n)).collect(),
            merged: vec![person("Already There")],
            skipped: 0,
        };
        assert_eq!(
            added(&["Megan Bowen"]).summary(&found(&[], 0)),
            "Added Megan Bowen."
        );
        assert_eq!(
            added(&["A", "B"]).summary(&found(&["x"], 0)),
            "Added 2 people: A, B. Not found: x."
        );
        assert_eq!(
            added(&[]).summary(&found(&[], 0)),
            "No one new to add: they are all in your list already."
        );
        assert_eq!(
            added(&[]).summary(&found(&["nobody@contoso.com", "x"], 0)),
            "No one new to add: they are all in your list already. Not found: nobody@contoso.com, x."
        );
        // Someone without a display name is named as the directory knows them.
        let unnamed = Report {
            added: vec![Person {
                id: "id-1".into(),
                user_principal_name: "adele@contoso.com".into(),
                ..Person::default()
            }],
            ..Report::default()
        };
        assert_eq!(unnamed.summary(&found(&[], 0)), "Added adele@contoso.com.");

        // An import that met groups or contacts says so, in one sentence.
        let note = "Left out 2 entries of the members of Design that are not people in your organisation (groups, contacts, or entries without a user ID and sign-in name).";
        assert_eq!(
            added(&["A"]).summary(&found(&[], 2)),
            format!("Added A. {note}")
        );
        assert_eq!(
            added(&[]).summary(&found(&[], 2)),
            format!("No one new to add. {note}")
        );
    }

    #[test]
    fn a_source_is_parsed_from_the_words_both_front_ends_use() {
        let group = || Some("Design".to_string());
        assert_eq!(
            ImportSource::parse("manager", None),
            Ok(ImportSource::Manager)
        );
        assert_eq!(
            ImportSource::parse("reports", group()),
            Ok(ImportSource::Reports),
            "a group beside another source is not asked for"
        );
        assert_eq!(
            ImportSource::parse("people", None),
            Ok(ImportSource::People)
        );
        assert_eq!(
            ImportSource::parse("group", group()),
            Ok(ImportSource::Group("Design".into()))
        );

        let refused = |kind: &str, group: Option<String>| {
            let err = Error::from(ImportSource::parse(kind, group).unwrap_err());
            assert_eq!(err.code(), "invalid_input");
            err.to_string()
        };
        assert_eq!(refused("group", None), "Choose a team to import.");
        assert_eq!(
            refused("Manager", None),
            "\"Manager\" is not something to import from."
        );
        assert_eq!(
            refused("everyone", group()),
            "\"everyone\" is not something to import from."
        );
    }
}
