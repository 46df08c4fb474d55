//! The shell commands of `README.md` and `docs/*.md`, run as printed, so that the docs
//! cannot rot.
//!
//! Every fenced block of the docs is `sh` (run), `sh server` (started in the
//! background, like a command in a terminal of its own, and stopped with SIGINT, Ctrl-C,
//! at the end of its page: it must exit 0), or `sh manual`: a command this machine must
//! not or cannot run (installing a system package, a Docker daemon, a benchmark), each
//! listed in [`MANUAL`] with the reason. The blocks of one page run in order in one
//! shell, as a reader would run them, with `set -e`: the first failing command fails the
//! page, and its block is named.
//!
//! The commands use the docs' fixed ports (5060, 8080, ...) and paths (`/tmp/uas.log`,
//! `/var/backups`), so each page runs in namespaces of its own (`unshare`, as root): a
//! network with only its loopback, a PID namespace, and a private view of the files,
//! where `/tmp` and the other paths the docs write are empty memory file systems and the
//! checkout is an overlay whose writes vanish with the page (but for `target/`, where
//! builds go as they would). `PATH` leads to this build's
//! `callsign`, as an installed binary; `cargo` runs offline. Those tests need root,
//! `unshare`, `curl`, `jq` and SIPp, so plain `cargo test` leaves them out; the README's
//! test command runs them. The static checks (every block classified, every manual
//! block explained, every block valid shell, every link between the pages leading to a
//! file) always run.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CALLSIGN: &str = env!("CARGO_BIN_EXE_callsign");

/// The `sh manual` blocks, by page and first line, and why no test runs them.
const MANUAL: &[(&str, &str, &str)] = &[
    (
        "README.md",
        "./scripts/test.sh",
        "the test suite itself, which runs this test; CI runs it through .ci/run",
    ),
    (
        "docs/install.md",
        "apt install ./target/debian/callsign_*.deb",
        "installs a system package for real (a system user, a systemd unit); the package \
         is checked with dpkg-deb, lintian and systemd-analyze, and run unpacked, by \
         tests/package.rs",
    ),
    (
        "docs/install.md",
        "docker build",
        "needs a Docker daemon and the network; tests/package.rs checks the Dockerfile",
    ),
    (
        "docs/certificates.md",
        "install -m 0644 next/chain.pem /etc/callsign/certs/chain.pem",
        "replaces an installed service's certificate and reloads it through systemd; the \
         reload itself is tested by tests/rotation.rs",
    ),
    (
        "docs/performance.md",
        "CALLSIGN_BIN=/tmp/callsign-bench benches/rest-load.sh 15 8 1",
        "a benchmark: minutes of full load on both cores, and wrk",
    ),
    (
        "docs/sbc.md",
        "curl -u \"$ACCOUNT_SID:$AUTH_TOKEN\" -X POST https://callsign.example/v1/Trunks/TK… \\",
        "a placeholder host, account and trunk; RequestedLevel through the API is tested by \
         tests/sti_rest.rs",
    ),
    (
        "docs/sbc.md",
        "curl -u sbc-east:\"$PASSWORD\" -H 'content-type: application/json' \\",
        "an SBC's requests to a placeholder host with a provisioned credential; the same \
         requests are made by tests/sti_rest.rs and tests/sti_rest_verify.rs",
    ),
    (
        "docs/performance.md",
        "cargo bench --bench sign --bench attest --bench pipeline",
        "benchmarks and load tests against callsign and Kamailio: minutes of full load on \
         the whole machine, run by hand; the suite compiles them (cargo bench --no-run)",
    ),
    (
        "docs/performance.md",
        "cargo build --release --bin callsign --example trust_index_rss",
        "a measurement on a 1,000,000-number store and a PostgreSQL server of your own",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Run,
    Server,
    Manual,
}

#[derive(Debug)]
struct Block {
    page: String,
    line: usize,
    kind: Kind,
    text: String,
}

impl Block {
    fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
    fn place(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }
}

/// README.md and every page under docs/, as paths relative to the checkout.
fn pages() -> Vec<String> {
    let mut pages = vec!["README.md".to_owned()];
    let mut docs: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn read(page: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(page)).unwrap_or_else(|e| panic!("{page}: {e}"))
}

/// The page's fenced shell blocks, in order. A fence in another language is not a
/// command (TOML, Python, program output); one in an unknown shell dialect or with an
/// unknown tag fails.
fn blocks(page: &str) -> Vec<Block> {
    let text = read(page);
    let mut out = Vec::new();
    let mut open: Option<(usize, Option<Kind>, String)> = None;
    for (event, range) in Parser::new(&text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let line = text[..range.start].lines().count() + 1;
                let words: Vec<&str> = info.split_whitespace().collect();
                let kind = match words.as_slice() {
                    ["sh"] => Some(Kind::Run),
                    ["sh", "server"] => Some(Kind::Server),
                    ["sh", "manual"] => Some(Kind::Manual),
                    ["sh" | "bash" | "shell" | "console" | "shell-session", ..] => panic!(
                        "{page}:{line}: a shell block is `sh`, `sh server` or `sh manual`, not `{info}`"
                    ),
                    _ => None,
                };
                open = Some((line, kind, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, _, body)) = open.as_mut() {
                    body.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((line, Some(kind), body)) = open.take() {
                    out.push(Block {
                        page: page.to_owned(),
                        line,
                        kind,
                        text: body,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

fn all_blocks() -> Vec<Block> {
    pages().iter().flat_map(|p| blocks(p)).collect()
}

#[test]
fn every_shell_block_is_run_or_says_why_not() {
    let blocks = all_blocks();
    assert!(
        blocks.len() >= 10,
        "found only {} shell blocks",
        blocks.len()
    );
    let manual: Vec<&Block> = blocks.iter().filter(|b| b.kind == Kind::Manual).collect();
    for block in &manual {
        let listed = MANUAL
            .iter()
            .filter(|(page, first, _)| *page == block.page && block.first_line().starts_with(first))
            .count();
        assert_eq!(
            listed,
            1,
            "{}: a `sh manual` block needs exactly one entry in MANUAL saying why it is not run: {:?}",
            block.place(),
            block.first_line()
        );
    }
    for (page, first, why) in MANUAL {
        assert!(!why.is_empty());
        assert!(
            manual
                .iter()
                .any(|b| b.page == *page && b.first_line().starts_with(first)),
            "MANUAL names {page}: {first:?}, which no `sh manual` block begins with"
        );
    }
}

#[test]
fn every_shell_block_is_valid_shell() {
    for block in all_blocks() {
        let out = Command::new("bash")
            .args(["-n", "-c", &block.text])
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{}: not valid shell: {}",
            block.place(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Links between the pages, and to files of the checkout, lead to files that exist.
#[test]
fn every_link_between_the_pages_leads_to_a_file() {
    let mut checked = 0;
    for page in pages() {
        let text = read(&page);
        let dir = Path::new(&page).parent().unwrap_or(Path::new(""));
        for event in Parser::new(&text) {
            let Event::Start(Tag::Link { dest_url, .. }) = event else {
                continue;
            };
            let url = dest_url.as_ref();
            if url.contains("://") || url.starts_with('#') || url.starts_with("mailto:") {
                continue;
            }
            let file = url.split('#').next().unwrap();
            let target = Path::new(ROOT).join(dir).join(file);
            assert!(target.exists(), "{page}: the link {url:?} leads nowhere");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} links checked");
}

/// The README's conformance table names, for each rule, the tests that prove it as
/// `file::test`: each file exists and defines that test, so the table cannot point at
/// a test that was renamed or removed.
#[test]
fn the_conformance_table_names_tests_that_exist() {
    let readme = read("README.md");
    let start = readme
        .find("\n## Conformance\n")
        .expect("README has a Conformance section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut checked = 0;
    let mut rows = 0;
    for row in section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| rule"))
    {
        rows += 1;
        let proved_by = row
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap_or_default();
        let mut named = 0;
        for cell in proved_by.split('`').skip(1).step_by(2) {
            let Some((file, test)) = cell.split_once("::") else {
                panic!("{cell:?} in {row:?} is not file::test");
            };
            let source = std::fs::read_to_string(Path::new(ROOT).join(file))
                .unwrap_or_else(|e| panic!("{file} (conformance table): {e}"));
            assert!(
                source.contains(&format!("fn {test}(")),
                "{file} defines no test {test} (conformance table)"
            );
            named += 1;
        }
        assert!(named > 0, "a conformance row proves nothing: {row}");
        checked += named;
    }
    assert!(
        rows >= 15 && checked >= rows,
        "{rows} rows, {checked} tests"
    );
}

/// The pages the scenario tests below run: every page with a block to run.
const RUN: &[&str] = &[
    "README.md",
    "docs/api.md",
    "docs/certificates.md",
    "docs/configuration.md",
    "docs/install.md",
    "docs/observability.md",
    "docs/store.md",
    "docs/trunks.md",
    "docs/verification.md",
];

#[test]
fn every_page_with_commands_has_its_scenario() {
    let with_commands: BTreeSet<String> = all_blocks()
        .into_iter()
        .filter(|b| b.kind != Kind::Manual)
        .map(|b| b.page)
        .collect();
    let run: BTreeSet<String> = RUN.iter().map(|p| p.to_string()).collect();
    assert_eq!(with_commands, run, "pages with commands, and the pages run");
}

/// `'text'` for a shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The script that runs `page`'s blocks in its namespaces: the sandbox, then each
/// block after a `::block page:line` line, then the servers stopped with SIGINT.
fn script(page: &str, blocks: &[Block]) -> String {
    let root = quote(ROOT);
    let bin = quote(Path::new(CALLSIGN).parent().unwrap().to_str().unwrap());
    let mut s = format!(
        r#"set -euo pipefail
ip link set lo up
# The sandbox's own files, outside /tmp (which the checkout may be under).
S=/mnt/.callsign-docs
mkdir -p /mnt
mount -t tmpfs tmpfs /mnt
mkdir -p $S/lower $S/upper $S/work $S/target $S/repo $S/cargo $S/home
# The checkout as an overlay whose writes vanish, but for target/, where builds go as
# they would, so that a page reuses what the suite or an earlier page built.
mount --bind {root} $S/lower
mount --bind {root}/target $S/target
mount -t overlay overlay -o lowerdir=$S/lower,upperdir=$S/upper,workdir=$S/work $S/repo
mount --bind $S/target $S/repo/target
# An empty /tmp and the other paths the docs write, then the checkout back at its path.
mount -t tmpfs tmpfs /tmp
for d in /var/backups /usr/local/share/man /etc/bash_completion.d; do
  if [ -d "$d" ]; then mount -t tmpfs tmpfs "$d"; fi
done
mkdir -p {root}
mount --rbind $S/repo {root}
cd {root}
export CARGO_HOME="${{CARGO_HOME:-$HOME/.cargo}}" RUSTUP_HOME="${{RUSTUP_HOME:-$HOME/.rustup}}"
export CARGO_INSTALL_ROOT=$S/cargo CARGO_NET_OFFLINE=true HOME=$S/home
export PATH=$S/cargo/bin:{bin}:$PATH
unset RUST_LOG CALLSIGN_CONFIG
set +e
servers=()
stop_servers() {{
  set +e
  local rc=0 p
  for p in "${{servers[@]}}"; do kill -INT -- -"$p" 2>/dev/null; done
  for p in "${{servers[@]}}"; do
    wait "$p"; local code=$?
    if [ "$code" -ne 0 ]; then echo "::server $p exited $code"; rc=1; fi
  done
  for f in $S/server-*.log; do
    [ -e "$f" ] || continue
    echo "::log $f"; cat "$f"
    if grep -q panicked "$f"; then echo "::server panicked"; rc=1; fi
  done
  return $rc
}}
ready() {{
  for _ in $(seq 1200); do
    curl -sf -o /dev/null http://127.0.0.1:8080/ready && return 0
    kill -0 "$1" 2>/dev/null || {{ echo "::server $1 stopped before it was ready"; return 1; }}
    sleep 0.5
  done
  echo "::server $1 was not ready within 600 s"; return 1
}}
trap 'code=$?; stop_servers || code=1; echo "::exit $code"; exit $code' EXIT
set -e
"#
    );
    for (i, b) in blocks.iter().enumerate() {
        s += &format!("echo '::block {}'\n", b.place());
        match b.kind {
            Kind::Run => {
                s += &b.text;
                s += "\n";
            }
            Kind::Server => {
                s += &format!(
                    "setsid bash -c {} > $S/server-{i}.log 2>&1 &\nservers+=($!)\nready $!\n",
                    quote(&b.text)
                );
            }
            Kind::Manual => {}
        }
    }
    s += &format!("echo '::page {page} done'\n");
    s
}

/// Runs `page`'s blocks in its sandbox; the transcript must show each of `expect`.
fn run_page(page: &str, expect: &[&str]) {
    let blocks = blocks(page);
    assert!(
        blocks.iter().any(|b| b.kind != Kind::Manual),
        "{page} has nothing to run"
    );
    let started = std::time::Instant::now();
    // A file, not `bash -c`: the docs' `pkill -f` must not find its text on the shell's
    // command line. Under target/, which the sandbox keeps.
    let dir = Path::new(ROOT).join("target/docs-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.sh", page.replace(['/', '.'], "-")));
    std::fs::write(&file, script(page, &blocks)).unwrap();
    let out = Command::new("timeout")
        .args(["--kill-after=10", "900", "unshare"])
        .args([
            "--net",
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
        ])
        .arg("bash")
        .arg(&file)
        .output()
        .expect("timeout and unshare (coreutils, util-linux)");
    let transcript = format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Shown with --nocapture, and on failure.
    println!("{page}, {:.1?}:\n{transcript}", started.elapsed());
    let last_block = transcript
        .lines()
        .rfind(|l| l.starts_with("::block "))
        .unwrap_or("(before the first block)");
    assert!(
        out.status.success(),
        "{page}: a command failed ({:?}) in {last_block}, after {:.0?}:\n{transcript}",
        out.status,
        started.elapsed()
    );
    assert!(
        transcript.contains(&format!("::page {page} done")),
        "{page} did not run to its end:\n{transcript}"
    );
    for want in expect {
        assert!(
            transcript.contains(want),
            "{page}: the transcript does not show {want:?}:\n{transcript}"
        );
    }
}

/// One test per page with commands: `page!(name, "page", ["what the transcript shows", ...])`.
macro_rules! page {
    ($name:ident, $page:literal, [$($expect:literal),* $(,)?]) => {
        #[test]
        #[ignore = "runs the docs' commands in namespaces: needs root, unshare, curl, jq and SIPp; run by the README test command"]
        fn $name() {
            run_page($page, &[$($expect),*]);
        }
    };
}

// The SIPp call went through and was signed A, and its token verified.
page!(
    readme,
    "README.md",
    [
        "Identity: ",
        "\"attest\":\"A\"",
        "result: TN-Validation-Passed"
    ]
);
page!(
    api,
    "docs/api.md",
    [
        "compliant",
        "twilio-approved",
        "\"attest\":\"A\"",
        "\"reason\":\"a_full\""
    ]
);
page!(
    certificates,
    "docs/certificates.md",
    [
        "SPC 1234",
        "TNAuthList: TN 12155550121, range 12155550300 (+100)"
    ]
);
page!(
    configuration,
    "docs/configuration.md",
    ["operator_auth_token", "a_full"]
);
page!(install, "docs/install.md", ["callsign_", ".deb"]);
page!(
    observability,
    "docs/observability.md",
    [
        "{\"status\":\"ok\"}",
        "\"status\":\"ready\"",
        "callsign_build_info{"
    ]
);
page!(
    store,
    "docs/store.md",
    ["backed up ", "restored ", "imported "]
);
page!(
    verification,
    "docs/verification.md",
    [
        "result: TN-Validation-Passed",
        "\"verstat\": \"TN-Validation-Passed\""
    ]
);
page!(
    trunks,
    "docs/trunks.md",
    ["\"attest\":\"A\"", "trunk=office"]
);
