//! The Debian package scripts/package.sh builds: what it holds, what lintian says of it,
//! the systemd unit as `systemd-analyze verify` reads it, and the packaged binary and
//! configuration run from a throwaway root the package is unpacked into. Installing it
//! for real would create a system user on the machine running the tests, so the
//! maintainer scripts are checked for syntax only.
//!
//! Needs the package (`CALLSIGN_DEB` names it), `dpkg-deb`, `lintian` and
//! `systemd-analyze`, so it is ignored by plain `cargo test`; the README's test command
//! builds the package, installs lintian and runs it with `--include-ignored`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::binary::{callsign, text};

/// The package under test.
fn deb() -> PathBuf {
    let path = std::env::var("CALLSIGN_DEB")
        .expect("CALLSIGN_DEB names the package (scripts/package.sh builds it)");
    PathBuf::from(path)
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// `dpkg-deb` with `args`, the package, then `more`; its standard output.
fn dpkg_deb(args: &[&str], more: &[&str]) -> String {
    let deb = deb();
    let all: Vec<&str> = args
        .iter()
        .copied()
        .chain([deb.to_str().unwrap()])
        .chain(more.iter().copied())
        .collect();
    let o = run("dpkg-deb", &all);
    assert!(o.status.success(), "dpkg-deb {all:?}: {}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// A fresh directory `dpkg-deb <flag>` writes the package's parts into: `-x` the files
/// (the package unpacked), `-e` the control files (control, conffiles, scripts).
fn extracted(flag: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    dpkg_deb(&[flag], &[dir.path().to_str().unwrap()]);
    dir
}

#[test]
#[ignore = "needs the package scripts/package.sh builds (CALLSIGN_DEB) and dpkg-deb"]
fn the_package_holds_the_binary_its_config_unit_pages_and_completions() {
    let fields = dpkg_deb(&["-f"], &[]);
    for field in [
        "Package: callsign",
        "Section: net",
        &format!("Version: {}-1", env!("CARGO_PKG_VERSION")),
    ] {
        assert!(fields.contains(field), "no {field:?} in:\n{fields}");
    }
    let depends = fields.lines().find(|l| l.starts_with("Depends:")).unwrap();
    assert!(depends.contains("adduser"), "{depends}");
    // The configuration is a conffile: an upgrade keeps the operator's edits.
    let control_dir = extracted("-e");
    let conffiles = std::fs::read_to_string(control_dir.path().join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/callsign/callsign.toml");
    let root = extracted("-x");
    let contents = dpkg_deb(&["-c"], &[]);
    let listed = |path: &str, mode: &str| {
        contents
            .lines()
            .any(|l| l.starts_with(mode) && l.ends_with(&format!(".{path}")))
    };
    for (path, mode) in [
        ("/usr/bin/callsign", "-rwxr-xr-x"),
        ("/etc/callsign/callsign.toml", "-rw-r--r--"),
        ("/usr/lib/systemd/system/callsign.service", "-rw-r--r--"),
        (
            "/usr/share/bash-completion/completions/callsign",
            "-rw-r--r--",
        ),
        ("/usr/share/zsh/vendor-completions/_callsign", "-rw-r--r--"),
        (
            "/usr/share/fish/vendor_completions.d/callsign.fish",
            "-rw-r--r--",
        ),
        ("/usr/share/doc/callsign/README.md", "-rw-r--r--"),
        ("/usr/share/doc/callsign/docs/install.md", "-rw-r--r--"),
        ("/usr/share/doc/callsign/changelog.gz", "-rw-r--r--"),
        ("/usr/share/callsign/grafana/callsign.json", "-rw-r--r--"),
        (
            "/usr/share/callsign/prometheus/callsign-rules.yml",
            "-rw-r--r--",
        ),
    ] {
        assert!(listed(path, mode), "no {mode} {path} in:\n{contents}");
    }
    // A compressed page for every page the binary writes.
    let pages = tempfile::tempdir().unwrap();
    let o = callsign(&["man", "--out", pages.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    for page in std::fs::read_dir(pages.path()).unwrap() {
        let name = page.unwrap().file_name().into_string().unwrap();
        let packaged = root
            .path()
            .join("usr/share/man/man1")
            .join(format!("{name}.gz"));
        assert!(packaged.is_file(), "no {}", packaged.display());
    }
    // The development PKI and the sample trust data stay out of the package.
    for absent in ["leaf.key", "trust.json", "certs/dev"] {
        assert!(
            !contents.contains(absent),
            "{absent} is packaged:\n{contents}"
        );
    }
}

#[test]
#[ignore = "needs the package scripts/package.sh builds (CALLSIGN_DEB) and lintian"]
fn lintian_finds_nothing_to_say() {
    let o = run(
        "lintian",
        &["--tag-display-limit", "0", deb().to_str().unwrap()],
    );
    let said: Vec<String> = text(&o)
        .lines()
        .filter(|l| !l.contains("root privileges"))
        .map(str::to_owned)
        .collect();
    assert!(o.status.success() && said.is_empty(), "lintian: {said:#?}");
}

/// The packaged unit, with its ExecStart pointing into `root`, where the package was
/// unpacked: `systemd-analyze verify` checks that the binary exists.
fn unit_in(root: &Path, dir: &Path) -> PathBuf {
    let unit =
        std::fs::read_to_string(root.join("usr/lib/systemd/system/callsign.service")).unwrap();
    let binary = root.join("usr/bin/callsign");
    let path = dir.join("callsign.service");
    let rewritten = unit.replace("/usr/bin/callsign", binary.to_str().unwrap());
    std::fs::write(&path, rewritten).unwrap();
    path
}

#[test]
#[ignore = "needs the package scripts/package.sh builds (CALLSIGN_DEB) and systemd-analyze"]
fn the_unit_verifies_and_carries_the_hardening() {
    let root = extracted("-x");
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_in(root.path(), dir.path());
    let man = root.path().join("usr/share/man");
    // Its Documentation= names man pages: look for them in the package.
    let verify = || {
        let o = Command::new("systemd-analyze")
            .args(["verify", unit.to_str().unwrap()])
            .env("MANPATH", &man)
            .output()
            .unwrap();
        (o.status.success(), text(&o))
    };
    // systemd-analyze exits 0 on directives it ignores: any output is a finding.
    let (ok, said) = verify();
    assert!(ok && said.trim().is_empty(), "{said}");
    let unit_text = std::fs::read_to_string(&unit).unwrap();
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=callsign",
        "StateDirectory=callsign",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "ReadWritePaths=/var/lib/callsign",
    ] {
        assert!(
            unit_text.lines().any(|l| l == line),
            "no {line:?} in the unit"
        );
    }
    // Stopping drains for up to drain_secs (32 s): the stop timeout leaves room.
    let stop: u64 = unit_text
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(stop > 32, "TimeoutStopSec={stop}");
    // A unit that breaks is caught: the same check on a misspelt one says so.
    let broken = unit_text.replace("Type=notify", "Type=notfy");
    std::fs::write(&unit, broken).unwrap();
    let (_, said) = verify();
    assert!(said.contains("notfy"), "{said}");
}

#[test]
#[ignore = "needs the package scripts/package.sh builds (CALLSIGN_DEB) and dpkg-deb"]
fn the_packaged_config_asks_for_what_only_the_operator_knows() {
    let root = extracted("-x");
    let binary = root.path().join("usr/bin/callsign");
    let binary = binary.to_str().unwrap();
    let o = run(binary, &["--version"]);
    assert!(text(&o).starts_with(&format!("callsign {}", env!("CARGO_PKG_VERSION"))));
    // As installed, `config check` names what only the operator knows, one at a time:
    // the address peers reach this host at, then the signing key.
    let config = root.path().join("etc/callsign/callsign.toml");
    let check = || run(binary, &["config", "check", config.to_str().unwrap()]);
    let refused_for = |needle: &str| {
        let o = check();
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(needle), "no {needle:?} in: {}", text(&o));
    };
    refused_for("set `advertise`");
    let packaged = std::fs::read_to_string(&config).unwrap();
    let advertised = packaged.replace(
        "# advertise = \"sip.example.com\"",
        "advertise = \"sip.example.com\"",
    );
    std::fs::write(&config, &advertised).unwrap();
    refused_for("cannot read /etc/callsign/private/leaf.key");
    // With a chain and key where [signing] says, it passes, listening beyond loopback.
    let pki = root.path().join("pki");
    let o = callsign(&["certs", "dev", "--out", pki.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let state = root.path().join("state");
    let edited = advertised
        .replace(
            "/etc/callsign/certs/chain.pem",
            pki.join("chain.pem").to_str().unwrap(),
        )
        .replace(
            "/etc/callsign/private/leaf.key",
            pki.join("leaf.key").to_str().unwrap(),
        )
        .replace("/var/lib/callsign", state.to_str().unwrap());
    std::fs::write(&config, edited).unwrap();
    let o = check();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("0.0.0.0:5060"), "{}", text(&o));
    // The maintainer scripts parse.
    let control = extracted("-e");
    for script in ["postinst", "prerm", "postrm"] {
        let path = control.path().join(script);
        let o = run("sh", &["-n", path.to_str().unwrap()]);
        assert!(o.status.success(), "{script}: {}", text(&o));
    }
    let postinst = std::fs::read_to_string(control.path().join("postinst")).unwrap();
    assert!(postinst.contains("adduser --system"), "{postinst}");
    assert!(
        postinst.contains("chmod 0640 /etc/callsign/callsign.toml"),
        "{postinst}"
    );
}

#[test]
fn the_container_file_builds_from_the_repository_and_runs_as_a_user() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(repo.join("Dockerfile")).unwrap();
    let final_stage = dockerfile.rsplit("\nFROM ").next().unwrap();
    // The running stage drops root before it starts callsign.
    let user = final_stage
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER in the final stage");
    assert!(user != "root" && user != "0", "USER {user}");
    let user_at = final_stage.find("\nUSER ").unwrap();
    let cmd_at = final_stage.find("\nCMD ").unwrap();
    assert!(user_at < cmd_at, "USER comes before CMD");
    assert!(final_stage.contains(r#"CMD ["serve", "--config", "/etc/callsign/callsign.toml"]"#));
    // What it copies from the build context exists, and is not ignored.
    let ignored = std::fs::read_to_string(repo.join(".dockerignore")).unwrap();
    for line in dockerfile
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let source = line.split_whitespace().nth(1).unwrap();
        if source == "." {
            continue;
        }
        assert!(repo.join(source).exists(), "{line}: no {source}");
        let top = source.split('/').next().unwrap();
        assert!(
            !ignored.lines().any(|l| l.trim_end_matches('/') == top),
            "{source} is ignored"
        );
    }
    // The context leaves out build output, local state and the git directory, so the
    // revision comes in as a build argument.
    for excluded in ["target/", "var/", ".git/"] {
        assert!(
            ignored.lines().any(|l| l == excluded),
            "{excluded} not in .dockerignore"
        );
    }
    assert!(
        dockerfile.contains("CALLSIGN_GIT_REVISION=\"$REVISION\" cargo build --release --locked")
    );
}
