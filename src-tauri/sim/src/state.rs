//! The state one simulator shares between its server, its background task
//! and its owner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::time::Instant;

use crate::auth::Auth;
use crate::config::SimConfig;
use crate::credentials::Apps;
use crate::directory::Directory;
use crate::faults::FaultBook;
use crate::log::{Arrival, LogDetail, RequestLog};
use crate::presence::PresenceBoard;
use crate::throttle::Budgets;
use crate::tokens::Minter;

/// Everything behind one simulator. The directory never changes, so it needs
/// no lock; the rest is behind std mutexes, held only for the few
/// microseconds a request needs and never across an `.await`, so an async
/// mutex would buy nothing. The log has its own lock so that reading it does
/// not stall Graph requests.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT` (`https://` with TLS), the base of every URL
    /// the simulator hands out.
    pub base_url: String,
    /// The private CA behind the server's certificate, in PEM, with TLS.
    pub ca_certificate_pem: Option<String>,
    pub started: Instant,
    /// Shared with the token minter, which writes people's names into tokens.
    pub directory: Arc<Directory>,
    state: Mutex<State>,
    log: Mutex<RequestLog>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub presence: PresenceBoard,
    pub auth: Auth,
    /// The apps registered in the tenant: their secrets, certificates and
    /// the application permissions consented to.
    pub apps: Apps,
    pub faults: FaultBook,
    pub throttle: Budgets,
    /// False makes presence endpoints answer 404, like a cloud without presence.
    pub presence_available: bool,
    /// Users (by index) whose photo is served padded to this many bytes.
    pub photo_sizes: HashMap<usize, usize>,
}

impl Shared {
    pub fn new(config: SimConfig, base_url: String, ca_certificate_pem: Option<String>) -> Shared {
        let directory = Arc::new(Directory::generate(
            config.users,
            config.seed,
            &config.tenant_domain,
        ));
        let minter = Minter::new(
            directory.clone(),
            config.tenant_id,
            &base_url,
            config.access_token_chars,
            config.refresh_token_chars,
        );
        let mut auth = Auth::new(
            minter,
            config.access_token_lifetime,
            config.app_token_lifetime,
            config.device_code_lifetime,
            config.poll_interval,
        );
        auth.auto_approve = config.auto_approve;
        let state = State {
            presence: PresenceBoard::new(&directory, config.seed),
            auth,
            apps: Apps::default(),
            faults: FaultBook::default(),
            throttle: Budgets::new(config.rate_limit, config.rate_window),
            presence_available: true,
            photo_sizes: HashMap::new(),
        };
        Shared {
            config,
            base_url,
            ca_certificate_pem,
            started: Instant::now(),
            directory,
            state: Mutex::new(state),
            log: Mutex::new(RequestLog::default()),
        }
    }

    /// The mutable state. A panic while it was held leaves it usable: every
    /// change to it is complete before anything that could panic.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn log(&self) -> MutexGuard<'_, RequestLog> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn record(&self, arrival: Arrival, status: u16, detail: LogDetail, fault: Option<String>) {
        self.log().push(arrival, status, detail, fault);
    }

    /// Whether `tenant` names this simulator's tenant the way a client may:
    /// `organizations`, `common`, the tenant id or the domain.
    pub fn is_our_tenant(&self, tenant: &str) -> bool {
        tenant.eq_ignore_ascii_case("organizations")
            || tenant.eq_ignore_ascii_case("common")
            || tenant.eq_ignore_ascii_case(&self.config.tenant_domain)
            || uuid::Uuid::try_parse(tenant).is_ok_and(|t| t == self.config.tenant_id)
    }
}
