//! The one error type of the simulator's control surface.
//!
//! HTTP clients of the simulated services never see these: they get the
//! Entra ID or Graph error bodies a real service would send. These errors are
//! for the people driving the simulator (tests, the demo, the control API).

use thiserror::Error;

/// Why a control call on the simulator was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimError {
    /// No directory user has this object id or user principal name.
    #[error("no user with id or user principal name '{0}' in the simulated directory")]
    UnknownUser(String),
    /// No device code was ever issued with this user code.
    #[error("no sign-in is waiting for the code '{0}'")]
    UnknownCode(String),
    /// The device code behind this user code has passed its `expires_in`.
    #[error("the code '{0}' has expired; the app has to start a new sign-in")]
    CodeExpired(String),
    /// The code was already approved, declined or redeemed.
    #[error("the code '{code}' is not waiting for approval any more (it was {state})")]
    CodeNotPending { code: String, state: &'static str },
    /// A presence update that no client could make sense of.
    #[error("invalid presence: {0}")]
    InvalidPresence(String),
    /// Working hours that are no days and times of day, or end before they start.
    #[error("invalid working hours: {0}")]
    InvalidWorkingHours(String),
    /// A corpus of published examples that cannot be read, or an example
    /// it does not hold.
    #[error("published examples: {0}")]
    Examples(String),
    /// A configuration the simulator refuses to start with.
    #[error("invalid simulator configuration: {0}")]
    InvalidConfig(String),
}

/// Result of a control call on the simulator.
pub type Result<T, E = SimError> = std::result::Result<T, E>;

impl From<SimError> for std::io::Error {
    fn from(e: SimError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
    }
}
