use std::time::Duration;

use rand::Rng;

use super::EngineOptions;

/// How far one wait may stray from the interval, either way...
const JITTER: f64 = 0.2;
/// ...and after a throttled poll, so that installs throttled together spread
/// out over their next interval.
const THROTTLED_JITTER: f64 = 0.5;
/// A throttled poll lengthens the interval by this factor...
const BACK_OFF: f64 = 1.3;
/// ...and makes this multiple of the interval it was throttled at the floor.
const FLOOR_ABOVE_THROTTLED: f64 = 1.2;
/// The share of the gap to the floor that each clean poll closes.
const RECOVERY: f64 = 0.25;

/// The poll interval, paced by throttling; see the module documentation.
/// Public so that the fleet simulation (`examples/fleet.rs`, run by
/// `bench/fleet`) drives this very code rather than a copy of it.
#[derive(Debug, Clone)]
pub struct Pace {
    base: Duration,
    pub(super) min_interval: Duration,
    max: Duration,
    step: Duration,
    /// The fleet-safe floor: the base, or higher once throttling taught it.
    floor: Duration,
    /// What throttling taught: 1.2 times the highest interval throttled at.
    taught: Duration,
    pub(super) current: Duration,
    /// The last poll met a 429.
    throttled: bool,
}

impl Pace {
    pub fn new(o: &EngineOptions) -> Pace {
        let base = o.interval.max(o.min_interval);
        Pace {
            base,
            min_interval: o.min_interval,
            max: o.max_interval.max(base),
            step: (base / 5).max(Duration::from_millis(1)),
            floor: base,
            taught: Duration::ZERO,
            current: base,
            throttled: false,
        }
    }

    /// A new interval asked for (a setting). The floor learnt from
    /// throttling stays: a setting cannot take the fleet back over budget.
    pub fn set_interval(&mut self, interval: Duration) {
        let base = interval.max(self.min_interval);
        self.base = base;
        self.step = (base / 5).max(Duration::from_millis(1));
        self.max = self.max.max(base);
        self.floor = base.max(self.taught).min(self.max);
        // Still recovering from throttling: go on from where it is, above
        // the new floor; otherwise the new interval holds at once.
        self.current = if self.current > self.floor && self.throttled {
            self.current
        } else {
            self.floor
        };
    }

    /// The interval polls keep on average.
    pub fn interval(&self) -> Duration {
        self.current
    }

    /// The wait before the next poll: the interval give or take a fifth (a
    /// half after a throttled poll), at random, never below the minimum.
    /// Without it, installs that start together or that one full window
    /// throttled together keep polling in step and meet the limit together
    /// every time.
    pub fn next_wait(&self, rng: &mut impl Rng) -> Duration {
        let jitter = if self.throttled {
            THROTTLED_JITTER
        } else {
            JITTER
        };
        self.current
            .mul_f64(rng.gen_range(1.0 - jitter..=1.0 + jitter))
            .max(self.min_interval)
    }

    /// A poll met a 429.
    pub fn on_throttled(&mut self) {
        let throttled_at = self.current;
        self.taught = self.taught.max(throttled_at.mul_f64(FLOOR_ABOVE_THROTTLED));
        self.floor = self.floor.max(self.taught).min(self.max);
        self.current = throttled_at.mul_f64(BACK_OFF).clamp(self.floor, self.max);
        self.throttled = true;
    }

    /// A poll was answered without a 429.
    pub fn on_clean(&mut self) {
        let gap = self.current.saturating_sub(self.floor);
        self.current = self
            .current
            .saturating_sub(self.step.max(gap.mul_f64(RECOVERY)))
            .max(self.floor);
        self.throttled = false;
    }

    pub(super) fn describe(&self) -> String {
        let secs = |d: Duration| format_secs(d);
        if self.current > self.floor {
            "Recovering from throttling: polling a little faster after each clean poll.".into()
        } else if self.floor > self.base {
            format!(
                "Polling every {}: the tenant's request budget is shared with other installs.",
                secs(self.floor)
            )
        } else {
            format!("Polling every {}.", secs(self.base))
        }
    }
}

fn format_secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MIN_INTERVAL;

    #[test]
    fn throttling_lengthens_the_interval_which_recovers_to_the_fleet_floor() {
        let secs = Duration::from_secs;
        let mut pace = Pace::new(&EngineOptions::default());
        assert_eq!(pace.current, secs(15));
        pace.on_clean();
        assert_eq!(pace.current, secs(15), "never below the interval asked");
        assert!(
            pace.describe().contains("every 15 s"),
            "{}",
            pace.describe()
        );

        pace.on_throttled();
        assert_eq!(pace.current, Duration::from_millis(19_500), "30 % longer");
        assert_eq!(pace.floor, secs(18), "15 s was throttled: never again");
        assert!(
            pace.describe().contains("Recovering"),
            "{}",
            pace.describe()
        );
        pace.on_clean();
        assert_eq!(
            pace.current,
            Duration::from_millis(18_000),
            "a step at least"
        );
        assert!(pace.describe().contains("shared"), "{}", pace.describe());

        // Throttled again at the floor: the floor rises with it.
        pace.on_throttled();
        assert_eq!(pace.floor, Duration::from_millis(21_600));
        assert_eq!(pace.current, Duration::from_millis(23_400));

        // Far above the floor, each clean poll closes a quarter of the gap.
        for _ in 0..12 {
            pace.on_throttled();
        }
        let floor = pace.floor;
        let gap = pace.current - floor;
        pace.on_clean();
        assert_eq!(pace.current - floor, gap - gap / 4);
        for _ in 0..40 {
            pace.on_clean();
        }
        assert_eq!(pace.current, floor);

        for _ in 0..40 {
            pace.on_throttled();
        }
        assert_eq!(pace.current, secs(600), "capped");
        assert_eq!(pace.floor, secs(600));
    }

    #[test]
    fn a_new_interval_setting_keeps_the_floor_throttling_taught() {
        let secs = Duration::from_secs;
        let mut pace = Pace::new(&EngineOptions {
            interval: secs(15),
            ..Default::default()
        });
        pace.set_interval(secs(30));
        assert_eq!(pace.interval(), secs(30), "untaught: the setting rules");
        pace.set_interval(secs(15));
        assert_eq!(pace.interval(), secs(15));
        pace.on_throttled();
        for _ in 0..100 {
            pace.on_clean();
        }
        let floor = pace.interval();
        assert_eq!(floor, secs(18), "1.2 × the throttled 15 s");
        pace.set_interval(secs(5));
        assert_eq!(
            pace.interval(),
            floor,
            "a shorter setting cannot undo the floor"
        );
        pace.set_interval(secs(60));
        assert_eq!(pace.interval(), secs(60), "a longer one is kept");
        pace.set_interval(secs(5));
        assert_eq!(pace.interval(), floor, "and the floor is still known");
    }

    #[test]
    fn the_interval_never_goes_below_the_minimum() {
        let pace = Pace::new(&EngineOptions {
            interval: Duration::from_secs(1),
            ..Default::default()
        });
        assert_eq!(pace.current, MIN_INTERVAL);
        let mut rng = rand::thread_rng();
        for _ in 0..1_000 {
            assert!(pace.next_wait(&mut rng) >= MIN_INTERVAL);
        }
    }

    /// 2,000 waits of `pace`: (shortest, longest, mean) in seconds.
    fn waits(pace: &Pace) -> (f64, f64, f64) {
        let mut rng = rand::thread_rng();
        let waits: Vec<f64> = (0..2_000)
            .map(|_| pace.next_wait(&mut rng).as_secs_f64())
            .collect();
        let (lo, hi) = waits
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &w| (lo.min(w), hi.max(w)));
        (lo, hi, waits.iter().sum::<f64>() / waits.len() as f64)
    }

    #[test]
    fn waits_spread_around_the_interval_and_wider_after_throttling() {
        let mut pace = Pace::new(&EngineOptions {
            interval: Duration::from_secs(30),
            ..Default::default()
        });
        // Within a fifth of the 30 s interval either way, using most of it,
        // and 30 s on average: the budget sees the same rate.
        let (lo, hi, mean) = waits(&pace);
        assert!(lo >= 24.0 && hi <= 36.0, "{lo}..{hi}");
        assert!(
            lo < 25.0 && hi > 35.0,
            "{lo}..{hi}: installs must drift apart"
        );
        assert!((mean - 30.0).abs() < 0.5, "{mean}");

        // After a 429 (interval 39 s), within a half either way.
        pace.on_throttled();
        let (lo, hi, mean) = waits(&pace);
        assert!(lo >= 19.5 && hi <= 58.5, "{lo}..{hi}");
        assert!(lo < 22.0 && hi > 56.0, "{lo}..{hi}");
        assert!((mean - 39.0).abs() < 1.0, "{mean}");
        pace.on_clean();
        let (lo, hi, _) = waits(&pace);
        assert!(hi - lo < 0.41 * pace.current.as_secs_f64(), "{lo}..{hi}");
    }
}
