//! Quiet hours: a span of the local day, perhaps across midnight, when
//! notifications wait. Settings read it (the `[quiet_hours]` table of the
//! config file, read here), the notification policy uses it.

use chrono::NaiveTime;

use crate::config_file::ConfigFile;
use crate::error::{Error, Result};

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

/// Quiet hours as set in `config.toml` (`[quiet_hours] enabled, start, end`,
/// times as "HH:MM" in local time): kept when off, so that turning them on
/// again brings back the same hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHoursSetting {
    pub enabled: bool,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for QuietHoursSetting {
    fn default() -> Self {
        QuietHoursSetting {
            enabled: false,
            start: NaiveTime::from_hms_opt(18, 0, 0).expect("a valid time"),
            end: NaiveTime::from_hms_opt(8, 0, 0).expect("a valid time"),
        }
    }
}

impl QuietHoursSetting {
    /// The table's key in `config.toml`.
    pub const KEY: &'static str = "quiet_hours";

    /// The hours during which notifications wait, when on.
    pub fn hours(&self) -> Option<QuietHours> {
        self.enabled.then_some(QuietHours {
            start: self.start,
            end: self.end,
        })
    }

    /// Quiet hours as a person typed them; each time "HH:MM" (or "H:MM").
    pub fn parse(enabled: bool, start: &str, end: &str) -> Result<QuietHoursSetting> {
        Ok(QuietHoursSetting {
            enabled,
            start: parse_clock("start", start)?,
            end: parse_clock("end", end)?,
        })
    }

    /// "18:00".
    pub fn clock(t: NaiveTime) -> String {
        t.format("%H:%M").to_string()
    }

    /// The `[quiet_hours]` table of `file`; missing keys take the default.
    pub(crate) fn from_file(file: &ConfigFile) -> Result<QuietHoursSetting> {
        let key = Self::KEY;
        let mut setting = QuietHoursSetting::default();
        let table = match file.table().get(key) {
            None => return Ok(setting),
            Some(toml::Value::Table(t)) => t,
            Some(other) => {
                return Err(file.problem(
                    &[key],
                    format!(
                        "\"{key}\" should be a table with enabled, start and end, not {other}."
                    ),
                ))
            }
        };
        if let Some(v) = table.get("enabled") {
            setting.enabled = v.as_bool().ok_or_else(|| {
                file.problem(
                    &[key, "enabled"],
                    format!("\"{key}.enabled\" should be true or false, not {v}."),
                )
            })?;
        }
        for (name, slot) in [("start", &mut setting.start), ("end", &mut setting.end)] {
            let Some(v) = table.get(name) else { continue };
            let parsed = match v.as_str() {
                Some(text) => parse_clock(name, text),
                None => Err(Error::Config(format!(
                    "The quiet hours {name} should be a time like \"18:00\", not {v}."
                ))),
            };
            *slot = parsed.map_err(|e| file.explain(&[key, name], e))?;
        }
        Ok(setting)
    }
}

/// "HH:MM" (or "H:MM") in 24-hour time; `what` names it in the error.
fn parse_clock(what: &str, text: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
        Error::Config(format!(
            "The quiet hours {what} \"{}\" is not a time like 18:00.",
            crate::text::clean_text(text, 40)
        ))
    })
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
