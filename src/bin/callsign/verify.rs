//! `callsign verify`: Identity header values or SIP requests through the verifier.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};

use callsign::clock::now_unix;
use callsign::config::VerifyConfig;
use callsign::daemon;
use callsign::verify::CrlMode;

use super::{canonical_arg, numbering};

#[derive(clap::Args)]
pub struct VerifyArgs {
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
    /// PEM bundle of the certificates trusted to sign indirect CRLs (the STI-PA's
    /// `CN=STI-PA CRL`), e.g. certs/dev/sti-pa-crl.pem for the dev PKI.
    #[arg(long)]
    crl_signers: Option<PathBuf>,
    /// Config file whose [numbering] canonicalizes national numbers (default NANP).
    #[arg(long, short)]
    config: Option<PathBuf>,
}

/// One thing `callsign verify` checks: a header value, or a SIP request's headers.
struct VerifyInput {
    source: String,
    identities: Vec<String>,
    expected: callsign::verify::Expected,
}

/// `callsign verify`: a report per Identity header; exit 1 unless every input passed.
pub fn run(args: VerifyArgs) -> Result<()> {
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
            // Pasted from a log, a value often ends in a carriage return or spaces.
            identities: vec![value.trim().to_owned()],
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
        crl_signers: args.crl_signers.clone(),
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
    // A certificate URL refused by the fetch policy is, on a development machine, the
    // dev PKI served over http on loopback: say which flags allow it.
    let refused_fetch = results.iter().flatten().any(|report| {
        let report = serde_json::to_value(report).unwrap_or_default();
        report["failed_step"] == "fetch_x5u"
            && report["reason"]
                .as_str()
                .is_some_and(|r| r.contains("not allowed"))
    });
    if refused_fetch && !(args.allow_http && args.allow_loopback) {
        eprintln!(
            "hint: the x5u fetch policy refused the certificate URL (https only, no loopback or private addresses); \
             to verify against a development PKI served over http on this machine, add --allow-http --allow-loopback"
        );
    }
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
