//! A guided screen in the terminal, for `haven now`: text word-wrapped to the window's
//! width and redrawn when it is resized, keys read one at a time (Enter goes on, Esc or
//! Ctrl-C stops), and a breathing pacer drawn in one line.
//!
//! It runs in the terminal's alternate screen, in raw mode; [`Screen`] puts both back when
//! dropped, whatever way the flow ends (a key, an error, a panic unwinding), so the shell
//! is never left without echo. A hang-up or a TERM ends the process from the signal
//! handler itself, after putting the terminal's saved settings back with calls that are
//! safe there (`tcsetattr`, `write`, `_exit`): a loop waiting on a terminal that is gone
//! may never come back to look at a flag.

use std::io::Write;
use std::time::{Duration, Instant};

use crossterm::{cursor, style, terminal, QueueableCommand};

use crate::error::{io_error, CliResult};

/// What the person did on a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Enter (or space): go on.
    Next,
    /// Esc, Ctrl-C or q: stop now.
    Stop,
    /// h: hide (or show again) what a screen can hide.
    Hide,
    /// Any other key.
    Other,
}

/// The signals that end a guided flow: a hang-up (the terminal closed), a TERM, and an INT
/// sent by `kill` (Ctrl-C itself is a key in raw mode, not a signal).
const SIGNALS: [i32; 3] = crate::signals::TERMINATING;

/// How often the screen looks at the clock, the window size and the signals.
pub const TICK: Duration = Duration::from_millis(100);

/// Where a breath is at a moment: in or out, how full the bar is, which breath.
pub struct Breath {
    pub word: &'static str,
    pub fill: f64,
    pub number: u32,
}

impl Breath {
    /// The breath `t` seconds after the pacer began, breathing in for `inhale` seconds
    /// and out for `exhale`.
    pub fn at(t: f64, inhale: u32, exhale: u32) -> Breath {
        let (inhale, exhale) = (f64::from(inhale.max(1)), f64::from(exhale.max(1)));
        let cycle = inhale + exhale;
        let within = t % cycle;
        let (word, fill) = if within < inhale {
            ("in", within / inhale)
        } else {
            ("out", 1.0 - (within - inhale) / exhale)
        };
        Breath {
            word,
            fill,
            number: (t / cycle) as u32 + 1,
        }
    }

    /// `breathe in  ████████····<after>` in at most `width` columns: the word alone in a
    /// very narrow window.
    pub fn line(&self, width: usize, after: &str) -> String {
        let label = format!("breathe {:<3} ", self.word);
        let room = width
            .saturating_sub(label.chars().count() + after.chars().count() + 1)
            .min(40);
        let filled = ((room as f64) * self.fill.clamp(0.0, 1.0)).round() as usize;
        let line = format!(
            "{label}{}{}{after}",
            "█".repeat(filled),
            "·".repeat(room - filled.min(room))
        );
        if line.chars().count() >= width {
            return self.word.to_string();
        }
        line
    }
}

pub struct Screen {
    out: std::io::Stderr,
    /// The screen's own signal actions, removed when it closes.
    actions: Vec<signal_hook::SigId>,
    /// The first row [`Screen::live`] draws on: below the text of the page.
    live_row: u16,
    /// The window's size when the page was last drawn.
    drawn_size: (u16, u16),
}

impl Screen {
    /// Takes the terminal: the alternate screen, raw mode, the cursor hidden.
    pub fn open() -> CliResult<Screen> {
        // SAFETY: tcgetattr writes into the termios it is given; a zeroed termios is a
        // valid value of the plain C struct.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut saved) } != 0 {
            return Err(io_error(
                "cannot use the terminal",
                std::io::Error::last_os_error(),
            ));
        }
        crate::signals::default_action(false);
        let mut actions = Vec::new();
        for sig in SIGNALS {
            // SAFETY: the handler calls only async-signal-safe functions.
            let id = unsafe {
                signal_hook::low_level::register(sig, move || {
                    const BACK: &[u8] = b"\x1b[?25h\x1b[?1049l";
                    libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved);
                    libc::write(libc::STDERR_FILENO, BACK.as_ptr().cast(), BACK.len());
                    libc::_exit(128 + sig);
                })
            };
            match id {
                Ok(id) => actions.push(id),
                Err(e) => {
                    actions.into_iter().for_each(|id| {
                        signal_hook::low_level::unregister(id);
                    });
                    crate::signals::default_action(true);
                    return Err(io_error("cannot install signal handlers", e));
                }
            }
        }
        terminal::enable_raw_mode().map_err(|e| io_error("cannot use the terminal", e))?;
        let mut screen = Screen {
            actions,
            out: std::io::stderr(),
            live_row: 0,
            drawn_size: (0, 0),
        };
        let _ = screen
            .out
            .queue(terminal::EnterAlternateScreen)
            .and_then(|o| o.queue(cursor::Hide))
            .and_then(|o| o.flush());
        Ok(screen)
    }

    /// Shows `text` (paragraphs split by blank lines, each word-wrapped to the window) with
    /// `footer` on its own line below, and waits for a key. Redrawn when the window changes.
    pub fn page(&mut self, text: &str, footer: &str) -> Key {
        self.frame(text, footer, 0);
        loop {
            match self.wait(TICK) {
                Waited::Key(Key::Other | Key::Hide) | Waited::Nothing => {}
                Waited::Key(k) => return k,
                Waited::Resized => self.frame(text, footer, 0),
            }
        }
    }

    /// Breathes with the person: `inhale` seconds in, `exhale` out, `breaths` times, a bar
    /// that fills on the way in and empties on the way out. Enter ends it early (and goes
    /// on), Esc stops the flow.
    pub fn pacer(&mut self, text: &str, inhale: u32, exhale: u32, breaths: u32) -> Key {
        let started = Instant::now();
        let total = f64::from(inhale + exhale) * f64::from(breaths);
        const FOOTER: &str = "Enter: go on   Esc: stop";
        self.frame(text, FOOTER, 1);
        loop {
            let t = started.elapsed().as_secs_f64();
            if t >= total {
                return Key::Next;
            }
            let breath = Breath::at(t, inhale, exhale);
            let count = format!(" {} of {breaths}", breath.number);
            let line = breath.line(self.width(), &count);
            self.live(0, &line);
            match self.wait(TICK) {
                Waited::Key(Key::Other | Key::Hide) | Waited::Nothing => {}
                Waited::Key(k) => return k,
                Waited::Resized => self.frame(text, FOOTER, 1),
            }
        }
    }

    /// The window's width in columns.
    pub fn width(&self) -> usize {
        usize::from(terminal::size().unwrap_or((80, 24)).0)
    }

    /// Draws `line` on the `row`th live row under the page's text (see [`Screen::frame`]),
    /// cut to the window's width.
    pub fn live(&mut self, row: u16, line: &str) {
        let width = self.width().saturating_sub(1).max(1);
        let line: String = line.chars().take(width).collect();
        let _ = self
            .out
            .queue(cursor::MoveTo(0, self.live_row.saturating_add(row)))
            .and_then(|o| o.queue(terminal::Clear(terminal::ClearType::CurrentLine)))
            .and_then(|o| o.queue(style::Print(line)))
            .and_then(|o| o.flush());
    }

    /// The page: its text, a blank line, `live_rows` rows that [`Screen::live`] fills
    /// (and a blank after them), then the footer. The text may quote the partner's device
    /// (an agreement's title): escape sequences are shown, never obeyed.
    pub fn frame(&mut self, text: &str, footer: &str, live_rows: u16) {
        let (width, height) = terminal::size().unwrap_or((80, 24));
        self.drawn_size = (width, height);
        let (lines, live_row) = page(text, footer, usize::from(width.max(8)) - 1, live_rows);
        self.live_row = live_row;
        let _ = self
            .out
            .queue(terminal::Clear(terminal::ClearType::All))
            .and_then(|o| o.queue(cursor::MoveTo(0, 0)));
        for (row, line) in lines.iter().take(usize::from(height)).enumerate() {
            let row = u16::try_from(row).unwrap_or(u16::MAX);
            let _ = self
                .out
                .queue(cursor::MoveTo(0, row))
                .and_then(|o| o.queue(style::Print(line)));
        }
        let _ = self.out.flush();
    }

    /// Waits up to `timeout` for a key or a resize.
    ///
    /// The keys are read here, from the terminal itself, not through crossterm's event
    /// reader: that reader loops without end on a terminal that has gone away (a read of
    /// 0 bytes is retried at once), which left a `haven now` spinning at full CPU for hours
    /// when its window closed without a hang-up signal reaching it; and its edge-triggered
    /// wait can miss a key that came with a resize. A hung-up terminal shows as POLLHUP
    /// (or a read of nothing) and stops the flow; a resize is seen by comparing the size
    /// with the one last drawn.
    pub fn wait(&mut self, timeout: Duration) -> Waited {
        let mut fd = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd, its count, a timeout.
        let ready = unsafe { libc::poll(&mut fd, 1, ms) };
        if ready < 0 {
            return if interrupted() {
                Waited::Nothing
            } else {
                Waited::Key(Key::Stop)
            };
        }
        if fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            return Waited::Key(Key::Stop);
        }
        if terminal::size().unwrap_or((80, 24)) != self.drawn_size {
            return Waited::Resized;
        }
        if ready == 0 {
            return Waited::Nothing;
        }
        let mut buf = [0u8; 64];
        // SAFETY: reads at most `buf.len()` bytes into `buf`.
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        match usize::try_from(n) {
            Ok(0) => Waited::Key(Key::Stop),
            Ok(n) => key_of(&buf[..n.min(buf.len())]).map_or(Waited::Nothing, Waited::Key),
            Err(_) if interrupted() => Waited::Nothing,
            Err(_) => Waited::Key(Key::Stop),
        }
    }

    fn restore(&mut self) {
        let _ = self
            .out
            .queue(cursor::Show)
            .and_then(|o| o.queue(terminal::LeaveAlternateScreen))
            .and_then(|o| o.flush());
        let _ = terminal::disable_raw_mode();
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        self.restore();
        // Not `signal(SIG_DFL)`: see `crate::signals`.
        for id in self.actions.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        crate::signals::default_action(true);
    }
}

pub enum Waited {
    Key(Key),
    Resized,
    Nothing,
}

fn interrupted() -> bool {
    std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
}

/// The key in what one read gave, in raw mode: Esc alone (an arrow or a function key is
/// Esc followed by more, and means nothing here), Ctrl-C (byte 3) or q stop; Enter or
/// space go on; h hides; anything else is another key, which screens ignore.
fn key_of(bytes: &[u8]) -> Option<Key> {
    match bytes {
        [0x1b] => Some(Key::Stop),
        [0x1b, ..] => None,
        _ => bytes
            .iter()
            .find_map(|b| match b {
                b'\r' | b'\n' | b' ' => Some(Key::Next),
                0x03 | b'q' => Some(Key::Stop),
                b'h' | b'H' => Some(Key::Hide),
                _ => None,
            })
            .or((!bytes.is_empty()).then_some(Key::Other)),
    }
}

/// A page's lines at `width` columns, and the first live row: the text (escape sequences
/// shown, never obeyed), a blank, `live_rows` rows and a blank, then the footer.
fn page(text: &str, footer: &str, width: usize, live_rows: u16) -> (Vec<String>, u16) {
    let mut lines = wrap(&crate::output::visible(text), width);
    lines.push(String::new());
    let live_row = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    if live_rows > 0 {
        lines.extend(std::iter::repeat_n(
            String::new(),
            usize::from(live_rows) + 1,
        ));
    }
    lines.extend(wrap(footer, width));
    (lines, live_row)
}

/// `text` word-wrapped to `width` columns, paragraph by paragraph; a word longer than the
/// line is broken, so nothing runs off a narrow window.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            out.push(String::new());
            continue;
        }
        out.extend(
            textwrap::wrap(line, textwrap::Options::new(width).break_words(true))
                .into_iter()
                .map(|l| l.into_owned()),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{key_of, page, wrap, Key};

    #[test]
    fn a_page_shows_escape_sequences_from_the_partner_and_keeps_its_live_rows() {
        let (lines, live) = page("Texting \u{1b}]52;c;x\u{7}: once a day", "Ctrl-C", 60, 2);
        assert!(
            lines
                .iter()
                .all(|l| !l.contains('\u{1b}') && !l.contains('\u{7}')),
            "{lines:?}"
        );
        assert!(lines[0].contains("\\u{1b}]52"), "{lines:?}");
        assert_eq!(live, 2);
        assert_eq!(
            lines.len(),
            6,
            "text, blank, two live rows, blank, footer: {lines:?}"
        );
    }

    #[test]
    fn keys_read_raw_go_on_stop_or_mean_nothing() {
        assert_eq!(key_of(b"\r"), Some(Key::Next));
        assert_eq!(key_of(b" "), Some(Key::Next));
        assert_eq!(key_of(b"\x1b"), Some(Key::Stop));
        assert_eq!(key_of(b"\x03"), Some(Key::Stop));
        assert_eq!(key_of(b"q"), Some(Key::Stop));
        assert_eq!(key_of(b"\x1b[A"), None, "an arrow is not Esc");
        assert_eq!(key_of(b"h"), Some(Key::Hide));
        assert_eq!(key_of(b"x"), Some(Key::Other));
        assert_eq!(key_of(b""), None);
    }

    #[test]
    fn text_wraps_at_words_and_breaks_only_a_word_too_long_for_the_line() {
        assert_eq!(wrap("a slip, not a sign", 8), ["a slip,", "not a", "sign"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("one\n\ntwo", 10), ["one", "", "two"]);
        for l in wrap("Name five things you can see around you, slowly.", 10) {
            assert!(l.chars().count() <= 10, "{l:?}");
        }
    }
}
