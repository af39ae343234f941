//! The device authorization grant (RFC 8628): a code the person enters on
//! Microsoft's page, in any browser on any device. The `oauth2` crate polls
//! (`authorization_pending`, `slow_down`, backing off on transport errors);
//! this module words the endings.

use std::time::Duration;

use chrono::Utc;
use oauth2::{DeviceAuthorizationResponse, ExtraDeviceAuthorizationFields};
use serde::{Deserialize, Serialize};

use super::oauth::{self, Http, Refusal};
use super::{SignInFlow, TokenSet};
use crate::error::{Error, Result};

/// Bounds on what the service says about a code: a poll interval outside
/// them, or a lifetime, is taken as the nearest bound.
const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);
const MIN_CODE_LIFETIME: Duration = Duration::from_secs(60);
const MAX_CODE_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest wait between two polls after transport errors.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Microsoft's extra field: a ready-made sentence for the person.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct MicrosoftCodeFields {
    #[serde(default)]
    message: Option<String>,
}

impl ExtraDeviceAuthorizationFields for MicrosoftCodeFields {}

/// A device code as the sign-in service issued it.
pub struct DeviceCode {
    /// The code the person types on the verification page.
    pub user_code: String,
    /// The page to open, exactly as the service said (never hard-coded).
    pub verification_uri: String,
    /// The service's ready-made instructions.
    pub message: String,
    pub expires_in: Duration,
    /// How long to wait between two polls, as the service asked.
    pub interval: Duration,
    answer: DeviceAuthorizationResponse<MicrosoftCodeFields>,
}

impl std::fmt::Debug for DeviceCode {
    // The device code itself is a credential: it is left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCode")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl SignInFlow {
    /// Asks the sign-in service for a device code.
    pub async fn start(&self) -> Result<DeviceCode> {
        let answer: DeviceAuthorizationResponse<MicrosoftCodeFields> = self
            .oauth
            .exchange_device_code()
            .add_scopes(oauth::scopes(&self.scopes()))
            .request_async(&Http::new(self.http.clone()))
            .await
            .map_err(|e| match oauth::refusal(e) {
                Ok(r) => self.device_code_refused(r),
                Err(e) => e,
            })?;
        let (user_code, verification_uri, message) = shown(&answer);
        let (expires_in, interval) = bounded(&answer);
        Ok(DeviceCode {
            user_code,
            verification_uri,
            message,
            expires_in,
            interval,
            answer,
        })
    }

    /// Polls until the code is approved, declined or expires. A busy or
    /// unreachable service is waited out, with longer pauses, until the code
    /// expires.
    pub async fn wait(&self, code: &DeviceCode) -> Result<TokenSet> {
        // The crate measures the code's life on this clock: tokio's, so that
        // tests with paused time see it run out.
        let (t0, utc0) = (tokio::time::Instant::now(), Utc::now());
        let clock = move || {
            utc0 + chrono::Duration::from_std(t0.elapsed()).unwrap_or(chrono::Duration::MAX)
        };
        let http = Http::for_polling(self.http.clone());
        let answer = self
            .oauth
            .exchange_device_access_token(&code.answer)
            .set_time_fn(clock)
            .set_max_backoff_interval(MAX_BACKOFF)
            .request_async(
                &http,
                |wait| tokio::time::sleep(wait.clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL)),
                Some(code.expires_in),
            )
            .await
            .map_err(|e| match oauth::refusal(e) {
                Ok(r) => self.device_code_refused(http.in_full(r)),
                Err(e) => e,
            })?;
        Ok(oauth::token_set(&answer, None, Utc::now()))
    }

    fn device_code_refused(&self, r: Refusal) -> Error {
        // The person's own "no" and a code left to expire need no support.
        if !matches!(
            r.error.as_str(),
            "authorization_declined" | "access_denied" | "expired_token"
        ) {
            r.log("the sign-in with a code");
        }
        match r.error.as_str() {
            "authorization_declined" | "access_denied" => Error::SignInDeclined,
            "expired_token" => Error::SignInExpired,
            _ if r.is_conditional_access() => Error::SignInBlocked(r.summary()),
            _ if r.is_consent_required() => Error::ConsentRequired(r.summary()),
            "bad_verification_code" => Error::SignInFailed(format!(
                "the sign-in service no longer knows this code ({}). Run `presently login` again.",
                r.summary()
            )),
            _ => Error::SignInFailed(r.summary()),
        }
    }
}

/// What the person is shown, cleaned: the code, the page and the service's
/// message (ours when it sent none).
fn shown(answer: &DeviceAuthorizationResponse<MicrosoftCodeFields>) -> (String, String, String) {
    let user_code = clean(answer.user_code().secret());
    let verification_uri = clean(answer.verification_uri().as_str());
    let message = answer
        .extra_fields()
        .message
        .as_deref()
        .map(clean)
        .unwrap_or_else(|| {
            format!(
                "To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."
            )
        });
    (user_code, verification_uri, message)
}

/// The code's lifetime and poll interval, each within sane bounds.
fn bounded(answer: &DeviceAuthorizationResponse<MicrosoftCodeFields>) -> (Duration, Duration) {
    (
        answer
            .expires_in()
            .clamp(MIN_CODE_LIFETIME, MAX_CODE_LIFETIME),
        answer
            .interval()
            .clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL),
    )
}

/// The longest sign-in text shown as it came: Microsoft's message is a
/// sentence, its code and page far shorter.
const MAX_SHOWN_CHARS: usize = 1_000;

/// Text from the service that is shown to people, cleaned like every other
/// server string: escape sequences could rewrite the terminal and direction
/// overrides could show a different page or code than the one to use.
fn clean(text: &str) -> String {
    crate::text::clean_text(text, MAX_SHOWN_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(expires_in: &str, interval: &str) -> serde_json::Result<(Duration, Duration)> {
        let body = format!(
            r#"{{"device_code":"d","user_code":"U","verification_uri":"https://example.test/","expires_in":{expires_in},"interval":{interval}}}"#
        );
        serde_json::from_str::<DeviceAuthorizationResponse<MicrosoftCodeFields>>(&body)
            .map(|a| bounded(&a))
    }

    #[test]
    fn code_lifetimes_and_intervals_from_the_server_are_bounded() {
        assert_eq!(
            answer("900", "5").unwrap(),
            (Duration::from_secs(900), Duration::from_secs(5))
        );
        assert_eq!(
            answer("0", "0").unwrap(),
            (MIN_CODE_LIFETIME, MIN_POLL_INTERVAL)
        );
        assert_eq!(
            answer("18446744073709551615", "18446744073709551615").unwrap(),
            (MAX_CODE_LIFETIME, MAX_POLL_INTERVAL)
        );
        // Negative and non-numbers are not a device code answer at all.
        for (e, i) in [
            ("-1", "5"),
            ("900", "-5"),
            ("\"soon\"", "5"),
            ("1e400", "5"),
        ] {
            assert!(answer(e, i).is_err(), "{e} {i}");
        }
    }

    #[test]
    fn the_services_words_reach_people_as_text_only() {
        // Escape sequences (clear the screen, set the title, a C1 CSI),
        // direction overrides and isolates, a bell and line breaks.
        let hostile = "To sign in, open \u{1b}[2J\u{1b}]0;owned\u{7}https://microsoft.com/devicelogin\u{202e}nigol \u{2066}and enter the code ABCD-1234\r\n\u{9b}31m.";
        let body = serde_json::json!({
            "device_code": "d",
            "user_code": "ABCD\u{1b}[0m-1234\u{202d}",
            "verification_uri": "https://microsoft.com/devicelogin\u{7}",
            "expires_in": 900,
            "interval": 5,
            "message": hostile,
        });
        let answer: DeviceAuthorizationResponse<MicrosoftCodeFields> =
            serde_json::from_value(body).unwrap();
        let (code, page, message) = shown(&answer);
        for text in [&code, &page, &message] {
            assert!(!text.chars().any(crate::text::is_unsafe), "{text:?}");
        }
        assert_eq!(page, "https://microsoft.com/devicelogin");
        assert!(
            code.starts_with("ABCD") && code.ends_with("-1234"),
            "{code:?}"
        );
        assert!(
            message.contains("https://microsoft.com/devicelogin") && message.contains("ABCD-1234"),
            "{message:?}"
        );
        // Long text is cut rather than filling the screen.
        assert!(clean(&"x".repeat(10_000)).chars().count() <= MAX_SHOWN_CHARS + 3);
    }
}
