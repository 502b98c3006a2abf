//! The HTML export: one self-contained file (no remote fonts, scripts or images) with an
//! inline SVG chart of trigger intensity, styled to print well.

use haven_shared::model::insights::Insights;
use haven_shared::model::Did;

use super::model::{day, Export, Intensity, AGREEMENT_GROUPS, FOOTER};
use super::summary::Section;
use crate::insights_view as insights;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:Georgia,'DejaVu Serif',serif;max-width:42em;margin:2em auto;padding:0 1em;\
line-height:1.5;color:#222}h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;margin-top:2em}\
h3{font-size:1.05em;margin-bottom:.2em}.meta{color:#555;font-style:italic;margin-top:0}\
.body{white-space:pre-wrap}.field{font-weight:bold;margin:.6em 0 0}.entry{break-inside:avoid-page}h2,h3{break-after:avoid-page}\
footer{margin-top:3em;border-top:1px solid #ccc;color:#555;font-size:.9em}svg{max-width:100%}\
@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}}";

/// A small line chart of intensity (0 to 10) over time, as inline SVG.
fn chart(intensity: &Intensity) -> String {
    let (w, h, pad) = (600.0, 160.0, 24.0);
    let xy = intensity.positions(pad, w - pad, pad, h - pad);
    let line: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let dots: String = xy
        .iter()
        .map(|(x, y)| format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\"/>"))
        .collect();
    format!(
        "<svg role=\"img\" aria-label=\"Trigger intensity over the range\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\">\
<line x1=\"{pad}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#999\"/><line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{y0}\" stroke=\"#999\"/>\
<text x=\"2\" y=\"{pad}\" font-size=\"10\">10</text><text x=\"8\" y=\"{y0}\" font-size=\"10\">0</text>\
<polyline fill=\"none\" stroke=\"#335\" stroke-width=\"2\" points=\"{}\"/><g fill=\"#335\">{dots}</g></svg>",
        line.join(" "),
        y0 = h - pad,
        x1 = w - pad,
    )
}

/// Week by week, the mean intensity when written (dark) and once passed (light), as bars
/// from 0 to 10; and what the person did, as horizontal bars.
fn changed_charts(x: &Insights) -> String {
    let mut out = String::new();
    let weeks = &x.triggers.by_week;
    if x.triggers.count > 0 && !weeks.is_empty() {
        let (w, h, pad) = (600.0_f64, 150.0_f64, 24.0_f64);
        let slot = (w - 2.0 * pad) / weeks.len() as f64;
        let bar_w = (slot * 0.4).max(1.0);
        let y0 = h - pad;
        let scale = (h - 2.0 * pad) / 10.0;
        let mut bars = String::new();
        for (i, week) in weeks.iter().enumerate() {
            let x0 = pad + slot * i as f64;
            for (j, (value, fill)) in [(week.mean_intensity, "#335"), (week.mean_after, "#9ab")]
                .into_iter()
                .enumerate()
            {
                if let Some(v) = value {
                    let bh = v * scale;
                    bars.push_str(&format!(
                        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{bh:.1}\" fill=\"{fill}\"><title>{} {}: {v:.1}</title></rect>",
                        x0 + bar_w * j as f64,
                        y0 - bh,
                        esc(&week.week),
                        if j == 0 { "when written" } else { "once passed" },
                    ));
                }
            }
        }
        out.push_str(&format!(
            "<svg role=\"img\" aria-label=\"Mean intensity week by week, when written and once passed\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\">\
<line x1=\"{pad}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#999\"/><text x=\"2\" y=\"{pad}\" font-size=\"10\">10</text><text x=\"8\" y=\"{y0}\" font-size=\"10\">0</text>{bars}</svg>\n\
<p class=\"meta\">Week by week, {} to {}: dark when written, light once it had passed.</p>\n",
            weeks.first().map_or(String::new(), |w| esc(&w.week)),
            weeks.last().map_or(String::new(), |w| esc(&w.week)),
            x1 = w - pad,
        ));
    }
    let most = Did::ALL.iter().map(|d| x.did.get(*d)).max().unwrap_or(0);
    if most > 0 {
        let rows: String = Did::ALL
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let n = x.did.get(*d);
                let y = 4.0 + 22.0 * i as f64;
                let len = 360.0 * n as f64 / most as f64;
                format!(
                    "<text x=\"0\" y=\"{:.0}\" font-size=\"12\">{}</text><rect x=\"100\" y=\"{y:.0}\" width=\"{len:.1}\" height=\"14\" fill=\"#335\"/><text x=\"{:.1}\" y=\"{:.0}\" font-size=\"12\">{n}</text>",
                    y + 12.0,
                    d.as_str(),
                    106.0 + len,
                    y + 12.0
                )
            })
            .collect();
        out.push_str(&format!(
            "<svg role=\"img\" aria-label=\"What you did\" viewBox=\"0 0 600 92\" width=\"600\" height=\"92\">{rows}</svg>\n"
        ));
    }
    out
}

fn section(s: &Section) -> String {
    let items: String = s
        .lines
        .iter()
        .map(|l| format!("<li>{}</li>\n", esc(l)))
        .collect();
    format!("<h2>{}</h2>\n<ul>\n{items}</ul>\n", esc(s.heading))
}

/// The brief's first page: what to bring, what changed, the hardest moments, the pauses,
/// the agreements that changed.
fn first_page(x: &Export) -> String {
    let mut body = format!("<p>{} · {}</p>\n", esc(&x.name), x.entry_count());
    if let Some(s) = x.to_bring() {
        body.push_str(&section(&s));
    }
    if let Some(changed) = x.changed() {
        body.push_str("<h2>What changed</h2>\n");
        for s in insights::sentences(changed) {
            body.push_str(&format!("<p>{}</p>\n", esc(&s)));
        }
        body.push_str(&changed_charts(changed));
        for line in insights::chart_words(changed) {
            body.push_str(&format!("<p>{}</p>\n", esc(&line)));
        }
    }
    for s in x.summary() {
        body.push_str(&section(&s));
    }
    body
}

pub fn render(x: &Export) -> String {
    let mut body = format!("<h1>{}</h1>\n", esc(&x.title()));
    if x.brief {
        body.push_str(&first_page(x));
        if !x.summary_only {
            let intensity = x.intensity();
            if !intensity.points.is_empty() {
                body.push_str(&format!(
                    "<h2>Trigger intensity</h2>\n<p>{}</p>\n{}\n",
                    intensity.summary(),
                    chart(&intensity)
                ));
            }
            body.push_str("<h2>Entries</h2>\n");
        }
    }
    body.push_str(&appendix(x));
    let mut footer = String::new();
    if let Some(r) = &x.redactions {
        footer.push_str(&format!("<p>Redacted: {}.</p>", esc(&r.join(", "))));
    }
    footer.push_str(&format!(
        "<p>Exported {}. {}</p>",
        esc(&day(&x.exported)),
        esc(FOOTER)
    ));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<footer>{footer}</footer>\n</body>\n</html>\n",
        esc(&x.title())
    )
}

/// The entries, the agreements and the thanks (nothing with `--summary`).
fn appendix(x: &Export) -> String {
    let mut body = String::new();
    if x.summary_only {
        return body;
    }
    for e in &x.entries {
        let text: String = x
            .blocks(e)
            .into_iter()
            .map(|(heading, text)| {
                let h = heading
                    .map(|h| format!("<p class=\"field\">{}</p>", esc(h)))
                    .unwrap_or_default();
                format!("{h}<div class=\"body\">{}</div>", esc(&text))
            })
            .collect();
        body.push_str(&format!(
            "<section class=\"entry\"><h3>{}</h3><p class=\"meta\">{}</p>{text}</section>\n",
            esc(&Export::heading(e)),
            esc(&Export::meta(e)),
        ));
    }
    body.push_str(&agreements(x));
    if !x.thanks.is_empty() {
        body.push_str("<h2>Appreciations received</h2>\n<ul>\n");
        for n in &x.thanks {
            body.push_str(&format!(
                "<li><strong>{}</strong> ({}): {}</li>\n",
                esc(&n.by),
                esc(&day(&n.at)),
                esc(n.text.trim())
            ));
        }
        body.push_str("</ul>\n");
    }
    body
}

/// The agreements in force, then those said no to in the period, with their words.
fn agreements(x: &Export) -> String {
    let mut body = String::new();
    for (heading, in_force) in AGREEMENT_GROUPS {
        let mut group = x.agreements(in_force).peekable();
        if group.peek().is_none() {
            continue;
        }
        body.push_str(&format!("<h2>{heading}</h2>\n<ul>\n"));
        for a in group {
            let words: String = Export::agreement_words(a)
                .iter()
                .map(|w| format!("<br><em>{}</em>", esc(w)))
                .collect();
            body.push_str(&format!(
                "<li><strong>{}</strong> ({}): {}{words}</li>\n",
                esc(&a.title),
                a.status.label(),
                esc(a.text.trim())
            ));
        }
        body.push_str("</ul>\n");
    }
    body
}
