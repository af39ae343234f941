//! Graph's throttling of `getPresencesByUserId`: a sliding window per app
//! per tenant, as Microsoft documents the limit ("per application per
//! tenant"). An app's people and the app itself share it: the window counts
//! the client id a token was issued to, whoever it acts for.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

/// The limit of `getPresencesByUserId` for one app in one tenant. Public so
/// that the fleet simulation (`presently-core`'s `examples/fleet.rs`) charges its
/// requests to this very limiter.
#[derive(Debug)]
pub struct SlidingWindow {
    limit: u32,
    window: Duration,
    /// Arrival times of the requests still inside the window, oldest first.
    arrivals: VecDeque<Instant>,
}

impl SlidingWindow {
    pub fn new(limit: u32, window: Duration) -> SlidingWindow {
        SlidingWindow {
            limit,
            window,
            arrivals: VecDeque::new(),
        }
    }

    /// Counts a request arriving `now`. Every request counts, the refused
    /// ones too, because Graph charges requests sent while throttled against
    /// the budget again. `Err` carries how long until the window has room.
    pub fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        while self
            .arrivals
            .front()
            .is_some_and(|&t| now.duration_since(t) >= self.window)
        {
            self.arrivals.pop_front();
        }
        self.arrivals.push_back(now);
        let limit = self.limit as usize;
        if self.arrivals.len() <= limit {
            return Ok(());
        }
        // A request sent later fits once at most `limit - 1` of these are
        // still inside the window, that is once the one at `len - limit` has left.
        let wait = match limit {
            0 => self.window,
            _ => (self.arrivals[self.arrivals.len() - limit] + self.window)
                .saturating_duration_since(now),
        };
        Err(wait)
    }
}

/// One [`SlidingWindow`] per app, made when the app's first request comes.
#[derive(Debug)]
pub(crate) struct Budgets {
    limit: u32,
    window: Duration,
    /// By client id, lower case; tokens that belong to no app (minted by
    /// `issue_tokens`) under "".
    apps: HashMap<String, SlidingWindow>,
}

impl Budgets {
    pub fn new(limit: u32, window: Duration) -> Budgets {
        Budgets {
            limit,
            window,
            apps: HashMap::new(),
        }
    }

    /// [`SlidingWindow::admit`] in the window of the app `client_id`.
    pub fn admit(&mut self, client_id: Option<&str>, now: Instant) -> Result<(), Duration> {
        let key = client_id.unwrap_or_default().to_lowercase();
        let (limit, window) = (self.limit, self.window);
        self.apps
            .entry(key)
            .or_insert_with(|| SlidingWindow::new(limit, window))
            .admit(now)
    }
}

/// Whole seconds for a `Retry-After` header: rounded up, at least one.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn refuses_above_the_limit_until_the_window_moves() {
        let mut w = SlidingWindow::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(w.admit(t0).is_ok());
        }
        let wait = w.admit(t0 + Duration::from_secs(4)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(6));
        assert_eq!(retry_after_seconds(wait), 6);
        // The refused request counted too: at t0+10 the three first ones have
        // left, the refused one is still there, so one more fits, then none.
        let t1 = t0 + Duration::from_secs(10);
        assert!(w.admit(t1).is_ok());
        assert!(w.admit(t1).is_ok());
        assert!(w.admit(t1).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_retry_after_is_enough() {
        let mut w = SlidingWindow::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        let s = Duration::from_secs;
        assert!(w.admit(t0).is_ok());
        assert!(w.admit(t0 + s(1)).is_ok());
        let wait = w.admit(t0 + s(2)).unwrap_err();
        assert_eq!(wait, s(9));
        assert!(w.admit(t0 + s(2) + wait).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn each_app_has_its_own_budget() {
        let mut b = Budgets::new(1, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(b.admit(Some("app-a"), t0).is_ok());
        assert!(
            b.admit(Some("APP-A"), t0).is_err(),
            "client ids in any case"
        );
        assert!(b.admit(Some("app-b"), t0).is_ok());
        assert!(b.admit(None, t0).is_ok());
        assert!(b.admit(None, t0).is_err());
    }

    #[test]
    fn retry_after_is_at_least_a_second() {
        assert_eq!(retry_after_seconds(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(2100)), 3);
    }
}
