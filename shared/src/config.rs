//! `config.toml`: the few settings a person may want to change.
//!
//! ```toml
//! # Lock the journal after this long without use ("30m", "2h", "90s"); absent = never.
//! idle_lock = "30m"
//! # Desktop notifications of what arrived: "off", "neutral" (the default: no names, no
//! # titles, nothing private on a lock screen) or "detailed".
//! notify = "neutral"
//! # No notifications between these times (local time; may wrap past midnight).
//! quiet_hours = "22:00-07:00"
//! # Gentle reminders, each off unless set (see `reminders`).
//! [reminders]
//! checkin = "20:30"
//! insights = "sunday 18:00"
//! ```

use serde::Deserialize;

use crate::reminders::{At, Reminders};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Config {
    pub idle_lock: Option<Duration>,
    pub notify: Notify,
    pub quiet_hours: Option<QuietHours>,
    pub reminders: Reminders,
}

/// How much a desktop notification says.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    Off,
    /// "Haven: a thank-you", "Haven: 2 new things": what kind arrived, nothing private on a lock screen.
    #[default]
    Neutral,
    /// Who did what, with the agreement's or the note's title.
    Detailed,
}

/// Local times between which no notification goes out; `from > to` wraps past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: chrono::NaiveTime,
    pub to: chrono::NaiveTime,
}

impl QuietHours {
    pub fn contains(&self, t: chrono::NaiveTime) -> bool {
        if self.from <= self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }

    fn parse(s: &str) -> Option<QuietHours> {
        let (a, b) = s.split_once('-')?;
        let time = |x: &str| chrono::NaiveTime::parse_from_str(x.trim(), "%H:%M").ok();
        let q = QuietHours {
            from: time(a)?,
            to: time(b)?,
        };
        (q.from != q.to).then_some(q)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    idle_lock: Option<String>,
    notify: Option<String>,
    quiet_hours: Option<String>,
    reminders: Option<RawReminders>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReminders {
    checkin: Option<String>,
    insights: Option<String>,
    question: Option<String>,
    backup: Option<u32>,
}

impl Config {
    /// Reads the file; a missing file means the defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: shown,
                    source,
                })
            }
        };
        let invalid = |message: String| ConfigError::Invalid {
            path: shown.clone(),
            message,
        };
        let raw: Raw = toml::from_str(&text).map_err(|e| invalid(e.message().to_string()))?;
        let idle_lock = raw
            .idle_lock
            .map(|s| {
                parse_duration(&s).ok_or_else(|| {
                    invalid(format!(
                        "idle_lock must look like 30m, 2h or 90s, not {s:?}"
                    ))
                })
            })
            .transpose()?;
        let notify = match raw.notify.as_deref().map(str::trim) {
            None | Some("neutral") => Notify::Neutral,
            Some("off") => Notify::Off,
            Some("detailed") => Notify::Detailed,
            Some(other) => {
                return Err(invalid(format!(
                    "notify must be \"off\", \"neutral\" or \"detailed\", not {other:?}"
                )))
            }
        };
        let quiet_hours = raw
            .quiet_hours
            .map(|s| {
                QuietHours::parse(&s).ok_or_else(|| {
                    invalid(format!(
                        "quiet_hours must look like \"22:00-07:00\", not {s:?}"
                    ))
                })
            })
            .transpose()?;
        let raw_reminders = raw.reminders.unwrap_or(RawReminders {
            checkin: None,
            insights: None,
            question: None,
            backup: None,
        });
        let reminder = |key: &str, value: Option<String>, example: &str| {
            value
                .map(|s| {
                    At::parse(&s).ok_or_else(|| {
                        invalid(format!(
                            "reminders.{key} must look like \"{example}\", not {s:?}"
                        ))
                    })
                })
                .transpose()
        };
        let reminders = Reminders {
            checkin: reminder("checkin", raw_reminders.checkin, "20:30")?,
            insights: reminder("insights", raw_reminders.insights, "sunday 18:00")?,
            question: reminder("question", raw_reminders.question, "wednesday 19:00")?,
            backup_after_days: match raw_reminders.backup {
                Some(0) => {
                    return Err(invalid(
                        "reminders.backup is a number of days from 1, like 14".into(),
                    ))
                }
                days => days,
            },
        };
        Ok(Config {
            idle_lock,
            notify,
            quiet_hours,
            reminders,
        })
    }
}

fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit.trim() {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_and_quiet_hours() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "notify = \"detailed\"\nquiet_hours = \"22:00-07:00\"\n",
        )
        .expect("write");
        let c = Config::load(&path).expect("load");
        assert_eq!(c.notify, Notify::Detailed);
        let q = c.quiet_hours.expect("quiet");
        let t = |s: &str| chrono::NaiveTime::parse_from_str(s, "%H:%M").expect("t");
        assert!(q.contains(t("23:30")) && q.contains(t("03:00")) && q.contains(t("22:00")));
        assert!(!q.contains(t("07:00")) && !q.contains(t("12:00")));
        let day = QuietHours::parse("13:00-14:00").expect("q");
        assert!(day.contains(t("13:30")) && !day.contains(t("14:30")));
    }

    #[test]
    fn durations_and_errors() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        assert_eq!(
            Config::load(&path).expect("missing is default"),
            Config::default()
        );
        std::fs::write(&path, "idle_lock = \"30m\"\n").expect("write");
        assert_eq!(
            Config::load(&path).expect("load").idle_lock,
            Some(Duration::from_secs(1800))
        );
        for bad in [
            "idle_lock = \"soon\"",
            "idle_lock = \"0m\"",
            "idle = \"5m\"",
            "idle_lock = [",
            "notify = \"loud\"",
            "quiet_hours = \"22-7\"",
            "quiet_hours = \"07:00-07:00\"",
        ] {
            std::fs::write(&path, bad).expect("write");
            assert!(
                matches!(Config::load(&path), Err(ConfigError::Invalid { .. })),
                "{bad}"
            );
        }
    }
}
