//! The authorization code grant with PKCE (RFC 7636) on a loopback redirect
//! (RFC 8252): the sign-in Microsoft's own desktop tools use, and the one
//! Conditional Access policies that block device codes still allow.
//!
//! [`SignInFlow::start_browser`] listens on a free port of the loopback
//! interface and builds the authorize URL; the caller opens it in the
//! system browser. [`SignInFlow::wait_browser`] waits for the browser to come
//! back to `http://localhost:PORT/`, checks `state`, redeems the code with
//! its verifier, and answers the browser with a small page that says how it
//! went and that it can be closed.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use chrono::Utc;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use super::oauth::{self, Http, Refusal};
use super::{SignInFlow, TokenSet};
use crate::error::{Error, Result};

/// How long the browser has to come back before the sign-in gives up.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// A request to the loopback port is one line and a few headers.
const MAX_REQUEST: usize = 16 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A browser sign-in under way: open [`BrowserSignIn::url`], then wait.
pub struct BrowserSignIn {
    url: Url,
    listeners: Vec<TcpListener>,
    redirect: RedirectUrl,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
}

impl std::fmt::Debug for BrowserSignIn {
    // The verifier is a credential, and the URL carries only its hash.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSignIn")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl BrowserSignIn {
    /// The page to open in the browser: Microsoft's sign-in.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Where the browser comes back to: `http://localhost:PORT/`.
    pub fn redirect_uri(&self) -> &str {
        self.redirect.as_str()
    }
}

impl SignInFlow {
    /// Listens on a free loopback port and builds the authorize URL.
    pub async fn start_browser(&self) -> Result<BrowserSignIn> {
        let cannot_listen = |e: std::io::Error| {
            Error::BrowserSignInFailed(format!(
                "Presently could not listen on this computer's loopback interface for the browser's answer ({e})."
            ))
        };
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(cannot_listen)?;
        let port = v4.local_addr().map_err(cannot_listen)?.port();
        let mut listeners = vec![v4];
        // Browsers may try `localhost` as ::1 first; the same port there too
        // when it is free, else they fall back to 127.0.0.1.
        if let Ok(v6) = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await {
            listeners.push(v6);
        }
        let redirect = RedirectUrl::new(format!("http://localhost:{port}/"))
            .expect("a loopback URL with a port is a valid URL");
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(oauth::scopes(&self.scopes()))
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Owned(redirect.clone()))
            .add_extra_param("prompt", "select_account")
            .url();
        Ok(BrowserSignIn {
            url,
            listeners,
            redirect,
            state,
            verifier,
        })
    }

    /// Waits up to [`BROWSER_TIMEOUT`] for the browser to come back, and
    /// redeems the code it brings.
    pub async fn wait_browser(&self, pending: BrowserSignIn) -> Result<TokenSet> {
        self.wait_browser_for(pending, BROWSER_TIMEOUT).await
    }

    /// [`SignInFlow::wait_browser`] with another time limit.
    pub async fn wait_browser_for(
        &self,
        pending: BrowserSignIn,
        limit: Duration,
    ) -> Result<TokenSet> {
        match tokio::time::timeout(limit, self.answer_browser(pending)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::BrowserSignInFailed(format!(
                "no answer came back from the browser within {} minutes.",
                limit.as_secs().div_ceil(60)
            ))),
        }
    }

    async fn answer_browser(&self, pending: BrowserSignIn) -> Result<TokenSet> {
        let BrowserSignIn {
            listeners,
            redirect,
            state,
            verifier,
            ..
        } = pending;
        loop {
            let mut stream = accept(&listeners).await.map_err(|e| {
                Error::BrowserSignInFailed(format!("the loopback port stopped working ({e})."))
            })?;
            let Some(target) = read_target(&mut stream).await else {
                continue;
            };
            match Callback::of(&target, state.secret()) {
                Callback::Elsewhere => {
                    respond(
                        &mut stream,
                        "404 Not Found",
                        "Not found",
                        "This address belongs to Presently's sign-in.",
                    )
                    .await;
                }
                Callback::Stray => {
                    // Not the answer to our request (a stale tab, another
                    // program): it neither ends nor completes the sign-in.
                    respond(
                        &mut stream,
                        "400 Bad Request",
                        "Not this sign-in",
                        "This page does not belong to the sign-in Presently is waiting for. Start the sign-in again from Presently if it still waits.",
                    )
                    .await;
                }
                Callback::Refused(refusal) => {
                    respond(
                        &mut stream,
                        "200 OK",
                        "Sign-in failed",
                        &format!(
                            "Microsoft said: {} You can close this window and go back to Presently.",
                            refusal.summary()
                        ),
                    )
                    .await;
                    return Err(browser_refused(refusal));
                }
                Callback::Code(code) => {
                    let outcome = self.redeem_code(code, &redirect, verifier).await;
                    match &outcome {
                        Ok(_) => {
                            respond(
                                &mut stream,
                                "200 OK",
                                "Signed in",
                                "You are signed in to Presently. You can close this window.",
                            )
                            .await
                        }
                        Err(e) => {
                            respond(
                                &mut stream,
                                "200 OK",
                                "Sign-in failed",
                                &format!("{e} You can close this window."),
                            )
                            .await
                        }
                    }
                    return outcome;
                }
            }
        }
    }

    async fn redeem_code(
        &self,
        code: String,
        redirect: &RedirectUrl,
        verifier: PkceCodeVerifier,
    ) -> Result<TokenSet> {
        let answer = self
            .oauth
            .exchange_code(AuthorizationCode::new(code))
            .set_redirect_uri(Cow::Borrowed(redirect))
            .set_pkce_verifier(verifier)
            .request_async(&Http::new(self.http.clone()))
            .await
            .map_err(|e| match oauth::refusal(e) {
                Ok(r) => browser_refused(r),
                Err(e) => e,
            })?;
        Ok(oauth::token_set(&answer, None, Utc::now()))
    }
}

fn browser_refused(r: Refusal) -> Error {
    match r.error.as_str() {
        "access_denied" => Error::SignInDeclined,
        _ if r.is_consent_required() => Error::ConsentRequired(r.summary()),
        _ => Error::BrowserSignInFailed(format!(
            "Microsoft said: {}.",
            r.summary().trim_end_matches('.')
        )),
    }
}

/// What came to the loopback port.
#[derive(Debug, PartialEq)]
enum Callback {
    /// Another path (a browser's `/favicon.ico`).
    Elsewhere,
    /// The redirect path without our `state`.
    Stray,
    Refused(Refusal),
    Code(String),
}

impl PartialEq for Refusal {
    fn eq(&self, other: &Refusal) -> bool {
        (&self.error, &self.description) == (&other.error, &other.description)
    }
}

impl Callback {
    /// Reads a request target (`/?code=...&state=...`) against the `state`
    /// this sign-in sent.
    fn of(target: &str, expected_state: &str) -> Callback {
        let Ok(url) = Url::parse(&format!("http://localhost{target}")) else {
            return Callback::Elsewhere;
        };
        if url.path() != "/" {
            return Callback::Elsewhere;
        }
        let field = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if field("state").as_deref() != Some(expected_state) {
            return Callback::Stray;
        }
        if let Some(error) = field("error") {
            return Callback::Refused(Refusal {
                error,
                description: field("error_description").unwrap_or_default(),
                suberror: None,
            });
        }
        match field("code") {
            Some(code) if !code.is_empty() => Callback::Code(code),
            _ => Callback::Stray,
        }
    }
}

async fn accept(listeners: &[TcpListener]) -> std::io::Result<TcpStream> {
    let accepts = listeners.iter().map(|l| Box::pin(l.accept()));
    let (accepted, _, _) = futures::future::select_all(accepts).await;
    accepted.map(|(stream, _)| stream)
}

/// The target of a `GET` request, read with a size and time limit.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let read = async {
        let mut buf = [0u8; 2048];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Some(())
    };
    tokio::time::timeout(READ_TIMEOUT, read).await.ok()??;
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_string()),
        _ => None,
    }
}

/// Answers the browser with a small page and closes the connection.
async fn respond(stream: &mut TcpStream, status: &str, title: &str, text: &str) {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - Presently</title>\
<style>body{{font-family:system-ui,sans-serif;background:#f3f2f1;margin:0}}main{{max-width:440px;margin:64px auto;background:#fff;padding:32px 40px;box-shadow:0 2px 6px rgba(0,0,0,.2)}}h1{{font-size:22px;margin:0 0 12px}}p{{line-height:1.45}}</style>\
</head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>",
        title = escape(title),
        text = escape(text),
    );
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // The browser may have gone already; the outcome stands either way.
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Text for the page's elements: the service's words may carry control
/// characters and markup.
fn escape(text: &str) -> String {
    let shown: String = text.chars().filter(|c| !c.is_control()).collect();
    html_escape::encode_text(&shown).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_callback_is_read_against_our_state() {
        assert_eq!(
            Callback::of("/?code=abc&state=s1", "s1"),
            Callback::Code("abc".into())
        );
        assert_eq!(
            Callback::of("/?code=abc&state=other", "s1"),
            Callback::Stray
        );
        assert_eq!(Callback::of("/?code=abc", "s1"), Callback::Stray);
        assert_eq!(Callback::of("/?state=s1", "s1"), Callback::Stray);
        assert_eq!(Callback::of("/favicon.ico", "s1"), Callback::Elsewhere);
        match Callback::of(
            "/?error=access_denied&error_description=AADSTS65004%3A+User+declined&state=s1",
            "s1",
        ) {
            Callback::Refused(r) => {
                assert_eq!(r.error, "access_denied");
                assert_eq!(r.summary(), "AADSTS65004: User declined");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pages_escape_what_the_service_said() {
        assert_eq!(
            escape("<script>alert('x')</script> & \u{1b}[2J"),
            "&lt;script&gt;alert('x')&lt;/script&gt; &amp; [2J"
        );
    }
}
