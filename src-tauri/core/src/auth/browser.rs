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
//!
//! Any local program can connect to the port. Each connection is read on a
//! task of its own with a short limit ([`READ_TIMEOUT`]), so connections
//! that send nothing cannot hold the browser's answer back; the first
//! answer with our `state` decides, and a failed `accept` (out of file
//! descriptors, say) is waited out rather than ending the sign-in.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use chrono::Utc;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::Url;

use super::oauth::{self, Http, Refusal};
use super::{SignInFlow, TokenSet};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// How long the browser has to come back before the sign-in gives up.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// A request to the loopback port is one line and a few headers.
const MAX_REQUEST: usize = 16 * 1024;
/// A browser sends its request at once; a connection that has not within
/// this is not a browser.
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections being read at once; past this the oldest wait for a turn.
const MAX_READING: usize = 64;
/// The pause after a failed `accept`, before the next.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

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

    /// Where the browser comes back to: `http://localhost:PORT/`, or
    /// `http://127.0.0.1:PORT/` when the port could not be had on `::1`
    /// (a browser may try `localhost` there first, and find someone else).
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
        let (listeners, port, host) = listen(0).await.map_err(cannot_listen)?;
        let redirect = RedirectUrl::new(format!("http://{host}:{port}/"))
            .expect("a loopback URL with a port is a valid URL");
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let request = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(oauth::scopes(&self.scopes()))
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Owned(redirect.clone()));
        // A first sign-in lets the person pick an account; one for one more
        // permission names the account signed in already.
        let (url, state) = match &self.account {
            Some(account) => request.add_extra_param("login_hint", account.username.clone()),
            None => request.add_extra_param("prompt", "select_account"),
        }
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
        // Connections are read on tasks of their own; each answer that
        // carries our state comes back here, the first one decides.
        let (answers, mut answered) = mpsc::channel(1);
        let mut reading = JoinSet::new();
        let (mut stream, callback) = loop {
            tokio::select! {
                Some((stream, callback)) = answered.recv() => break (stream, callback),
                accepted = accept(&listeners) => match accepted {
                    Ok(stream) => {
                        if reading.len() >= MAX_READING {
                            reading.join_next().await;
                        }
                        reading.spawn(take_request(stream, state.secret().clone(), answers.clone()));
                    }
                    Err(e) => {
                        tracing::warn!("The sign-in's loopback port could not take a connection ({e}); it goes on listening.");
                        tokio::time::sleep(ACCEPT_RETRY).await;
                    }
                },
                Some(_) = reading.join_next(), if !reading.is_empty() => {}
            }
        };
        // The others are not read further.
        reading.abort_all();
        match callback {
            BrowserAnswer::Refused(refusal) => {
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
                Err(browser_refused(refusal))
            }
            BrowserAnswer::Code(code) => {
                let outcome = self
                    .redeem_code(code.expose().to_string(), &redirect, verifier)
                    .await;
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
                outcome
            }
            BrowserAnswer::Elsewhere | BrowserAnswer::Stray | BrowserAnswer::Unverified(_) => {
                unreachable!("take_request hands over answers with our state only")
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
    if r.error != "access_denied" {
        r.log("the sign-in in the browser");
    }
    match r.error.as_str() {
        "access_denied" => Error::SignInDeclined,
        _ if r.is_consent_required() => Error::ConsentRequired(r.summary()),
        _ => Error::BrowserSignInFailed(format!(
            "Microsoft said: {}.",
            r.summary().trim_end_matches('.')
        )),
    }
}

/// What came to the loopback port, read against the `state` the sign-in
/// sent: only an answer with it ends the sign-in.
#[derive(Debug, PartialEq)]
pub enum BrowserAnswer {
    /// Another path (a browser's `/favicon.ico`).
    Elsewhere,
    /// The redirect path without our `state` (another sign-in's, a stale
    /// tab), or without a code.
    Stray,
    /// A refusal that carries no `state` at all. Microsoft's own published
    /// example of one has none, so the person is shown what it said; but
    /// anyone can send one to the port, so it does not end the sign-in.
    Unverified(Refusal),
    /// The service refused the sign-in.
    Refused(Refusal),
    /// The authorization code, to redeem with the PKCE verifier.
    Code(Secret),
}

impl PartialEq for Refusal {
    fn eq(&self, other: &Refusal) -> bool {
        (&self.error, &self.description) == (&other.error, &other.description)
    }
}

impl BrowserAnswer {
    /// Reads a request target (`/?code=...&state=...`, form-encoded) against
    /// the `state` this sign-in sent.
    pub fn read(target: &str, expected_state: &str) -> BrowserAnswer {
        let Ok(url) = Url::parse(&format!("http://localhost{target}")) else {
            return BrowserAnswer::Elsewhere;
        };
        if url.path() != "/" {
            return BrowserAnswer::Elsewhere;
        }
        let field = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let state = field("state");
        if let Some(error) = field("error") {
            let refusal = Refusal::new(&error, field("error_description"));
            return match state.as_deref() {
                Some(s) if s == expected_state => BrowserAnswer::Refused(refusal),
                Some(_) => BrowserAnswer::Stray,
                None => BrowserAnswer::Unverified(refusal),
            };
        }
        if state.as_deref() != Some(expected_state) {
            return BrowserAnswer::Stray;
        }
        match field("code") {
            Some(code) if !code.is_empty() => BrowserAnswer::Code(Secret::new(code)),
            _ => BrowserAnswer::Stray,
        }
    }
}

/// Listens on `port` of 127.0.0.1 (0: a free one), and on the same port of
/// ::1 when it can be had there too: browsers may try `localhost` as ::1
/// first. Returns the listeners, the port, and the host the redirect names:
/// `localhost` with both, `127.0.0.1` alone otherwise (another program may
/// hold that port on ::1, and would get the code).
async fn listen(port: u16) -> std::io::Result<(Vec<TcpListener>, u16, &'static str)> {
    let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let port = v4.local_addr()?.port();
    let mut listeners = vec![v4];
    let host = match TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await {
        Ok(v6) => {
            listeners.push(v6);
            "localhost"
        }
        Err(_) => "127.0.0.1",
    };
    Ok((listeners, port, host))
}

/// Reads one connection's request: a page that is not the answer is
/// answered here; the answer (a code or a refusal, with our state) goes to
/// `answers`, with the connection to reply on.
async fn take_request(
    mut stream: TcpStream,
    expected_state: String,
    answers: mpsc::Sender<(TcpStream, BrowserAnswer)>,
) {
    let Some(target) = read_target(&mut stream).await else {
        return;
    };
    match BrowserAnswer::read(&target, &expected_state) {
        BrowserAnswer::Elsewhere => {
            respond(
                &mut stream,
                "404 Not Found",
                "Not found",
                "This address belongs to Presently's sign-in.",
            )
            .await;
        }
        BrowserAnswer::Stray => {
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
        BrowserAnswer::Unverified(refusal) => {
            refusal.log("a sign-in in the browser, in an answer without state");
            respond(
                &mut stream,
                "200 OK",
                "Sign-in not finished",
                &format!(
                    "Microsoft said: {}. This answer does not say which sign-in it belongs to, so Presently goes on waiting: cancel the sign-in there, or start it again.",
                    refusal.summary().trim_end_matches('.')
                ),
            )
            .await;
        }
        answer => {
            // Fails only once the sign-in has its answer already.
            let _ = answers.send((stream, answer)).await;
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
            BrowserAnswer::read("/?code=abc&state=s1", "s1"),
            BrowserAnswer::Code(Secret::new("abc"))
        );
        assert_eq!(
            BrowserAnswer::read("/?code=abc&state=other", "s1"),
            BrowserAnswer::Stray
        );
        assert_eq!(
            BrowserAnswer::read("/?code=abc", "s1"),
            BrowserAnswer::Stray
        );
        assert_eq!(
            BrowserAnswer::read("/?state=s1", "s1"),
            BrowserAnswer::Stray
        );
        assert_eq!(
            BrowserAnswer::read("/favicon.ico", "s1"),
            BrowserAnswer::Elsewhere
        );
        match BrowserAnswer::read(
            "/?error=access_denied&error_description=AADSTS65004%3A+User+declined&state=s1",
            "s1",
        ) {
            BrowserAnswer::Refused(r) => {
                assert_eq!(r.error, "access_denied");
                assert_eq!(r.summary(), "AADSTS65004: User declined");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn when_another_program_has_the_port_on_ipv6_the_redirect_names_ipv4() {
        // Someone holds a port on ::1 (skipped where this machine has no
        // IPv6 loopback at all: there only 127.0.0.1 is ever named).
        let Ok(theirs) = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).await else {
            let (_, _, host) = listen(0).await.unwrap();
            assert_eq!(host, "127.0.0.1");
            return;
        };
        let port = theirs.local_addr().unwrap().port();
        let (listeners, got, host) = listen(port).await.unwrap();
        assert_eq!((got, host, listeners.len()), (port, "127.0.0.1", 1));
        // With the port free on both, `localhost`.
        let (listeners, _, host) = listen(0).await.unwrap();
        assert_eq!((host, listeners.len()), ("localhost", 2));
    }

    #[test]
    fn pages_escape_what_the_service_said() {
        assert_eq!(
            escape("<script>alert('x')</script> & \u{1b}[2J"),
            "&lt;script&gt;alert('x')&lt;/script&gt; &amp; [2J"
        );
    }
}
