//! Signing identities made live: each [`SigningIdentity`] record's private key loaded
//! (a PEM file, or a key in an HSM through PKCS#11) and checked against its certificate
//! chain as `callsign certs check` does, and the signers published where the proxy picks
//! them per call.
//!
//! A record whose key or chain fails is refused when it is written and stops the
//! proxy at start; on a reload it keeps its last good signer.

pub mod keyref;
mod pkcs11;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use thiserror::Error;

use crate::certs::{self, CertError, SigningCheck, SigningKey};
use crate::passport::{PassportError, Signer};
use crate::trust::{Sid, SigningIdentity};
use keyref::KeyRef;

pub use crate::proxy::IdentitySigners;

/// Why an identity cannot sign. Each message starts with the parameter at fault.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IdentityError {
    #[error("PrivateKey {0}")]
    KeyRef(String),
    #[error("PrivateKey: a key file needs `identity_key_dir` in [signing]; none is configured")]
    NoKeyDir,
    #[error("PrivateKey: {0} is not a file inside the configured identity_key_dir")]
    OutsideKeyDir(String),
    #[error("PrivateKey: {0}")]
    Key(String),
    #[error(
        "PrivateKey: module-path {0} is not one of the PKCS#11 modules in [signing] pkcs11_modules"
    )]
    ModuleNotAllowed(String),
    #[error("PrivateKey: {0}")]
    Pkcs11(String),
    #[error("CertificateChain: {0}")]
    Chain(CertError),
    #[error("X5u: {0}")]
    X5u(String),
}

/// Where identities' keys may be and where their chains are published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentitySettings {
    /// Key files must be inside this directory.
    pub key_dir: Option<PathBuf>,
    /// The PKCS#11 libraries a `pkcs11:` URI may load.
    pub pkcs11_modules: Vec<PathBuf>,
    /// The x5u of an identity without its own: this prefix, its SID and `.pem`.
    pub x5u_base: String,
}

/// An identity whose key and chain passed the checks.
pub struct Loaded {
    pub record: SigningIdentity,
    pub signer: Arc<Signer>,
    /// The chain as served at the identity's x5u path.
    pub chain_pem: Arc<str>,
    pub check: SigningCheck,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("sid", &self.record.sid)
            .field("subject", &self.check.info.subject)
            .finish_non_exhaustive()
    }
}

/// The live identities.
pub struct Identities {
    settings: IdentitySettings,
    loaded: Mutex<HashMap<Sid, Arc<Loaded>>>,
    published: Arc<IdentitySigners>,
}

impl Identities {
    /// Identities publishing their signers to `published` (the proxy's).
    pub fn new(settings: IdentitySettings, published: Arc<IdentitySigners>) -> Identities {
        Identities {
            settings,
            loaded: Mutex::new(HashMap::new()),
            published,
        }
    }

    /// The x5u an identity announces: its own, or the one derived from its SID.
    pub fn x5u(&self, record: &SigningIdentity) -> String {
        match &record.x5u {
            Some(x5u) => x5u.clone(),
            None => format!("{}{}.pem", self.settings.x5u_base, record.sid),
        }
    }

    /// Loads the record's key and checks it against the chain at `now_unix`: the key
    /// belongs to the leaf, the leaf is valid and has a TNAuthList, and every certificate
    /// follows the STI profile (ATIS-1000080).
    pub fn load(&self, record: &SigningIdentity, now_unix: i64) -> Result<Loaded, IdentityError> {
        let x5u = self.x5u(record);
        check_x5u(&x5u)?;
        let chain =
            certs::load_chain_pem(&record.certificate_chain).map_err(IdentityError::Chain)?;
        let (signer, check) = match KeyRef::parse(&record.private_key)? {
            KeyRef::File(path) => {
                let path = self.key_file(&path)?;
                let pem = std::fs::read_to_string(&path)
                    .map_err(|e| IdentityError::Key(format!("reading the key file: {e}")))?;
                let key = SigningKey::from_pem(&pem)
                    .map_err(|e| IdentityError::Key(format!("the key file: {e}")))?;
                let check = certs::check_signing(&key, &chain, None, now_unix)
                    .map_err(IdentityError::Chain)?;
                (Signer::new(&key, &x5u).map_err(x5u_error)?, check)
            }
            KeyRef::Pkcs11(uri) => {
                let module = self.module(uri.module_path.as_deref())?;
                let key = pkcs11::HsmKey::open(&uri, &module)?;
                let signer = Signer::external(Box::new(key), &x5u).map_err(x5u_error)?;
                let check = certs::check_signing_with(
                    |public_key| signs_for(&signer, public_key),
                    &chain,
                    None,
                    now_unix,
                )
                .map_err(IdentityError::Chain)?;
                (signer, check)
            }
        };
        // Its certificate's validity bounds what it signs, as `[signing]`'s does, and a
        // delegate certificate's numbers (RFC 9060) which callers it signs for.
        let signer = signer
            .valid_between(check.info.not_before, check.info.not_after)
            .limited_to(check.info.delegated_numbers.clone());
        Ok(Loaded {
            record: record.clone(),
            signer: Arc::new(signer),
            chain_pem: record.certificate_chain.as_str().into(),
            check,
        })
    }

    /// Makes `loaded` live (after its record is committed).
    pub fn add(&self, loaded: Loaded) {
        let mut all = self.lock();
        all.insert(loaded.record.sid, Arc::new(loaded));
        self.publish(&all);
    }

    /// Makes `records` the live identities: unchanged ones keep their signer, new or
    /// changed ones are loaded, missing ones are dropped. Returns the records that
    /// failed to load; each keeps its previous signer, if it had one.
    pub fn sync(&self, records: &[SigningIdentity], now_unix: i64) -> Vec<(Sid, IdentityError)> {
        let mut all = self.lock();
        let mut next = HashMap::with_capacity(records.len());
        let mut failed = Vec::new();
        for record in records {
            match all.get(&record.sid) {
                Some(l) if l.record == *record => {
                    next.insert(record.sid, Arc::clone(l));
                }
                previous => match self.load(record, now_unix) {
                    Ok(l) => {
                        next.insert(record.sid, Arc::new(l));
                    }
                    Err(e) => {
                        if let Some(p) = previous {
                            next.insert(record.sid, Arc::clone(p));
                        }
                        failed.push((record.sid, e));
                    }
                },
            }
        }
        *all = next;
        self.publish(&all);
        failed
    }

    /// Every live identity.
    pub fn all(&self) -> Vec<Arc<Loaded>> {
        self.lock().values().cloned().collect()
    }

    /// The live identity `sid`.
    pub fn get(&self, sid: Sid) -> Option<Arc<Loaded>> {
        self.lock().get(&sid).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Sid, Arc<Loaded>>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self, all: &HashMap<Sid, Arc<Loaded>>) {
        let signers = all
            .iter()
            .map(|(sid, l)| (*sid, Arc::clone(&l.signer)))
            .collect();
        self.published.store(Arc::new(signers));
    }

    /// `path` (relative to the key directory, or absolute) if it is a file inside it.
    fn key_file(&self, path: &Path) -> Result<PathBuf, IdentityError> {
        let dir = self
            .settings
            .key_dir
            .as_ref()
            .ok_or(IdentityError::NoKeyDir)?;
        let outside = || IdentityError::OutsideKeyDir(path.display().to_string());
        let dir = dir.canonicalize().map_err(|_| IdentityError::NoKeyDir)?;
        // Resolving links and `..` first, so that neither leads out of the directory.
        let file = dir.join(path).canonicalize().map_err(|_| outside())?;
        if file.starts_with(&dir) && file.is_file() {
            Ok(file)
        } else {
            Err(outside())
        }
    }

    /// The PKCS#11 library to load: the URI's, which must be configured, or the only
    /// configured one.
    fn module(&self, asked: Option<&Path>) -> Result<PathBuf, IdentityError> {
        let allowed = &self.settings.pkcs11_modules;
        match asked {
            Some(path) if allowed.iter().any(|m| m == path) => Ok(path.to_owned()),
            Some(path) => Err(IdentityError::ModuleNotAllowed(path.display().to_string())),
            None => match allowed.as_slice() {
                [only] => Ok(only.clone()),
                _ => Err(IdentityError::KeyRef(
                    "must name its PKCS#11 library with `module-path` (one of [signing] pkcs11_modules)"
                        .into(),
                )),
            },
        }
    }
}

fn x5u_error(e: PassportError) -> IdentityError {
    IdentityError::X5u(e.to_string())
}

/// An x5u must be an absolute http(s) URL the verifier can fetch.
fn check_x5u(x5u: &str) -> Result<(), IdentityError> {
    let ok = (x5u.starts_with("https://") || x5u.starts_with("http://"))
        && x5u.len() <= 2048
        && x5u
            .parse::<axum::http::Uri>()
            .is_ok_and(|u| u.host().is_some());
    if ok {
        Ok(())
    } else {
        Err(IdentityError::X5u(format!(
            "`{x5u}` is not an absolute http(s) URL"
        )))
    }
}

/// Whether `signer`'s key belongs to `public_key` (SEC1): it signs a fresh message and
/// the signature must verify with the public key.
fn signs_for(signer: &Signer, public_key: &[u8]) -> bool {
    let message = format!("callsign key check {}", uuid::Uuid::new_v4());
    signer.sign_raw(message.as_bytes()).is_ok_and(|signature| {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
            .verify(message.as_bytes(), &signature)
            .is_ok()
    })
}

#[cfg(test)]
mod tests;
