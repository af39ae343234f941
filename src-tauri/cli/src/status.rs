//! `presently status`: your own presence and status message, shown, set
//! and cleared. The first time something is set, the sign-in is asked for
//! the permission to write presence (`Presence.ReadWrite`), then the
//! command goes on.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use presently_core::auth::{SignInMethod, PRESENCE_WRITE_SCOPE};
use presently_core::config::Settings;
use presently_core::graph::GraphClient;
use presently_core::my_status::{self, Access, MyStatusChange, OwnStatus, StatusChoice};
use presently_core::token_store::TokenStore;
use presently_core::{watch, Result};

use crate::exit::EXIT_OK;

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Print your presence as JSON (availability, activity, label, message, expiry).
    #[arg(long)]
    json: bool,
    /// When the permission to set your status must be asked for: sign in
    /// with a code instead of the browser.
    #[arg(long, global = true)]
    device_code: bool,
    #[command(subcommand)]
    action: Option<StatusAction>,
}

#[derive(Subcommand, Debug)]
enum StatusAction {
    /// Show this status instead of what you are doing: available, busy,
    /// dnd, brb, away or offline.
    Set {
        /// available, busy, dnd, brb, away or offline.
        #[arg(value_name = "STATUS", value_parser = choice)]
        status: StatusChoice,
        /// For how long: 30m, 1h, 8h, 7d... (default: a day for busy and
        /// dnd, 7 days otherwise).
        #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
        duration: Option<Duration>,
    },
    /// Go back to the status Teams works out from what you are doing.
    Clear,
    /// Set your status message, or remove it with --clear.
    Message {
        #[arg(value_name = "TEXT", required_unless_present = "clear")]
        text: Option<String>,
        /// Remove your status message.
        #[arg(long, conflicts_with_all = ["text", "duration"])]
        clear: bool,
        /// For how long: 30m, 1h, 8h, 7d... (default: until you change it).
        #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
        duration: Option<Duration>,
    },
}

fn choice(word: &str) -> std::result::Result<StatusChoice, String> {
    StatusChoice::parse(word).map_err(|e| e.to_string())
}

fn duration(text: &str) -> std::result::Result<Duration, String> {
    my_status::parse_duration(text).map_err(|e| e.to_string())
}

pub async fn run(settings: &Settings, store: Arc<dyn TokenStore>, args: StatusArgs) -> Result<u8> {
    let Some(action) = args.action else {
        // Reading needs no more than what every sign-in has.
        let session = presently_core::auth::Session::resume(settings, store).await?;
        let account = session.account().clone();
        let own = OwnStatus::new(GraphClient::new(settings, session)?, &account);
        return show(&own, args.json).await;
    };
    let session = match my_status::access(settings, store.clone()).await? {
        Access::Ready(session) => session,
        Access::NeedsConsent(flow) => {
            eprintln!(
                "Setting your status needs one more permission, {PRESENCE_WRITE_SCOPE}, which your sign-in does not have yet. Sign in once more to allow it."
            );
            let method = if args.device_code {
                SignInMethod::DeviceCode
            } else {
                SignInMethod::Browser
            };
            let started = flow.begin(method).await?;
            crate::prompt::show_prompt(started.prompt(), !args.device_code);
            let stored = started.finish(store.clone()).await?;
            my_status::after_consent(settings, store, stored)?
        }
    };
    let account = session.account().clone();
    let own = OwnStatus::new(GraphClient::new(settings, session)?, &account);
    let now = chrono::Local::now();
    let ends = |d: Duration| {
        let end = chrono::Utc::now() + chrono::Duration::from_std(d).unwrap_or_default();
        format!(", {}", my_status::until(end, &now))
    };
    let change = match action {
        StatusAction::Set { status, duration } => MyStatusChange::Set {
            choice: status,
            duration,
        },
        StatusAction::Clear => MyStatusChange::Reset,
        StatusAction::Message {
            text: Some(text),
            clear: false,
            duration,
        } => MyStatusChange::Message { text, duration },
        StatusAction::Message { .. } => MyStatusChange::ClearMessage,
    };
    own.apply(&change).await?;
    match change {
        MyStatusChange::Set { choice, duration } => eprintln!(
            "Your status is now {}{}. (Teams may take a few minutes to show it.)",
            choice.label(),
            duration.map(ends).unwrap_or_default()
        ),
        MyStatusChange::Reset => {
            eprintln!("Your chosen status is cleared: Teams shows what you are doing again.")
        }
        MyStatusChange::Message { duration, .. } => eprintln!(
            "Your status message is set{}.",
            duration.map(ends).unwrap_or_default()
        ),
        MyStatusChange::ClearMessage => eprintln!("Your status message is removed."),
    }
    Ok(EXIT_OK)
}

/// `presently status [--json]`: your presence in words and your message.
async fn show(own: &OwnStatus, json: bool) -> Result<u8> {
    let status = own.read().await?;
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", status.to_json());
        return Ok(EXIT_OK);
    }
    let _ = writeln!(out, "{}", watch::clean_text(&status.in_words(), 200));
    if let Some(message) = status.message() {
        let until = status
            .message_until(&chrono::Local::now())
            .map(|u| format!(" ({u})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Message: {}{until}",
            watch::clean_text(message, my_status::MAX_MESSAGE_CHARS)
        );
    }
    Ok(EXIT_OK)
}
