//! `presently roster add | remove | list | import | search`: the roster from
//! the command line, on the engine's [`Roster`] and [`Directory`].
//!
//! Lists meant for reading (`list`, `search`) go to stdout; what happened
//! ("Added ...", warnings, errors) goes to stderr, so that
//! `presently roster list --json | jq` always reads clean JSON.
//!
//! Exit codes: 0 ok; 1 when something asked for could not be done (an ID or
//! sign-in name the directory does not know, a name not on the roster, an
//! unreadable roster file that was kept aside) even though the rest was done;
//! sign-in needed comes back as `Err(Error::SignInNeeded)` for the caller to
//! map to 3.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgGroup, Args, Subcommand};
use presently_core::auth::Session;
use presently_core::calendar::{self, Outlook};
use presently_core::config::Settings;
use presently_core::directory::{Directory, Person};
use presently_core::graph::GraphClient;
use presently_core::import::{self, Flags, Found, ImportSource};
use presently_core::presence::{normalize_user_id, Presence, MAX_IDS_PER_REQUEST};
use presently_core::roster::{IfUnreadable, Roster, Teammate};
use presently_core::status::in_full;
use presently_core::token_store::TokenStore;
use presently_core::watch;
use presently_core::{Error, Result};

use crate::exit::{EXIT_ERROR, EXIT_OK};

/// How many matches `roster search` shows.
const SEARCH_RESULTS: usize = 25;
/// An import names each new teammate up to this many; beyond, only counts.
const NAMES_SHOWN: usize = 20;
/// Columns of the text tables are cut to this many characters.
const MAX_COLUMN: usize = 40;

/// `presently roster ...`
#[derive(Args, Debug)]
pub struct RosterArgs {
    #[command(subcommand)]
    pub command: RosterCommand,
}

#[derive(Subcommand, Debug)]
pub enum RosterCommand {
    /// Add teammates by user ID or sign-in name, looked up in the directory.
    Add(AddArgs),
    /// Remove teammates by user ID, sign-in name or e-mail.
    Remove {
        #[arg(value_name = "ID_OR_UPN", required = true)]
        who: Vec<String>,
    },
    /// Show the roster, with everyone's current presence when signed in.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also say when they will be free (on by itself with `calendar =
        /// true` in the config file; needs `presently login --calendar`).
        #[arg(long)]
        calendar: bool,
    },
    /// Add several people at once: your manager, your direct reports, the
    /// people you work with most, or the members of a group or team.
    Import(ImportArgs),
    /// Find people in the directory by name or e-mail.
    Search {
        /// The start of a name, an e-mail address or a sign-in name.
        #[arg(value_name = "TEXT", required = true, num_args = 1..)]
        text: Vec<String>,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// User IDs (GUIDs) or sign-in names (e.g. megan.bowen@contoso.com).
    #[arg(value_name = "ID_OR_UPN", required_unless_present = "file")]
    pub who: Vec<String>,
    /// Read IDs or sign-in names from FILE, one a line (`-` reads standard
    /// input); blank lines and lines starting with # are skipped.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Tell me when they become available.
    #[arg(long)]
    pub notify: bool,
    /// Mark them as favourites (listed first).
    #[arg(long)]
    pub favorite: bool,
}

#[derive(Args, Debug)]
#[command(group(
    ArgGroup::new("source")
        .required(true)
        .args(["manager", "reports", "people", "group"])
))]
pub struct ImportArgs {
    /// Your manager.
    #[arg(long)]
    pub manager: bool,
    /// Your direct reports.
    #[arg(long)]
    pub reports: bool,
    /// The people you work with most.
    #[arg(long)]
    pub people: bool,
    /// Every member of a group or team, by its ID or its exact name (needs
    /// the GroupMember.Read.All permission, which an administrator grants).
    #[arg(long, value_name = "ID")]
    pub group: Option<String>,
}

impl ImportArgs {
    /// The flag given, in the words the window uses too: the flags are
    /// named after the sources (clap lets exactly one through).
    fn source(self) -> Result<ImportSource> {
        let kind = [
            (self.manager, "manager"),
            (self.reports, "reports"),
            (self.people, "people"),
        ]
        .into_iter()
        .find_map(|(given, kind)| given.then_some(kind))
        .unwrap_or("group");
        Ok(ImportSource::parse(kind, self.group)?)
    }
}

/// Runs one `presently roster` command; the exit code, or the error for the
/// caller to print and map.
pub async fn run(settings: &Settings, store: Arc<dyn TokenStore>, args: RosterArgs) -> Result<u8> {
    match args.command {
        RosterCommand::Add(add_args) => add(settings, store, add_args).await,
        RosterCommand::Remove { who } => remove(settings, &who),
        RosterCommand::List { json, calendar } => {
            list(settings, store, json, calendar || settings.calendar).await
        }
        RosterCommand::Import(import_args) => import(settings, store, import_args).await,
        RosterCommand::Search { text } => search(settings, store, &text.join(" ")).await,
    }
}

async fn add(settings: &Settings, store: Arc<dyn TokenStore>, args: AddArgs) -> Result<u8> {
    let mut keys = args.who;
    if let Some(file) = &args.file {
        keys.extend(read_keys(file)?);
    }
    let directory = directory(settings, store).await?;
    let found = import::look_up(&directory, &keys).await?;
    let flags = Flags {
        notify: args.notify,
        favorite: args.favorite,
    };
    let mut failed = add_found(settings, &found, flags, |report, _| {
        for person in &report.added {
            eprintln!("Added {}.", person_label(person));
        }
        for person in &report.merged {
            eprintln!(
                "Updated {}, who was already on the roster.",
                person_label(person)
            );
        }
    })?;
    for unknown in &found.unknown {
        eprintln!(
            "presently: nobody in the directory has the ID or sign-in name \"{}\"; not added.",
            clean(unknown)
        );
        failed = true;
    }
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}

/// Puts `found` on the roster, then lets `tell` say what happened; true
/// when the file had to be kept aside (exit 1).
fn add_found(
    settings: &Settings,
    found: &Found,
    flags: Flags,
    tell: impl FnOnce(&import::Report, &Roster),
) -> Result<bool> {
    let (report, roster) = edit_roster(settings, |roster| import::add_found(roster, found, flags))?;
    tell(&report, &roster);
    if report.skipped > 0 {
        eprintln!(
            "presently: the directory listed {} people without an ID; they were left out.",
            report.skipped
        );
    }
    Ok(roster.recovery().is_some())
}

fn remove(settings: &Settings, who: &[String]) -> Result<u8> {
    let (not_there, roster) = edit_roster(settings, |roster| {
        let mut not_there = false;
        for key in who {
            match roster.remove(key) {
                Some(gone) => eprintln!("Removed {}.", teammate_label(&gone)),
                None => {
                    eprintln!("presently: \"{}\" is not on your roster.", clean(key));
                    not_there = true;
                }
            }
        }
        not_there
    })?;
    let failed = not_there || roster.recovery().is_some();
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}

async fn list(
    settings: &Settings,
    store: Arc<dyn TokenStore>,
    json: bool,
    calendar: bool,
) -> Result<u8> {
    // Only read: a broken file is an error here, and stays as it is.
    let roster = Roster::read(Roster::path_in(&settings.config_dir))?;
    // Presence is a bonus here: without a sign-in (or a network) the roster
    // is still worth showing, so failing to read it is a note, not an error.
    let presence = if roster.is_empty() {
        None
    } else {
        match current_presence(settings, store.clone(), &roster.ids()).await {
            Ok(map) => Some(map),
            Err(e) if e.needs_sign_in() => {
                eprintln!("Not signed in, so no presence is shown. Run `presently login` to see who is available.");
                None
            }
            Err(e) => {
                // The error may carry Graph's words: text only on a terminal.
                eprintln!(
                    "presently: presence could not be read, so none is shown: {}",
                    watch::clean_text(&e.to_string(), 500)
                );
                None
            }
        }
    };

    // The calendar likewise, when asked for and signed in.
    let outlooks = if calendar && presence.is_some() {
        match current_outlooks(settings, store, &roster).await {
            Ok(map) => Some(map),
            Err(e) => {
                eprintln!(
                    "presently: calendars could not be read, so when they will be free is not shown: {}",
                    watch::clean_text(&e.to_string(), 500)
                );
                None
            }
        }
    } else {
        None
    };

    if json {
        let teammates: Vec<serde_json::Value> = roster
            .teammates()
            .iter()
            .map(|t| {
                let p = presence.as_ref().map(|m| {
                    m.get(&t.id)
                        .cloned()
                        .unwrap_or_else(|| Presence::unknown(&t.id))
                });
                let mut row = serde_json::json!({
                    "id": t.id,
                    "display_name": t.display_name,
                    "user_principal_name": t.user_principal_name,
                    "mail": t.mail,
                    "job_title": t.job_title,
                    "notify": t.notify,
                    "favorite": t.favorite,
                    "group": t.group,
                    "presence": p,
                });
                if let (Some(map), Some(fields)) = (&outlooks, row.as_object_mut()) {
                    let outlook = map
                        .get(&t.id.to_ascii_lowercase())
                        .cloned()
                        .unwrap_or_default();
                    fields.extend(watch::outlook_fields(&outlook));
                }
                row
            })
            .collect();
        let doc = serde_json::json!({
            "signed_in": presence.is_some(),
            "teammates": teammates,
        });
        print_out(&format!("{doc}\n"));
    } else if roster.is_empty() {
        eprintln!("Your roster is empty: add teammates with `presently roster add`, `presently roster import` or find them with `presently roster search`.");
    } else {
        // Favourites first, otherwise in the order they were added.
        let mut order: Vec<&Teammate> = roster.teammates().iter().collect();
        order.sort_by_key(|t| !t.favorite);
        let mut header = vec!["NAME"];
        if presence.is_some() {
            header.push("PRESENCE");
        }
        if outlooks.is_some() {
            header.push("CALENDAR");
        }
        let now = chrono::Local::now();
        header.extend(["SIGN-IN NAME", "GROUP", "FLAGS"]);
        let rows = order.iter().map(|t| {
            let mut row = vec![t.name().to_string()];
            if let Some(map) = &presence {
                row.push(match map.get(&t.id) {
                    Some(p) => in_full(p),
                    None => "Unknown".to_string(),
                });
            }
            if let Some(map) = &outlooks {
                let words = map
                    .get(&t.id.to_ascii_lowercase())
                    .map(|o| calendar::summary(o, &now))
                    .unwrap_or_default();
                row.push(words);
            }
            let flags: Vec<&str> = [(t.favorite, "favorite"), (t.notify, "notify")]
                .into_iter()
                .filter_map(|(on, word)| on.then_some(word))
                .collect();
            row.extend([
                t.user_principal_name.clone(),
                t.group.clone().unwrap_or_default(),
                flags.join(","),
            ]);
            row
        });
        print_out(&table(&header, rows));
    }
    Ok(EXIT_OK)
}

async fn import(settings: &Settings, store: Arc<dyn TokenStore>, args: ImportArgs) -> Result<u8> {
    let source = args.source()?;
    let session = Session::resume(settings, store).await?;
    let me = session.account().id.clone();
    let directory = Directory::for_settings(GraphClient::new(settings, session)?, settings);
    let found = import::gather(&directory, &source, &me).await?;
    let left_out = found.left_out_sentence();
    if found.people.is_empty() {
        eprintln!(
            "Nothing to import: the directory lists nobody as {}.",
            found.what
        );
        if let Some(sentence) = &left_out {
            eprintln!("{sentence}");
        }
        return Ok(EXIT_OK);
    }
    let failed = add_found(settings, &found, Flags::default(), |report, roster| {
        if found.people.len() <= NAMES_SHOWN {
            for person in &report.added {
                eprintln!("Added {}.", person_label(person));
            }
        }
        eprintln!(
            "Imported {}: {} added, {} already on the roster ({} in all).",
            found.what,
            report.added.len(),
            report.merged.len(),
            roster.len()
        );
        if let Some(sentence) = &left_out {
            eprintln!("{sentence}");
        }
    })?;
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}

async fn search(settings: &Settings, store: Arc<dyn TokenStore>, text: &str) -> Result<u8> {
    let directory = directory(settings, store).await?;
    let found = directory.search(text, SEARCH_RESULTS).await?;
    if found.is_empty() {
        eprintln!("Nobody in the directory matches \"{}\".", clean(text));
        return Ok(EXIT_OK);
    }
    let rows = found.iter().map(|p| {
        vec![
            p.display_name.clone(),
            p.job_title.clone(),
            p.user_principal_name.clone(),
            p.id.clone(),
        ]
    });
    print_out(&table(&["NAME", "JOB TITLE", "SIGN-IN NAME", "ID"], rows));
    if found.len() == SEARCH_RESULTS {
        eprintln!("Showing the first {SEARCH_RESULTS} matches; type more of the name to narrow them down.");
    }
    eprintln!("Add someone with `presently roster add SIGN-IN-NAME`.");
    Ok(EXIT_OK)
}

/// The signed-in user's directory; `Err(SignInNeeded)` without a sign-in.
async fn directory(settings: &Settings, store: Arc<dyn TokenStore>) -> Result<Directory> {
    let session = Session::resume(settings, store).await?;
    let graph = GraphClient::new(settings, session)?;
    Ok(Directory::for_settings(graph, settings))
}

/// Edits the roster file through the engine, as the window does, except
/// that a file that is not a valid roster is kept aside and the edit goes
/// on (the one case where a roster file is moved). Before `edit` runs,
/// says on stderr if the file was kept aside (the command then ends with
/// exit code 1: the returned roster's [`Roster::recovery`]) or had
/// duplicates.
fn edit_roster<T>(settings: &Settings, edit: impl FnOnce(&mut Roster) -> T) -> Result<(T, Roster)> {
    Roster::edit_file_with(&settings.config_dir, IfUnreadable::KeepAside, |roster| {
        if let Some(recovery) = roster.recovery() {
            eprintln!("presently: {}", recovery.message());
        }
        if roster.merged_on_load() > 0 {
            eprintln!(
                "Note: the roster file listed {} people twice; each is now listed once.",
                roster.merged_on_load()
            );
        }
        edit(roster)
    })
}

/// The presence of `ids` (every valid user ID among them), by ID.
async fn current_presence(
    settings: &Settings,
    store: Arc<dyn TokenStore>,
    ids: &[String],
) -> Result<HashMap<String, Presence>> {
    let session = Session::resume(settings, store).await?;
    let graph = GraphClient::new(settings, session)?;
    let valid: Vec<String> = ids.iter().filter_map(|id| normalize_user_id(id)).collect();
    let mut map = HashMap::with_capacity(valid.len());
    for chunk in valid.chunks(MAX_IDS_PER_REQUEST) {
        for p in graph.presences_by_user_id(chunk).await? {
            map.insert(p.id.to_lowercase(), p);
        }
    }
    Ok(map)
}

/// How long `roster list` waits for calendars before it prints without
/// those that have not come.
const CALENDAR_PATIENCE: Duration = Duration::from_secs(20);

/// Everyone's calendar outlook by ID (lower case), read once.
async fn current_outlooks(
    settings: &Settings,
    store: Arc<dyn TokenStore>,
    roster: &Roster,
) -> Result<HashMap<String, Outlook>> {
    let session = Session::resume(settings, store).await?;
    let ids = roster.ids();
    let people = crate::poll::calendar_people(&session, &ids, Some(roster)).await?;
    let graph = GraphClient::new(settings, session)?;
    calendar::read_once(graph, people, CALENDAR_PATIENCE).await
}

/// One ID or sign-in name a line; `-` is standard input.
fn read_keys(path: &Path) -> Result<Vec<String>> {
    let text = if path == Path::new("-") {
        let mut lines = Vec::new();
        for line in std::io::stdin().lock().lines() {
            lines.push(
                line.map_err(|e| Error::Storage(format!("Could not read standard input: {e}")))?,
            );
        }
        lines.join("\n")
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Error::Storage(format!("Could not read {}: {e}", path.display())))?
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// "Megan Bowen <megan.bowen@contoso.com>".
fn person_label(p: &Person) -> String {
    label(p.name(), &p.user_principal_name)
}

fn teammate_label(t: &Teammate) -> String {
    label(t.name(), &t.user_principal_name)
}

fn label(name: &str, upn: &str) -> String {
    if upn.is_empty() || upn == name {
        clean(name)
    } else {
        format!("{} <{}>", clean(name), clean(upn))
    }
}

/// Text from the directory or the roster file, made safe for a terminal:
/// control and bidirectional-override characters could rewrite the screen.
/// (Not `clean_text`: these go into table columns and are not cut here.)
fn clean(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if presently_core::text::is_unsafe(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Columns never cut: people copy them into `presently roster add`.
const WHOLE_COLUMNS: &[&str] = &["SIGN-IN NAME", "ID"];

/// Left-aligned columns two spaces apart; free text is cut to [`MAX_COLUMN`].
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let cut = |column: usize, s: &str| -> String {
        let s = clean(s);
        if s.chars().count() > MAX_COLUMN && !WHOLE_COLUMNS.contains(&header[column]) {
            let mut t: String = s.chars().take(MAX_COLUMN - 1).collect();
            t.push('…');
            t
        } else {
            s
        }
    };
    let mut all: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    all.extend(rows.map(|r| r.iter().enumerate().map(|(i, c)| cut(i, c)).collect()));
    let widths: Vec<usize> = (0..header.len())
        .map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &all {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(Subcommand, Debug)]
    enum Top {
        Roster(RosterArgs),
    }

    fn parse(args: &[&str]) -> std::result::Result<RosterCommand, clap::Error> {
        let mut all = vec!["presently", "roster"];
        all.extend(args);
        Cli::try_parse_from(all).map(|c| match c.command {
            Top::Roster(r) => r.command,
        })
    }

    #[test]
    fn the_commands_parse_as_the_issue_names_them() {
        match parse(&["add", "a@x.com", "b@x.com", "--notify", "--favorite"]).unwrap() {
            RosterCommand::Add(a) => {
                assert_eq!(a.who, ["a@x.com", "b@x.com"]);
                assert!(a.notify && a.favorite && a.file.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&["add", "--file", "people.txt"]).unwrap(),
            RosterCommand::Add(AddArgs { file: Some(_), .. })
        ));
        assert!(parse(&["add"]).is_err(), "someone to add is required");
        assert!(parse(&["remove"]).is_err());
        assert!(matches!(
            parse(&["list", "--json"]).unwrap(),
            RosterCommand::List {
                json: true,
                calendar: false
            }
        ));
        assert!(matches!(
            parse(&["import", "--group", "02bd9fd6-8f93-4758-87c3-1fb73740a315"]).unwrap(),
            RosterCommand::Import(ImportArgs { group: Some(_), .. })
        ));
        assert!(parse(&["import"]).is_err(), "one source is required");
        assert!(
            parse(&["import", "--manager", "--reports"]).is_err(),
            "only one source"
        );
        match parse(&["search", "megan", "bo"]).unwrap() {
            RosterCommand::Search { text } => assert_eq!(text.join(" "), "megan bo"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_import_flag_names_its_source() {
        let source = |args: &[&str]| match parse(args).unwrap() {
            RosterCommand::Import(import) => import.source().unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(source(&["import", "--manager"]), ImportSource::Manager);
        assert_eq!(source(&["import", "--reports"]), ImportSource::Reports);
        assert_eq!(source(&["import", "--people"]), ImportSource::People);
        assert_eq!(
            source(&["import", "--group", "All Company"]),
            ImportSource::Group("All Company".into())
        );
    }

    #[test]
    fn tables_align_and_cut_untrusted_text() {
        let text = table(
            &["NAME", "ID"],
            vec![
                vec!["Megan\u{1b}[2J".to_string(), "1".to_string()],
                vec!["x".repeat(60), "2".to_string()],
                vec!["Alex".to_string(), "y".repeat(60)],
            ]
            .into_iter(),
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[3].ends_with(&"y".repeat(60)),
            "IDs are never cut: {}",
            lines[3]
        );
        assert!(!text.contains('\u{1b}'), "no escape reaches the terminal");
        let id_column = lines[0].find("ID").unwrap();
        assert_eq!(lines[2].chars().count(), id_column + 1);
        assert!(lines[2].contains('…'));
    }

    #[test]
    fn files_list_one_person_a_line() {
        let path =
            std::env::temp_dir().join(format!("presently-roster-cli-{}.txt", std::process::id()));
        std::fs::write(&path, "# my team\nmegan@x.com\n\n  alex@x.com  \n").unwrap();
        let keys = read_keys(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(keys.unwrap(), ["megan@x.com", "alex@x.com"]);
        let err = read_keys(&path).unwrap_err();
        assert_eq!(err.code(), "storage");
    }
}
