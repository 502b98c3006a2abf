//! The PDF export: A4 pages a person can hand over, with real (searchable, selectable)
//! text, page numbers, headings never left alone at the foot of a page, and a drawn chart
//! of trigger intensity.
//!
//! Fonts ship inside the binary, so any machine writes the same PDF: DejaVu Sans (Latin,
//! Greek, Cyrillic and more) with its bold for headings, then Droid Sans Fallback
//! (Chinese, Japanese) and NanumSquare (Korean) for what DejaVu lacks. Each character takes the first face that has
//! it; krilla embeds only the glyphs used. Layout is done here (greedy line breaking on
//! spaces, and between CJK characters, which need none), because the text is plain and a
//! layout engine would be most of the binary.

use haven_shared::model::insights::Insights;
use haven_shared::model::Did;

use crate::insights_view as insights;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use skrifa::instance::{LocationRef, Size};
use skrifa::MetadataProvider;

use super::model::{day, Export, Intensity, AGREEMENT_GROUPS, FOOTER};
use super::summary::Section;

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
static FALLBACK: &[u8] = include_bytes!("../../../assets/fonts/DroidSansFallbackFull.ttf");
static HANGUL: &[u8] = include_bytes!("../../../assets/fonts/NanumSquareR.ttf");

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
/// Where text stops: room is kept below for the page number.
const BOTTOM: f32 = PAGE_H - MARGIN;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
    Fallback,
    Hangul,
}

impl Face {
    const ALL: [Face; 4] = [Face::Regular, Face::Bold, Face::Fallback, Face::Hangul];

    fn data(self) -> &'static [u8] {
        match self {
            Face::Regular => REGULAR,
            Face::Bold => BOLD,
            Face::Fallback => FALLBACK,
            Face::Hangul => HANGUL,
        }
    }
}

/// Glyph lookup and advances for the faces, remembered per character: a brief of
/// hundreds of entries measures the same few hundred characters again and again.
struct Metrics {
    fonts: Vec<skrifa::FontRef<'static>>,
    /// (character, bold) → the face that draws it and its advance at size 1.
    known: std::cell::RefCell<std::collections::HashMap<(char, bool), (Face, f32)>>,
}

impl Metrics {
    fn new() -> Option<Metrics> {
        let fonts = Face::ALL
            .iter()
            .map(|f| skrifa::FontRef::new(f.data()).ok())
            .collect::<Option<Vec<_>>>()?;
        Some(Metrics {
            fonts,
            known: Default::default(),
        })
    }

    fn font(&self, face: Face) -> &skrifa::FontRef<'static> {
        &self.fonts[face as usize]
    }

    /// The face that draws `c` (the primary one if it has the glyph, else the first
    /// fallback that does) and its advance at size 1.
    fn glyph(&self, c: char, bold: bool) -> (Face, f32) {
        if let Some(known) = self.known.borrow().get(&(c, bold)) {
            return *known;
        }
        let primary = if bold { Face::Bold } else { Face::Regular };
        let face = if c.is_whitespace() {
            primary
        } else {
            [primary, Face::Fallback, Face::Hangul]
                .into_iter()
                .find(|f| self.font(*f).charmap().map(c).is_some())
                .unwrap_or(primary)
        };
        let font = self.font(face);
        let glyph = font.charmap().map(c).unwrap_or_default();
        let advance = font
            .glyph_metrics(Size::new(1.0), LocationRef::default())
            .advance_width(glyph)
            .unwrap_or(0.5);
        self.known.borrow_mut().insert((c, bold), (face, advance));
        (face, advance)
    }

    fn face_for(&self, c: char, bold: bool) -> Face {
        self.glyph(c, bold).0
    }

    fn width(&self, text: &str, bold: bool, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c, bold).1).sum::<f32>() * size
    }

    /// `text` cut into runs that each use one face.
    fn runs(&self, text: &str, bold: bool) -> Vec<(Face, String)> {
        let mut runs: Vec<(Face, String)> = Vec::new();
        for c in text.chars() {
            let face = self.face_for(c, bold);
            match runs.last_mut() {
                Some((f, s)) if *f == face => s.push(c),
                _ => runs.push((face, c.to_string())),
            }
        }
        runs
    }
}

/// Characters of scripts written without spaces: a line may break before any of them.
fn breaks_anywhere(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF
        | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Breaks one paragraph into lines no wider than `max`.
fn wrap(m: &Metrics, text: &str, bold: bool, size: f32, max: f32) -> Vec<String> {
    // Tokens: words (with whether a space came before) and single CJK characters.
    let mut tokens: Vec<(bool, String)> = Vec::new();
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        let joins = !space
            && !breaks_anywhere(c)
            && tokens
                .last()
                .and_then(|(_, t)| t.chars().last())
                .is_some_and(|last| !breaks_anywhere(last));
        if joins {
            if let Some((_, t)) = tokens.last_mut() {
                t.push(c);
            }
        } else {
            tokens.push((space, c.to_string()));
        }
        space = false;
    }
    let space_w = m.width(" ", bold, size);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_w = 0.0;
    for (space, token) in tokens {
        let token_w = m.width(&token, bold, size);
        let joined_w = if line.is_empty() {
            token_w
        } else {
            line_w + token_w + if space { space_w } else { 0.0 }
        };
        if joined_w <= max || line.is_empty() {
            if !line.is_empty() && space {
                line.push(' ');
            }
            line.push_str(&token);
            line_w = joined_w;
        } else {
            lines.push(std::mem::take(&mut line));
            line = token;
            line_w = token_w;
        }
        // A word longer than the whole line is cut where it must be.
        while line_w > max && line.chars().count() > 1 {
            let mut head = String::new();
            let mut head_w = 0.0;
            for c in line.chars() {
                let w = m.width(c.encode_utf8(&mut [0; 4]), bold, size);
                if !head.is_empty() && head_w + w > max {
                    break;
                }
                head.push(c);
                head_w += w;
            }
            line = line.get(head.len()..).unwrap_or_default().to_string();
            line_w = m.width(&line, bold, size);
            lines.push(head);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Something to draw, placed on a page.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        gray: u8,
        text: String,
    },
    /// A polyline (the chart's axes and its line).
    Line {
        points: Vec<(f32, f32)>,
        width: f32,
        gray: u8,
    },
    Dot {
        x: f32,
        y: f32,
    },
}

/// Lays blocks out top to bottom, page after page.
struct Layout {
    m: Metrics,
    pages: Vec<Vec<Op>>,
    y: f32,
}

struct Style {
    size: f32,
    bold: bool,
    gray: u8,
}

const BODY: Style = Style {
    size: 10.5,
    bold: false,
    gray: 0x22,
};
const META: Style = Style {
    size: 9.5,
    bold: false,
    gray: 0x66,
};
const SMALL: Style = Style {
    size: 8.5,
    bold: false,
    gray: 0x66,
};
const FIELD: Style = Style {
    size: 10.5,
    bold: true,
    gray: 0x22,
};
const H1: Style = Style {
    size: 18.0,
    bold: true,
    gray: 0x11,
};
const H2: Style = Style {
    size: 13.5,
    bold: true,
    gray: 0x11,
};
const H3: Style = Style {
    size: 11.5,
    bold: true,
    gray: 0x11,
};

fn leading(s: &Style) -> f32 {
    s.size * 1.45
}

impl Layout {
    fn new(m: Metrics) -> Layout {
        Layout {
            m,
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Starts a new page unless `height` more fits on this one.
    fn keep(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > MARGIN {
            self.new_page();
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn lines(&self, text: &str, s: &Style) -> Vec<String> {
        text.split('\n')
            .flat_map(|p| wrap(&self.m, p, s.bold, s.size, TEXT_W))
            .collect()
    }

    fn text(&mut self, text: &str, s: &Style) {
        for line in self.lines(text, s) {
            self.keep(leading(s));
            self.y += leading(s);
            let y = self.y - leading(s) * 0.3;
            self.push(Op::Text {
                x: MARGIN,
                y,
                size: s.size,
                bold: s.bold,
                gray: s.gray,
                text: line,
            });
        }
    }

    /// A heading, kept on one page with `then` points of what follows it.
    fn heading(&mut self, text: &str, s: &Style, then: f32) {
        self.y += s.size * 0.8;
        let height = self.lines(text, s).len() as f32 * leading(s);
        self.keep(height + then);
        self.text(text, s);
        self.y += s.size * 0.2;
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// The axes of a 0–10 chart, labelled.
    fn axes(&mut self, left: f32, top: f32, bottom: f32, right: f32) {
        self.push(Op::Line {
            points: vec![(left, top), (left, bottom), (right, bottom)],
            width: 0.6,
            gray: 0x99,
        });
        for (label, y) in [("10", top + 3.0), ("0", bottom + 3.0)] {
            self.push(Op::Text {
                x: MARGIN,
                y,
                size: SMALL.size,
                bold: false,
                gray: SMALL.gray,
                text: label.into(),
            });
        }
    }

    /// Trigger intensity (0–10) over time: axes, a line and a dot per entry.
    fn chart(&mut self, intensity: &Intensity) {
        let points = &intensity.points;
        let (h, left) = (110.0, MARGIN + 18.0);
        self.keep(h + leading(&SMALL) * 2.0);
        let (top, bottom, right) = (self.y + 6.0, self.y + h, MARGIN + TEXT_W);
        let xy: Vec<(f32, f32)> = intensity
            .positions(left.into(), right.into(), top.into(), bottom.into())
            .into_iter()
            .map(|(x, y)| (x as f32, y as f32))
            .collect();
        self.axes(left, top, bottom, right);
        if xy.len() > 1 {
            self.push(Op::Line {
                points: xy.clone(),
                width: 1.5,
                gray: 0x33,
            });
        }
        for (x, y) in xy {
            self.push(Op::Dot { x, y });
        }
        self.y = bottom + 4.0;
        if let (Some(a), Some(b)) = (points.first(), points.last()) {
            let dates = format!("{} … {}", a.0.format("%-d %b %Y"), b.0.format("%-d %b %Y"));
            self.text(&dates, &SMALL);
        }
    }
}

impl Layout {
    /// Week by week, the mean intensity when written (dark) and once passed (light), as
    /// bars from 0 to 10 (a bar is a thick line).
    fn weekly_bars(&mut self, x: &Insights) {
        let weeks = &x.triggers.by_week;
        if x.triggers.count == 0 || weeks.is_empty() {
            return;
        }
        let (h, left) = (90.0, MARGIN + 18.0);
        self.keep(h + leading(&SMALL) * 2.0);
        let (top, bottom, right) = (self.y + 6.0, self.y + h, MARGIN + TEXT_W);
        self.axes(left, top, bottom, right);
        let slot = (right - left - 4.0) / weeks.len() as f32;
        let bar = (slot * 0.4).clamp(0.8, 12.0);
        for (i, week) in weeks.iter().enumerate() {
            let x0 = left + 4.0 + slot * i as f32 + bar / 2.0;
            for (j, (value, gray)) in [(week.mean_intensity, 0x33), (week.mean_after, 0xaa)]
                .into_iter()
                .enumerate()
            {
                if let Some(v) = value {
                    let xb = x0 + bar * j as f32;
                    let y = bottom - (bottom - top) * (v as f32) / 10.0;
                    self.push(Op::Line {
                        points: vec![(xb, bottom), (xb, y)],
                        width: bar,
                        gray,
                    });
                }
            }
        }
        self.y = bottom + 4.0;
        if let (Some(a), Some(b)) = (weeks.first(), weeks.last()) {
            let caption = format!(
                "Week by week, {} to {}: dark when written, light once it had passed.",
                a.week, b.week
            );
            self.text(&caption, &SMALL);
        }
    }

    /// What the person did, as horizontal bars with their counts.
    fn did_bars(&mut self, x: &Insights) {
        let most = Did::ALL.iter().map(|d| x.did.get(*d)).max().unwrap_or(0);
        if most == 0 {
            return;
        }
        self.keep(leading(&BODY) * 4.5);
        self.gap(4.0);
        for d in Did::ALL {
            let n = x.did.get(d);
            self.y += leading(&BODY);
            let y = self.y - leading(&BODY) * 0.3;
            self.push(Op::Text {
                x: MARGIN,
                y,
                size: BODY.size,
                bold: false,
                gray: BODY.gray,
                text: d.as_str().into(),
            });
            let start = MARGIN + 80.0;
            let len = (TEXT_W - 120.0) * n as f32 / most as f32;
            if n > 0 {
                self.push(Op::Line {
                    points: vec![(start, y - 3.5), (start + len, y - 3.5)],
                    width: 8.0,
                    gray: 0x33,
                });
            }
            self.push(Op::Text {
                x: start + len + 6.0,
                y,
                size: BODY.size,
                bold: false,
                gray: BODY.gray,
                text: n.to_string(),
            });
        }
    }
}

/// Renders the export as PDF bytes.
pub fn render(x: &Export) -> Result<Vec<u8>, String> {
    let metrics = Metrics::new().ok_or("the bundled fonts cannot be read")?;
    let mut l = Layout::new(metrics);
    l.text(&x.title(), &H1);
    if x.brief {
        first_page(&mut l, x);
    }
    if !x.summary_only {
        appendix(&mut l, x);
    }
    l.gap(14.0);
    if let Some(r) = &x.redactions {
        l.text(&format!("Redacted: {}.", r.join(", ")), &META);
    }
    l.text(&format!("Exported {}. {FOOTER}", day(&x.exported)), &META);
    draw(l, &x.title())
}

/// The brief's first page: what to bring, what changed, the hardest moments, the pauses,
/// the agreements that changed; the appendix starts on a page of its own, with the
/// figures and charts of the whole period.
fn first_page(l: &mut Layout, x: &Export) {
    l.text(
        &format!("{} · {} · written with Haven", x.name, x.entry_count()),
        &META,
    );
    if let Some(s) = x.to_bring() {
        section(l, &s);
    }
    // What changed between the two parts of the range, in words; the whole range's
    // figures and charts open the appendix, so the summary fits on one page.
    let (opening, rest) = x.changed().map(insights::opening).unwrap_or_default();
    if !opening.is_empty() {
        l.heading("What changed", &H2, 3.0 * leading(&BODY));
        for s in opening {
            l.text(&s, &BODY);
            l.gap(3.0);
        }
    }
    for s in x.summary() {
        section(l, &s);
    }
    if !x.summary_only {
        l.new_page();
        if let Some(changed) = x.changed() {
            l.heading("The whole period", &H2, 3.0 * leading(&BODY));
            for s in rest {
                l.text(&s, &BODY);
                l.gap(3.0);
            }
            l.weekly_bars(changed);
            l.did_bars(changed);
            for line in insights::chart_words(changed) {
                l.text(&line, &META);
            }
        }
        let intensity = x.intensity();
        if !intensity.points.is_empty() {
            l.heading("Trigger intensity", &H2, 140.0);
            l.text(&intensity.summary(), &BODY);
            l.chart(&intensity);
        }
        l.heading(
            "Entries",
            &H2,
            leading(&H3) + leading(&META) + 2.0 * leading(&BODY),
        );
    }
}

fn section(l: &mut Layout, s: &Section) {
    l.heading(s.heading, &H2, 2.0 * leading(&BODY));
    for line in &s.lines {
        l.text(&format!("• {line}"), &BODY);
    }
}

/// The entries, the agreements and the thanks.
fn appendix(l: &mut Layout, x: &Export) {
    for e in &x.entries {
        if x.brief {
            // The heading, its meta line and two lines of the text stay together.
            l.heading(
                &Export::heading(e),
                &H3,
                leading(&META) + 2.0 * leading(&BODY),
            );
        }
        l.text(&Export::meta(e), &META);
        l.gap(3.0);
        for (heading, text) in x.blocks(e) {
            if let Some(h) = heading {
                l.heading(h, &FIELD, leading(&BODY));
            }
            l.text(&text, &BODY);
        }
    }
    agreements_and_thanks(l, x);
}

fn gray(v: u8) -> krilla::paint::Paint {
    rgb::Color::new(v, v, v).into()
}

/// One drawing operation onto a page.
fn paint(s: &mut Surface, op: &Op, m: &Metrics, fonts: &[Font]) {
    match op {
        Op::Text {
            x,
            y,
            size,
            bold,
            gray: g,
            text,
        } => {
            s.set_fill(Some(Fill {
                paint: gray(*g),
                ..Fill::default()
            }));
            let mut at = *x;
            for (face, run) in m.runs(text, *bold) {
                s.draw_text(
                    Point::from_xy(at, *y),
                    fonts[face as usize].clone(),
                    *size,
                    &run,
                    false,
                    TextDirection::Auto,
                );
                at += m.width(&run, *bold, *size);
            }
        }
        Op::Line {
            points,
            width,
            gray: g,
        } => {
            let mut pb = PathBuilder::new();
            for (i, (px, py)) in points.iter().enumerate() {
                if i == 0 {
                    pb.move_to(*px, *py);
                } else {
                    pb.line_to(*px, *py);
                }
            }
            if let Some(path) = pb.finish() {
                s.set_fill(None);
                s.set_stroke(Some(Stroke {
                    paint: gray(*g),
                    width: *width,
                    ..Stroke::default()
                }));
                s.draw_path(&path);
                s.set_stroke(None);
            }
        }
        Op::Dot { x, y } => {
            let mut pb = PathBuilder::new();
            if let Some(r) = krilla::geom::Rect::from_xywh(x - 2.0, y - 2.0, 4.0, 4.0) {
                pb.push_rect(r);
            }
            if let Some(path) = pb.finish() {
                s.set_fill(Some(Fill {
                    paint: gray(0x33),
                    ..Fill::default()
                }));
                s.draw_path(&path);
            }
        }
    }
}

fn draw(l: Layout, title: &str) -> Result<Vec<u8>, String> {
    let fonts = Face::ALL
        .iter()
        .map(|f| Font::new(f.data().into(), 0))
        .collect::<Option<Vec<Font>>>()
        .ok_or("the bundled fonts cannot be read")?;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .creator("Haven".to_string()),
    );
    let total = l.pages.len();
    let size = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("bad page size")?;
    for (n, ops) in l.pages.iter().enumerate() {
        let mut page = doc.start_page_with(size.clone());
        let mut s = page.surface();
        let number = format!("Page {} of {total}", n + 1);
        let number_x = (PAGE_W - l.m.width(&number, false, SMALL.size)) / 2.0;
        let footer = Op::Text {
            x: number_x,
            y: PAGE_H - MARGIN / 2.0,
            size: SMALL.size,
            bold: false,
            gray: SMALL.gray,
            text: number,
        };
        for op in ops.iter().chain(std::iter::once(&footer)) {
            paint(&mut s, op, &l.m, &fonts);
        }
        s.finish();
        page.finish();
    }
    doc.finish()
        .map_err(|e| format!("cannot write the PDF: {e:?}"))
}

/// The agreements in force, those said no to in the period (with their words), and the
/// partner's thanks when asked for.
fn agreements_and_thanks(l: &mut Layout, x: &Export) {
    for (heading, in_force) in AGREEMENT_GROUPS {
        let mut group = x.agreements(in_force).peekable();
        if group.peek().is_none() {
            continue;
        }
        l.heading(heading, &H2, 2.0 * leading(&BODY));
        for a in group {
            l.text(
                &format!("• {} ({}): {}", a.title, a.status.label(), a.text.trim()),
                &BODY,
            );
            for words in Export::agreement_words(a) {
                l.text(&format!("   {words}"), &META);
            }
        }
    }
    if !x.thanks.is_empty() {
        l.heading("Appreciations received", &H2, 2.0 * leading(&BODY));
        for n in &x.thanks {
            l.text(
                &format!("• {} ({}): {}", n.by, day(&n.at), n.text.trim()),
                &BODY,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fit_and_keep_every_character() {
        let m = Metrics::new().expect("fonts");
        let text = "Ich hätte gern gewusst, ob es dir gut geht. 今日は返事がなくて不安だった。我需要你告诉我你没事。 averyveryveryveryveryveryveryveryveryveryveryverylongword";
        let lines = wrap(&m, text, false, 10.5, 120.0);
        assert!(lines.len() > 3, "{lines:?}");
        for l in &lines {
            assert!(m.width(l, false, 10.5) <= 120.0 + 0.01, "{l:?} is too wide");
        }
        let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert_eq!(squeeze(&lines.concat()), squeeze(text));
        assert_eq!(wrap(&m, "", false, 10.5, 100.0), vec![String::new()]);
    }

    #[test]
    fn each_character_gets_a_face_that_has_it() {
        let m = Metrics::new().expect("fonts");
        assert!(m.face_for('ä', false) == Face::Regular);
        assert!(m.face_for('ä', true) == Face::Bold);
        assert!(m.face_for('今', false) == Face::Fallback);
        assert!(m.face_for('한', false) == Face::Hangul);
        let runs = m.runs("Hallo 世界!", false);
        assert_eq!(runs.len(), 3);
        assert!(runs[1].0 == Face::Fallback && runs[1].1 == "世界");
    }
}
