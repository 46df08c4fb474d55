//! The `callsign` binary: subcommands over the library.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use tokio::sync::{Notify, watch};
use tracing_subscriber::EnvFilter;

use callsign::clock::{self, now_unix};
use callsign::config::{Config, VerifyConfig};
use callsign::daemon::{self, Control, Listeners};
use callsign::store::{RecordStore, SqliteStore, StoreError};
use callsign::trust::Sid;
use callsign::verify::CrlMode;

#[derive(Parser)]
#[command(
    name = "callsign",
    version,
    about = "A SIP proxy that signs outbound calls with STIR/SHAKEN"
)]
struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the signing proxy.
    Serve {
        #[arg(long, short, default_value = "config/callsign.toml")]
        config: PathBuf,
    },
    /// Certificate tools.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Verify Identity headers (RFC 8224 section 6.2, ATIS-1000074). Exits 0 only when
    /// every given header, and every SIP request, passes.
    Verify(VerifyArgs),
    /// Sign a PASSporT and print the Identity header value.
    Sign(SignArgs),
    /// Trust data in the store: import or export the JSON trust-data format.
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },
    /// Show the attestation a call would get now, and why (the same logic as
    /// `GET /v1/Attestation`).
    Attest {
        #[arg(long, short, default_value = "config/callsign.toml")]
        config: PathBuf,
        /// The account the call's trunk belongs to (AC...).
        #[arg(long)]
        account: String,
        /// The calling number, in any form the proxy accepts.
        #[arg(long)]
        number: String,
    },
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// An Identity header value (repeatable).
    #[arg(long)]
    identity: Vec<String>,
    /// A file holding a whole SIP request; `-` reads stdin (repeatable). Its expected
    /// numbers come from P-Asserted-Identity or From, and To or the Request-URI.
    #[arg(long)]
    sip: Vec<PathBuf>,
    /// The expected calling number (overrides the request's).
    #[arg(long)]
    orig: Option<String>,
    /// An expected called number (repeatable; overrides the request's).
    #[arg(long)]
    dest: Vec<String>,
    /// Verify as of this unix time instead of now.
    #[arg(long)]
    now: Option<i64>,
    /// PEM bundle of trusted roots, e.g. certs/dev/root.pem for the dev PKI.
    #[arg(long)]
    trust_anchors: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Allow http:// x5u and CRL URLs (local tests only).
    #[arg(long)]
    allow_http: bool,
    /// Allow x5u and CRL hosts on loopback addresses (local tests only).
    #[arg(long)]
    allow_loopback: bool,
    /// Allow private and other special-purpose address ranges.
    #[arg(long)]
    allow_private: bool,
    /// Largest accepted difference between iat and now, either way, in seconds.
    #[arg(long, default_value_t = 60)]
    freshness: i64,
    /// Timeout for each certificate or CRL fetch, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
    /// CRL checking: best-effort (skip when unreachable), require, or off.
    #[arg(long, default_value_t = CrlMode::BestEffort)]
    crl: CrlMode,
    /// Config file whose [numbering] canonicalizes national numbers (default NANP).
    #[arg(long, short)]
    config: Option<PathBuf>,
}

#[derive(clap::Args)]
struct SignArgs {
    /// Config file for the key, x5u and numbering (not read when --key and --x5u are given).
    #[arg(long, short, default_value = "config/callsign.toml")]
    config: PathBuf,
    /// The calling number.
    #[arg(long)]
    orig: String,
    /// A called number (repeatable).
    #[arg(long, required = true)]
    dest: Vec<String>,
    /// Attestation level: A, B or C.
    #[arg(long)]
    attest: callsign::passport::Attest,
    /// The origid (default: a random UUID).
    #[arg(long)]
    origid: Option<uuid::Uuid>,
    /// The iat (default: now).
    #[arg(long)]
    iat: Option<i64>,
    /// PEM private key (overrides the config).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Certificate URL (overrides the config).
    #[arg(long)]
    x5u: Option<String>,
}

#[derive(Subcommand)]
enum TrustCommand {
    /// Load a trust-data JSON file (config/trust.json's format) into the store. A running
    /// server picks it up on SIGHUP.
    Import {
        #[arg(long, short, default_value = "config/callsign.toml")]
        config: PathBuf,
        /// The JSON trust-data file.
        file: PathBuf,
        /// Replace what the store holds (otherwise the store must be empty).
        #[arg(long)]
        replace: bool,
    },
    /// Write the store's trust data as JSON (to stdout unless --out is given).
    Export {
        #[arg(long, short, default_value = "config/callsign.toml")]
        config: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Write a development STI PKI (root, intermediate, leaf with TNAuthList). Never use
    /// it in production.
    Dev {
        #[arg(long, default_value = "certs/dev")]
        out: PathBuf,
        /// The service provider code placed in the leaf's TNAuthList.
        #[arg(long, default_value = "1234")]
        spc: String,
        /// URL prefix the CRLs are published under: the leaf's CRL Distribution Point
        /// is <URL>intermediate.crl, the intermediate's <URL>root.crl.
        #[arg(long, default_value = callsign::certs::dev::DEFAULT_CRL_URL)]
        crl_url: String,
    },
    /// Check certificates or chains (PEM or DER, leaf first) against the STI profile
    /// (ATIS-1000080, RFC 8226). Exits non-zero on any violation.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Check validity at this unix time instead of now.
        #[arg(long)]
        now: Option<i64>,
    },
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr, coloured only on a terminal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    match cli.command {
        Command::Serve { config } => serve(config),
        Command::Certs {
            command: CertsCommand::Check { files, json, now },
        } => certs_check(&files, json, now.unwrap_or_else(now_unix)),
        Command::Certs {
            command: CertsCommand::Dev { out, spc, crl_url },
        } => {
            let pki = callsign::certs::dev::generate_with(&spc, &crl_url, now_unix())
                .context("generating the development PKI")?;
            callsign::certs::dev::write(&out, &pki)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "development STI PKI written to {} (SPC {spc}); never use it in production",
                out.display()
            );
            Ok(())
        }
        Command::Verify(args) => verify(args),
        Command::Sign(args) => sign(args),
        Command::Attest {
            config,
            account,
            number,
        } => {
            let config = Config::load(&config)?;
            let account =
                Sid::parse(&account, "AC").map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let tn = callsign::tn::canonicalize(&number, &config.numbering)
                .map_err(|e| anyhow::anyhow!("--number {number:?}: {e}"))?;
            let index = daemon::trust::index_of(&config.trust)?;
            let preview = callsign::trusthub::preview(&index, account, tn, now_unix());
            print!("{}", preview.to_text());
            Ok(())
        }
        Command::Trust { command } => trust(command),
    }
}

fn store_of(config: &Config) -> Result<SqliteStore> {
    let path = config
        .trust
        .store
        .as_deref()
        .context("[trust] store is not set in the config: there is no store to use")?;
    Ok(SqliteStore::open(path, config.trust.durability)?)
}

fn trust(command: TrustCommand) -> Result<()> {
    match command {
        TrustCommand::Import {
            config,
            file,
            replace,
        } => {
            let config = Config::load(&config)?;
            let store = store_of(&config)?;
            let mut data = callsign::store::load_file(&file)?;
            callsign::store::prepare_import(&mut data, &clock::rfc3339(now_unix()));
            if !replace && !store.is_empty()? {
                bail!(StoreError::NotEmpty);
            }
            store.replace_all(&data)?;
            println!(
                "imported {} accounts, {} numbers, {} bundles from {}",
                data.accounts.len(),
                data.phone_numbers.len(),
                data.customer_profiles.len() + data.trust_products.len(),
                file.display()
            );
            Ok(())
        }
        TrustCommand::Export { config, out } => {
            let config = Config::load(&config)?;
            let data = store_of(&config)?.export()?;
            let json = serde_json::to_string_pretty(&data)? + "\n";
            match out {
                Some(path) => std::fs::write(&path, json)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{json}"),
            }
            Ok(())
        }
    }
}

/// A number given on the command line: a URI (`sip:`, `tel:`) or a dial string.
fn canonical_arg(flag: &str, raw: &str, numbering: &callsign::tn::Numbering) -> Result<String> {
    let tn = if raw.contains(':') {
        callsign::tn::from_uri(raw, numbering)
    } else {
        callsign::tn::canonicalize(raw, numbering)
    };
    tn.map(|t| t.as_str().to_owned())
        .map_err(|e| anyhow::anyhow!("{flag} {raw:?}: {e}"))
}

fn numbering(config: Option<&std::path::Path>) -> Result<callsign::tn::Numbering> {
    match config {
        Some(path) => Ok(Config::load(path)?.numbering),
        None => Ok(callsign::tn::Numbering::default()),
    }
}

/// `callsign sign`: prints one Identity header value.
fn sign(args: SignArgs) -> Result<()> {
    use callsign::passport::{Claims, Signer};
    let config = match (&args.key, &args.x5u) {
        (Some(_), Some(_)) => None,
        _ => Some(Config::load(&args.config)?),
    };
    let numbering = config
        .as_ref()
        .map(|c| c.numbering.clone())
        .unwrap_or_default();
    let key_path = match (&args.key, &config) {
        (Some(k), _) => k.clone(),
        (None, Some(c)) => c.signing.key.clone(),
        (None, None) => bail!("--key is required without a config"),
    };
    let x5u = match (&args.x5u, &config) {
        (Some(x), _) => x.clone(),
        (None, Some(c)) => c.signing.x5u.clone(),
        (None, None) => bail!("--x5u is required without a config"),
    };
    let pem = std::fs::read_to_string(&key_path)
        .with_context(|| format!("reading {}", key_path.display()))?;
    let key = callsign::certs::SigningKey::from_pem(&pem)
        .with_context(|| format!("loading {}", key_path.display()))?;
    let signer = Signer::new(&key, &x5u)?;
    let orig = canonical_arg("--orig", &args.orig, &numbering)?;
    let dest = args
        .dest
        .iter()
        .map(|d| canonical_arg("--dest", d, &numbering))
        .collect::<Result<Vec<_>>>()?;
    let dest_refs: Vec<&str> = dest.iter().map(String::as_str).collect();
    let origid = args.origid.unwrap_or_else(uuid::Uuid::new_v4).to_string();
    let claims = Claims {
        attest: args.attest,
        dest: &dest_refs,
        iat: args.iat.unwrap_or_else(now_unix),
        orig: &orig,
        origid: &origid,
    };
    println!("{}", signer.identity(&claims)?);
    Ok(())
}

/// One thing `callsign verify` checks: a header value, or a SIP request's headers.
struct VerifyInput {
    source: String,
    identities: Vec<String>,
    expected: callsign::verify::Expected,
}

/// `callsign verify`: a report per Identity header; exit 1 unless every input passed.
fn verify(args: VerifyArgs) -> Result<()> {
    use callsign::verify::{Expected, Verdict, Verifier, expected_from_message, identity_values};
    if args.identity.is_empty() && args.sip.is_empty() {
        bail!("give --identity VALUE or --sip FILE");
    }
    let numbering = numbering(args.config.as_deref())?;
    let orig = args
        .orig
        .as_deref()
        .map(|o| canonical_arg("--orig", o, &numbering))
        .transpose()?;
    let dest = args
        .dest
        .iter()
        .map(|d| canonical_arg("--dest", d, &numbering))
        .collect::<Result<Vec<_>>>()?;
    let given = |mut e: Expected| {
        if orig.is_some() {
            e.orig.clone_from(&orig);
        }
        if !dest.is_empty() {
            e.dest.clone_from(&dest);
        }
        e
    };
    let mut inputs = Vec::new();
    for (i, value) in args.identity.iter().enumerate() {
        inputs.push(VerifyInput {
            source: format!("--identity #{}", i + 1),
            identities: vec![value.clone()],
            expected: given(Expected::default()),
        });
    }
    for path in &args.sip {
        let bytes = if path.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).context("reading stdin")?;
            buf
        } else {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        };
        let msg = callsign::sip::Message::parse(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: not a SIP request: {e}", path.display()))?;
        inputs.push(VerifyInput {
            source: path.display().to_string(),
            identities: identity_values(&msg)
                .into_iter()
                .map(|v| v.into_owned())
                .collect(),
            expected: given(expected_from_message(&msg, &numbering)),
        });
    }

    let settings = daemon::settings::verifier(&VerifyConfig {
        freshness_secs: args.freshness,
        crl: args.crl,
        fetch_timeout_ms: args.timeout_ms,
        allow_http: args.allow_http,
        allow_loopback: args.allow_loopback,
        allow_private: args.allow_private,
        ..VerifyConfig::with_anchors(args.trust_anchors.clone())
    })?;
    let now = args.now.unwrap_or_else(now_unix);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let results = runtime.block_on(async {
        let verifier = Verifier::new(settings)?;
        let mut results = Vec::new();
        for input in &inputs {
            let mut reports = Vec::new();
            for value in &input.identities {
                reports.push(verifier.verify(value, &input.expected, now).await);
            }
            results.push(reports);
        }
        anyhow::Ok(results)
    })?;

    let passed = results
        .iter()
        .all(|reports| Verdict::from_reports(reports).passed());
    if args.json {
        let list: Vec<_> = inputs
            .iter()
            .zip(&results)
            .map(|(input, reports)| {
                serde_json::json!({
                    "source": input.source,
                    "passed": Verdict::from_reports(reports).passed(),
                    "reports": reports,
                })
            })
            .collect();
        let out = serde_json::json!({"passed": passed, "results": list});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (input, reports) in inputs.iter().zip(&results) {
            println!("{}", input.source);
            if reports.is_empty() {
                println!("  no Identity header: No-TN-Validation");
            }
            for (i, report) in reports.iter().enumerate() {
                if reports.len() > 1 {
                    println!(" Identity {}", i + 1);
                }
                if let Some(c) = &report.claims {
                    println!(
                        "  attest {}  orig {}  dest {}  iat {}  origid {}",
                        c.attest,
                        c.orig,
                        c.dest.join(","),
                        c.iat,
                        c.origid
                    );
                }
                if let Some(x5u) = &report.x5u {
                    println!("  x5u {x5u}");
                }
                print!("{report}");
            }
        }
    }
    if !passed {
        std::process::exit(1);
    }
    Ok(())
}

/// `callsign certs check`: one report per file; exit 1 on any violation.
fn certs_check(files: &[PathBuf], json: bool, now: i64) -> Result<()> {
    use callsign::certs::{ChainReport, check_chain, load_chain_pem};
    let mut reports: Vec<(String, ChainReport)> = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let chain = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("-----BEGIN") => load_chain_pem(text)
                .with_context(|| format!("{}: no certificate", file.display()))?,
            _ => vec![bytes],
        };
        reports.push((file.display().to_string(), check_chain(&chain, now)));
    }
    let clean = reports.iter().all(|(_, r)| r.is_clean());
    if json {
        let list: Vec<_> = reports
            .iter()
            .map(|(file, report)| serde_json::json!({"file": file, "report": report}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for (file, report) in &reports {
            print!("{}", render_chain_report(file, report));
        }
    }
    if !clean {
        std::process::exit(1);
    }
    Ok(())
}

fn render_chain_report(file: &str, report: &callsign::certs::ChainReport) -> String {
    use std::fmt::Write as _;
    let mut out = format!("{file}\n");
    for c in &report.certificates {
        let _ = writeln!(out, "  certificate {} ({}): {}", c.index, c.role, c.subject);
        if !c.issuer.is_empty() {
            let _ = writeln!(out, "    issuer: {}", c.issuer);
            let _ = writeln!(
                out,
                "    serial: {}  valid: {} .. {}",
                c.serial, c.not_before, c.not_after
            );
        }
        if let Some(list) = &c.tn_auth_list {
            let entries: Vec<String> = list.iter().map(tn_auth_entry).collect();
            let _ = writeln!(out, "    TNAuthList: {}", entries.join(", "));
        }
        for url in &c.crl_urls {
            let _ = writeln!(out, "    CRL: {url}");
        }
        if c.violations.is_empty() {
            let _ = writeln!(out, "    ok");
        }
        for v in &c.violations {
            let _ = writeln!(out, "    VIOLATION {}: {}", v.rule, v.detail);
        }
    }
    for v in &report.chain_violations {
        let _ = writeln!(out, "  chain VIOLATION {}: {}", v.rule, v.detail);
    }
    let count = report.violations().count();
    let _ = writeln!(
        out,
        "  {}",
        if count == 0 {
            "result: ok".to_string()
        } else {
            format!("result: {count} violation(s)")
        }
    );
    out
}

fn tn_auth_entry(e: &callsign::certs::TnAuthEntry) -> String {
    use callsign::certs::TnAuthEntry;
    match e {
        TnAuthEntry::Spc(s) => format!("SPC {s}"),
        TnAuthEntry::Tn(t) => format!("TN {t}"),
        TnAuthEntry::Range { start, count } => format!("range {start} (+{count})"),
    }
}

fn serve(path: PathBuf) -> Result<()> {
    let config = Config::load(&path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let listeners = Listeners::bind(&config)
            .await
            .context("binding the listeners")?;
        let (control, stop_tx) = Control::new();
        spawn_signal_handlers(stop_tx, Arc::clone(&control.reload))?;
        if let Err(e) = daemon::run(config, listeners, control).await {
            bail!("refusing to run: {e}");
        }
        Ok(())
    })
}

fn spawn_signal_handlers(stop: watch::Sender<bool>, reload: Arc<Notify>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM")?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: reloading trust data");
                    reload.notify_one();
                }
                _ = term.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    Ok(())
}
