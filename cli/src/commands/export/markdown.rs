//! The Markdown export.

use super::model::{day, Export, FOOTER};

pub fn render(x: &Export) -> String {
    let mut out = format!("# {}\n\n", x.title());
    if x.brief {
        out.push_str(&format!(
            "{} · {} entries · written with Haven\n\n",
            x.name,
            x.entries.len()
        ));
        let intensity = x.intensity();
        if !intensity.points.is_empty() {
            out.push_str("## Trigger intensity\n\n");
            out.push_str(&format!(
                "{} trigger entries, average intensity {:.1}, highest {}.\n\n`{}` (oldest to newest, 0 to 10)\n\n",
                intensity.points.len(),
                intensity.average(),
                intensity.highest(),
                intensity.sparkline()
            ));
        }
        out.push_str("## Entries\n\n");
    }
    for e in &x.entries {
        let level = if x.brief { "###" } else { "##" };
        out.push_str(&format!(
            "{level} {}\n\n*{}*\n\n{}\n\n",
            Export::heading(e),
            Export::meta(e),
            e.body.trim_end()
        ));
    }
    if !x.agreements.is_empty() {
        out.push_str("## Agreements in force\n\n");
        for a in &x.agreements {
            let review = a
                .review_on
                .map(|d| format!(", review on {}", d.format("%-d %B %Y")))
                .unwrap_or_default();
            out.push_str(&format!(
                "- **{}** ({}{review}): {}\n",
                a.title,
                a.status.label(),
                a.text.trim()
            ));
        }
        out.push('\n');
    }
    out.push_str("---\n\n");
    if let Some(r) = &x.redactions {
        out.push_str(&format!("Redacted: {}.\n\n", r.join(", ")));
    }
    out.push_str(&format!("Exported {}. {FOOTER}\n", day(&x.until)));
    out
}
