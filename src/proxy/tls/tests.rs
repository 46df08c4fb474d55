use std::path::Path;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::certs::dev_tls::{DevTlsCa, DevTlsCert};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `[sip.tls]` files in `dir`: our certificate for `names` from `ca`, trusting `ca` both
/// ways (client certificates only when `mutual`).
fn files(dir: &Path, ca: &DevTlsCa, cert: &DevTlsCert, mutual: bool) -> TlsFiles {
    let ca_path = write(dir, "ca.pem", &ca.pem);
    TlsFiles {
        section: "[sip.tls]",
        certificate: write(dir, "chain.pem", &cert.chain_pem),
        key: write(dir, "key.pem", &cert.key_pem),
        ca: Some(ca_path.clone()),
        client_ca: mutual.then_some(ca_path),
    }
}

const SECOND: Duration = Duration::from_secs(1);

/// A handshake between `client` and `server` over an in-memory pipe, reaching the
/// server by `name`; the server's view of the client's names, or each side's error.
async fn handshake(
    client: &SipTls,
    server: &SipTls,
    name: &str,
) -> Result<Vec<String>, (Option<io::Error>, Option<io::Error>)> {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let connect = client.connector().connect(name, a);
    let accept = server.acceptor().accept(b);
    let (c, s) = tokio::join!(connect, accept);
    match (c, s) {
        (Ok(mut c), Ok(mut s)) => {
            // Application data flows both ways once the handshake is done.
            c.write_all(b"OPTIONS").await.unwrap();
            c.flush().await.unwrap();
            let mut got = [0u8; 7];
            s.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"OPTIONS");
            let (_, conn) = s.get_ref();
            Ok(conn
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(certificate_names)
                .unwrap_or_default())
        }
        (c, s) => Err((c.err(), s.err())),
    }
}

#[tokio::test]
async fn a_client_with_a_certificate_is_named_and_one_without_is_let_in_unnamed() {
    let dir = tempfile::tempdir().unwrap();
    let ca = DevTlsCa::new("test SIP CA").unwrap();
    let server_dir = dir.path().join("server");
    let client_dir = dir.path().join("client");
    std::fs::create_dir_all(&server_dir).unwrap();
    std::fs::create_dir_all(&client_dir).unwrap();
    let server_cert = ca.issue(&["sbc.callsign.example", "127.0.0.1"]).unwrap();
    let server = SipTls::load(files(&server_dir, &ca, &server_cert, true), SECOND).unwrap();
    let client_cert = ca.issue(&["Trunk1.Customer.example"]).unwrap();
    let client = SipTls::load(files(&client_dir, &ca, &client_cert, false), SECOND).unwrap();

    let names = handshake(&client, &server, "sbc.callsign.example")
        .await
        .unwrap();
    assert_eq!(names, ["trunk1.customer.example"]);
    // Reached by its address, which its certificate carries too.
    assert!(handshake(&client, &server, "127.0.0.1").await.is_ok());

    // A name the server's certificate does not carry: refused by the client.
    let (client_error, _) = handshake(&client, &server, "other.example")
        .await
        .unwrap_err();
    assert_eq!(failure(&client_error.unwrap()), TlsFailure::Certificate);

    // A server that asks for no client certificate gets none.
    let plain = SipTls::load(files(&server_dir, &ca, &server_cert, false), SECOND).unwrap();
    let names = handshake(&client, &plain, "sbc.callsign.example")
        .await
        .unwrap();
    assert!(names.is_empty());
}

#[tokio::test]
async fn a_server_from_another_ca_is_refused_and_counted_as_a_certificate_failure() {
    let dir = tempfile::tempdir().unwrap();
    let ours = DevTlsCa::new("our CA").unwrap();
    let theirs = DevTlsCa::new("someone else's CA").unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let client = SipTls::load(
        files(&a, &ours, &ours.issue(&["a.example"]).unwrap(), false),
        SECOND,
    )
    .unwrap();
    let server = SipTls::load(
        files(&b, &theirs, &theirs.issue(&["b.example"]).unwrap(), true),
        SECOND,
    )
    .unwrap();
    let (client_error, server_error) = handshake(&client, &server, "b.example").await.unwrap_err();
    assert_eq!(failure(&client_error.unwrap()), TlsFailure::Certificate);
    // The server saw the client give up over its certificate.
    assert_eq!(failure(&server_error.unwrap()), TlsFailure::Certificate);
}

#[test]
fn files_that_cannot_work_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = DevTlsCa::new("test CA").unwrap();
    let cert = ca.issue(&["a.example"]).unwrap();
    let other = ca.issue(&["b.example"]).unwrap();
    let good = files(dir.path(), &ca, &cert, true);
    let refused = |f: TlsFiles| SipTls::load(f, SECOND).err().unwrap().to_string();

    let mut f = good.clone();
    f.certificate = dir.path().join("missing.pem");
    let e = refused(f);
    assert!(
        e.contains("certificate") && e.contains("missing.pem"),
        "{e}"
    );

    let mut f = good.clone();
    f.certificate = write(dir.path(), "empty.pem", "no PEM here\n");
    let e = refused(f);
    assert!(e.contains("holds no certificate"), "{e}");

    let mut f = good.clone();
    f.key = write(dir.path(), "cert-as-key.pem", &ca.pem);
    let e = refused(f);
    assert!(e.contains("key") && e.contains("no PEM private key"), "{e}");

    // Another certificate's key.
    let mut f = good.clone();
    f.key = write(dir.path(), "other.key", &other.key_pem);
    let e = refused(f);
    assert!(e.contains("do not go together"), "{e}");

    let mut f = good.clone();
    f.client_ca = Some(write(
        dir.path(),
        "garbage-ca.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ));
    let e = refused(f);
    assert!(e.contains("client_ca"), "{e}");
}

#[tokio::test]
async fn a_reload_takes_a_new_certificate_and_a_broken_one_leaves_the_old_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let ca = DevTlsCa::new("test CA").unwrap();
    let server_dir = dir.path().join("server");
    let client_dir = dir.path().join("client");
    std::fs::create_dir_all(&server_dir).unwrap();
    std::fs::create_dir_all(&client_dir).unwrap();
    let first = ca.issue(&["first.example"]).unwrap();
    let f = files(&server_dir, &ca, &first, false);
    let server = SipTls::load(f.clone(), SECOND).unwrap();
    let client = SipTls::load(
        files(&client_dir, &ca, &ca.issue(&["c.example"]).unwrap(), false),
        SECOND,
    )
    .unwrap();
    assert!(handshake(&client, &server, "first.example").await.is_ok());

    let second = ca.issue(&["second.example"]).unwrap();
    std::fs::write(&f.certificate, &second.chain_pem).unwrap();
    std::fs::write(&f.key, &second.key_pem).unwrap();
    server.reload().unwrap();
    assert!(handshake(&client, &server, "second.example").await.is_ok());
    assert!(handshake(&client, &server, "first.example").await.is_err());

    // Half a rotation (the new certificate, the old key): refused, the second stays.
    let third = ca.issue(&["third.example"]).unwrap();
    std::fs::write(&f.certificate, &third.chain_pem).unwrap();
    assert!(server.reload().is_err());
    assert!(handshake(&client, &server, "second.example").await.is_ok());
}

#[test]
fn client_names_match_exactly_or_under_one_wildcard_label() {
    let allowed = [
        "Trunk1.customer.example".to_string(),
        "*.sbc.example".into(),
    ];
    assert!(name_allowed(&allowed, "trunk1.customer.example"));
    assert!(name_allowed(&allowed, "edge-2.sbc.example"));
    assert!(!name_allowed(&allowed, "sbc.example"));
    assert!(!name_allowed(&allowed, "a.b.sbc.example"));
    assert!(!name_allowed(&allowed, "trunk1.customer.example.evil"));
    assert!(!name_allowed(&allowed, "*.sbc.example.org"));
    // A wildcard certificate does not stand for a name it would cover.
    assert!(!name_allowed(&["edge.sbc.example".into()], "*.sbc.example"));
    // ...but the very same wildcard is the same name.
    assert!(name_allowed(&allowed, "*.sbc.example"));
    assert!(!name_allowed(&[], "anything.example"));
}

#[test]
fn errors_that_are_not_about_certificates_count_as_protocol_failures() {
    let certificate = io::Error::new(
        io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(rustls::CertificateError::Expired),
    );
    assert_eq!(failure(&certificate), TlsFailure::Certificate);
    let garbage = io::Error::new(
        io::ErrorKind::InvalidData,
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
    );
    assert_eq!(failure(&garbage), TlsFailure::Protocol);
    let closed = io::Error::from(io::ErrorKind::UnexpectedEof);
    assert_eq!(failure(&closed), TlsFailure::Protocol);
}
