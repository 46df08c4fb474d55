//! Records the git revision the binary is built from, for `callsign --version`: the
//! `CALLSIGN_GIT_REVISION` environment variable when set (a container build, which has
//! no .git), else git's, else `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CALLSIGN_GIT_REVISION");
    let revision = std::env::var("CALLSIGN_GIT_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(git_revision)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=CALLSIGN_GIT_REVISION={revision}");
    // A new commit or checkout changes HEAD (or the branch it points at).
    for path in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        println!("cargo:rerun-if-changed={path}");
    }
}

/// The short revision of the checkout's HEAD, when there is a checkout and git.
fn git_revision() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let revision = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!revision.is_empty()).then_some(revision)
}
