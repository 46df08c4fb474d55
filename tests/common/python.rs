//! The official `twilio` Python package, driven in phases by a script of
//! `tests/python/` that keeps SIDs and tokens in a JSON state file between them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{OPERATOR_SID, OPERATOR_TOKEN};

/// The virtualenv's interpreter (`scripts/test.sh` creates `target/twilio-venv`);
/// `CALLSIGN_TWILIO_PYTHON` overrides it.
pub fn python() -> PathBuf {
    std::env::var_os("CALLSIGN_TWILIO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/twilio-venv/bin/python")
        })
}

/// Runs phase `name` of `tests/python/{script}` against the API at `api`, its state in
/// `state`, with the operator's credential in the environment; fails with the script's
/// output when it does.
pub async fn run_phase(script: &str, name: &str, api: SocketAddr, state: PathBuf) {
    let base = format!("http://{api}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let arg = name.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(path)
            .args([arg.as_str(), &base])
            .arg(&state)
            .env("OPERATOR_SID", OPERATOR_SID)
            .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
            .output()
            .expect("the twilio virtualenv exists (scripts/test.sh creates it)")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "twilio-python {script} phase {name} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
