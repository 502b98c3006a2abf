//! A real terminal for a test: a private tmux server (its own socket, no config) running
//! one command in a window of a given size, read with `capture-pane` and typed into with
//! `send-keys`. Waits are on what the screen shows, never on a fixed sleep. Dropping it
//! ends the server (ours alone, by its socket).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::Home;

/// Put after a command run in [`Tmux::haven`]: once haven has ended, the shell prints
/// `stty`'s view of the terminal (is it back in canonical mode, with echo?).
pub const THEN_STTY: &str =
    "; R=$?; stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; (exit $R)";

/// Whether the screen shows, after [`THEN_STTY`], a terminal left as a shell needs it.
pub fn terminal_restored(screen: &str) -> bool {
    screen.contains("icanon echo") && !screen.contains("-icanon") && !screen.contains("-echo ")
}

pub struct Tmux {
    socket: PathBuf,
}

/// How long a screen may take to show what a test waits for.
const SOON: Duration = Duration::from_secs(30);

impl Tmux {
    /// Runs `haven ARGS` for `h` in a `width`×`height` terminal, with `env` added. When it
    /// ends, the screen shows `[exit CODE]` and stays.
    pub fn haven(h: &Home, width: u16, height: u16, args: &str, env: &[(&str, &str)]) -> Tmux {
        Self::start(h, width, height, "", args, env)
    }

    /// As [`Tmux::haven`], but haven runs in a session of its own (`setsid`): the window is
    /// its terminal, yet closing the window sends it no hang-up signal, as when a terminal
    /// emulator dies or a session is torn down around it.
    pub fn haven_without_hangup_signal(h: &Home, args: &str) -> Tmux {
        Self::start(h, 80, 24, "setsid ", args, &[])
    }

    fn start(
        h: &Home,
        width: u16,
        height: u16,
        prefix: &str,
        args: &str,
        env: &[(&str, &str)],
    ) -> Tmux {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok(),
            "tmux is missing: install Debian's tmux (.ci/run does)"
        );
        // A socket of its own per terminal: a second terminal in the same home must not
        // reach the server the first one's drop is still ending ("server exited
        // unexpectedly").
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let socket = h.tmp.path().join(format!(
            "tmux-{}.sock",
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut vars = vec![
            ("HOME".to_string(), h.tmp.path().display().to_string()),
            ("XDG_RUNTIME_DIR".into(), h.runtime.display().to_string()),
            (
                "HAVEN_PASSPHRASE_FILE".into(),
                h.pass_file.display().to_string(),
            ),
            ("LANG".into(), "C.UTF-8".into()),
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ];
        vars.extend(h.env.iter().cloned());
        vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let exports: String = vars
            .iter()
            .map(|(k, v)| format!("{k}='{}' ", v.replace('\'', "'\\''")))
            .collect();
        let command = format!(
            "env -i {exports} TERM=xterm-256color {prefix}{} --home '{}' {args}; echo \"[exit $?]\"; exec sleep 600",
            crate::bin_dir().join("haven").display(),
            h.home.display()
        );
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "t"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(command)
            .status()
            .expect("start tmux");
        assert!(status.success(), "tmux did not start");
        Tmux { socket }
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket);
        c
    }

    /// What the window shows now, with lines the width wrapped joined again.
    pub fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-J", "-t", "t"])
            .output()
            .expect("capture");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The window with its colours, as escape sequences.
    pub fn screen_with_colours(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-e", "-J", "-t", "t"])
            .output()
            .expect("capture");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until `ok` holds for the screen; fails with the screen if it never does.
    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < SOON,
                "the terminal never showed {what}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |s| s.contains(text))
    }

    /// Types text as it is.
    pub fn type_text(&self, text: &str) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", "t", "-l", text])
            .status()
            .expect("send-keys");
        assert!(ok.success());
    }

    /// Presses keys by name: `Enter`, `Escape`, `C-c`.
    pub fn press(&self, keys: &[&str]) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(ok.success());
    }

    pub fn resize(&self, width: u16, height: u16) {
        let ok = self
            .tmux()
            .args(["resize-window", "-t", "t", "-x", &width.to_string()])
            .args(["-y", &height.to_string()])
            .status()
            .expect("resize");
        assert!(ok.success());
    }

    /// The pid of the shell running in the window.
    pub fn shell_pid(&self) -> i32 {
        let out = self
            .tmux()
            .args(["display-message", "-p", "-t", "t", "#{pane_pid}"])
            .output()
            .expect("pane pid");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("a pid")
    }

    /// Closes the window as a closed terminal would: its processes get SIGHUP.
    pub fn hang_up(&self) {
        let _ = self.tmux().args(["kill-session", "-t", "t"]).status();
    }

    /// Closes the window while `haven` runs in it, and checks that haven ends.
    pub fn hang_up_and_see_haven_end(&self) {
        let haven = children(self.shell_pid());
        assert_eq!(haven.len(), 1, "the shell runs haven: {haven:?}");
        self.hang_up();
        crate::wait_gone(haven[0]);
        assert!(
            !crate::alive(haven[0]),
            "haven ends when its terminal closes"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// The children of process `pid`.
pub fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}
