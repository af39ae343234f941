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
    /// An app registration the simulator refuses: a client id that is no
    /// GUID, a PEM that is no RSA certificate, a permission Graph has no
    /// application permission by.
    #[error("invalid app registration: {0}")]
    InvalidAppRegistration(String),
}

impl SimError {
    /// A stable, machine-readable name for the kind of refusal, which the
    /// control API answers beside the message, so that a test can tell
    /// refusals apart without matching words. Never rename one: add new
    /// ones.
    pub fn code(&self) -> &'static str {
        match self {
            SimError::UnknownUser(_) => "unknown_user",
            SimError::UnknownCode(_) => "unknown_code",
            SimError::CodeExpired(_) => "code_expired",
            SimError::CodeNotPending { .. } => "code_not_pending",
            SimError::InvalidPresence(_) => "invalid_presence",
            SimError::InvalidWorkingHours(_) => "invalid_working_hours",
            SimError::Examples(_) => "examples",
            SimError::InvalidConfig(_) => "invalid_config",
            SimError::InvalidAppRegistration(_) => "invalid_app_registration",
        }
    }
}

/// Result of a control call on the simulator.
pub type Result<T, E = SimError> = std::result::Result<T, E>;

impl From<SimError> for std::io::Error {
    fn from(e: SimError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_own_stable_code() {
        let all = [
            (SimError::UnknownUser("u".into()), "unknown_user"),
            (SimError::UnknownCode("c".into()), "unknown_code"),
            (SimError::CodeExpired("c".into()), "code_expired"),
            (
                SimError::CodeNotPending {
                    code: "c".into(),
                    state: "declined",
                },
                "code_not_pending",
            ),
            (SimError::InvalidPresence("p".into()), "invalid_presence"),
            (
                SimError::InvalidWorkingHours("h".into()),
                "invalid_working_hours",
            ),
            (SimError::Examples("e".into()), "examples"),
            (SimError::InvalidConfig("c".into()), "invalid_config"),
            (
                SimError::InvalidAppRegistration("a".into()),
                "invalid_app_registration",
            ),
        ];
        for (error, code) in &all {
            assert_eq!(error.code(), *code, "{error:?}");
        }
        let mut codes: Vec<_> = all.iter().map(|(e, _)| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "no two kinds share a code");
    }
}
