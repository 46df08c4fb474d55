//! A P-256 key in an HSM, through its PKCS#11 library: callsign hashes, the token signs
//! with CKM_ECDSA, and the key never leaves the token.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

use super::IdentityError;
use super::keyref::{Pin, Pkcs11Uri};
use crate::passport::ExternalKey;

/// Sessions opened per key, so that calls on several cores sign at once.
const MAX_SESSIONS: usize = 4;

/// A private key found on a token, with a few sessions to sign on.
pub struct HsmKey {
    sessions: Vec<Mutex<Session>>,
    key: ObjectHandle,
    next: AtomicUsize,
}

/// Each PKCS#11 library is loaded and initialized once per process.
fn module(path: &Path) -> Result<Pkcs11, IdentityError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut modules = MODULES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(m) = modules.get(path) {
        return Ok(m.clone());
    }
    let fail = |e: CkError| IdentityError::Pkcs11(format!("{}: {e}", path.display()));
    let pkcs11 = Pkcs11::new(path).map_err(fail)?;
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(fail(e)),
    }
    modules.insert(path.to_owned(), pkcs11.clone());
    Ok(pkcs11)
}

impl HsmKey {
    /// Finds the key `uri` names through `module_path` and logs in with its PIN.
    pub fn open(uri: &Pkcs11Uri, module_path: &Path) -> Result<HsmKey, IdentityError> {
        let err = |what: &str, e: CkError| IdentityError::Pkcs11(format!("{what}: {e}"));
        let pkcs11 = module(module_path)?;
        let slots = pkcs11
            .get_slots_with_initialized_token()
            .map_err(|e| err("listing slots", e))?;
        let mut slot = None;
        for s in slots {
            let info = pkcs11
                .get_token_info(s)
                .map_err(|e| err("reading a token", e))?;
            let label_ok = uri.token.as_deref().is_none_or(|t| info.label() == t);
            let serial_ok = (uri.serial.as_deref()).is_none_or(|n| info.serial_number() == n);
            if label_ok && serial_ok {
                slot = Some(s);
                break;
            }
        }
        let slot = slot.ok_or_else(|| {
            IdentityError::Pkcs11(format!(
                "no token {} in {}",
                uri.token.as_deref().unwrap_or("(any)"),
                module_path.display()
            ))
        })?;
        let first = pkcs11
            .open_ro_session(slot)
            .map_err(|e| err("opening a session", e))?;
        if let Some(pin) = &uri.pin {
            let pin = match pin {
                Pin::Value(v) => v.clone(),
                Pin::Source(path) => std::fs::read_to_string(path)
                    .map_err(|e| {
                        IdentityError::Pkcs11(format!("reading pin-source {}: {e}", path.display()))
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            };
            match first.login(UserType::User, Some(&AuthPin::new(pin.into()))) {
                Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
                Err(e) => return Err(err("logging in", e)),
            }
        }
        let mut template = vec![
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC),
        ];
        if let Some(label) = &uri.object {
            template.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        if let Some(id) = &uri.id {
            template.push(Attribute::Id(id.clone()));
        }
        let found = first
            .find_objects(&template)
            .map_err(|e| err("finding the key", e))?;
        let key = match found.as_slice() {
            [key] => *key,
            [] => {
                return Err(IdentityError::Pkcs11(
                    "no EC private key on the token matches the URI (is the PIN right?)".into(),
                ));
            }
            _ => {
                return Err(IdentityError::Pkcs11(format!(
                    "{} EC private keys on the token match the URI; name one by `id`",
                    found.len()
                )));
            }
        };
        let wanted = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut sessions = vec![Mutex::new(first)];
        for _ in 1..wanted.min(MAX_SESSIONS) {
            let s = pkcs11
                .open_ro_session(slot)
                .map_err(|e| err("opening a session", e))?;
            sessions.push(Mutex::new(s));
        }
        Ok(HsmKey {
            sessions,
            key,
            next: AtomicUsize::new(0),
        })
    }
}

impl ExternalKey for HsmKey {
    fn sign_es256(&self, message: &[u8]) -> Result<[u8; 64], String> {
        let digest = ring::digest::digest(&ring::digest::SHA256, message);
        let n = self.sessions.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        // A free session if there is one, else wait for ours.
        let session = (0..n)
            .find_map(|i| self.sessions[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| {
                self.sessions[start % n]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
            });
        let signature = session
            .sign(&Mechanism::Ecdsa, self.key, digest.as_ref())
            .map_err(|e| e.to_string())?;
        signature
            .try_into()
            .map_err(|s: Vec<u8>| format!("the token gave a {}-byte signature, not 64", s.len()))
    }
}
