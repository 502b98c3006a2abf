//! The reminders a person turned on in `[reminders]` (see `haven_shared::reminders`),
//! sent from the daemon's own clock while it runs, locked or not: the words are the same
//! neutral offer either way and reveal nothing. Quiet hours and `notify = "off"` send
//! nothing, and a reminder missed while the laptop slept is not sent late.

use std::time::Duration;

use chrono::Local;

use haven_shared::config::{Notify, QuietHours};
use haven_shared::reminders::{Reminder, Reminders};

/// How long the task sleeps at most before looking at the wall clock again: a laptop
/// that slept must not owe a reminder the monotonic clock never saw pass.
const LOOK_AGAIN: Duration = Duration::from_secs(60);
/// A reminder found more than this late (the laptop was asleep) is skipped.
const TOO_LATE: chrono::Duration = chrono::Duration::minutes(5);

pub async fn run(
    reminders: Reminders,
    mode: Notify,
    quiet: Option<QuietHours>,
    paths: haven_shared::paths::Paths,
) {
    if reminders.is_empty() {
        return;
    }
    // Debug builds only: fire every reminder at once, so a test need not wait for a
    // time of day.
    #[cfg(debug_assertions)]
    if std::env::var("HAVEN_TEST_REMINDERS_NOW").is_ok_and(|v| v == "1") {
        for r in Reminder::ALL {
            if reminders.at(r).is_some() {
                remind(r, &reminders, &paths, mode, quiet).await;
            }
        }
    }
    loop {
        let Some((reminder, at)) = reminders.next(Local::now()) else {
            return;
        };
        loop {
            let now = Local::now();
            if now >= at {
                break;
            }
            let left = (at - now).to_std().unwrap_or(Duration::ZERO);
            tokio::time::sleep(left.min(LOOK_AGAIN)).await;
        }
        if Local::now() - at > TOO_LATE {
            tracing::info!(
                reminder = reminder.key(),
                "a reminder came due while asleep: skipped"
            );
            continue;
        }
        remind(reminder, &reminders, &paths, mode, quiet).await;
    }
}

async fn remind(
    reminder: Reminder,
    reminders: &Reminders,
    paths: &haven_shared::paths::Paths,
    mode: Notify,
    quiet: Option<QuietHours>,
) {
    let mut text = reminder.text().to_string();
    if reminder == Reminder::Backup {
        let now = haven_shared::when::now();
        let last = haven_shared::backup::last_backup(paths);
        let days = reminders.backup_after_days.unwrap_or(0);
        if last.is_some_and(|at| (now - at).num_days() < i64::from(days)) {
            tracing::info!("the last backup is recent: no reminder");
            return;
        }
        text = match last {
            Some(at) => format!(
                "The last backup was {}. {text}",
                haven_shared::backup::ago(at, now)
            ),
            None => format!("There is no backup yet. {text}"),
        };
    }
    if mode == Notify::Off {
        tracing::info!(reminder = reminder.key(), "notify = \"off\": no reminder");
        return;
    }
    if quiet.is_some_and(|q| q.contains(Local::now().time())) {
        tracing::info!(reminder = reminder.key(), "quiet hours: no reminder");
        return;
    }
    crate::notify::deliver("Haven", &text).await;
}
