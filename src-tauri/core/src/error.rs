//! The one error type of the engine. Every message is a sentence a user can act
//! on; none of them ever contains a token.

use std::path::PathBuf;
use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A stable, machine-readable name for each kind of error, for the window
/// (`{code, message}`), scripts and exit codes. Never rename one: callers
/// match on these; add new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Config,
    SignedOut,
    SignInDeclined,
    SignInExpired,
    ConsentRequired,
    SignInFailed,
    SignInBlocked,
    BrowserSignInFailed,
    Keyring,
    Offline,
    Throttled,
    Graph,
    Malformed,
    Storage,
    NotFound,
    InvalidInput,
    PermissionNeeded,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Config => "config",
            ErrorCode::SignedOut => "signed_out",
            ErrorCode::SignInDeclined => "sign_in_declined",
            ErrorCode::SignInExpired => "sign_in_expired",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::SignInFailed => "sign_in_failed",
            ErrorCode::SignInBlocked => "sign_in_blocked",
            ErrorCode::BrowserSignInFailed => "browser_sign_in_failed",
            ErrorCode::Keyring => "keyring",
            ErrorCode::Offline => "offline",
            ErrorCode::Throttled => "throttled",
            ErrorCode::Graph => "graph",
            ErrorCode::Malformed => "malformed",
            ErrorCode::Storage => "storage",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::PermissionNeeded => "permission_needed",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A setting, flag, environment variable or config file is wrong.
    #[error("{0}")]
    Config(String),

    /// The config file holds something that cannot be used: which file, which
    /// key and line, and why, for a window that offers to open the file.
    #[error("{0}")]
    ConfigFile(ConfigProblem),

    /// A value typed in the window's settings cannot be used: `key` names
    /// the setting as `config.toml` does (`interval`, `quiet_hours.start`,
    /// `mqtt.broker`), for the window to point at the field.
    #[error("{reason}")]
    FormField { key: &'static str, reason: String },

    /// A value typed in another of the window's forms makes no sense as
    /// given: `key` names the field (`message` in "Set your status"), for
    /// the window to point at it.
    #[error("{reason}")]
    InvalidField { key: &'static str, reason: String },

    /// The app's own credential for signing in as itself (a certificate
    /// and its key, or a client secret) cannot be used: which file or
    /// variable, and why, never what it holds.
    #[error("{0}")]
    AppCredential(CredentialProblem),

    /// Nobody is signed in, or the sign-in was lost (revoked, expired).
    #[error("{0}")]
    SignInNeeded(String),

    /// The person declined the sign-in request in the browser.
    #[error("Sign-in was declined in the browser. Run `presently login` to try again.")]
    SignInDeclined,

    /// The device code ran out before anyone approved it.
    #[error("The sign-in code expired before it was used. Run `presently login` for a new code.")]
    SignInExpired,

    /// The tenant has not consented to the app (AADSTS65001).
    #[error("Your organisation has not allowed this app yet (consent required). Ask an administrator to grant consent, or sign in with your own app registration (--client-id). Microsoft said: {0}")]
    ConsentRequired(String),

    /// The organisation blocks sign-in with a code (Conditional Access,
    /// AADSTS53003): the browser sign-in is the way in.
    #[error("Your organisation does not allow signing in with a code here (Conditional Access). Sign in with the browser instead: run `presently login` without --device-code, or choose Sign in in the window. Microsoft said: {0}")]
    SignInBlocked(String),

    /// The sign-in in the browser failed, was refused or got no answer.
    #[error("Sign-in in the browser did not complete: {0} If no browser can be used here, try `presently login --device-code`.")]
    BrowserSignInFailed(String),

    /// Renewing the sign-in needs the person's consent again
    /// (`invalid_grant` with `suberror: consent_required`). Not a revocation:
    /// the stored sign-in is kept.
    #[error("Microsoft asks for your consent again{} before Presently can renew your sign-in. Run `presently login` and accept; your sign-in stays saved until then. Microsoft said: {said}", permission.as_ref().map(|p| format!(" to the permission {p}")).unwrap_or_default())]
    ConsentRenewal {
        permission: Option<String>,
        said: String,
    },

    /// Renewing the sign-in needs the person in the browser
    /// (`interaction_required`: multi-factor authentication, Conditional
    /// Access, an expired password). Not a revocation: the stored sign-in
    /// is kept, and a new sign-in replaces it.
    #[error("Microsoft needs you to sign in again ({why}): run `presently login`, or choose Sign in in the window. Your sign-in stays saved until then. Microsoft said: {said}")]
    InteractionRequired { why: &'static str, said: String },

    /// Any other refusal from the sign-in service.
    #[error("Sign-in failed: {0}")]
    SignInFailed(String),

    /// The OS keyring is missing, locked or did not answer in time.
    #[error("{0}")]
    Keyring(String),

    /// The network or the service could not be reached.
    #[error("{0}")]
    Network(String),

    /// Graph asked us to slow down.
    #[error("Microsoft Graph is throttling requests; retrying in {} s.", retry_after.as_secs())]
    Throttled { retry_after: Duration },

    /// Graph answered with an error status.
    #[error("Microsoft Graph answered {status}: {message}")]
    Graph {
        status: u16,
        code: String,
        message: String,
    },

    /// Graph answered with something that is not what the API promises.
    #[error("Microsoft Graph sent an answer that could not be read: {0}")]
    Malformed(String),

    /// The roster file or another local file could not be read or written.
    #[error("{0}")]
    Storage(String),

    /// Something asked for is not there (a teammate, a group).
    #[error("{0}")]
    NotFound(String),

    /// A request that makes no sense as given (an unknown action, nobody
    /// to add).
    #[error("{0}")]
    InvalidInput(String),

    /// A feature that was turned on needs a permission the sign-in does not
    /// have yet (incremental consent): which one, and how to grant it.
    #[error("This needs the permission {permission}, which your sign-in does not have yet: {how}")]
    PermissionNeeded {
        permission: &'static str,
        how: String,
    },
}

impl Error {
    /// The kind of error, for the window and for scripts.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Config(_)
            | Error::ConfigFile(_)
            | Error::FormField { .. }
            | Error::AppCredential(_) => ErrorCode::Config,
            Error::SignInNeeded(_) | Error::InteractionRequired { .. } => ErrorCode::SignedOut,
            Error::SignInDeclined => ErrorCode::SignInDeclined,
            Error::SignInExpired => ErrorCode::SignInExpired,
            Error::ConsentRequired(_) | Error::ConsentRenewal { .. } => ErrorCode::ConsentRequired,
            Error::SignInFailed(_) => ErrorCode::SignInFailed,
            Error::SignInBlocked(_) => ErrorCode::SignInBlocked,
            Error::BrowserSignInFailed(_) => ErrorCode::BrowserSignInFailed,
            Error::Keyring(_) => ErrorCode::Keyring,
            Error::Network(_) => ErrorCode::Offline,
            Error::Throttled { .. } => ErrorCode::Throttled,
            Error::Graph { .. } => ErrorCode::Graph,
            Error::Malformed(_) => ErrorCode::Malformed,
            Error::Storage(_) => ErrorCode::Storage,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::InvalidInput(_) | Error::InvalidField { .. } => ErrorCode::InvalidInput,
            Error::PermissionNeeded { .. } => ErrorCode::PermissionNeeded,
        }
    }

    /// The part of a sign-in error that a window shows under its own
    /// heading: Microsoft's words or the reason, without the advice for the
    /// command line that the full message carries.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::ConsentRequired(said) | Error::SignInBlocked(said) => Some(said.clone()),
            Error::BrowserSignInFailed(why) => Some(why.clone()),
            Error::ConsentRenewal { said, .. } | Error::InteractionRequired { said, .. } => {
                Some(said.clone())
            }
            _ => None,
        }
    }

    /// The field of the window's form that this error is about: a setting
    /// as `config.toml` names it, or another form's field; none for any
    /// other error.
    pub fn form_field(&self) -> Option<&'static str> {
        match self {
            Error::FormField { key, .. } | Error::InvalidField { key, .. } => Some(key),
            _ => None,
        }
    }

    /// True when the user has to sign in (again) before anything else works.
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            Error::SignInNeeded(_)
                | Error::ConsentRenewal { .. }
                | Error::InteractionRequired { .. }
        )
    }

    pub(crate) fn network(context: &str, err: reqwest::Error) -> Error {
        // reqwest's Display can include the URL but never headers or bodies,
        // so no token can leak through it.
        let why = if let Some(hint) = certificate_hint(&err) {
            hint
        } else if err.is_timeout() {
            "the request timed out".to_string()
        } else if err.is_connect() {
            "could not connect".to_string()
        } else {
            err.without_url().to_string()
        };
        Error::Network(format!("{context}: {why}. Check your network connection."))
    }
}

/// Why the app's credential for signing in as itself cannot be used
/// (`auth::AppCredential`). `from` names the file or the environment
/// variable; nothing of a key or a secret is ever part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialProblem {
    #[error("Could not read {from}: {why}.")]
    Unreadable { from: String, why: String },
    #[error("{from} holds no certificate: expected a PEM file with a \"-----BEGIN CERTIFICATE-----\" block, the certificate uploaded to the app registration.")]
    NotACertificate { from: String },
    #[error("{from} holds no private key: expected a PEM file with a \"-----BEGIN PRIVATE KEY-----\" (PKCS #8) or \"-----BEGIN RSA PRIVATE KEY-----\" block.")]
    NoPrivateKey { from: String },
    #[error("The private key in {from} is encrypted: Presently needs it without a passphrase (`openssl pkcs8 -in KEY -nocrypt -out KEY.pem`), in a file only the relay's account can read.")]
    EncryptedKey { from: String },
    #[error("The private key in {from} is not an RSA key that can sign: Microsoft Entra ID takes RSA certificates for an app's sign-in.")]
    NotRsa { from: String },
    #[error("The private key in {key} does not belong to the certificate in {certificate}.")]
    KeyMismatch { key: String, certificate: String },
    #[error(
        "The environment variable {var}, which should hold the app's client secret, is not set."
    )]
    SecretUnset { var: String },
    #[error(
        "The environment variable {var}, which should hold the app's client secret, is empty."
    )]
    SecretEmpty { var: String },
}

/// What is wrong with the config file: which file, which key (dotted, as
/// `quiet_hours.start`) on which line, and why in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: PathBuf,
    pub key: Option<String>,
    /// 1-based; none when the mistake has no place (a file that cannot be opened).
    pub line: Option<usize>,
    pub reason: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.key, self.line) {
            (None, Some(line)) => write!(
                f,
                "The config file {} could not be read: {}, line {line}.",
                self.file.display(),
                self.reason.trim_end_matches('.')
            ),
            (None, None) => write!(
                f,
                "The config file {} could not be read: {}",
                self.file.display(),
                self.reason
            ),
            (Some(_), Some(line)) => {
                write!(
                    f,
                    "In {}, line {line}: {}",
                    self.file.display(),
                    self.reason
                )
            }
            (Some(_), None) => write!(f, "In {}: {}", self.file.display(), self.reason),
        }
    }
}

/// When a connection failed on the server's certificate: what that means
/// on a company network, and what to do.
pub fn certificate_hint(e: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if text.contains("certificate") {
            return Some(format!(
                "the server's certificate is not trusted ({text}). If your company inspects TLS, its root certificate must be in the system's certificate store (or in the file SSL_CERT_FILE names)"
            ));
        }
        source = cause.source();
    }
    None
}
