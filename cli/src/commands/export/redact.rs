//! `--redact NAME=ROLE`: names become roles, whole words, any case, everywhere in the
//! export, so a file handed over names roles, not people.

use regex::Regex;

use super::model::Export;
use crate::error::{CliError, CliResult};

pub struct Redaction {
    name: String,
    role: String,
    pattern: Regex,
}

pub fn parse(specs: &[String]) -> CliResult<Vec<Redaction>> {
    specs
        .iter()
        .map(|spec| {
            let (name, role) = spec
                .split_once('=')
                .map(|(n, r)| (n.trim(), r.trim()))
                .filter(|(n, r)| !n.is_empty() && !r.is_empty())
                .ok_or_else(|| {
                    CliError::usage(format!("--redact takes NAME=ROLE, not {spec:?}"))
                })?;
            let pattern = Regex::new(&format!(r"(?i)\b{}\b", regex::escape(name)))
                .map_err(|e| CliError::usage(format!("cannot redact {name:?}: {e}")))?;
            Ok(Redaction {
                name: name.to_string(),
                role: role.to_string(),
                pattern,
            })
        })
        .collect()
}

/// Replaces every redacted name in every text of the export; returns the report line
/// items (`None` when nothing was asked).
pub fn apply(export: &mut Export, redactions: &[Redaction]) -> Option<Vec<String>> {
    if redactions.is_empty() {
        return None;
    }
    let mut report = Vec::new();
    for r in redactions {
        let mut count = 0;
        let mut fix = |s: &mut String| {
            count += r.pattern.find_iter(s).count();
            *s = r.pattern.replace_all(s, r.role.as_str()).into_owned();
        };
        fix(&mut export.name);
        for e in &mut export.entries {
            fix(&mut e.title);
            fix(&mut e.body);
            e.tags.iter_mut().for_each(&mut fix);
            if let Some(r) = &mut e.record {
                for text in [
                    &mut r.situation,
                    &mut r.story,
                    &mut r.other_story,
                    &mut r.feeling,
                    &mut r.need,
                    &mut r.helped,
                ] {
                    text.iter_mut().for_each(&mut fix);
                }
            }
            if let Some(p) = &mut e.pause {
                p.message.iter_mut().for_each(&mut fix);
                p.rewrite.iter_mut().for_each(&mut fix);
            }
        }
        if let Some(x) = &mut export.insights {
            x.helped.iter_mut().for_each(|h| fix(&mut h.text));
            x.tags.iter_mut().for_each(|t| fix(&mut t.tag));
            x.wins.recent.iter_mut().for_each(|w| fix(&mut w.text));
        }
        for n in &mut export.thanks {
            fix(&mut n.text);
            fix(&mut n.by);
        }
        for a in &mut export.agreements {
            fix(&mut a.title);
            fix(&mut a.text);
            fix(&mut a.proposed_by);
            for rev in &mut a.revisions {
                fix(&mut rev.title);
                fix(&mut rev.text);
                fix(&mut rev.by);
            }
            a.declined_by.iter_mut().for_each(&mut fix);
            if let Some(w) = &mut a.withdrawn {
                fix(&mut w.by);
                w.reason.iter_mut().for_each(&mut fix);
            }
            for said in &mut a.reasons {
                fix(&mut said.by);
                fix(&mut said.text);
            }
            a.consents = std::mem::take(&mut a.consents)
                .into_iter()
                .map(|(mut k, v)| {
                    fix(&mut k);
                    (k, v)
                })
                .collect();
        }
        report.push(format!("{} → {} ({count})", r.name, r.role));
    }
    Some(report)
}
