//! A PostgreSQL cluster of a test's own, for the tests that stop and restart the
//! database or need TLS: `initdb` into a temp dir (as the `postgres` user when run as
//! root, since initdb refuses root), served on a free port on 127.0.0.1, stopped and
//! removed on drop.

use std::path::PathBuf;
use std::process::Command;

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    root: bool,
    /// Server options beyond the port, socket directory and address.
    options: String,
}

/// A server certificate and key (PEM) for [`Cluster::start_tls`].
pub struct ServerTls<'a> {
    pub cert_pem: &'a str,
    pub key_pem: &'a str,
    /// The password of the `callsign` user, which TCP connections must then give.
    pub password: &'a str,
}

impl Cluster {
    /// A new cluster, started.
    pub fn start() -> Cluster {
        Cluster::start_with(None)
    }

    /// A new cluster, started with `ssl = on` and `tls`'s certificate, that takes TCP
    /// connections only over TLS and with the password (`hostssl` lines alone in
    /// pg_hba.conf: a plain connection finds no entry).
    pub fn start_tls(tls: &ServerTls<'_>) -> Cluster {
        Cluster::start_with(Some(tls))
    }

    fn start_with(tls: Option<&ServerTls<'_>>) -> Cluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server (Debian package postgresql)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max_by_key(|p| {
                let version = p.parent().and_then(|v| v.file_name()).unwrap_or_default();
                version.to_string_lossy().parse::<u32>().unwrap_or(0)
            })
            .expect("an initdb under /usr/lib/postgresql/*/bin");
        let dir = tempfile::tempdir().unwrap();
        let id = Command::new("id").arg("-u").output().unwrap();
        let root = String::from_utf8_lossy(&id.stdout).trim() == "0";
        if root {
            let status = Command::new("chown")
                .args(["postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cluster = Cluster {
            dir,
            bin,
            port,
            root,
            options: String::new(),
        };
        let data = cluster.data();
        let Some(tls) = tls else {
            cluster.run("initdb", &["-D", &data, "-A", "trust", "-U", "callsign"]);
            cluster.start_again();
            return cluster;
        };
        let pwfile = cluster.file("password", tls.password);
        let pwfile = format!("--pwfile={}", pwfile.display());
        cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "callsign", &pwfile],
        );
        let (cert, key) = (
            cluster.file("server.crt", tls.cert_pem),
            cluster.file("server.key", tls.key_pem),
        );
        cluster.file(
            "data/pg_hba.conf",
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostssl all all ::1/128 scram-sha-256\n",
        );
        cluster.options = format!(
            " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            cert.display(),
            key.display()
        );
        cluster.start_again();
        cluster
    }

    /// Writes `text` to `name` in the cluster's directory, for the server alone to read.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        if self.root {
            let status = Command::new("chown")
                .args(["postgres", path.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success());
        }
        path
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_str().unwrap().to_owned()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the stopped cluster again, on the same port and data.
    pub fn start_again(&self) {
        let (data, dir) = (self.data(), self.dir.path().to_str().unwrap().to_owned());
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -k {dir} -c listen_addresses=127.0.0.1{}",
            self.port, self.options
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// Stops the server (fast shutdown: connections are cut).
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://callsign@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if self.root {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}
