//! [`Harness`]: a callsign server running in-process on 127.0.0.1:0 (started by
//! [`TestServer`](super::TestServer)), its listening addresses, the test UAS that is its
//! upstream, and what a test asks of it: a reload, a metric, an HTTP GET.

use std::net::SocketAddr;
use std::path::PathBuf;

use callsign::config::Config;
use callsign::daemon::{self, Control, Listeners, Stop};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;

use super::{TestServer, WAIT};

/// The server's upstream, as the test holds it.
pub enum Upstream {
    Udp(UdpSocket),
    Tcp(TcpListener),
    /// An address outside the harness.
    External,
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub udp: SocketAddr,
    pub tcp: SocketAddr,
    /// `[sip.tls] listen`, when the config has it.
    pub tls: Option<SocketAddr>,
    pub http: SocketAddr,
    /// `[sti_rest] listen`, when the config has it.
    pub sti_rest: Option<SocketAddr>,
    pub upstream: Upstream,
    pub control: Control,
    /// The public key (SEC1) of the certificate the server signs with.
    pub leaf_public_key: Vec<u8>,
    stop: watch::Sender<Stop>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Harness {
    /// Runs `config` on `listeners` in a task; the server panics the test if it fails.
    pub(super) fn run(
        dir: tempfile::TempDir,
        config: Config,
        listeners: Listeners,
        upstream: Upstream,
        chain_pem: &str,
    ) -> Harness {
        let udp = listeners.udp.as_ref().unwrap().local_addr().unwrap();
        let tcp = listeners.tcp.as_ref().unwrap().local_addr().unwrap();
        let tls = listeners.tls.as_ref().map(|l| l.local_addr().unwrap());
        let http = listeners.http.as_ref().unwrap().local_addr().unwrap();
        let sti_rest = listeners.sti_rest.as_ref().map(|l| l.local_addr().unwrap());
        let (control, stop) = Control::new();
        let c = control.clone();
        let server = tokio::spawn(async move {
            if let Err(e) = daemon::run(config, listeners, c).await {
                panic!("server failed: {e}");
            }
        });
        Harness {
            dir,
            udp,
            tcp,
            tls,
            http,
            sti_rest,
            upstream,
            control,
            leaf_public_key: leaf_public_key(chain_pem),
            stop,
            server: Some(server),
        }
    }

    /// Stops this server, waits until it has, and starts `next` on the same directory
    /// (and so the same PKI and store).
    pub async fn restart(mut self, next: TestServer) -> Harness {
        let _ = self.stop.send(Stop::Now);
        if let Some(server) = self.server.take() {
            tokio::time::timeout(WAIT, server).await.unwrap().unwrap();
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        next.start_in(dir).await
    }

    /// Stops this server and waits until `run` has returned, which is after every task
    /// it started has ended.
    /// Stops the server and hands back its directory (PKI, store), for a restart.
    pub async fn stop_keeping_dir(mut self) -> tempfile::TempDir {
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        self.stop().await;
        dir
    }

    pub async fn stop(mut self) {
        let _ = self.stop.send(Stop::Now);
        if let Some(server) = self.server.take() {
            tokio::time::timeout(WAIT, server)
                .await
                .expect("the server stops within WAIT")
                .unwrap();
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn uas_udp(&self) -> &UdpSocket {
        match &self.upstream {
            Upstream::Udp(s) => s,
            _ => panic!("upstream is not a harness UDP socket"),
        }
    }

    /// Asks the server to reload its trust data and waits until it has tried.
    pub async fn reload(&self) {
        let mut rx = self.control.reloaded.subscribe();
        rx.borrow_and_update();
        self.control.reload.notify_one();
        tokio::time::timeout(WAIT, rx.changed())
            .await
            .unwrap()
            .unwrap();
    }

    /// Asserts that `/metrics` has the line `sample` (name, labels and value).
    pub async fn assert_metric(&self, sample: &str) {
        let metrics = self.http_get("/metrics").await;
        assert!(
            metrics.lines().any(|l| l == sample),
            "no `{sample}` in:\n{metrics}"
        );
    }

    /// GET a path from the HTTP listener; returns the whole response as text.
    pub async fn http_get(&self, path: &str) -> String {
        String::from_utf8(self.http_get_bytes(path).await).unwrap()
    }

    /// GET a path from the HTTP listener; returns the whole response.
    pub async fn http_get_bytes(&self, path: &str) -> Vec<u8> {
        let mut s = TcpStream::connect(self.http).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(WAIT, s.read_to_end(&mut out))
            .await
            .unwrap()
            .unwrap();
        out
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.stop.send(Stop::Now);
    }
}

/// The public key of the first certificate of a PEM chain: the key a server signs with.
pub fn leaf_public_key(chain_pem: &str) -> Vec<u8> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(chain_pem.as_bytes()).unwrap();
    let cert = pem.parse_x509().unwrap();
    cert.public_key().subject_public_key.data.to_vec()
}
