//! How a sign-in is shown on the terminal: the browser's address, or the
//! code to enter, with an offer to open the page.

use std::io::IsTerminal;

use presently_core::auth::{self, Prompt};

/// What to do to sign in, on stderr. The browser's address goes on a line
/// of its own, for a person or a script to open when no browser starts.
pub fn show_prompt(prompt: Prompt<'_>, offer_browser: bool) {
    match prompt {
        Prompt::Browser { url } => {
            eprintln!(
                "Sign in to Microsoft in your browser. If it does not open, open this address:"
            );
            eprintln!("{url}");
            if let Err(e) = presently_core::browser::open(url) {
                eprintln!("(Could not start a browser: {e}.)");
            }
            eprintln!(
                "Waiting for the browser (up to {} minutes)...",
                auth::BROWSER_TIMEOUT.as_secs() / 60
            );
        }
        Prompt::Code(code) => {
            eprintln!("{}", code.message);
            if offer_browser && std::io::stdin().is_terminal() {
                offer_to_open(code.verification_uri.clone());
            }
            eprintln!(
                "Waiting for you to sign in (the code is valid for {} minutes)...",
                code.expires_in.as_secs().div_ceil(60)
            );
        }
    }
}

/// Asks on the terminal whether to open the verification page, without
/// holding up the polling.
fn offer_to_open(uri: String) {
    eprintln!("Press Enter to open {uri} in your browser.");
    std::thread::spawn(move || {
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_ok() {
            if let Err(e) = presently_core::browser::open(&uri) {
                eprintln!("Could not open a browser ({e}); open {uri} yourself.");
            }
        }
    });
}
