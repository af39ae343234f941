//! Quiet hours: a span of the local day, perhaps across midnight, when
//! notifications wait. Settings read it, the notification policy uses it.

use chrono::NaiveTime;

/// Quiet hours in local time; `start > end` spans midnight (18:00-08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_can_span_midnight() {
        let q = QuietHours {
            start: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        };
        assert!(q.contains(NaiveTime::from_hms_opt(23, 0, 0).unwrap()));
        assert!(q.contains(NaiveTime::from_hms_opt(7, 59, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(8, 0, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(12, 0, 0).unwrap()));
    }
}
