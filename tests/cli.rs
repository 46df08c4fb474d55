//! The `callsign` binary: subcommands that succeed, and bad input that fails with a
//! message and a non-zero exit code.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::binary::{assert_fails_saying, callsign, text};
use common::now_unix;
use common::pki_server::PkiServer;

#[test]
fn certs_dev_writes_a_pki_that_serve_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    let o = callsign(&[
        "certs",
        "dev",
        "--out",
        out.to_str().unwrap(),
        "--spc",
        "777",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for f in [
        "root.pem",
        "intermediate.pem",
        "leaf.pem",
        "leaf.key",
        "chain.pem",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let key = std::fs::read_to_string(out.join("leaf.key")).unwrap();
    let chain = std::fs::read_to_string(out.join("chain.pem")).unwrap();
    let key = callsign::certs::SigningKey::from_pem(&key).unwrap();
    let chain = callsign::certs::load_chain_pem(&chain).unwrap();
    let info = callsign::certs::check_signing_pair(&key, &chain, now_unix()).unwrap();
    assert_eq!(info.spc.as_deref(), Some("777"));

    // Writing over an existing PKI is refused rather than silently replacing keys.
    let again = callsign(&["certs", "dev", "--out", out.to_str().unwrap()]);
    assert_fails_saying(&again, "already exists");
}

#[test]
fn certs_dev_writes_a_delegation_that_certs_check_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    let o = callsign(&[
        "certs",
        "dev",
        "--out",
        out.to_str().unwrap(),
        "--delegate-tn",
        "12155550121",
        "--delegate-range",
        "12155550300:100",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("delegate-chain.pem"), "{}", text(&o));
    let path = |f: &str| out.join(f).to_str().unwrap().to_owned();
    // Every profile rule that applies, on the delegate chain and its root.
    let o = callsign(&[
        "certs",
        "check",
        &path("delegate-chain.pem"),
        &path("root.pem"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for line in [
        "  certificate 0 (Leaf): serialNumber=12155550121, CN=SHAKEN delegate 12155550121, O=callsign dev, C=US",
        "    TNAuthList: TN 12155550121, range 12155550300 (+100)",
        "  certificate 1 (Intermediate): CN=callsign dev SHAKEN STI-SCA, O=callsign dev, C=US",
        "    TNAuthList: SPC 1234",
        "  result: ok",
    ] {
        assert!(
            text(&o).lines().any(|l| l == line),
            "{line:?} in {}",
            text(&o)
        );
    }
    // The delegate key signs with that chain, which builds to the root.
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    let key = callsign::certs::SigningKey::from_pem(&read("delegate.key")).unwrap();
    let chain = callsign::certs::load_chain_pem(&read("delegate-chain.pem")).unwrap();
    let anchors = callsign::certs::TrustAnchors::from_pem(&read("root.pem")).unwrap();
    let check = callsign::certs::check_signing(&key, &chain, Some(&anchors), now_unix()).unwrap();
    assert_eq!(check.info.spc, None);
    assert_eq!(check.info.delegated_numbers.map(|n| n.len()), Some(2));
    // The SHAKEN chain beside it is as before.
    let o = callsign(&["certs", "check", &path("chain.pem"), &path("root.pem")]);
    assert!(o.status.success(), "{}", text(&o));

    // Numbers a delegate certificate cannot hold are refused before anything is written.
    for (flag, value, message) in [
        (
            "--delegate-range",
            "99:2",
            "runs past the last number of its length",
        ),
        (
            "--delegate-range",
            "12155550300:1",
            "a range counts at least 2 numbers",
        ),
        ("--delegate-range", "12155550300", "is not START:COUNT"),
        (
            "--delegate-tn",
            "+12155550121",
            "a telephone number is 1 to 15 digits",
        ),
    ] {
        let bad = dir.path().join("bad");
        let o = callsign(&["certs", "dev", "--out", bad.to_str().unwrap(), flag, value]);
        assert!(!o.status.success(), "{flag} {value}: {}", text(&o));
        assert!(text(&o).contains(message), "{flag} {value}: {}", text(&o));
        assert!(!bad.exists(), "{flag} {value}");
    }
}

#[test]
fn checked_in_dev_pki_matches_and_is_valid() {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/dev");
    let key = std::fs::read_to_string(dev.join("leaf.key")).unwrap();
    let chain = std::fs::read_to_string(dev.join("chain.pem")).unwrap();
    let key = callsign::certs::SigningKey::from_pem(&key).unwrap();
    let chain = callsign::certs::load_chain_pem(&chain).unwrap();
    let info = callsign::certs::check_signing_pair(&key, &chain, now_unix())
        .expect("certs/dev must be regenerated with `callsign certs dev --out certs/dev`");
    assert_eq!(info.spc.as_deref(), Some("1234"));
}

#[test]
fn certs_check_passes_the_dev_chain_and_names_each_violation() {
    let o = callsign(&[
        "certs",
        "check",
        "certs/dev/chain.pem",
        "certs/dev/root.pem",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("TNAuthList: SPC 1234"), "{}", text(&o));

    // A leaf followed by the wrong CA, as JSON: non-zero exit and the rule names.
    let dir = tempfile::tempdir().unwrap();
    let leaf = std::fs::read_to_string("certs/dev/leaf.pem").unwrap();
    let root = std::fs::read_to_string("certs/dev/root.pem").unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, format!("{leaf}{root}")).unwrap();
    let o = callsign(&["certs", "check", "--json", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let chain = &json[0]["report"]["chain_violations"];
    assert_eq!(chain[0]["rule"], "chain-order", "{json}");
    assert_eq!(
        json[0]["report"]["certificates"][0]["tn_auth_list"][0]["spc"],
        "1234"
    );

    // Expired by the time given with --now.
    let o = callsign(&[
        "certs",
        "check",
        "certs/dev/leaf.pem",
        "--now",
        "4000000000",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("VIOLATION validity"), "{}", text(&o));
}

/// Runs `callsign verify` with the test server's root and local-fetch flags; its STI-PA
/// CRL signer is `sti-pa-crl.pem` beside the root.
fn verify(server_root: &Path, extra: &[&str], stdin: Option<&[u8]>) -> Output {
    let signers = server_root.with_file_name("sti-pa-crl.pem");
    let mut args = vec![
        "verify",
        "--trust-anchors",
        server_root.to_str().unwrap(),
        "--crl-signers",
        signers.to_str().unwrap(),
        "--allow-http",
        "--allow-loopback",
        "--crl",
        "require",
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_callsign"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn sign_then_verify_round_trips_and_tampering_fails() {
    let server = PkiServer::start(now_unix());
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("leaf.key");
    std::fs::write(&key, &server.pki.leaf_key_pem).unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, &server.pki.root_pem).unwrap();
    let signer = dir.path().join("sti-pa-crl.pem");
    std::fs::write(&signer, &server.pki.crl_signer_pem).unwrap();
    let x5u = server.url("/chain.pem");

    let o = callsign(&[
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--x5u",
        &x5u,
        "--orig",
        "(215) 555-0121",
        "--dest",
        "+1 215 555 0131",
        "--dest",
        "2155550132",
        "--attest",
        "B",
        "--origid",
        "123e4567-e89b-12d3-a456-426655440000",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let identity = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    assert!(
        identity.ends_with(&format!(";info=<{x5u}>;alg=ES256;ppt=shaken")),
        "{identity}"
    );

    let o = verify(
        &root,
        &[
            "--identity",
            &identity,
            "--orig",
            "+12155550121",
            "--dest",
            "2155550132",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("attest B  orig 12155550121  dest 12155550131,12155550132"),
        "{t}"
    );
    assert!(t.contains("result: TN-Validation-Passed"), "{t}");

    // Another expected caller: exit 1 and 438, No-TN-Validation (ATIS-1000082 E16).
    let o = verify(
        &root,
        &["--identity", &identity, "--orig", "2155550199", "--json"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["results"][0]["reports"][0]["code"], 438);
    assert_eq!(json["results"][0]["reports"][0]["failure"], "E16");
    assert_eq!(
        json["results"][0]["reports"][0]["verstat"],
        "No-TN-Validation"
    );

    // Pinned far in the future: stale.
    let o = verify(
        &root,
        &["--identity", &identity, "--now", "4000000000", "--json"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["results"][0]["reports"][0]["code"], 403);
}

#[test]
fn verify_reads_sip_requests_from_files_and_stdin() {
    let server = PkiServer::start(now_unix());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, &server.pki.root_pem).unwrap();
    let signer = dir.path().join("sti-pa-crl.pem");
    std::fs::write(&signer, &server.pki.crl_signer_pem).unwrap();
    let identity = server.identity("/chain.pem", now_unix());
    let request = |to: &str| {
        format!(
            "INVITE sip:{to}@carrier.example SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:+12155550121@pbx.example>;tag=a\r\n\
             To: <sip:{to}@carrier.example>\r\n\
             Call-ID: c1\r\nCSeq: 1 INVITE\r\n\
             Identity: {identity}\r\nContent-Length: 0\r\n\r\n"
        )
    };
    let good = dir.path().join("good.sip");
    std::fs::write(&good, request("+12155550131")).unwrap();
    let o = verify(&root, &["--sip", good.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o));

    // The same Identity on a call to someone else, on stdin: dest mismatch.
    let wrong = request("+12155550177");
    let o = verify(&root, &["--sip", "-", "--json"], Some(wrong.as_bytes()));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let report = &json["results"][0]["reports"][0];
    assert_eq!(report["code"], 438);
    assert_eq!(report["failed_step"], "numbers");
    assert_eq!(report["steps"][9]["outcome"], "failed");

    // No Identity header at all: not verified.
    let bare = request("+12155550131").replace(&format!("Identity: {identity}\r\n"), "");
    let o = verify(&root, &["--sip", "-"], Some(bare.as_bytes()));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no Identity header"), "{}", text(&o));
}

#[test]
fn attest_explains_the_level_from_the_sample_data() {
    let o = callsign(&[
        "attest",
        "--account",
        "AC1a2b3c4d5e6f708192a3b4c5d6e7f801",
        "--number",
        "(215) 555-0121",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("level:   A"), "{t}");
    assert!(t.contains("reason:  a_full"), "{t}");

    let o = callsign(&[
        "attest",
        "--account",
        "AC1a2b3c4d5e6f708192a3b4c5d6e7f804",
        "--number",
        "+12155550151",
    ]);
    assert!(text(&o).contains("level:   C"), "{}", text(&o));
}

#[test]
fn bad_input_fails_with_a_message() {
    for (args, needle) in [
        (
            vec!["serve", "--config", "no/such/file.toml"],
            "no/such/file.toml",
        ),
        (
            vec!["attest", "--account", "ACnope", "--number", "+12155550121"],
            "--account",
        ),
        (
            vec![
                "attest",
                "--account",
                "AC1a2b3c4d5e6f708192a3b4c5d6e7f801",
                "--number",
                "911",
            ],
            "--number",
        ),
    ] {
        assert_fails_saying(&callsign(&args), needle);
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_callsign");

/// Runs the binary in `dir` with `env`, logging errors only.
fn in_dir(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(dir)
        .env("RUST_LOG", "error")
        .env_remove("CALLSIGN_CONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn version_names_the_build() {
    let o = callsign(&["--version"]);
    assert!(o.status.success(), "{}", text(&o));
    let line = String::from_utf8(o.stdout).unwrap();
    let (name, rest) = line.trim().split_once(' ').unwrap();
    assert_eq!(name, "callsign");
    let (version, revision) = rest.split_once(' ').unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let revision = revision.trim_matches(|c| c == '(' || c == ')');
    assert!(
        revision == "unknown"
            || (revision.len() == 12 && revision.bytes().all(|b| b.is_ascii_hexdigit())),
        "{line}"
    );
}

#[test]
fn the_config_is_found_where_the_operator_puts_it_and_named_when_it_is_not() {
    let empty = tempfile::tempdir().unwrap();
    let o = in_dir(empty.path(), &["serve"], &[]);
    assert_fails_saying(&o, "no config file found");
    assert!(
        text(&o).contains("config/callsign.toml")
            && text(&o).contains("/etc/callsign/callsign.toml"),
        "names the places it tried: {}",
        text(&o)
    );
    let missing = empty.path().join("nowhere.toml");
    let missing = missing.to_str().unwrap();
    for env in [[("CALLSIGN_CONFIG", missing)].as_slice(), &[]] {
        let args: &[&str] = match env.is_empty() {
            true => &["serve", "--config", missing],
            false => &["serve"],
        };
        assert_fails_saying(&in_dir(empty.path(), args, env), missing);
    }
    // CALLSIGN_CONFIG names the file, from anywhere (its paths are the file's own).
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = repo.join("config/callsign.toml");
    let shipped = shipped.to_str().unwrap();
    let o = in_dir(
        empty.path(),
        &["config", "check"],
        &[("CALLSIGN_CONFIG", shipped)],
    );
    assert!(o.status.success(), "{}", text(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(
        printed.starts_with(&format!("# {shipped}: valid")),
        "{printed}"
    );
    // In a source checkout, its own config is found without being named.
    let o = in_dir(repo, &["config", "check"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(
        printed.starts_with("# config/callsign.toml: valid"),
        "{printed}"
    );
    assert!(
        printed.contains("max_document_bytes = 10485760"),
        "{printed}"
    );
    assert!(
        printed.contains("operator_auth_token = \"***\""),
        "{printed}"
    );
    assert!(!printed.contains("dev-operator-token"), "{printed}");
}

#[test]
fn config_check_refuses_what_serve_refuses_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = std::fs::read_to_string(repo.join("config/callsign.toml")).unwrap();
    let bad = shipped.replacen("[api]", "[api]\nmax_body_bytes = 10", 1);
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, bad).unwrap();
    let o = in_dir(repo, &["config", "check", file.to_str().unwrap()], &[]);
    assert_fails_saying(&o, "max_body_bytes");
    // The files it names are checked as serve checks them.
    let moved = shipped.replace("../certs/dev/leaf.key", "../certs/dev/gone.key");
    let moved = moved.replace(
        "certificate = \"",
        &format!("certificate = \"{}/config/", repo.display()),
    );
    std::fs::write(&file, moved).unwrap();
    let o = in_dir(repo, &["config", "check", file.to_str().unwrap()], &[]);
    assert_fails_saying(&o, "[signing]");
    assert!(text(&o).contains("gone.key"), "{}", text(&o));
    // So are [sip.tls]'s: a key that is not the certificate's.
    let ca = callsign::certs::dev_tls::DevTlsCa::new("check CA").unwrap();
    let (ours, other) = (
        ca.issue(&["a.test"]).unwrap(),
        ca.issue(&["b.test"]).unwrap(),
    );
    std::fs::write(dir.path().join("tls.pem"), &ours.chain_pem).unwrap();
    std::fs::write(dir.path().join("tls.key"), &other.key_pem).unwrap();
    let tls = shipped.replacen(
        "[http]",
        "[sip.tls]\nlisten = \"127.0.0.1:5061\"\ncertificate = \"tls.pem\"\nkey = \"tls.key\"\n\n[http]",
        1,
    );
    let tls = tls.replace("\"../", &format!("\"{}/", repo.display()));
    std::fs::write(&file, tls).unwrap();
    let o = in_dir(repo, &["config", "check", file.to_str().unwrap()], &[]);
    assert_fails_saying(&o, "[sip.tls] certificate and key do not go together");
    std::fs::write(dir.path().join("tls.key"), &ours.key_pem).unwrap();
    let o = in_dir(repo, &["config", "check", file.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn an_address_in_use_names_the_key_that_set_it() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::TestServer::new()
        .sip(|s| s.udp = Some(addr))
        .write_config(dir.path());
    let o = in_dir(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["serve", "--config", cfg.to_str().unwrap()],
        &[],
    );
    assert_fails_saying(&o, &format!("[sip] udp = {addr}"));
    assert!(text(&o).to_lowercase().contains("in use"), "{}", text(&o));
}

#[test]
fn verify_trims_a_pasted_value_and_says_how_to_reach_a_dev_x5u() {
    let signed = callsign(&[
        "sign",
        "--orig",
        "2155550121",
        "--dest",
        "2155550131",
        "--attest",
        "A",
    ]);
    assert!(signed.status.success(), "{}", text(&signed));
    let identity = String::from_utf8(signed.stdout).unwrap();
    // As pasted from a SIPp log: the header line's carriage return and a space.
    let pasted = format!("{}\r ", identity.trim());
    let o = callsign(&[
        "verify",
        "--trust-anchors",
        "certs/dev/root.pem",
        "--identity",
        &pasted,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1. ok   parse"), "{out}");
    assert!(out.contains("FAIL fetch_x5u"), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--allow-http --allow-loopback"), "{err}");
}

#[test]
fn man_writes_a_page_for_callsign_and_each_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let o = callsign(&["man", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut pages: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    // Every subcommand `callsign --help` lists has its page, and so do theirs.
    let help = text(&callsign(&["--help"]));
    let listed: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .take_while(|w| !w.starts_with("Options"))
        .filter(|w| *w != "help")
        .collect();
    assert!(
        listed.contains(&"serve") && listed.contains(&"verify"),
        "{help}"
    );
    for command in listed {
        let page = format!("callsign-{command}.1");
        assert!(pages.contains(&page), "no {page} in {pages:?}");
    }
    for page in [
        "callsign.1",
        "callsign-config-check.1",
        "callsign-trust-import.1",
    ] {
        assert!(pages.contains(&page.to_owned()), "no {page} in {pages:?}");
    }
    assert!(text(&o).contains(&format!("wrote {} manual pages", pages.len())));
    // Each is a man page named for its command; the main one documents files,
    // environment and signals.
    for page in &pages {
        let roff = std::fs::read_to_string(out.join(page)).unwrap();
        let name = page.trim_end_matches(".1");
        assert!(
            roff.starts_with(&format!(
                ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH {name} 1 "
            )),
            "{page}: {}",
            &roff[..200.min(roff.len())]
        );
    }
    let main = std::fs::read_to_string(out.join("callsign.1")).unwrap();
    for section in [
        ".SH FILES",
        ".SH ENVIRONMENT",
        ".SH SIGNALS",
        ".SH \"EXIT STATUS\"",
    ] {
        assert!(main.contains(section), "no {section}");
    }
    assert!(main.contains("/etc/callsign/callsign.toml") && main.contains("drain_secs"));
}

#[test]
fn completions_are_scripts_each_shell_reads() {
    for (shell, marker) in [
        ("bash", "complete -F _callsign"),
        ("zsh", "#compdef callsign"),
        ("fish", "complete -c callsign"),
    ] {
        let o = callsign(&["completions", shell]);
        assert!(o.status.success(), "{}", text(&o));
        let script = String::from_utf8(o.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        // Fish names long options without their dashes (`-l config`).
        for word in ["serve", "verify", "config", "log-json"] {
            assert!(script.contains(word), "{shell}: no {word:?}");
        }
    }
    // bash parses its script.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsign.bash");
    std::fs::write(&path, callsign(&["completions", "bash"]).stdout).unwrap();
    let parsed = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(parsed.status.success(), "{}", text(&parsed));
    // A shell it does not know is a usage error that lists the ones it does.
    let o = callsign(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("[possible values: bash, elvish, fish, powershell, zsh]"),
        "{}",
        text(&o)
    );
}
