//! The HTML export: one self-contained file (no remote fonts, scripts or images) with an
//! inline SVG chart of trigger intensity, styled to print well.

use super::model::{day, Export, Intensity, FOOTER};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:Georgia,'DejaVu Serif',serif;max-width:42em;margin:2em auto;padding:0 1em;\
line-height:1.5;color:#222}h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;margin-top:2em}\
h3{font-size:1.05em;margin-bottom:.2em}.meta{color:#555;font-style:italic;margin-top:0}\
.body{white-space:pre-wrap}.entry{break-inside:avoid-page}h2,h3{break-after:avoid-page}\
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

pub fn render(x: &Export) -> String {
    let mut body = format!("<h1>{}</h1>\n", esc(&x.title()));
    if x.brief {
        body.push_str(&format!(
            "<p>{} · {} entries</p>\n",
            esc(&x.name),
            x.entries.len()
        ));
        let intensity = x.intensity();
        if !intensity.points.is_empty() {
            body.push_str(&format!(
                "<h2>Trigger intensity</h2>\n<p>{} trigger entries, average intensity {:.1}, highest {}.</p>\n{}\n",
                intensity.points.len(),
                intensity.average(),
                intensity.highest(),
                chart(&intensity)
            ));
        }
        body.push_str("<h2>Entries</h2>\n");
    }
    for e in &x.entries {
        body.push_str(&format!(
            "<section class=\"entry\"><h3>{}</h3><p class=\"meta\">{}</p><div class=\"body\">{}</div></section>\n",
            esc(&Export::heading(e)),
            esc(&Export::meta(e)),
            esc(e.body.trim_end())
        ));
    }
    if !x.agreements.is_empty() {
        body.push_str("<h2>Agreements in force</h2>\n<ul>\n");
        for a in &x.agreements {
            body.push_str(&format!(
                "<li><strong>{}</strong> ({}): {}</li>\n",
                esc(&a.title),
                a.status.label(),
                esc(a.text.trim())
            ));
        }
        body.push_str("</ul>\n");
    }
    let mut footer = String::new();
    if let Some(r) = &x.redactions {
        footer.push_str(&format!("<p>Redacted: {}.</p>", esc(&r.join(", "))));
    }
    footer.push_str(&format!(
        "<p>Exported {}. {}</p>",
        esc(&day(&x.until)),
        esc(FOOTER)
    ));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<footer>{footer}</footer>\n</body>\n</html>\n",
        esc(&x.title())
    )
}
