//! Desktop notifications of what is waiting (see `model::waiting`), through the
//! freedesktop notification service on the session D-Bus.
//!
//! One notification per batch of news, never a nudge to write and never a streak. By
//! default it is neutral: it says what kind of thing arrived, never its content or a name
//! ("Haven: a thank-you", "Haven: 2 new things", "Haven: your pause has ended"), so a lock
//! screen shows nothing private, and a thank-you never reads as an alarm about the
//! agreements; `notify = "detailed"` in config.toml names who did what.
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
use haven_shared::model::waiting::{Area, Waiting, WaitingKind};

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
        return Some(("Haven".into(), neutral(items)));
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

/// What kinds of thing arrived, counted, with nothing from the items themselves:
/// "your pause has ended; a thank-you", "2 new things".
fn neutral(items: &[Waiting]) -> String {
    let count = |kind: WaitingKind| items.iter().filter(|w| w.kind == kind).count();
    let mut parts = Vec::new();
    match count(WaitingKind::PauseEnded) {
        0 => {}
        1 => parts.push("your pause has ended".to_string()),
        _ => parts.push("your pauses have ended".to_string()),
    }
    match count(WaitingKind::ReviewDue) {
        0 => {}
        1 => parts.push("an agreement is due for review".to_string()),
        n => parts.push(format!("{n} agreements are due for review")),
    }
    let news: Vec<&Waiting> = items
        .iter()
        .filter(|w| !matches!(w.kind, WaitingKind::PauseEnded | WaitingKind::ReviewDue))
        .collect();
    let n = news.len();
    let all = |kinds: &[WaitingKind]| news.iter().all(|w| kinds.contains(&w.kind));
    if n > 0 {
        let (one, many) = if all(&[WaitingKind::Thanks]) {
            ("a thank-you", "thank-yous")
        } else if all(&[WaitingKind::Note]) {
            ("a shared note", "shared notes")
        } else if all(&[WaitingKind::Answer]) {
            ("an answer to this week's question", "answers")
        } else if news.iter().all(|w| w.area() == Some(Area::Agreement)) {
            ("a change in your agreements", "changes in your agreements")
        } else {
            ("something new", "new things")
        };
        parts.push(if n == 1 {
            one.to_string()
        } else {
            format!("{n} {many}")
        });
    }
    parts.join("; ")
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
        deliver(&summary, &body).await;
    }
}

/// Sends one notification, within [`TIMEOUT`]; a bus or a service that is not there costs
/// a logged warning only.
pub async fn deliver(summary: &str, body: &str) {
    match tokio::time::timeout(TIMEOUT, send(summary, body)).await {
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

    fn item(kind: WaitingKind, what: &str) -> Waiting {
        Waiting {
            key: what.into(),
            kind,
            about: String::new(),
            what: what.into(),
            command: String::new(),
            at: haven_shared::when::now(),
            needs_answer: false,
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
        assert_eq!(neutral, "2 new things");
        assert!(text(&items, Notify::Off).is_none());
        let (_, detailed) = text(&items, Notify::Detailed).expect("some");
        assert!(detailed.contains("&lt;b&gt;Texts&lt;/b&gt;"), "{detailed}");
        assert!(!detailed.contains('\u{1b}') && !detailed.contains('\u{7}'));
        assert!(detailed.contains("Sam thanked you"));
        let pause = vec![item(WaitingKind::PauseEnded, "your pause has ended")];
        assert_eq!(
            text(&pause, Notify::Neutral).expect("some").1,
            "your pause has ended"
        );
        let many: Vec<Waiting> = (0..10)
            .map(|i| item(WaitingKind::Note, &format!("n{i}")))
            .collect();
        assert!(text(&many, Notify::Detailed)
            .expect("s")
            .1
            .ends_with("and 7 more: see `haven status`"));
    }

    #[test]
    fn neutral_says_what_kind_arrived_and_a_thank_you_is_not_an_agreement() {
        let neutral = |kinds: &[WaitingKind]| {
            let items: Vec<Waiting> = kinds
                .iter()
                .enumerate()
                .map(|(i, k)| item(*k, &format!("Sam private {i}")))
                .collect();
            text(&items, Notify::Neutral).expect("some").1
        };
        assert_eq!(neutral(&[WaitingKind::Thanks]), "a thank-you");
        assert_eq!(
            neutral(&[WaitingKind::Thanks, WaitingKind::Thanks]),
            "2 thank-yous"
        );
        assert_eq!(neutral(&[WaitingKind::Note]), "a shared note");
        assert_eq!(
            neutral(&[WaitingKind::Answer]),
            "an answer to this week's question"
        );
        assert_eq!(
            neutral(&[WaitingKind::Proposed, WaitingKind::Declined]),
            "2 changes in your agreements"
        );
        assert_eq!(
            neutral(&[WaitingKind::PauseEnded, WaitingKind::Thanks]),
            "your pause has ended; a thank-you"
        );
        assert_eq!(
            neutral(&[WaitingKind::ReviewDue, WaitingKind::ReviewDue]),
            "2 agreements are due for review"
        );
        for kinds in [
            &[WaitingKind::Note, WaitingKind::Proposed][..],
            &[WaitingKind::Withdrew],
        ] {
            assert!(!neutral(kinds).contains("Sam"), "no name, no content");
        }
    }
}
