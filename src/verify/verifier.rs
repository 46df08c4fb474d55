//! [`Verifier`]: runs the eleven steps for one Identity header, fetching the x5u chain
//! and the CRLs through caches in between. I/O shell around the pure steps.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;

use super::crls::{CrlFailure, CrlRefresh, CrlStatus, CrlStore};
use super::fetch::{Cache, Fetcher};
use super::steps::{precheck, with_credential};
use super::{Credential, Expected, Failure, FetchError, FetchPolicy, Report, Step, VerifyError};
use crate::certs::{CertError, CertPath, CrlPoint, CrlSigner, PathCert, TrustAnchors, name_text};

/// What to do when a certificate's CRL cannot be had (revoked certificates always fail).
/// Written `best-effort`, `require` or `off` in the config and on the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrlMode {
    /// Check revocation when the CRL can be fetched; otherwise say so in the report and
    /// go on (the usual soft-fail of relying parties).
    #[default]
    BestEffort,
    /// A certificate whose CRL cannot be fetched, or is not current, fails step 4.
    Require,
    /// Do not check revocation.
    Off,
}

impl CrlMode {
    pub const ALL: [CrlMode; 3] = [CrlMode::BestEffort, CrlMode::Require, CrlMode::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            CrlMode::BestEffort => "best-effort",
            CrlMode::Require => "require",
            CrlMode::Off => "off",
        }
    }
}

/// A CRL mode name that is none of the three.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a CRL mode: use best-effort, require or off")]
pub struct UnknownCrlMode(pub String);

impl std::str::FromStr for CrlMode {
    type Err = UnknownCrlMode;

    fn from_str(s: &str) -> Result<CrlMode, UnknownCrlMode> {
        CrlMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownCrlMode(s.to_owned()))
    }
}

impl std::fmt::Display for CrlMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a [`Verifier`] is set up.
#[derive(Debug, Clone)]
pub struct VerifySettings {
    /// PEM bundle of the trusted roots (STI-PA anchors).
    pub trust_anchors_pem: String,
    /// How far `iat` may be from now, either way, in seconds (default 60).
    pub freshness_secs: i64,
    pub fetch: FetchPolicy,
    pub crl: CrlMode,
    /// PEM bundle of the certificates trusted to sign indirect CRLs: the STI-PA's CRL
    /// signing certificate (`CN=STI-PA CRL`). A certificate whose CRL distribution
    /// point names a cRLIssuer is checked against the CRL that one of these signed.
    pub crl_signers_pem: String,
    /// Where fetched CRLs are kept across restarts (none: memory only).
    pub crl_cache_dir: Option<std::path::PathBuf>,
    pub crl_refresh: CrlRefresh,
    /// Counts certificates whose revocation could not be checked in `best-effort`
    /// mode (the daemon passes its `/metrics` counter).
    pub unchecked: Counter,
}

impl PartialEq for VerifySettings {
    fn eq(&self, other: &Self) -> bool {
        self.trust_anchors_pem == other.trust_anchors_pem
            && self.freshness_secs == other.freshness_secs
            && self.fetch == other.fetch
            && self.crl == other.crl
            && self.crl_signers_pem == other.crl_signers_pem
            && self.crl_cache_dir == other.crl_cache_dir
            && self.crl_refresh == other.crl_refresh
    }
}

impl Eq for VerifySettings {}

impl VerifySettings {
    /// The defaults (60 s freshness, https only, best-effort CRLs) with these anchors.
    pub fn new(trust_anchors_pem: impl Into<String>) -> VerifySettings {
        VerifySettings {
            trust_anchors_pem: trust_anchors_pem.into(),
            freshness_secs: 60,
            fetch: FetchPolicy::default(),
            crl: CrlMode::default(),
            crl_signers_pem: String::new(),
            crl_cache_dir: None,
            crl_refresh: CrlRefresh::default(),
            unchecked: Counter::default(),
        }
    }
}

/// A verification service. Cheap to clone (shared caches); `Send + Sync`.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    /// Replaced whole when the trust list changes ([`Verifier::replace_anchors`]).
    anchors: arc_swap::ArcSwap<TrustAnchors>,
    freshness: i64,
    crl_mode: CrlMode,
    fetcher: Fetcher,
    x5u: Cache<Credential>,
    crls: CrlStore,
    crl_signers: Vec<CrlSigner>,
    unchecked: Counter,
}

/// Why step 4 fails once the path is built: a certificate on it is not valid now or is
/// revoked, or (when CRLs are required) its CRL could not be had. Step 4 then fails
/// with [`Failure::Credential`] (E17: 437, `TN-Validation-Failed`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum PathCheckError {
    #[error(transparent)]
    Cert(#[from] CertError),
    #[error("CRL: {url}: {source}")]
    CrlUnavailable { url: String, source: FetchError },
    #[error("CRL: {url}: not a CRL of the expected signer: {source}")]
    CrlUnusable { url: String, source: CertError },
}

impl PathCheckError {
    fn from_failure(url: &str, failure: CrlFailure) -> PathCheckError {
        let url = url.to_owned();
        match failure {
            CrlFailure::Unavailable(source) => PathCheckError::CrlUnavailable { url, source },
            CrlFailure::Unusable(source) => PathCheckError::CrlUnusable { url, source },
        }
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("anchors", &self.inner.anchors.load().len())
            .field("freshness", &self.inner.freshness)
            .field("crl_mode", &self.inner.crl_mode)
            .field("fetch", self.inner.fetcher.policy())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    pub fn new(settings: VerifySettings) -> Result<Verifier, VerifyError> {
        let anchors = TrustAnchors::from_pem(&settings.trust_anchors_pem)?;
        if anchors.is_empty() {
            return Err(VerifyError::NoAnchors);
        }
        if !(1..=86_400).contains(&settings.freshness_secs) {
            return Err(VerifyError::Freshness(settings.freshness_secs));
        }
        let max_entries = settings.fetch.max_entries;
        let crl_signers =
            CrlSigner::from_pem(&settings.crl_signers_pem).map_err(VerifyError::CrlSigners)?;
        let crls = CrlStore::new(max_entries, settings.crl_cache_dir, settings.crl_refresh);
        Ok(Verifier {
            inner: Arc::new(Inner {
                anchors: arc_swap::ArcSwap::from_pointee(anchors),
                freshness: settings.freshness_secs,
                crl_mode: settings.crl,
                fetcher: Fetcher::new(settings.fetch)?,
                x5u: Cache::new(max_entries),
                crls,
                crl_signers,
                unchecked: settings.unchecked,
            }),
        })
    }

    /// Reads back the CRLs a previous run cached on disk ([`VerifySettings::crl_cache_dir`]),
    /// so that a restart does not start cold. Returns how many were loaded and the files
    /// skipped as unreadable.
    pub fn load_crl_cache(&self, now_unix: i64) -> (usize, Vec<String>) {
        self.inner.crls.load_cache(now_unix)
    }

    /// Fetches again, in the background of calls, every CRL that is due (see
    /// [`CrlRefresh`]), and reports the state of each.
    pub async fn refresh_crls(&self, now_unix: i64) -> Vec<CrlStatus> {
        let ttl = self.failure_ttl();
        self.inner
            .crls
            .refresh(&self.inner.fetcher, now_unix, ttl)
            .await
    }

    /// Replaces the trusted roots with those of `pem` (the STI-PA's list changed), at
    /// once for every call that starts verifying after it: the x5u credentials cached
    /// against the old roots are dropped, so a CA taken off the list is trusted no more.
    /// A bundle that does not parse or holds no root is refused, and the current roots
    /// stay. Returns how many roots are trusted now.
    pub fn replace_anchors(&self, pem: &str) -> Result<usize, VerifyError> {
        let anchors = TrustAnchors::from_pem(pem)?;
        if anchors.is_empty() {
            return Err(VerifyError::NoAnchors);
        }
        let count = anchors.len();
        self.inner.anchors.store(Arc::new(anchors));
        self.inner.x5u.clear();
        Ok(count)
    }

    /// Verifies one Identity header value against the numbers the request carries, at
    /// `now_unix`. Never fails: every problem is a step of the [`Report`].
    pub async fn verify(&self, identity_value: &str, expected: &Expected, now_unix: i64) -> Report {
        let mut report = Report::new();
        let freshness = self.inner.freshness;
        let Some(checked) = precheck(&mut report, identity_value, expected, now_unix, freshness)
        else {
            return report.finish();
        };
        let credential = match self.credential(&checked.x5u, now_unix).await {
            Ok(credential) => credential,
            Err(e) => {
                let failure = fetch_failure(&e);
                report.fail(Step::FetchX5u, failure, format!("{}: {e}", checked.x5u));
                return report.finish();
            }
        };
        report.pass(Step::FetchX5u, "certificate chain retrieved");
        match &credential.path {
            Ok(path) => match self.check_path(path, now_unix).await {
                Ok(note) => report.pass(Step::Chain, note),
                Err(e) => report.fail(Step::Chain, Failure::Credential, e.to_string()),
            },
            Err(e) => report.fail(Step::Chain, Failure::Credential, e.to_string()),
        }
        with_credential(&mut report, &checked, &credential);
        report.finish()
    }

    /// Puts an x5u document into the cache as if it had been fetched at `now_unix`
    /// (with the default lifetime), e.g. the proxy's own chain, or a benchmark's.
    pub fn insert_x5u(&self, url: &str, body: &[u8], now_unix: i64) {
        let (value, until) = self.credential_entry(body, now_unix, self.default_ttl());
        self.inner.x5u.insert(url, now_unix, value, until);
    }

    /// Puts a CRL into the store as if it had been fetched from `url` at `now_unix`,
    /// after checking that `signer_der` signed it.
    pub fn insert_crl(
        &self,
        url: &str,
        body: &[u8],
        signer_der: &[u8],
        now_unix: i64,
    ) -> Result<(), CertError> {
        self.inner.crls.insert(url, body, &[signer_der], now_unix)
    }

    fn default_ttl(&self) -> i64 {
        secs(self.inner.fetcher.policy().default_ttl)
    }

    async fn credential(&self, url: &str, now: i64) -> Result<Arc<Credential>, FetchError> {
        self.inner
            .x5u
            .get(url, now, || async move {
                match self.inner.fetcher.get(url).await {
                    Ok(fetched) => self.credential_entry(&fetched.body, now, secs(fetched.ttl)),
                    Err(e) => (Err(e), now + self.failure_ttl()),
                }
            })
            .await
    }

    fn credential_entry(
        &self,
        body: &[u8],
        now: i64,
        ttl: i64,
    ) -> (Result<Arc<Credential>, FetchError>, i64) {
        let credential = Credential::from_x5u_body(body, &self.inner.anchors.load());
        let until = credential.cache_until(now, ttl, self.failure_ttl());
        (Ok(Arc::new(credential)), until)
    }

    fn failure_ttl(&self) -> i64 {
        secs(self.inner.fetcher.policy().failure_ttl)
    }

    /// Step 4 beyond the cached path: validity now, and revocation of every
    /// certificate on it per the CRL mode. Returns the step's note.
    async fn check_path(&self, path: &CertPath, now: i64) -> Result<String, PathCheckError> {
        path.check_validity(now)?;
        let mut notes = Vec::new();
        if self.inner.crl_mode != CrlMode::Off {
            for cert in &path.certs {
                if let Err(e) = self.check_revocation(cert, now).await {
                    if matches!(e, PathCheckError::Cert(CertError::Revoked(_)))
                        || self.inner.crl_mode == CrlMode::Require
                    {
                        return Err(e);
                    }
                    self.inner.unchecked.inc();
                    tracing::warn!(
                        certificate = %cert.subject,
                        error = %e,
                        "revocation not checked (crl = \"best-effort\"); the call goes on"
                    );
                    notes.push(format!("revocation of {} not checked: {e}", cert.subject));
                }
            }
        }
        let mut note = format!("path to trusted root {}", path.anchor_subject);
        if self.inner.crl_mode == CrlMode::Off {
            note.push_str("; revocation not checked");
        }
        for n in notes {
            note.push_str("; ");
            note.push_str(&n);
        }
        Ok(note)
    }

    /// Checks `cert` against the CRL of each of its distribution points in turn until
    /// one gives an answer: the first point whose CRL can be had and is current decides.
    /// When none can, the first point's failure is the answer.
    async fn check_revocation(&self, cert: &PathCert, now: i64) -> Result<(), PathCheckError> {
        let mut first: Option<PathCheckError> = None;
        for point in cert.crl_points()? {
            let answer = self.check_point(cert, point, now).await;
            match answer {
                Ok(()) | Err(PathCheckError::Cert(CertError::Revoked(_))) => return answer,
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        Err(first.unwrap_or_else(|| {
            PathCheckError::Cert(CertError::NoCrlDistributionPoint {
                subject: cert.subject.clone(),
            })
        }))
    }

    async fn check_point(
        &self,
        cert: &PathCert,
        point: &CrlPoint,
        now: i64,
    ) -> Result<(), PathCheckError> {
        let signers = self.crl_signers(cert, point, now)?;
        let crl = self
            .inner
            .crls
            .get(
                &self.inner.fetcher,
                &point.url,
                &signers,
                now,
                self.failure_ttl(),
            )
            .await
            .map_err(|f| PathCheckError::from_failure(&point.url, f))?;
        Ok(cert.check_revocation(point, &crl, now)?)
    }

    /// The certificates one of which must have signed `point`'s CRL: the certificate's
    /// issuer for a direct CRL; for an indirect one (a cRLIssuer other than the issuer),
    /// the configured CRL signers of that name valid at `now` (more than one while the
    /// STI-PA rolls its CRL signing key over).
    fn crl_signers<'a>(
        &'a self,
        cert: &'a PathCert,
        point: &CrlPoint,
        now: i64,
    ) -> Result<Vec<&'a [u8]>, CertError> {
        let name = point.signer_name(cert);
        if name == cert.issuer_name_der() {
            return Ok(vec![&cert.issuer_der]);
        }
        let named: Vec<_> = (self.inner.crl_signers.iter())
            .filter(|s| s.subject_der == name)
            .collect();
        let Some(first) = named.first() else {
            return Err(CertError::UnknownCrlSigner(name_text(name)));
        };
        let valid: Vec<&[u8]> = (named.iter())
            .filter(|s| (s.not_before..=s.not_after).contains(&now))
            .map(|s| s.der.as_slice())
            .collect();
        if valid.is_empty() {
            return Err(CertError::CrlSignerNotValid {
                subject: first.subject.clone(),
            });
        }
        Ok(valid)
    }
}

/// The row a failed x5u fetch falls under: a URL the policy refuses before any request
/// is an invalid `info` URI (E7); one that was tried and failed could not be
/// dereferenced (E8). Both are 436.
fn fetch_failure(e: &FetchError) -> Failure {
    match e {
        FetchError::BadUrl(_)
        | FetchError::Scheme(_)
        | FetchError::UserInfo
        | FetchError::Query
        | FetchError::Fragment
        | FetchError::TooLong(_)
        | FetchError::SpecialAddress(_) => Failure::InvalidInfo,
        FetchError::Resolve(_)
        | FetchError::Timeout(_)
        | FetchError::Status(_)
        | FetchError::TooLarge(_)
        | FetchError::Http(_) => Failure::Dereference,
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::dev::tests::{NOW, pki};
    use crate::certs::{build_path, dev, load_chain_pem};

    const LEAF: &str = "serialNumber=1234, CN=SHAKEN 1234, O=callsign dev, C=US";
    const ROOT: &str = "CN=callsign dev SHAKEN root, O=callsign dev, C=US";
    const INTERMEDIATE: &str = "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US";
    /// Where the dev certificates' CRL is: plain http, which the default policy refuses
    /// before connecting.
    const CRL: &str = "http://127.0.0.1:8080/certs/sti-pa.crl";

    fn verifier(crl: CrlMode) -> Verifier {
        let mut settings = VerifySettings::new(pki().root_pem.clone());
        settings.crl = crl;
        settings.crl_signers_pem = pki().crl_signer_pem.clone();
        Verifier::new(settings).unwrap()
    }

    fn dev_path() -> CertPath {
        let chain = load_chain_pem(&pki().chain_pem()).unwrap();
        build_path(&chain, &TrustAnchors::from_pem(&pki().root_pem).unwrap()).unwrap()
    }

    fn insert_dev_crl(v: &Verifier, revoked: &[&[u8]]) {
        let pki = pki();
        let crl = pki.issue_crl(revoked, NOW).unwrap();
        v.insert_crl(CRL, &crl, &pki.crl_signer_der, NOW).unwrap();
    }

    #[tokio::test]
    async fn a_crl_that_cannot_be_fetched_fails_only_when_required() {
        let path = dev_path();
        let unavailable = PathCheckError::CrlUnavailable {
            url: CRL.into(),
            source: FetchError::Scheme("http".into()),
        };
        assert_eq!(
            verifier(CrlMode::Require).check_path(&path, NOW).await,
            Err(unavailable.clone())
        );
        let best_effort = verifier(CrlMode::BestEffort);
        let note = best_effort.check_path(&path, NOW).await.unwrap();
        for subject in [LEAF, INTERMEDIATE] {
            let skipped = format!("revocation of {subject} not checked: {unavailable}");
            assert!(note.contains(&skipped), "{note}");
        }
        assert_eq!(best_effort.inner.unchecked.get(), 2);
        assert_eq!(
            verifier(CrlMode::Off).check_path(&path, NOW).await,
            Ok(format!(
                "path to trusted root {ROOT}; revocation not checked"
            ))
        );
    }

    #[tokio::test]
    async fn a_current_crl_passes_and_a_revoked_leaf_or_intermediate_fails_even_best_effort() {
        let path = dev_path();
        let v = verifier(CrlMode::Require);
        insert_dev_crl(&v, &[]);
        assert_eq!(
            v.check_path(&path, NOW).await,
            Ok(format!("path to trusted root {ROOT}"))
        );
        for (revoked, subject) in [
            (&pki().leaf_der, LEAF),
            (&pki().intermediate_der, INTERMEDIATE),
        ] {
            let v = verifier(CrlMode::BestEffort);
            insert_dev_crl(&v, &[revoked.as_slice()]);
            assert_eq!(
                v.check_path(&path, NOW).await,
                Err(PathCheckError::Cert(CertError::Revoked(subject.into())))
            );
        }
    }

    #[tokio::test]
    async fn a_later_distribution_point_answers_when_the_first_cannot() {
        let mut path = dev_path();
        let v = verifier(CrlMode::Require);
        insert_dev_crl(&v, &[pki().leaf_der.as_slice()]);
        // A first point whose (direct) CRL cannot be fetched: the STI-PA's decides.
        let unreachable = CrlPoint {
            url: "http://127.0.0.1:9/unreachable.crl".into(),
            crl_issuer: None,
        };
        path.certs[0].crl_points.insert(0, unreachable);
        assert_eq!(
            v.check_path(&path, NOW).await,
            Err(PathCheckError::Cert(CertError::Revoked(LEAF.into())))
        );
    }

    #[tokio::test]
    async fn validity_is_checked_before_revocation() {
        let path = dev_path();
        let later = path.certs[0].not_after + 1;
        assert_eq!(
            verifier(CrlMode::Require).check_path(&path, later).await,
            Err(PathCheckError::Cert(CertError::PathCertExpired {
                subject: LEAF.into(),
                not_after: path.certs[0].not_after
            }))
        );
    }

    #[tokio::test]
    async fn only_the_configured_signer_may_sign_the_crl() {
        let v = verifier(CrlMode::Require);
        let pki = pki();
        // The intermediate is not the cRLIssuer the certificates name.
        let direct =
            dev::issue_direct_crl(&pki.intermediate_pem, &pki.intermediate_key_pem, &[], NOW);
        assert_eq!(
            v.insert_crl(CRL, &direct.unwrap(), &pki.crl_signer_der, NOW),
            Err(CertError::CrlIssuerMismatch)
        );
        // Another signer of the same name: the signature fails.
        let impostor = dev::generate("1234", NOW).unwrap();
        assert_eq!(
            v.insert_crl(
                CRL,
                &impostor.issue_crl(&[], NOW).unwrap(),
                &pki.crl_signer_der,
                NOW
            ),
            Err(CertError::CrlBadSignature)
        );
    }
}
