//! Desktop notifications of what is waiting (see `model::waiting`), through the
//! freedesktop notification service on the session D-Bus.
//!
//! One notification per batch of news, never a nudge to write and never a streak. By
//! default it is neutral ("Haven: something changed in your agreements"), so a lock
//! screen shows nothing private; `notify = "detailed"` in config.toml names who did what.
//! The text of a detailed one comes from the partner's device, so it is cut short and
//! stripped of control characters and markup (notification servers render a subset of
//! HTML in the body). No session bus, a bus that does not answer, or no notification
//! service: a logged warning, and the daemon goes on; nothing is retried later (the items
//! stay listed in `haven status`). Quiet hours send nothing, and nothing is saved up for
//! after them.

use chrono::Local;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

use haven_shared::config::{Notify, QuietHours};
use haven_shared::model::waiting::Waiting;

/// How long one notification may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(3);
/// How many items a detailed notification names.
const NAMED: usize = 3;

/// What the notification says: (summary, body).
pub fn text(items: &[Waiting], mode: Notify) -> Option<(String, String)> {
    if items.is_empty() || mode == Notify::Off {
        return None;
    }
    if mode == Notify::Neutral {
        let body = if items.iter().all(Waiting::is_own_timer) {
            "a timer you set has ended"
        } else {
            "something changed in your agreements"
        };
        return Some(("Haven".into(), body.into()));
    }
    let mut lines: Vec<String> = items.iter().take(NAMED).map(|w| safe(&w.what)).collect();
    if items.len() > NAMED {
        lines.push(format!(
            "and {} more: see `haven status`",
            items.len() - NAMED
        ));
    }
    Some(("Haven".into(), lines.join("\n")))
}

/// Text from the partner's device made safe for a notification body: no control
/// characters, no markup, at most 200 characters a line.
fn safe(text: &str) -> String {
    let plain: String = text
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .take(200)
        .collect();
    plain
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Receives batches of new waiting items from the core and sends the notifications.
pub async fn run(
    mut news: mpsc::UnboundedReceiver<Vec<Waiting>>,
    mode: Notify,
    quiet: Option<QuietHours>,
) {
    while let Some(items) = news.recv().await {
        if quiet.is_some_and(|q| q.contains(Local::now().time())) {
            tracing::info!(items = items.len(), "quiet hours: no notification");
            continue;
        }
        let Some((summary, body)) = text(&items, mode) else {
            tracing::info!(items = items.len(), "notify = \"off\": no notification");
            continue;
        };
        match tokio::time::timeout(TIMEOUT, send(&summary, &body)).await {
            Ok(Ok(id)) => tracing::info!(id, "notification sent"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "no notification: the session bus or its notification service is not there")
            }
            Err(_) => tracing::warn!(
                secs = TIMEOUT.as_secs(),
                "no notification: the notification service did not answer in time"
            ),
        }
    }
}

async fn send(summary: &str, body: &str) -> zbus::Result<u32> {
    let bus = zbus::Connection::session().await?;
    let hints: HashMap<&str, zbus::zvariant::Value<'_>> =
        HashMap::from([("urgency", zbus::zvariant::Value::U8(1))]);
    let reply = bus
        .call_method(
            Some("org.freedesktop.Notifications"),
            "/org/freedesktop/Notifications",
            Some("org.freedesktop.Notifications"),
            "Notify",
            &(
                "Haven",
                0u32,
                "",
                summary,
                body,
                Vec::<&str>::new(),
                hints,
                -1i32,
            ),
        )
        .await?;
    reply.body().deserialize::<u32>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_shared::model::waiting::WaitingKind;

    fn item(kind: WaitingKind, what: &str) -> Waiting {
        Waiting {
            key: what.into(),
            kind,
            about: String::new(),
            what: what.into(),
            command: String::new(),
            at: haven_shared::when::now(),
        }
    }

    #[test]
    fn neutral_says_nothing_private_and_detailed_is_made_safe() {
        let items = vec![
            item(
                WaitingKind::Proposed,
                "Sam proposed “<b>Texts</b>\u{1b}]52;c;x\u{7}”",
            ),
            item(WaitingKind::Thanks, "Sam thanked you"),
        ];
        let (_, neutral) = text(&items, Notify::Neutral).expect("some");
        assert_eq!(neutral, "something changed in your agreements");
        assert!(text(&items, Notify::Off).is_none());
        let (_, detailed) = text(&items, Notify::Detailed).expect("some");
        assert!(detailed.contains("&lt;b&gt;Texts&lt;/b&gt;"), "{detailed}");
        assert!(!detailed.contains('\u{1b}') && !detailed.contains('\u{7}'));
        assert!(detailed.contains("Sam thanked you"));
        let pause = vec![item(WaitingKind::PauseEnded, "your pause has ended")];
        assert_eq!(
            text(&pause, Notify::Neutral).expect("some").1,
            "a timer you set has ended"
        );
        let many: Vec<Waiting> = (0..10)
            .map(|i| item(WaitingKind::Note, &format!("n{i}")))
            .collect();
        assert!(text(&many, Notify::Detailed)
            .expect("s")
            .1
            .ends_with("and 7 more: see `haven status`"));
    }
}
