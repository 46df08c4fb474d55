//! `callsign sign`: one PASSporT, printed as an Identity header value.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};

use callsign::clock::now_unix;

use super::canonical_arg;

#[derive(clap::Args)]
pub struct SignArgs {
    /// Config file for the key, x5u and numbering (not read when --key and --x5u are given).
    #[arg(long, short, env = "CALLSIGN_CONFIG")]
    config: Option<PathBuf>,
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

/// `callsign sign`: prints one Identity header value.
pub fn run(args: SignArgs) -> Result<()> {
    use callsign::passport::{Claims, Signer};
    let config = match (&args.key, &args.x5u) {
        (Some(_), Some(_)) => None,
        _ => Some(crate::settings::load(args.config.clone())?),
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
