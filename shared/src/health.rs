//! The local half of `haven doctor`: folder and file permissions and database integrity,
//! each with the command that fixes it. They read only files, so they work with no daemon.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::ipc::Check;
use crate::paths::Paths;
use crate::store::Store;

fn mode_check(name: &str, path: &Path, want: u32) -> Check {
    match std::fs::metadata(path) {
        Ok(m) => {
            let mode = m.permissions().mode() & 0o777;
            let ok = mode & 0o077 == 0;
            Check {
                name: name.to_string(),
                ok,
                detail: format!("{} is {mode:o}", path.display()),
                fix: (!ok).then(|| format!("chmod {want:o} {}", path.display())),
            }
        }
        Err(e) => Check {
            name: name.to_string(),
            ok: false,
            detail: format!("{}: {e}", path.display()),
            fix: Some("run `haven init --name NAME` if this home was never created".into()),
        },
    }
}

/// When the last backup was made: information, never a failure (a laptop can be lost,
/// and only a backup brings the journal back, but not having one is not an error).
fn backup_check(paths: &Paths) -> Check {
    match crate::backup::last_backup(paths) {
        Some(at) => Check {
            name: "backup".into(),
            ok: true,
            detail: format!("last backup {}", crate::backup::ago(at, crate::when::now())),
            fix: None,
        },
        None => Check {
            name: "backup".into(),
            ok: true,
            detail: "no backup yet; `haven backup -o FILE` writes one".into(),
            fix: None,
        },
    }
}

pub fn checks(paths: &Paths) -> Vec<Check> {
    let mut out = vec![
        mode_check("home folder permissions", &paths.data_dir, 0o700),
        mode_check("identity.age permissions", &paths.identity(), 0o600),
        mode_check("haven.db permissions", &paths.database(), 0o600),
        backup_check(paths),
    ];
    if paths.socket().exists() {
        out.push(mode_check("socket permissions", &paths.socket(), 0o600));
    }
    let integrity = Store::open(&paths.database())
        .and_then(|s| s.integrity_check())
        .map_err(|e| e.to_string());
    out.push(match integrity {
        Ok(result) if result == "ok" => Check {
            name: "database integrity".into(),
            ok: true,
            detail: "SQLite integrity check passed".into(),
            fix: None,
        },
        Ok(result) => Check {
            name: "database integrity".into(),
            ok: false,
            detail: result,
            fix: Some("restore haven.db from a backup (`haven restore FILE`)".into()),
        },
        Err(e) => Check {
            name: "database integrity".into(),
            ok: false,
            detail: e,
            fix: Some("restore haven.db from a backup (`haven restore FILE`)".into()),
        },
    });
    out
}
