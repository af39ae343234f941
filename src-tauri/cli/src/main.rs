//! `presently`: the command line (`login`, `logout`, `whoami`, `watch`,
//! `publish`, `status`, `roster`, `sim`), a console program that links no GUI library, so that it
//! starts in milliseconds and runs on servers without a desktop.
//!
//! The map, from the bottom up: each line's modules use only those of the
//! lines above it (`tests/layers.rs` holds the crate to it), and this file
//! uses them all.
//! - [`exit`], [`prompt`]: the exit codes, part of the interface (scripts
//!   rely on them: 0 ok, 1 error, 2 usage, 3 sign-in needed); how a sign-in
//!   is shown on the terminal.
//! - [`poll`]: what `watch` and `publish` poll and how they print it, and
//!   whose calendars `--calendar` reads.
//! - [`roster`], [`publish`], [`status`], [`desktop`]: `presently roster
//!   ...`; `presently publish ...`, presence sent to MQTT or a webhook;
//!   `presently status ...`, your own presence and message; `presently`
//!   without a command (or with `--demo` or `--minimized`) starts the
//!   desktop app, `presently-desktop`.
//! - this file: the arguments, `login`, `logout`, `whoami` and `watch`.

mod desktop;
mod exit;
mod poll;
mod prompt;
mod publish;
mod roster;
mod status;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use std::collections::HashMap;

use presently_core::args::{keyring, GlobalArgs};
use presently_core::auth::{self, Session, SignInFlow, SignInMethod, StoredSignIn};
use presently_core::calendar;
use presently_core::config::Settings;
use presently_core::engine::EngineOptions;
use presently_core::graph::GraphClient;
use presently_core::roster::Roster;
use presently_core::token_store::TokenStore;
use presently_core::watch::{self, Printer};
use presently_core::Error;

use crate::exit::{exit_code_for, EXIT_ERROR, EXIT_OK, EXIT_SIGN_IN, EXIT_USAGE};
use crate::poll::{calendar_for_watch, PollArgs};
use crate::prompt::show_prompt;

#[derive(Parser, Debug)]
#[command(
    name = "presently",
    version,
    about = "See at a glance which teammates are free, busy, in a call or away.",
    long_about = "Presently shows your teammates' Microsoft Teams presence. Without a command it starts the tray app."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sign in: in this computer's browser, or with a code (--device-code).
    Login {
        /// Sign in with a code shown here and entered on Microsoft's page, in
        /// a browser on any device (for machines without a browser).
        #[arg(long)]
        device_code: bool,
        /// Do not open a browser at all: sign in with a code (implies --device-code).
        #[arg(long)]
        no_browser: bool,
        /// Also ask for GroupMember.Read.All, to import a team's members
        /// (in most organisations an administrator must allow it).
        #[arg(long)]
        groups: bool,
        /// Also ask for Calendars.ReadBasic and turn on "when they will be
        /// free" (`calendar = true` in the config file): free/busy and
        /// working hours of the people you watch.
        #[arg(long)]
        calendar: bool,
    },
    /// Remove the stored sign-in from the keyring.
    Logout,
    /// Show who is signed in, in which cloud and tenant.
    Whoami {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print teammates' presence changes until interrupted.
    Watch(PollArgs),
    /// Send presence on as `watch` sees it: to an MQTT broker (retained, with
    /// Home Assistant discovery) and/or a webhook.
    Publish(publish::PublishArgs),
    /// Find, add, import and list the teammates you watch.
    Roster(roster::RosterArgs),
    /// Show or set your own presence and status message.
    Status(status::StatusArgs),
    /// Run the simulated tenant (sign-in and Graph) on this machine.
    Sim {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Number of people in the simulated directory.
        #[arg(long, default_value_t = 40)]
        users: usize,
    },
}

/// Answers of 650 presences (a few hundred KB each) are read into buffers
/// that glibc's malloc would, after the first few, carve from the heap
/// (its mmap threshold rises with each large buffer freed) and keep there:
/// `watch` of 10,000 teammates grew 3 MiB after its snapshot that way
/// (bench/watch-10k). A fixed threshold gives each such buffer back when
/// it is freed.
fn keep_large_buffers_off_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of the allocator; it is
    // called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let Some(command) = cli.command else {
        return desktop::start();
    };
    keep_large_buffers_off_the_heap();
    log_to_stderr();
    // A command waits on the network almost all the time: one thread does
    // it (and keeps `watch` small); keyring calls get threads of their own.
    // The simulator serves many clients at once and gets the usual pool.
    let runtime = if matches!(command, Command::Sim { .. }) {
        tokio::runtime::Runtime::new()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("presently: could not start: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = runtime.block_on(run(&cli.global, command));
    // A keyring call that timed out may still be blocked on its thread; do not
    // wait for it on the way out.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Errors can carry the server's words (Graph's, Microsoft's):
            // text only, no escape sequences, on the way to a terminal.
            eprintln!("presently: {}", watch::clean_text(&e.to_string(), 2_000));
            ExitCode::from(exit_code_for(&e))
        }
    }
}

/// Commands log to stderr only, warnings and worse unless `RUST_LOG` says
/// otherwise; what they print for people and scripts is separate.
fn log_to_stderr() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(global: &GlobalArgs, command: Command) -> presently_core::Result<u8> {
    if global.demo && !matches!(command, Command::Watch { .. }) {
        eprintln!("presently: --demo goes with the app (`presently --demo`) and `presently watch --demo`.");
        return Ok(EXIT_USAGE);
    }
    match command {
        Command::Sim { port, users } => {
            let config = presently_sim::SimConfig {
                users,
                ..Default::default()
            };
            presently_sim::serve_forever(config, port)
                .await
                .map_err(|e| Error::Config(format!("The simulator could not start: {e}")))?;
            Ok(EXIT_OK)
        }
        Command::Login {
            device_code,
            no_browser,
            groups,
            calendar,
        } => {
            let settings = Settings::resolve(&global.overrides())?;
            let mut flow = SignInFlow::new(&settings)?;
            if groups {
                flow = flow.with_group_access();
            }
            if calendar {
                flow = flow.with_calendar_access();
            }
            let method = if device_code || no_browser {
                SignInMethod::DeviceCode
            } else {
                SignInMethod::Browser
            };
            let started = flow.begin(method).await?;
            show_prompt(started.prompt(), !no_browser);
            let stored = started.finish(keyring()).await?;
            eprintln!(
                "Signed in as {} ({}) in the {} cloud, tenant {}.",
                watch::clean_text(&stored.account.display_name, 200),
                watch::clean_text(&stored.account.username, 200),
                settings.cloud.display_name(),
                settings.tenant
            );
            if calendar {
                turn_calendar_on(&settings, &stored)?;
            }
            Ok(EXIT_OK)
        }
        Command::Logout => {
            let settings = Settings::resolve(&global.overrides())?;
            let store = keyring();
            let had = {
                let settings = settings.clone();
                auth::blocking(move || auth::sign_out(&settings, store.as_ref())).await?
            };
            if had {
                eprintln!(
                    "Signed out of the {} cloud (tenant {}); the tokens were removed from the keyring.",
                    settings.cloud.display_name(),
                    settings.tenant
                );
            } else {
                eprintln!("Nobody was signed in here; nothing to remove.");
            }
            Ok(EXIT_OK)
        }
        Command::Watch(poll) => {
            let mut overrides = global.overrides();
            overrides.interval_secs = poll.interval;
            overrides.calendar = poll.calendar.then_some(true);
            let watch = WatchArgs {
                json: poll.json,
                ids: poll.explicit_ids()?,
                calendar: poll.calendar,
            };
            if global.demo {
                let demo = presently_core::demo::Demo::start(&overrides, true).await?;
                let session = demo.sign_in().await?;
                let ids = watch.ids.clone().unwrap_or_else(|| demo.roster_ids());
                eprintln!("{}", demo.banner());
                let people = calendar_for_watch(&session, watch.calendar, &ids, None).await;
                return run_watch(
                    &demo.settings,
                    session,
                    ids,
                    people,
                    watch.json,
                    demo.names(),
                )
                .await;
            }
            let settings = Settings::resolve(&overrides)?;
            let session = Session::resume(&settings, keyring()).await?;
            let (roster, problem) = Roster::read_in(&settings.config_dir)?;
            if let Some(problem) = problem {
                eprintln!("presently: {problem}");
            }
            let names = roster
                .teammates()
                .iter()
                .map(|t| (t.id.clone(), t.name().to_string()))
                .collect();
            let ids = match watch.ids {
                Some(ids) => ids,
                None if roster.is_empty() => {
                    return Err(Error::Config(
                        "Your roster is empty: add teammates with `presently roster add`, or give --ids or --ids-file.".into(),
                    ))
                }
                None => roster.ids(),
            };
            let people = calendar_for_watch(&session, watch.calendar, &ids, Some(&roster)).await;
            run_watch(&settings, session, ids, people, watch.json, names).await
        }
        Command::Publish(args) => publish::run(global, args).await,
        Command::Roster(args) => {
            let settings = Settings::resolve(&global.overrides())?;
            roster::run(&settings, keyring(), args).await
        }
        Command::Status(args) => {
            let settings = Settings::resolve(&global.overrides())?;
            status::run(&settings, keyring(), args).await
        }
        Command::Whoami { json } => {
            let settings = Settings::resolve(&global.overrides())?;
            whoami(&settings, keyring(), json).await
        }
    }
}

struct WatchArgs {
    json: bool,
    ids: Option<Vec<String>>,
    calendar: bool,
}

/// `presently watch`: the engine, printing until Ctrl-C or until the sign-in
/// is lost (then the status line is printed and the exit code is 3).
async fn run_watch(
    settings: &Settings,
    session: Arc<Session>,
    ids: Vec<String>,
    calendar: Option<Vec<calendar::Person>>,
    json: bool,
    names: HashMap<String, String>,
) -> presently_core::Result<u8> {
    let graph = GraphClient::new(settings, session)?;
    let options = EngineOptions {
        interval: settings.interval,
        ..Default::default()
    };
    let printer = if json {
        Printer::json()
    } else {
        Printer::human(names)
    };
    tokio::select! {
        result = watch::run_watch(graph, ids, options, calendar, printer, std::io::BufWriter::new(std::io::stdout().lock())) => result.map(|()| EXIT_OK),
        _ = tokio::signal::ctrl_c() => Ok(EXIT_OK),
    }
}

/// After `login --calendar`: `calendar = true` in the config file, once the
/// sign-in is sure to have brought the permission.
fn turn_calendar_on(settings: &Settings, stored: &StoredSignIn) -> presently_core::Result<()> {
    if !auth::grants(&stored.tokens.scope, auth::CALENDAR_SCOPE) {
        return Err(Error::ConsentRequired(format!(
            "the sign-in did not grant the permission {}, which \"when they will be free\" needs; your organisation may not allow it.",
            auth::CALENDAR_SCOPE
        )));
    }
    presently_core::config::save_calendar(&settings.config_dir, true)?;
    eprintln!(
        "\"When they will be free\" is on: `presently watch --calendar` and the app show it."
    );
    Ok(())
}

/// `whoami` for a person: the name and sign-in name come from Graph's
/// `/me`, so they are cleaned like every other server string (`--json`
/// keeps them as they are, escaped by JSON, as `watch --json` does).
fn whoami_text(account: &auth::Account) -> String {
    format!(
        "{} ({})\ncloud:     {}\ntenant:    {}\nclient ID: {}\n",
        watch::clean_text(&account.display_name, 200),
        watch::clean_text(&account.username, 200),
        account.cloud.display_name(),
        account.tenant,
        account.client_id
    )
}

async fn whoami(
    settings: &Settings,
    store: Arc<dyn TokenStore>,
    json: bool,
) -> presently_core::Result<u8> {
    let loaded = {
        let settings = settings.clone();
        auth::blocking(move || StoredSignIn::load(&settings, store.as_ref())).await?
    };
    let mut out = std::io::stdout().lock();
    match loaded {
        Some(s) => {
            if json {
                let v = serde_json::json!({
                    "signed_in": true,
                    "id": s.account.id,
                    "display_name": s.account.display_name,
                    "username": s.account.username,
                    "cloud": s.account.cloud.id(),
                    "cloud_name": s.account.cloud.display_name(),
                    "tenant": s.account.tenant,
                    "tenant_id": s.account.tenant_id,
                    "client_id": s.account.client_id,
                    "login_url": s.login_url.as_str(),
                    "graph_url": s.graph_url.as_str(),
                    "signed_in_at": s.account.signed_in_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "access_token_expires_at": s.tokens.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                });
                let _ = writeln!(out, "{v}");
            } else {
                let _ = write!(out, "{}", whoami_text(&s.account));
            }
            Ok(EXIT_OK)
        }
        None => {
            if json {
                let v = serde_json::json!({
                    "signed_in": false,
                    "cloud": settings.cloud.id(),
                    "tenant": settings.tenant,
                    "client_id": settings.client_id,
                });
                let _ = writeln!(out, "{v}");
            }
            eprintln!(
                "Not signed in to the {} cloud (tenant {}). Run `presently login`.",
                settings.cloud.display_name(),
                settings.tenant
            );
            Ok(EXIT_SIGN_IN)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whoami_shows_graphs_names_as_text_only() {
        // What a hostile or broken directory could hold: clear the screen,
        // a bell, set the terminal's title, reverse the text that follows.
        let account = auth::Account {
            id: "me".into(),
            display_name: "Megan\u{1b}[2J\u{7}\u{1b}]0;title\u{7} Bowen\u{202e}nagem".into(),
            username: "megan@contoso.com\u{202e}\u{1b}[31m".into(),
            cloud: Default::default(),
            tenant: "organizations".into(),
            client_id: "client".into(),
            signed_in_at: chrono::Utc::now(),
            tenant_id: None,
        };
        let text = whoami_text(&account);
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && presently_core::text::is_unsafe(c)),
            "{text:?}"
        );
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("Megan "), "{first:?}");
        assert!(first.contains("Bowen"), "{first:?}");
        assert!(first.contains("(megan@contoso.com"), "{first:?}");
        assert_eq!(text.lines().count(), 4, "{text:?}");
    }
}
