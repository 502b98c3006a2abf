//! `config.toml`: the few settings a person may want to change. Today one:
//!
//! ```toml
//! # Lock the journal after this long without use ("30m", "2h", "90s"); absent = never.
//! idle_lock = "30m"
//! ```

use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Config {
    pub idle_lock: Option<Duration>,
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
        Ok(Config { idle_lock })
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
        ] {
            std::fs::write(&path, bad).expect("write");
            assert!(
                matches!(Config::load(&path), Err(ConfigError::Invalid { .. })),
                "{bad}"
            );
        }
    }
}
