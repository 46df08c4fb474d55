//! A development PKI served over HTTP on 127.0.0.1:0, for the verification tests: the
//! x5u chain and the STI-PA's indirect CRL at the URLs its certificates name, plus any
//! other path a test sets (or a status code instead of a body), counting the requests
//! for each path. It runs on its own thread, so synchronous tests that spawn the binary
//! can use it as well as async ones. With [`PkiServer::start_delegating`] it also
//! serves a delegate chain (RFC 9060).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use callsign::certs::dev::{self, DevPki};
use callsign::certs::{CertError, SigningKey, TnAuthEntry};
use callsign::passport::{Attest, Claims, Signer};

pub const ORIG: &str = "12155550121";
pub const DEST: &str = "12155550131";
pub const ORIGID: &str = "123e4567-e89b-12d3-a456-426655440000";

/// Where the STI-PA CRL is served.
pub const CRL_PATH: &str = "/sti-pa.crl";
/// Where [`PkiServer::start_delegating`] serves the delegate chain.
pub const DELEGATE_CHAIN_PATH: &str = "/delegate-chain.pem";

/// What the delegate leaf of [`PkiServer::start_delegating`] holds: [`ORIG`] and the
/// range 12155550300 to 12155550399.
pub fn delegate_numbers() -> Vec<TnAuthEntry> {
    vec![
        TnAuthEntry::Tn(ORIG.into()),
        TnAuthEntry::Range {
            start: "12155550300".into(),
            count: 100,
        },
    ]
}

/// Path -> status, body and an optional Cache-Control value.
type Files = Arc<Mutex<HashMap<String, (StatusCode, Vec<u8>, Option<String>)>>>;
/// Path -> how many requests asked for it.
type Hits = Arc<Mutex<HashMap<String, usize>>>;

/// A dev PKI and the server publishing it.
pub struct PkiServer {
    pub addr: SocketAddr,
    pub pki: DevPki,
    files: Files,
    hits: Hits,
}

impl PkiServer {
    /// A fresh PKI issued at `issued_at`, whose CRLs live on this server.
    pub fn start(issued_at: i64) -> PkiServer {
        PkiServer::start_with(|url| dev::generate_with("1234", url, issued_at))
    }

    /// [`PkiServer::start`] with a delegation: an STI-SCA for SPC 1234 under the
    /// intermediate and a delegate leaf for [`delegate_numbers`], whose chain is served
    /// at [`DELEGATE_CHAIN_PATH`].
    pub fn start_delegating(issued_at: i64) -> PkiServer {
        let server = PkiServer::start_with(|url| {
            dev::generate_delegating("1234", url, &delegate_numbers(), issued_at)
        });
        let chain = server.pki.delegate_chain_pem().expect("a delegation");
        server.put(DELEGATE_CHAIN_PATH, chain.into_bytes());
        server
    }

    fn start_with(generate: impl FnOnce(&str) -> Result<DevPki, CertError>) -> PkiServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let pki = generate(&format!("http://{addr}/")).expect("dev PKI");
        let files: Files = Arc::default();
        let hits: Hits = Arc::default();
        let server = PkiServer {
            addr,
            pki,
            files,
            hits,
        };
        server.put("/chain.pem", server.pki.chain_pem().into_bytes());
        server.put(CRL_PATH, pem_body(&server.pki.crl_pem));

        let state = (Arc::clone(&server.files), Arc::clone(&server.hits));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new().fallback(serve).with_state(state);
                let _ = axum::serve(listener, app).await;
            });
        });
        server
    }

    /// `http://127.0.0.1:PORT<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `body` with 200 at `path`.
    pub fn put(&self, path: &str, body: Vec<u8>) {
        self.put_status(path, StatusCode::OK, body);
    }

    pub fn put_status(&self, path: &str, status: StatusCode, body: Vec<u8>) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_owned(), (status, body, None));
    }

    /// Serves `body` with 200 and `Cache-Control: <cache_control>` at `path`.
    pub fn put_cached(&self, path: &str, body: Vec<u8>, cache_control: &str) {
        self.files.lock().unwrap().insert(
            path.to_owned(),
            (StatusCode::OK, body, Some(cache_control.to_owned())),
        );
    }

    /// How many requests asked for `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub fn leaf_key(&self) -> SigningKey {
        SigningKey::from_pem(&self.pki.leaf_key_pem).expect("leaf key")
    }

    /// The key of the delegate leaf ([`PkiServer::start_delegating`]).
    pub fn delegate_key(&self) -> SigningKey {
        let delegate = self.pki.delegate.as_ref().expect("a delegation");
        SigningKey::from_pem(&delegate.leaf.key_pem).expect("delegate key")
    }

    /// An Identity header value signed with the leaf key, x5u at `x5u_path`.
    pub fn identity(&self, x5u_path: &str, iat: i64) -> String {
        identity_with(&self.leaf_key(), &self.url(x5u_path), iat)
    }

    /// A compact JWS over arbitrary header and payload text, signed (ES256) with the leaf
    /// key, so that a malformed PASSporT still carries a valid signature.
    pub fn sign_raw(&self, header: &str, payload: &str) -> String {
        sign_jws(&self.leaf_key(), header, payload)
    }
}

/// A compact JWS over `header` and `payload` text, signed ES256 with `key`.
pub fn sign_jws(key: &SigningKey, header: &str, payload: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.pkcs8_der(), &rng)
        .expect("a P-256 key");
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = pair.sign(&rng, input.as_bytes()).expect("signing");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// An Identity header value (attest A, [`ORIG`] to [`DEST`]) signed with `key`.
pub fn identity_with(key: &SigningKey, x5u: &str, iat: i64) -> String {
    identity_from(key, x5u, ORIG, iat)
}

/// An Identity header value (attest A, `orig` to [`DEST`]) signed with `key`, whatever
/// its certificate covers.
pub fn identity_from(key: &SigningKey, x5u: &str, orig: &str, iat: i64) -> String {
    Signer::new(key, x5u)
        .expect("signer")
        .identity(&Claims {
            attest: Attest::A,
            dest: &[DEST],
            iat,
            orig,
            origid: ORIGID,
        })
        .expect("sign")
}

/// The DER inside a PEM block, as a CRL is served over HTTP.
pub fn pem_body(pem: &str) -> Vec<u8> {
    x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes())
        .next()
        .expect("a PEM block")
        .expect("valid PEM")
        .contents
}

async fn serve(State((files, hits)): State<(Files, Hits)>, uri: Uri) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    *hits
        .lock()
        .unwrap()
        .entry(uri.path().to_owned())
        .or_default() += 1;
    let found = files.lock().unwrap().get(uri.path()).cloned();
    match found {
        Some((status, body, Some(cc))) => {
            (status, [("cache-control", cc)], Bytes::from(body)).into_response()
        }
        Some((status, body, None)) => (status, Bytes::from(body)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A TCP listener on 127.0.0.1:0 that never accepts: the kernel completes each
/// connection and nothing ever answers. It is silent for as long as it is kept.
pub fn silent_server() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind")
}

/// Verifier settings for a [`PkiServer`] on loopback: plain http and loopback allowed,
/// CRLs required (signed by `server`'s STI-PA CRL signer), a short fetch timeout.
pub fn local_settings(server: &PkiServer) -> callsign::verify::VerifySettings {
    use callsign::verify::{CrlMode, FetchPolicy, VerifySettings};
    let mut s = VerifySettings::new(server.pki.root_pem.as_str());
    s.crl_signers_pem = server.pki.crl_signer_pem.clone();
    s.fetch = FetchPolicy {
        allow_http: true,
        allow_loopback: true,
        timeout: std::time::Duration::from_millis(300),
        ..FetchPolicy::default()
    };
    s.crl = CrlMode::Require;
    s
}

/// A verifier trusting `server`'s root, with [`local_settings`].
pub fn local_verifier(server: &PkiServer) -> callsign::verify::Verifier {
    callsign::verify::Verifier::new(local_settings(server)).expect("verifier")
}

/// The numbers of a call from [`ORIG`] to [`DEST`], with no Date to check.
pub fn expected() -> callsign::verify::Expected {
    callsign::verify::Expected {
        orig: Some(ORIG.into()),
        dest: vec![DEST.into()],
        date: None,
    }
}
