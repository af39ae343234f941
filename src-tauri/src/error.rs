//! The app crate's one error type, [`CommandError`], and its `Result`.

use serde::Serialize;

/// The app crate's one error type: the engine's errors and what only the
/// desktop does (start at login, opening files and pages, the window
/// system). The window gets it as `{code, message}`: a stable code it can
/// act on and a sentence for people.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Core(#[from] presently_core::Error),
    /// Start at login could not be turned on or off.
    #[error(transparent)]
    Autostart(#[from] AutostartError),
    /// A page or file could not be handed to the program that opens it:
    /// `what` is that page or file in the user's words ("your browser", a
    /// path).
    #[error("Could not open {what}: {source}")]
    Open {
        what: String,
        source: presently_core::browser::OpenError,
    },
    /// No display to show a window on.
    #[error("no display found: the tray app needs a desktop session. In a terminal, use `presently watch` (or `presently watch --demo`).")]
    NoDisplay,
    /// A display is named but cannot be opened (not running yet at login, or
    /// gone).
    #[error("could not open the display {0}: the tray app needs a running desktop session. In a terminal, use `presently watch` (or `presently watch --demo`).")]
    DisplayUnusable(String),
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
}

impl CommandError {
    /// The stable, machine-readable code: the engine's, or the app's own.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Core(e) => e.code().as_str(),
            CommandError::Autostart(_) => "autostart_failed",
            CommandError::Open { .. } => "open_failed",
            CommandError::NoDisplay | CommandError::DisplayUnusable(_) => "no_display",
            CommandError::Tauri(_) => "tauri",
        }
    }

    pub(crate) fn not_found(message: &str) -> CommandError {
        presently_core::Error::NotFound(message.into()).into()
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> CommandError {
        presently_core::Error::InvalidInput(message.into()).into()
    }

    pub(crate) fn config(message: impl Into<String>) -> CommandError {
        presently_core::Error::Config(message.into()).into()
    }
}

/// `{code, message}`, and `key` when the error is about one field of a
/// form (in the settings, the setting as `config.toml` names it), for the
/// window to point at that field.
impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let key = match self {
            CommandError::Core(e) => e.form_field(),
            _ => None,
        };
        let mut out = s.serialize_struct("CommandError", 2 + usize::from(key.is_some()))?;
        out.serialize_field("code", self.code())?;
        out.serialize_field("message", &self.to_string())?;
        if let Some(key) = key {
            out.serialize_field("key", key)?;
        }
        out.end()
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

/// Why start at login could not be turned on or off. Here rather than in
/// the module that registers it, because [`CommandError`] wraps it and this
/// module is below every other. Its message is the sentence
/// the window shows; `CommandError::Autostart` gives it the code
/// `autostart_failed`. Every variant exists on every platform, although each
/// OS meets only some, so that the tests hold all the sentences anywhere.
#[derive(Debug, thiserror::Error)]
pub enum AutostartError {
    /// The path of the running executable, which the entry must name, is
    /// unknown.
    #[error("Could not turn on start at login: the location of Presently is unknown ({0}).")]
    ExecutableUnknown(std::io::Error),
    /// The home folder, under which the entry lives, is unknown.
    #[error("Could not turn on start at login: your home folder could not be found.")]
    NoHomeFolder,
    /// The entry file (XDG desktop entry, LaunchAgent) could not be written.
    #[error("Could not turn on start at login: writing {} failed ({source}).", path.display())]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The entry file could not be removed.
    #[error("Could not turn off start at login: removing {} failed ({source}).", path.display())]
    Remove {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// Windows refused the `Run` value.
    #[error("Could not turn on start at login: Windows refused to register Presently ({0}).")]
    Register(std::io::Error),
    /// Windows refused to delete the `Run` value.
    #[error("Could not turn off start at login: Windows refused to remove Presently ({0}).")]
    Unregister(std::io::Error),
}
