//! Programs run as child processes: the `callsign` binary's subcommands, `callsign
//! serve` on a config written by [`TestServer::write_config`](super::TestServer), and
//! other tools (secsipidx).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

use super::WAIT;

const CALLSIGN: &str = env!("CARGO_BIN_EXE_callsign");

/// Runs `program` in the repository root (so `certs/dev/...` and the default config
/// resolve) with logging down to errors.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "error")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// Runs the `callsign` binary.
pub fn callsign(args: &[&str]) -> Output {
    run(CALLSIGN, args)
}

/// Stdout and stderr together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts that a command failed with exit code 1 and said `needle`.
#[track_caller]
pub fn assert_fails_saying(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
    assert!(text(o).contains(needle), "no {needle:?} in: {}", text(o));
}

/// A running `callsign serve`; killed when dropped.
pub struct Served {
    child: Child,
    /// The HTTP address it logged (it listens on port 0).
    pub http: SocketAddr,
    /// The SIP UDP address it logged.
    pub udp: SocketAddr,
    /// The WARN lines it has logged so far.
    pub warnings: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Every line it has logged so far.
    pub lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Served {
    /// SIGTERM, the orderly stop; waits for the process and returns how it ended.
    pub fn terminate(self) -> std::process::ExitStatus {
        self.signal("TERM");
        self.wait()
    }

    /// Sends the signal `name` (`TERM`, `HUP`, ...) without waiting.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name} {pid}");
    }

    /// Waits for the process to end (it must end by itself) and returns how it ended.
    pub fn wait(mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }

    /// Whether it has logged a line containing `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
    }

    /// SIGKILL: no shutdown, no checkpoint. Waits until the process is gone.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `callsign serve --config <config>` and waits (at most [`WAIT`]) for the log
/// lines that say where it serves SIP over UDP and HTTP.
pub fn serve(config: &Path) -> Served {
    serve_with(config, &[])
}

/// [`serve`] with `env` set for the process.
pub fn serve_with(config: &Path, env: &[(&str, &str)]) -> Served {
    let mut child = Command::new(CALLSIGN)
        .args(["serve", "--config", config.to_str().unwrap()])
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Logs go to stderr. A thread reads them, reports the addresses, and keeps
    // draining so the server never blocks on a full pipe; it ends with the process.
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = mpsc::channel();
    let warnings = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let logged = std::sync::Arc::clone(&warnings);
    let all = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = std::sync::Arc::clone(&all);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line.clone());
            if line.contains("WARN") {
                logged.lock().unwrap().push(line.clone());
            }
            if line.contains("callsign serving") {
                let _ = tx.send(("udp", address(&line, "udp")));
            } else if line.contains("HTTP serving") {
                let _ = tx.send(("http", address(&line, "http")));
            }
        }
    });
    let (mut http, mut udp) = (None, None);
    let deadline = std::time::Instant::now() + WAIT;
    while http.is_none() || udp.is_none() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(("http", addr)) => http = Some(addr),
            Ok((_, addr)) => udp = Some(addr),
            Err(e) => {
                let _ = child.kill();
                panic!("the server did not log where it serves SIP and HTTP: {e}");
            }
        }
    }
    Served {
        child,
        http: http.unwrap(),
        udp: udp.unwrap(),
        warnings,
        lines: all,
    }
}

/// The address in the `field=127.0.0.1:PORT` field of a log line.
fn address(line: &str, field: &str) -> SocketAddr {
    let prefix = format!("{field}=");
    let value = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {field} address in {line:?}"));
    value.parse().unwrap()
}

/// `secsipidx -check` with certificate verification mode 13: time validity (1), the
/// custom root file (4) and the intermediate file (8, which may hold several CAs, as a
/// delegate's STI-SCA and STI-CA).
pub fn secsipidx_check(identity: &str, leaf: &str, root: &str, intermediate: &str) -> Output {
    run(
        "secsipidx",
        &[
            "-check",
            "-identity",
            identity,
            "-fpubkey",
            leaf,
            "-expire",
            "60",
            "-cert-verify",
            "13",
            "-ca-file",
            root,
            "-ca-inter",
            intermediate,
        ],
    )
}
