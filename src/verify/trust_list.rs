//! The STI-PA's list of approved STI-CA roots, as `[verify] trust_list` names it: where
//! it comes from (an https URL, fetched under the x5u's rules, or a file), the forms it
//! is read in (a PEM bundle, or the JSON of the STI-PA's list, its PEM roots under
//! `trustList`), the checks every entry passes before the list may replace the one in
//! force, when it is due again, and the copy of the last good list kept on disk. Shell
//! around the pure [`check_list`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;

use super::fetch::Fetcher;
use super::{FetchError, FetchPolicy, VerifyError};
use crate::certs::{CertError, check_root};

/// The largest list accepted, fetched or read: a hundred roots in PEM take about 100 KB
/// (an RSA-4096 root about 2 KB), so this leaves room without letting a broken server
/// fill memory.
pub const MAX_BYTES: usize = 1024 * 1024;

/// How soon a failed fetch is tried again; after a success the list is fetched again
/// every `[verify] trust_list_refresh_secs`.
pub const RETRY_SECS: i64 = 60;

/// Where the list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustListSource {
    Url(String),
    File(PathBuf),
}

impl TrustListSource {
    /// `value` names a URL when it has a scheme (`https://...`), else a file.
    pub fn parse(value: &str) -> TrustListSource {
        match TrustListSource::is_url(value) {
            true => TrustListSource::Url(value.to_owned()),
            false => TrustListSource::File(PathBuf::from(value)),
        }
    }

    pub fn is_url(value: &str) -> bool {
        value.contains("://")
    }
}

impl std::fmt::Display for TrustListSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrustListSource::Url(url) => f.write_str(url),
            TrustListSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Why a list was refused; the roots in force stay.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrustListError {
    #[error("cannot fetch: {0}")]
    Fetch(FetchError),
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    #[error("not text (UTF-8)")]
    NotText,
    #[error(
        "a signed JWT (such as the STI-PA's sticaList.jwt), and no `[verify] trust_list_signers` to check it with: name the STI-PA's list signing certificate there"
    )]
    SignedJwt,
    #[error("signed JWT: {0}")]
    Jwt(JwtProblem),
    #[error("neither a PEM bundle nor a JSON list with a `trustList` array")]
    UnknownFormat,
    #[error("JSON list: {0}")]
    Json(String),
    #[error("holds no certificate")]
    Empty,
    /// Entries count from 1, in the order of the list.
    #[error("entry {index}: {problem}")]
    Entry { index: usize, problem: EntryProblem },
    #[error("the verifier refused its roots: {0}")]
    Verifier(VerifyError),
}

/// Why a signed list (the STI-PA's `sticaList.jwt`) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtProblem {
    #[error("not a compact JWS of base64url JSON header and payload")]
    Malformed,
    #[error("alg is {0:?}; the STI-PA signs its list ES256")]
    Alg(String),
    #[error("the signature verifies with no certificate of `[verify] trust_list_signers`")]
    BadSignature,
    #[error("the signing certificate {0} is not valid now")]
    SignerNotValid(String),
    #[error("expired at {0} (its exp)")]
    Expired(i64),
}

/// The certificates trusted to sign the list: the STI-PA's "STI-PA CA List" signer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListSigners {
    signers: Vec<crate::certs::CertInfo>,
}

impl ListSigners {
    /// Every CERTIFICATE of a PEM bundle; an empty bundle gives none (signed lists are
    /// then refused).
    pub fn from_pem(pem: &str) -> Result<ListSigners, CertError> {
        if pem.trim().is_empty() {
            return Ok(ListSigners::default());
        }
        let signers = crate::certs::load_chain_pem(pem)?
            .iter()
            .map(|der| crate::certs::cert_facts(der).map(|(info, _)| info))
            .collect::<Result<_, _>>()?;
        Ok(ListSigners { signers })
    }

    pub fn is_empty(&self) -> bool {
        self.signers.is_empty()
    }

    /// The payload of the compact JWS `text` when it is ES256, signed by one of the
    /// signers valid at `now`, and not past its `exp`.
    fn open(&self, text: &str, now: i64) -> Result<Vec<u8>, JwtProblem> {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        let text = text.trim();
        let mut parts = text.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtProblem::Malformed);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| JwtProblem::Malformed)
        };
        let head: serde_json::Value =
            serde_json::from_slice(&decode(header)?).map_err(|_| JwtProblem::Malformed)?;
        let alg = head.get("alg").and_then(|a| a.as_str()).unwrap_or_default();
        if alg != "ES256" {
            return Err(JwtProblem::Alg(alg.to_owned()));
        }
        let signature = decode(signature)?;
        let body = decode(payload)?;
        let input = &text.as_bytes()[..header.len() + 1 + payload.len()];
        let mut valid_signer = None;
        for signer in &self.signers {
            let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &signer.public_key_sec1);
            if key.verify(input, &signature).is_ok() {
                valid_signer = Some(signer);
                break;
            }
        }
        let signer = valid_signer.ok_or(JwtProblem::BadSignature)?;
        if now < signer.not_before || now > signer.not_after {
            return Err(JwtProblem::SignerNotValid(signer.subject.clone()));
        }
        let claims: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| JwtProblem::Malformed)?;
        if let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_i64)
            && exp < now
        {
            return Err(JwtProblem::Expired(exp));
        }
        Ok(body)
    }
}

/// What is wrong with one entry of a list.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntryProblem {
    #[error("PEM is malformed: {0}")]
    Pem(String),
    #[error("a {0} block, not a CERTIFICATE")]
    NotACertificate(String),
    #[error("holds {0} certificates (one per entry)")]
    Count(usize),
    /// Not a self-signed CA valid now ([`check_root`]).
    #[error(transparent)]
    Root(#[from] CertError),
}

/// A list whose every entry passed [`check_root`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RootList {
    roots: Vec<Root>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Root {
    der: Vec<u8>,
    subject: String,
}

impl RootList {
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// The roots' RFC 4514 subjects, in list order.
    pub fn subjects(&self) -> impl Iterator<Item = &str> {
        self.roots.iter().map(|r| r.subject.as_str())
    }

    /// The roots as one PEM bundle.
    pub fn pem(&self) -> String {
        (self.roots.iter())
            .map(|r| crate::certs::pem_encode("CERTIFICATE", &r.der))
            .collect()
    }
}

/// The JSON form: the STI-PA's list (the payload of its signed `sticaList.jwt`), whose
/// `trustList` holds one PEM certificate per entry. Its other members (`version`,
/// `sequence`, `exp`) are not read.
#[derive(Deserialize)]
struct ListDocument {
    #[serde(rename = "trustList")]
    trust_list: Vec<String>,
}

/// Reads a list (a PEM bundle, or JSON with a `trustList` array of PEM certificates)
/// and checks every entry: a self-signed CA valid at `now`. One entry that fails
/// refuses the whole list, and so does a list with no entry. A signed list (the
/// STI-PA's JWT) is taken only when one of `signers` signed it (ES256), that signer is
/// valid now and the list's `exp` has not passed; its payload is then the JSON form.
pub fn check_list(
    body: &[u8],
    signers: &ListSigners,
    now: i64,
) -> Result<RootList, TrustListError> {
    if body.len() > MAX_BYTES {
        return Err(TrustListError::TooLarge(MAX_BYTES));
    }
    let text = std::str::from_utf8(body).map_err(|_| TrustListError::NotText)?;
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.is_empty() {
        return Err(TrustListError::Empty);
    }
    let entries: Vec<Result<Vec<u8>, EntryProblem>> = if text.starts_with('{') {
        let doc: ListDocument =
            serde_json::from_str(text).map_err(|e| TrustListError::Json(e.to_string()))?;
        doc.trust_list
            .iter()
            .map(|pem| one_certificate(pem))
            .collect()
    } else if text.starts_with("-----BEGIN") {
        pem_blocks(text)
    } else if text.starts_with("eyJ") {
        if signers.is_empty() {
            return Err(TrustListError::SignedJwt);
        }
        let payload = signers.open(text, now).map_err(TrustListError::Jwt)?;
        let doc: ListDocument =
            serde_json::from_slice(&payload).map_err(|e| TrustListError::Json(e.to_string()))?;
        doc.trust_list
            .iter()
            .map(|pem| one_certificate(pem))
            .collect()
    } else {
        return Err(TrustListError::UnknownFormat);
    };
    if entries.is_empty() {
        return Err(TrustListError::Empty);
    }
    let mut roots = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let entry_error = |problem| TrustListError::Entry {
            index: i + 1,
            problem,
        };
        let der = entry.map_err(entry_error)?;
        let subject = check_root(&der, now).map_err(|e| entry_error(e.into()))?;
        roots.push(Root { der, subject });
    }
    Ok(RootList { roots })
}

/// Each PEM block of a bundle as an entry: a CERTIFICATE's DER, or why it is not one.
fn pem_blocks(text: &str) -> Vec<Result<Vec<u8>, EntryProblem>> {
    let mut entries = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(text.as_bytes()) {
        entries.push(match block {
            Ok(b) if b.label == "CERTIFICATE" => Ok(b.contents),
            Ok(b) => Err(EntryProblem::NotACertificate(b.label)),
            Err(e) => Err(EntryProblem::Pem(e.to_string())),
        });
        if entries.last().is_some_and(Result::is_err) {
            break;
        }
    }
    entries
}

/// The one certificate of a JSON entry.
fn one_certificate(pem: &str) -> Result<Vec<u8>, EntryProblem> {
    let mut blocks: Vec<Vec<u8>> = pem_blocks(pem).into_iter().collect::<Result<_, _>>()?;
    match blocks.len() {
        1 => Ok(blocks.remove(0)),
        n => Err(EntryProblem::Count(n)),
    }
}

/// How the list is had and kept.
#[derive(Debug, Clone)]
pub struct TrustListSettings {
    pub source: TrustListSource,
    /// Seconds between fetches after a success.
    pub every_secs: i64,
    /// Where the last good list is written (and read back at start).
    pub cache: Option<PathBuf>,
    /// The fetch rules for a URL; its size limit becomes [`MAX_BYTES`].
    pub fetch: FetchPolicy,
    /// Who may sign a signed list (`[verify] trust_list_signers`).
    pub signers: ListSigners,
}

/// The trust list of a running verifier: fetched (or read) when due, checked, and kept
/// on disk when good. Installing the roots is the caller's.
pub struct TrustList {
    source: TrustListSource,
    every_secs: i64,
    cache: Option<PathBuf>,
    signers: ListSigners,
    fetcher: Fetcher,
    /// When the list is due next (unix seconds); `None`: now.
    next_at: Mutex<Option<i64>>,
    /// Held while the list is being fetched, so that fetches do not overlap.
    fetching: tokio::sync::Mutex<()>,
}

impl TrustList {
    pub fn new(settings: TrustListSettings) -> Result<TrustList, VerifyError> {
        let policy = FetchPolicy {
            max_bytes: MAX_BYTES,
            ..settings.fetch
        };
        Ok(TrustList {
            source: settings.source,
            every_secs: settings.every_secs,
            cache: settings.cache,
            signers: settings.signers,
            fetcher: Fetcher::new(policy)?,
            next_at: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    pub fn source(&self) -> &TrustListSource {
        &self.source
    }

    /// Whether the list is due at `now`: never had, `every_secs` after the last
    /// success, or [`RETRY_SECS`] after a failure.
    pub fn due(&self, now: i64) -> bool {
        self.next().is_none_or(|at| now >= at)
    }

    /// Gets and checks the list when it is [`due`](TrustList::due) at `now`; `None`
    /// when it is not.
    pub async fn refresh(&self, now: i64) -> Option<Result<RootList, TrustListError>> {
        if !self.due(now) {
            return None;
        }
        Some(self.fetch(now).await)
    }

    /// Gets and checks the list now, whatever the schedule (at start, on SIGHUP), and
    /// sets when it is due next. A good list is written to the cache.
    pub async fn fetch(&self, now: i64) -> Result<RootList, TrustListError> {
        let _fetching = self.fetching.lock().await;
        let checked = match self.body().await {
            Ok(body) => check_list(&body, &self.signers, now),
            Err(e) => Err(e),
        };
        let wait = match &checked {
            Ok(_) => self.every_secs,
            Err(_) => RETRY_SECS.min(self.every_secs),
        };
        *self.next_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(now.saturating_add(wait));
        if let (Ok(list), Some(cache)) = (&checked, &self.cache)
            && let Err(e) = write_cache(cache, list.pem().as_bytes()).await
        {
            tracing::warn!(cache = %cache.display(), error = %e, "trust list not written to its cache file");
        }
        checked
    }

    /// The last good list, read back from the cache file and checked again at `now`,
    /// with when it was written (unix seconds). `None` when there is no cache file.
    pub async fn cached(&self, now: i64) -> Option<Result<(RootList, i64), TrustListError>> {
        let path = self.cache.as_ref()?;
        let meta = tokio::fs::metadata(path).await.ok()?;
        let written = (meta.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(now, |d| i64::try_from(d.as_secs()).unwrap_or(now));
        let checked = match read_bounded(path).await {
            Ok(body) => check_list(&body, &self.signers, now),
            Err(e) => Err(e),
        };
        Some(checked.map(|list| (list, written)))
    }

    fn next(&self) -> Option<i64> {
        *self.next_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn body(&self) -> Result<Vec<u8>, TrustListError> {
        match &self.source {
            TrustListSource::Url(url) => match self.fetcher.get(url).await {
                Ok(fetched) => Ok(fetched.body),
                Err(FetchError::TooLarge(max)) => Err(TrustListError::TooLarge(max)),
                Err(e) => Err(TrustListError::Fetch(e)),
            },
            TrustListSource::File(path) => read_bounded(path).await,
        }
    }
}

/// A file's bytes, refused past [`MAX_BYTES`].
async fn read_bounded(path: &Path) -> Result<Vec<u8>, TrustListError> {
    use tokio::io::AsyncReadExt as _;
    let read_error = |e: std::io::Error| TrustListError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let file = tokio::fs::File::open(path).await.map_err(read_error)?;
    let mut body = Vec::new();
    let limit = u64::try_from(MAX_BYTES).unwrap_or(u64::MAX) + 1;
    file.take(limit)
        .read_to_end(&mut body)
        .await
        .map_err(read_error)?;
    if body.len() > MAX_BYTES {
        return Err(TrustListError::TooLarge(MAX_BYTES));
    }
    Ok(body)
}

/// Writes `path` through a temporary file beside it and a rename, so that a crash
/// never leaves half a list behind.
async fn write_cache(path: &Path, body: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await?;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("list");
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, body).await?;
    tokio::fs::rename(&tmp, path).await
}

#[cfg(test)]
mod tests;
