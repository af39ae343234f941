//! A loopback simulator of Microsoft Entra ID (device-code and
//! authorization-code sign-in, and apps signing in as themselves with the
//! client credentials grant) and Microsoft Graph (presence and the
//! directory), for Presently's demo, tests and benchmarks.
//!
//! One HTTP server on `127.0.0.1` plays both hosts: [`Sim::url`] is the login
//! URL and the Graph URL; with [`SimConfig::tls`] it serves HTTPS from a
//! private CA. It is strict where the real services are strict (the 650-id,
//! 20-request and 20-schedule limits, throttling, `slow_down`, rotating
//! refresh tokens, single-use codes, PKCE, permissions delegated and
//! application, signed client assertions, token sizes), so a client that
//! works against it has been made to handle what the real ones do.
//!
//! [`Sim`] starts and owns a server; its methods drive it from a test.
//!
//! The map, from the bottom up: each line's modules use only those of the
//! lines above it (`tests/layers.rs` holds the crate to it).
//! - `calendar`, `error`, `faults`, `log`, `names`, `png`, `scopes`,
//!   `throttle`, `tls`: the meetings a simulated day holds and the time
//!   zones of working hours; the control surface's errors; injected
//!   [`Fault`]s; the [`LoggedRequest`]s; names, photos and permissions of
//!   the generated organisation; the sliding window of
//!   `getPresencesByUserId`; the certificates of HTTPS.
//! - `config`, `directory`, `examples`: the simulator's settings; the
//!   generated organisation; Microsoft's published answers, served as they
//!   are by an injected [`Fault`] (the fixture mode).
//! - `presence`, `query`, `tokens`: everyone's presence through a simulated
//!   working day; OData options; the tokens, written.
//! - `auth`: the state of codes and tokens behind the sign-in endpoints.
//! - `credentials`: the apps registered in the tenant (secrets,
//!   certificates, admin consent) and the check of an app's proof.
//! - `state`: everything the server holds, behind one lock.
//! - `control`, `devicelogin`, `entra`, `graph`: the same operations as
//!   [`Sim`]'s methods, as a JSON API under `/_sim` for end-to-end tests;
//!   the page where a person approves a device code; the device-code and
//!   token endpoints; every `/v1.0` resource, `$batch` included.
//! - `authorize`: the authorization endpoint and its sign-in page
//!   (authorization code with PKCE).
//! - `server`: the routes, the layer that logs each request and applies
//!   injected faults, and the accept loop.
//!
//! Choices where the real service is undocumented: a well-formed GUID that is
//! nobody's id is left out of `getPresencesByUserId`'s `value`; an id that is
//! not a GUID fails the whole request with 400; duplicate ids are answered
//! once. The throttling window counts every `getPresencesByUserId` request
//! with a valid token (a request needs one to be charged to an app in the
//! tenant), including those inside `$batch` and those answered 429, but not
//! those an injected fault answered. Faults match top-level requests only.
//! `getSchedule` knows one time zone, UTC, for the times it is asked about
//! and answers with; working hours come in each office's own fixed zone,
//! served as a `customTimeZone`, and the organisation works every day of
//! the week (see `calendar` and `graph/schedule.rs`). The client
//! credentials grant refuses, with codes Entra ID's documentation does not
//! pin down, a request that carries both a secret and an assertion
//! (`invalid_request`, 9002313), an unknown `client_assertion_type` (90100),
//! the tenants `organizations` and `common` (50059), and an assertion for
//! another `aud` (700023) or missing a required claim (50027); an app token
//! is refused (403) wherever Graph's page lists no application permission,
//! `setStatusMessage` included.

mod auth;
mod authorize;
mod calendar;
mod config;
mod control;
mod credentials;
mod devicelogin;
mod directory;
mod entra;
mod error;
mod examples;
mod faults;
mod graph;
mod log;
mod names;
mod png;
mod presence;
mod query;
mod scopes;
mod server;
mod state;
mod throttle;
mod tls;
mod tokens;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

pub use auth::{RefreshStats, Tokens};
pub use config::{SimConfig, MAX_TOKEN_CHARS, MAX_USERS, MIN_TOKEN_CHARS};
pub use control::MAX_ADVANCE_MINUTES;
pub use directory::SimUser;
pub use error::{Result, SimError};
pub use examples::Examples;
pub use faults::{Canned, Fault, FaultKind};
pub use graph::{MAX_BATCH_REQUESTS, MAX_PRESENCE_IDS, MAX_SCHEDULES};
pub use log::{LoggedRequest, LOG_CAPACITY};
pub use presence::{PresenceUpdate, SimPresence};
pub use throttle::{retry_after_seconds, SlidingWindow};

use state::Shared;

/// The port `presently-sim` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 8400;

/// A running simulator. Dropping it (or [`Sim::shutdown`]) stops the server
/// and closes its connections.
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
    ticker: Option<JoinHandle<()>>,
}

impl Sim {
    /// Starts a simulator on a free loopback port.
    pub async fn start(config: SimConfig) -> std::io::Result<Sim> {
        Sim::start_on(config, 0).await
    }

    /// Starts a simulator on `127.0.0.1:port` (0 picks a free port).
    pub async fn start_on(config: SimConfig, port: u16) -> std::io::Result<Sim> {
        config.validate()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let auto_presence = config.auto_presence;
        let tick = config.presence_tick;
        let tls = config.tls.then(tls::Tls::generate).transpose()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        let ca_pem = tls.as_ref().map(|t| t.ca_certificate_pem.clone());
        // Generating a 50,000-person directory takes a moment: off the runtime's threads.
        let shared =
            tokio::task::spawn_blocking(move || Arc::new(Shared::new(config, base_url, ca_pem)))
                .await
                .map_err(std::io::Error::other)?;
        let server = tokio::spawn(server::run(
            listener,
            server::router(shared.clone()),
            tls.map(|t| t.acceptor),
        ));
        let ticker = auto_presence.then(|| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut every = interval_at(Instant::now() + tick, tick);
                // After a stall, carry on from now rather than replaying a burst of minutes.
                every.set_missed_tick_behavior(MissedTickBehavior::Skip);
                loop {
                    every.tick().await;
                    shared.state().presence.tick();
                }
            })
        });
        Ok(Sim {
            shared,
            addr,
            server: Some(server),
            ticker,
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` with [`SimConfig::tls`]), without a
    /// trailing slash: the login URL and the Graph URL.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// With [`SimConfig::tls`], the certificate of the private CA that signed
    /// the server's certificate, in PEM: a client must trust it to connect.
    /// `None` without TLS.
    pub fn ca_certificate_pem(&self) -> Option<String> {
        self.shared.ca_certificate_pem.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn tenant_id(&self) -> uuid::Uuid {
        self.shared.config.tenant_id
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// The directory; `users()[0]` is "me", who signs in unless told otherwise.
    pub fn users(&self) -> Vec<SimUser> {
        self.shared.directory.users.clone()
    }

    /// A user by object id or user principal name, in any case.
    pub fn user(&self, id_or_upn: &str) -> Option<SimUser> {
        self.shared
            .directory
            .find(id_or_upn)
            .map(|i| self.shared.directory.users[i].clone())
    }

    /// Someone's current presence (by id or user principal name).
    pub fn presence(&self, id: &str) -> Option<SimPresence> {
        self.shared.presence_of(id)
    }

    /// Sets someone's presence; the change gets the next sequence number.
    /// With `auto_presence`, automatic changes leave that person alone for
    /// 30 simulated minutes (30 ticks).
    pub fn set_presence(&self, id: &str, p: PresenceUpdate) -> Result<()> {
        self.shared.set_presence(id, &p)
    }

    /// [`Sim::set_presence`] with the status message served as
    /// `contentType: html`, the way the Teams clients write it (`<p>`,
    /// `<br>`, emoji as `<img alt>`); the message is taken as that HTML.
    pub fn set_presence_html(&self, id: &str, p: PresenceUpdate) -> Result<()> {
        self.shared.set_presence_typed(id, &p, true)
    }

    /// User codes waiting for approval, oldest first.
    pub fn pending_codes(&self) -> Vec<String> {
        self.shared.pending_codes()
    }

    /// Approves a sign-in as `as_user` (id or UPN; default `users()[0]`).
    pub fn approve(&self, user_code: &str, as_user: Option<&str>) -> Result<()> {
        self.shared.approve(user_code, as_user, true)
    }

    /// Approves a sign-in as `users()[0]` in a tenant that has not consented
    /// to the app: the next token poll fails with `AADSTS65001`, suberror
    /// `consent_required`.
    pub fn approve_without_consent(&self, user_code: &str) -> Result<()> {
        self.shared.approve(user_code, None, false)
    }

    pub fn decline(&self, user_code: &str) -> Result<()> {
        self.shared.decline(user_code)
    }

    /// While on, every new device code and every new authorization request
    /// is approved at once as `users()[0]` (an authorization request then
    /// redirects straight back with a code). Starts as
    /// [`SimConfig::auto_approve`].
    pub fn set_auto_approve(&self, enabled: bool) {
        self.shared.set_auto_approve(enabled);
    }

    /// While blocked, as in a tenant whose Conditional Access policy blocks
    /// the device code flow, every device-code token poll fails with
    /// `invalid_grant`, `AADSTS53003`, suberror `message_only`. The
    /// authorization code flow keeps working.
    pub fn set_device_code_blocked(&self, blocked: bool) {
        self.shared.set_device_code_blocked(blocked);
    }

    /// With `Some(permission)`, as when a tenant withdraws consent, every
    /// refresh-token grant fails with `invalid_grant`, suberror
    /// `consent_required`, `AADSTS65001` naming the permission; the refresh
    /// token is not used up and works again after `None`.
    pub fn set_refresh_consent_required(&self, permission: Option<String>) {
        self.shared.set_refresh_consent_required(permission);
    }

    /// With `Some(code)`, every refresh-token grant is refused as Entra ID
    /// refuses one that needs the person in the browser, shaped as Entra
    /// shapes that code: 50076 (multi-factor authentication) and 53003
    /// (Conditional Access) as `invalid_grant` with suberror `basic_action`
    /// and `message_only`; 50079 (set up multi-factor authentication),
    /// 50158 (external security challenge) and any other code as
    /// `interaction_required` without a suberror. The refresh token is not
    /// used up and works again after `None`, as once the person has met
    /// the challenge.
    pub fn set_refresh_interaction_required(&self, code: Option<u32>) {
        self.shared.set_refresh_interaction_required(code);
    }

    /// How many refresh tokens were redeemed, and how many redemptions were
    /// refused because the token had already been redeemed.
    pub fn refresh_stats(&self) -> RefreshStats {
        self.shared.refresh_stats()
    }

    /// Every access token stops working (401) and every refresh token is
    /// refused (`invalid_grant`, `AADSTS50173`), as after a password reset.
    pub fn revoke_all(&self) {
        self.shared.revoke_all();
    }

    /// Mints a token pair for `user` (id or UPN) with `scopes` (space
    /// separated, as in a sign-in request), without the device flow. The
    /// refresh token may be redeemed by any client id.
    ///
    /// # Panics
    /// If no user has that id or user principal name: a test bug.
    pub fn issue_tokens(&self, user: &str, scopes: &str) -> Tokens {
        self.shared
            .issue_tokens(user, scopes)
            .unwrap_or_else(|e| panic!("issue_tokens: {e}"))
    }

    /// Adds a client secret to the app `client_id` (a GUID; an app is
    /// registered by its first credential) and returns it, as the portal
    /// shows it once. The app may then sign in as itself: the client
    /// credentials grant with `client_secret`. The simulator keeps only the
    /// secret's hash.
    pub fn add_app_secret(&self, client_id: &str) -> Result<String> {
        self.shared.add_app_secret(client_id)
    }

    /// Adds a certificate to the app `client_id`: `certificate_pem` is the
    /// certificate alone (its public part), with an RSA key. The app may
    /// then sign in as itself with a client assertion signed RS256 or PS256
    /// by the certificate's key, naming it by `x5t#S256` or `x5t`. Returns
    /// its SHA-1 thumbprint in upper-case hex, as the portal shows it.
    pub fn add_app_certificate(&self, client_id: &str, certificate_pem: &str) -> Result<String> {
        self.shared.add_app_certificate(client_id, certificate_pem)
    }

    /// The application permissions of Graph (`"Presence.Read.All"`, any
    /// case) the tenant's administrator consents to for the app
    /// `client_id`, in place of those before; `&[]` withdraws consent.
    /// Tokens the app gets from then on carry them as `roles`; those
    /// already issued keep theirs. Without consent an app still gets
    /// tokens, without `roles`, which Graph refuses (403), as Entra ID does.
    pub fn set_admin_consent(&self, client_id: &str, permissions: &[&str]) -> Result<()> {
        self.shared.set_admin_consent(client_id, permissions)
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// `false`: presence endpoints answer 404, as in a cloud without presence.
    pub fn set_presence_available(&self, available: bool) {
        self.shared.set_presence_available(available);
    }

    /// Plays `minutes` of the simulated day at once (at most
    /// [`MAX_ADVANCE_MINUTES`]): everyone's automatic changes, and the
    /// expiry of preferred presences and status messages people set.
    /// Returns how many changes there were.
    pub fn advance(&self, minutes: u32) -> Result<usize> {
        self.shared.advance(minutes)
    }

    /// What the simulated clock reads now, as wall time: the moment the
    /// simulator started (to the minute) until [`Sim::advance`] or automatic
    /// presence moves it on. `getSchedule` serves calendars on this clock.
    pub fn clock(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared.clock()
    }

    /// `true`: others asking `getSchedule` about this user (id or UPN) get
    /// an `ErrorNoFreeBusyAccess` error in its place, as for a mailbox that
    /// does not share free/busy (about one in fifty do from the start);
    /// `false` makes it readable again. One's own is always readable.
    pub fn hide_schedule(&self, id_or_upn: &str, hidden: bool) -> Result<()> {
        self.shared.hide_schedule(id_or_upn, hidden)
    }

    /// Sets the working hours `getSchedule` serves for a user: `days` as
    /// Graph names them (`"monday"`, any case), `start` and `end` as
    /// `"08:00"`, `"08:00:00"` or `"08:00:00.0000000"`, `start` first.
    ///
    /// With `time_zone` `None` the hours are in the user's own zone (served
    /// as a `customTimeZone`) and their simulated day follows them: presence
    /// comes online and goes offline at those times, on those days only,
    /// and planned meetings outside them are dropped. With a zone's name
    /// (`"Pacific Standard Time"`, `"Europe/Berlin"`; any name, unchecked,
    /// so that clients meet names they do not know) the hours are served as
    /// given with `timeZone: {"name": ...}` and change nothing else: the
    /// simulator has no time zone data to follow them by.
    pub fn set_working_hours(
        &self,
        id_or_upn: &str,
        days: &[&str],
        start: &str,
        end: &str,
        time_zone: Option<&str>,
    ) -> Result<()> {
        self.shared
            .set_working_hours(id_or_upn, days, start, end, time_zone)
    }

    /// `Some(bytes)`: this user's photo (if they have one) is served as that
    /// many bytes, the picture and then zeros, as an oversized upload or a
    /// broken proxy would send it; `None` serves the picture as it is.
    pub fn set_photo_size(&self, id_or_upn: &str, bytes: Option<usize>) -> Result<()> {
        self.shared.set_photo_size(id_or_upn, bytes)
    }

    /// Every request served, in the order answered (the most recent
    /// [`LOG_CAPACITY`]). Control API requests are not logged.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log().entries()
    }

    pub fn clear_log(&self) {
        self.shared.log().clear();
    }

    /// Stops the server and the presence simulation, and waits until they have stopped.
    pub async fn shutdown(mut self) {
        for task in [self.server.take(), self.ticker.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
            let _ = task.await;
        }
    }
}

impl std::fmt::Debug for Sim {
    // The directory can hold 50,000 people: show where and what, not who.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("url", &self.shared.base_url)
            .field("tenant", &self.shared.config.tenant_domain)
            .field("users", &self.shared.directory.users.len())
            .finish()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        for task in [self.server.take(), self.ticker.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
    }
}

/// Runs a simulator for people (`presently sim`, `presently-sim`): prints
/// where it listens and how to use it, then serves until Ctrl-C.
pub async fn serve_forever(config: SimConfig, port: u16) -> std::io::Result<()> {
    let sim = Sim::start_on(config, port).await?;
    let url = sim.url();
    let me = &sim.shared.directory.users[0];
    let cfg = sim.config();
    eprintln!(
        "Presently simulator listening on {url} (tenant {}, {} users)",
        cfg.tenant_domain, cfg.users
    );
    eprintln!(
        "  Sign-in page:   {url}/devicelogin  (or approve codes with POST {url}/_sim/approve)"
    );
    eprintln!(
        "  Authorization:  {url}/organizations/oauth2/v2.0/authorize  (code flow with PKCE, loopback redirects)"
    );
    eprintln!("  Control API:    {url}/_sim  (users, codes, presence, faults, log)");
    if cfg.tls {
        eprintln!("  HTTPS:          trust the simulator's own CA, from {url}/_sim/ca_certificate");
    }
    eprintln!("  Tenant id:      {}", cfg.tenant_id);
    eprintln!(
        "  Signs in as:    {} <{}>, {}",
        me.display_name, me.user_principal_name, me.job_title
    );
    if cfg.auto_approve {
        eprintln!(
            "  Every sign-in is approved at once as {}.",
            me.display_name
        );
    }
    eprintln!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
