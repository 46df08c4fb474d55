use std::path::{Path, PathBuf};

use super::*;

/// Every config file the project ships.
fn shipped() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .expect("config directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            (p, text)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_config_loads() {
    let files = shipped();
    let names: Vec<String> = files
        .iter()
        .filter_map(|(p, _)| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["callsign.toml", "verify.toml"]);
    for (path, _) in &files {
        let config = Config::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(config.signing.key.is_absolute(), "paths resolve");
    }
}

#[test]
fn the_sample_config_signs_from_a_seeded_store() {
    let c = Config::load(&shipped()[0].0).unwrap();
    assert_eq!(c.trunks.len(), 4);
    assert_eq!(c.x5u_path(), "/certs/chain.pem");
    assert!(c.trust.store.is_some() && c.trust.seed.is_some() && c.trust.file.is_none());
    assert!(c.api.operator_sid.is_some());
    assert!(c.trunks.iter().all(|t| t.role == Role::Sign));
}

#[test]
fn the_verifying_example_verifies_its_carrier() {
    let c = Config::load(&shipped()[1].0).unwrap();
    let verify = c.verify.as_ref().expect("[verify]");
    let anchors = verify.trust_anchors.as_ref().expect("trust_anchors");
    assert!(anchors.ends_with("certs/dev/root.pem"));
    assert_eq!(verify.trust_list, None);
    assert_eq!(verify.trust_list_refresh_secs, 3600);
    assert_eq!(verify.on_failure, OnFailure::Forward);
    assert_eq!(verify.feedback, Feedback::Response);
    assert_eq!(verify.crl, CrlMode::BestEffort);
    assert_eq!(c.trunks.len(), 1);
    assert_eq!(c.trunks[0].role, Role::Verify);
    assert!(c.trust.file.is_some());
}

/// Every table of `value` (arrays of tables element by element), by path.
fn tables(value: &toml::Table, path: &str, out: &mut Vec<String>) {
    out.push(path.to_owned());
    for (key, v) in value {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match v {
            toml::Value::Table(t) => tables(t, &here, out),
            toml::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let toml::Value::Table(t) = item {
                        tables(t, &format!("{here}.{i}"), out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn table_at<'t>(root: &'t mut toml::Table, path: &str) -> &'t mut toml::Table {
    let mut parts = path.split('.').filter(|p| !p.is_empty());
    let Some(first) = parts.next() else {
        return root;
    };
    let mut value = root.get_mut(first).unwrap_or_else(|| panic!("no {first}"));
    for part in parts {
        value = match (value, part.parse::<usize>()) {
            (toml::Value::Array(items), Ok(i)) => &mut items[i],
            (toml::Value::Table(t), _) => t.get_mut(part).unwrap_or_else(|| panic!("no {part}")),
            _ => panic!("no table at {path}"),
        };
    }
    match value {
        toml::Value::Table(t) => t,
        _ => panic!("no table at {path}"),
    }
}

#[test]
fn an_unknown_key_in_any_table_is_refused_by_name() {
    let mut checked = 0;
    for (path, text) in shipped() {
        let root: toml::Table = toml::from_str(&text).unwrap();
        let mut paths = Vec::new();
        tables(&root, "", &mut paths);
        // Tables a file leaves to their defaults must refuse strangers too.
        for absent in ["http", "numbering", "api"] {
            if !root.contains_key(absent) {
                paths.push(absent.to_owned());
            }
        }
        for at in paths {
            let mut corrupted = root.clone();
            let key = "colour_of_the_bikeshed";
            if at.split('.').count() == 1 && !at.is_empty() && !corrupted.contains_key(&at) {
                corrupted.insert(at.clone(), toml::Value::Table(toml::Table::new()));
            }
            table_at(&mut corrupted, &at).insert(key.into(), toml::Value::Integer(1));
            let text = toml::to_string(&corrupted).unwrap();
            match Config::from_toml(&text) {
                Err(ConfigError::Parse { source, .. }) => assert!(
                    source.message().contains(key),
                    "{}: [{at}]: {source}",
                    path.display()
                ),
                other => panic!("{}: [{at}] accepted {key}: {other:?}", path.display()),
            }
            checked += 1;
        }
    }
    // callsign.toml: root, sip, http, signing, numbering, trust, api, vetting, upstream,
    // 4 trunks; verify.toml: root, sip, http, signing, trust, verify, upstream, 1 trunk,
    // plus its absent numbering and api.
    assert_eq!(checked, 13 + 10);
}

#[test]
fn feedback_takes_its_three_places_and_refuses_any_other_by_name() {
    let verifying = &shipped()[1].1;
    let line = "feedback = \"response\"";
    assert!(verifying.contains(line));
    for (value, want) in [
        ("response", Feedback::Response),
        ("request", Feedback::Request),
        ("both", Feedback::Both),
    ] {
        let text = verifying.replace(line, &format!("feedback = \"{value}\""));
        let c = Config::from_toml(&text).unwrap();
        assert_eq!(c.verify.unwrap().feedback, want);
    }
    // Left out, it is `response`.
    let c = Config::from_toml(&verifying.replace(line, "")).unwrap();
    assert_eq!(c.verify.unwrap().feedback, Feedback::Response);
    for bad in ["Response", "invite", "upstream", ""] {
        let text = verifying.replace(line, &format!("feedback = \"{bad}\""));
        let Err(e @ ConfigError::Parse { .. }) = Config::from_toml(&text) else {
            panic!("feedback = {bad:?} accepted");
        };
        let message = e.to_string();
        for part in ["feedback", "`response`, `request`, `both`"] {
            assert!(message.contains(part), "{bad:?}: {message}");
        }
    }
}

#[test]
fn validation_names_the_problem() {
    let shipped = &shipped()[0].1;
    let sid = |s: &str| Sid::parse_any(s).unwrap();
    let cases: Vec<(&str, &str, ConfigError)> = vec![
        (
            "udp = \"127.0.0.1:5060\"\ntcp = \"127.0.0.1:5060\"",
            "",
            ConfigError::NoSipListener,
        ),
        (
            "udp = \"127.0.0.1:5060\"",
            "udp = \"0.0.0.0:5060\"",
            ConfigError::AdvertiseRequired("0.0.0.0:5060".parse().unwrap()),
        ),
        ("[sip]", "[sip]\nt1_ms = 0", ConfigError::ZeroT1),
        (
            "[sip]",
            "[sip]\nt1_ms = 600\nt2_ms = 500",
            ConfigError::T2BelowT1 {
                t1_ms: 600,
                t2_ms: 500,
            },
        ),
        (
            "[sip]",
            "[sip]\ntimer_c_secs = 0",
            ConfigError::ZeroDuration("timer_c_secs"),
        ),
        (
            "[sip]",
            "[sip]\ntcp_idle_timeout_secs = 0",
            ConfigError::ZeroDuration("tcp_idle_timeout_secs"),
        ),
        (
            "[sip]",
            "[sip]\nmax_message_size = 100",
            ConfigError::MessageSize(100),
        ),
        (
            "[sip]",
            "[sip]\ndigest_realm = \"a\\\"b\"",
            ConfigError::DigestRealm("a\"b".into()),
        ),
        (
            "[sip]",
            "[sip]\ndigest_realm = \"\"",
            ConfigError::DigestRealm(String::new()),
        ),
        (
            "[sip]",
            "[sip]\ndigest_realm = \"two words\"",
            ConfigError::DigestRealm("two words".into()),
        ),
        (
            "x5u = \"http://",
            "identity_x5u_base = \"ftp://x/\"\nx5u = \"http://",
            ConfigError::X5u {
                table: "[signing]",
                key: "identity_x5u_base",
                value: "ftp://x/".into(),
                problem: "must be an https URL",
            },
        ),
        (
            "store = ",
            "file = \"trust.json\"\nstore = ",
            ConfigError::TrustSource,
        ),
        (
            "[trust]\nstore = \"../var/callsign.db\"",
            "[trust]",
            ConfigError::TrustSource,
        ),
        (
            "store = \"../var/callsign.db\"",
            "file = \"trust.json\"",
            ConfigError::SeedWithoutStore,
        ),
        (
            "operator_sid = \"AC",
            "operator_sid = \"XX",
            ConfigError::OperatorSidKind(sid("XX0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e")),
        ),
        (
            "operator_auth_token = \"",
            "operator_auth_token = \"x\" #",
            ConfigError::OperatorTokenTooShort,
        ),
        (
            "operator_auth_token = \"",
            "#operator_auth_token = \"",
            ConfigError::OperatorHalfSet,
        ),
        (
            "[api]",
            "[api]\nmax_body_bytes = 10",
            ConfigError::BodyLimit(10),
        ),
        (
            "[api]",
            "[api]\nmax_document_bytes = 100",
            ConfigError::DocumentLimit(100),
        ),
        (
            "[api]",
            "[api]\nmax_document_bytes = 1000000000",
            ConfigError::DocumentLimit(1_000_000_000),
        ),
        (
            "name = \"bluebird-support\"",
            "name = \"bluebird\"",
            ConfigError::DuplicateTrunk("bluebird".into()),
        ),
        (
            "sources = [\"127.0.0.9/32\"]",
            "sources = []",
            ConfigError::TrunkWithoutSources("quickdial".into()),
        ),
        (
            "account_sid = \"AC1a2b3c4d5e6f708192a3b4c5d6e7f804\"",
            "account_sid = \"XX1a2b3c4d5e6f708192a3b4c5d6e7f804\"",
            ConfigError::TrunkAccountKind {
                trunk: "quickdial".into(),
                sid: sid("XX1a2b3c4d5e6f708192a3b4c5d6e7f804"),
            },
        ),
        (
            "account_sid = \"AC1a2b3c4d5e6f708192a3b4c5d6e7f804\"",
            "",
            ConfigError::SigningTrunkWithoutAccount("quickdial".into()),
        ),
        (
            "name = \"quickdial\"",
            "name = \"quickdial\"\nrole = \"verify\"",
            ConfigError::VerifyingTrunkWithoutVerify("quickdial".into()),
        ),
    ];
    // A PostgreSQL store given by a [trust.postgres] table instead of `store`.
    let trust = "store = \"../var/callsign.db\"\n\
        # Imported into the store on first run, so a fresh clone has the sample customers.\n\
        seed = \"trust.json\"";
    let table = |keys: &str| format!("seed = \"trust.json\"\n[trust.postgres]\n{keys}");
    let postgres_cases = [
        (
            "seed = \"trust.json\"".to_owned(),
            table("host = \"db\""),
            ConfigError::PostgresWithSqlite("../var/callsign.db".into()),
        ),
        (
            trust.to_owned(),
            table("host = \"db\"\npassword = \"x\"\npassword_file = \"pw\""),
            ConfigError::PasswordTwice,
        ),
        (
            trust.to_owned(),
            table("host = \"db\"\npool_size = 0"),
            ConfigError::Postgres("`pool_size` must be at least 1".into()),
        ),
        (
            trust.to_owned(),
            table("dbname = \"trust\""),
            ConfigError::Postgres(
                "no database host: set `host` in [trust.postgres] or a postgres:// URL in `store`"
                    .into(),
            ),
        ),
        (
            trust.to_owned(),
            "file = \"trust.json\"\n[trust.postgres]\nhost = \"db\"".to_owned(),
            ConfigError::TrustSource,
        ),
    ];
    let postgres_cases = postgres_cases
        .iter()
        .map(|(from, to, e)| (from.as_str(), to.as_str(), e.clone()));
    for (from, to, expected) in cases.into_iter().chain(postgres_cases) {
        assert!(shipped.contains(from), "the sample has {from:?}");
        let text = shipped.replacen(from, to, 1);
        assert_eq!(Config::from_toml(&text), Err(expected), "{to:?}");
    }
}

#[test]
fn a_missing_file_is_named_with_its_cause() {
    let missing = Path::new("/nonexistent/callsign.toml");
    match Config::load(missing) {
        Err(ConfigError::Read { path, kind, .. }) => {
            assert_eq!(path, missing);
            assert_eq!(kind, std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_config_written_back_reads_the_same() {
    for (path, _) in shipped() {
        let config = Config::load(&path).unwrap();
        assert_eq!(Config::from_toml(&config.to_toml()).unwrap(), config);
    }
}

#[test]
fn derived_origid_is_stable_and_distinct() {
    let t = |name: &str| TrunkConfig {
        name: name.into(),
        role: Role::Sign,
        account_sid: None,
        sources: vec![],
        upstream: None,
        origid: None,
        require_tls: false,
        tls_client_names: Vec::new(),
        contact_identity: false,
        attestation_headers: false,
        signing_failure: None,
        sign_policy: Default::default(),
        unsigned_status: None,
    };
    assert_eq!(t("a").origid(), t("a").origid());
    assert_ne!(t("a").origid(), t("b").origid());
}

/// The shipped config with each `(from, to)` replaced, its paths made absolute, loaded
/// from a file.
fn load_edited(edits: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let (_, text) = &shipped()[0];
    let mut text = text.clone();
    for (from, to) in edits {
        assert!(text.contains(from), "the sample has {from:?}");
        text = text.replacen(from, to, 1);
    }
    let repo = env!("CARGO_MANIFEST_DIR");
    let text = text.replace("\"../", &format!("\"{repo}/"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsign.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(&path)
}

/// The sample, no longer said to be a development machine, with an https x5u.
const NOT_DEVELOPMENT: (&str, &str) = ("development = true", "development = false");
const HTTPS_X5U: (&str, &str) = (
    "x5u = \"http://127.0.0.1:8080/certs/chain.pem\"",
    "x5u = \"https://certs.example.net/chain.pem\"",
);

#[test]
fn development_settings_beyond_loopback_are_refused_naming_each() {
    let udp = "udp = \"127.0.0.1:5060\"";
    let exposed = "udp = \"192.0.2.10:5060\"";
    // On loopback, the sample is fine as it is, and so without the development switch
    // once its x5u is https.
    assert!(load_edited(&[]).is_ok());
    assert!(load_edited(&[NOT_DEVELOPMENT, HTTPS_X5U]).is_ok());
    let problems = |edits: &[(&str, &str)]| match load_edited(edits) {
        Err(ConfigError::UnsafeExposure { listen, problems }) => {
            assert_eq!(listen, "192.0.2.10:5060".parse().unwrap());
            problems
        }
        other => panic!("{other:?}"),
    };
    let all = problems(&[NOT_DEVELOPMENT, HTTPS_X5U, (udp, exposed)]);
    for needle in [
        "[signing] key is the public development key",
        "[api] operator_auth_token is the sample token",
    ] {
        assert!(all.contains(needle), "{all}");
    }
    let message = load_edited(&[NOT_DEVELOPMENT, HTTPS_X5U, (udp, exposed)])
        .unwrap_err()
        .to_string();
    assert!(message.contains("development = true"), "{message}");
    // With its own token, the key is what is left to change.
    let token = "operator_auth_token = \"dev-operator-token-change-me\"";
    let left = problems(&[
        NOT_DEVELOPMENT,
        HTTPS_X5U,
        (udp, exposed),
        (
            token,
            "operator_auth_token = \"a-secret-of-our-own-0123456789\"",
        ),
    ]);
    assert!(
        left.starts_with("[signing] key is the public development key"),
        "{left}"
    );
    assert!(!left.contains("token"), "{left}");
    // Said to be a development machine (as the sample is), it runs.
    assert!(load_edited(&[(udp, exposed)]).is_ok());
}

/// ATIS-1000074 and RFC 8224 section 7.2: verifiers fetch the x5u, so a production one is
/// https with a host and nothing a fetcher must refuse; plain http needs `development =
/// true`, on loopback too.
#[test]
fn the_x5u_is_https_without_userinfo_query_or_fragment() {
    let x5u = HTTPS_X5U.0;
    let refused = |value: &str, edits: &[(&str, &str)]| {
        let line = format!("x5u = \"{value}\"");
        let mut all = edits.to_vec();
        all.push((x5u, &line));
        match load_edited(&all) {
            Err(ConfigError::X5u {
                table,
                key,
                value: v,
                problem,
            }) => {
                assert_eq!(table, "[signing]");
                assert_eq!((key, v.as_str()), ("x5u", value));
                problem
            }
            other => panic!("{value}: {other:?}"),
        }
    };
    let plain = refused("http://127.0.0.1:8080/certs/chain.pem", &[NOT_DEVELOPMENT]);
    assert!(plain.contains("development = true"), "{plain}");
    for (value, says) in [
        (
            "https://user:secret@certs.example.net/chain.pem",
            "userinfo",
        ),
        ("https://certs.example.net/chain.pem?v=2", "query"),
        ("https://certs.example.net/chain.pem#leaf", "fragment"),
        ("ftp://certs.example.net/chain.pem", "https"),
        ("certs.example.net/chain.pem", "URL"),
    ] {
        // Development or not: these are never fetchable.
        assert!(refused(value, &[]).contains(says), "{value}");
        assert!(refused(value, &[NOT_DEVELOPMENT]).contains(says), "{value}");
    }
    assert!(load_edited(&[NOT_DEVELOPMENT, HTTPS_X5U]).is_ok());
    // The identities' base is held to the same rules.
    let base = format!(
        "{}\nidentity_x5u_base = \"https://certs.example.net/si/?x=1\"",
        HTTPS_X5U.1
    );
    match load_edited(&[NOT_DEVELOPMENT, (x5u, &base)]) {
        Err(ConfigError::X5u { key, problem, .. }) => {
            assert_eq!(key, "identity_x5u_base");
            assert!(problem.contains("query"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_drain_is_32_seconds_unless_set_and_at_most_an_hour() {
    let sip = "[sip]";
    assert_eq!(load_edited(&[]).unwrap().sip.drain_secs, 32);
    let none = load_edited(&[(sip, "[sip]\ndrain_secs = 0")]).unwrap();
    assert_eq!(none.sip.drain_secs, 0);
    assert!(load_edited(&[(sip, "[sip]\ndrain_secs = 3600")]).is_ok());
    let err = load_edited(&[(sip, "[sip]\ndrain_secs = 3601")]).unwrap_err();
    assert_eq!(err, ConfigError::DrainTooLong(3601));
    assert!(
        err.to_string()
            .starts_with("[sip] `drain_secs` must be at most 3600"),
        "{err}"
    );
    let negative = load_edited(&[(sip, "[sip]\ndrain_secs = -1")]).unwrap_err();
    assert!(negative.to_string().contains("drain_secs"), "{negative}");
}

#[test]
fn timer_c_must_exceed_three_minutes() {
    let sip = "[sip]";
    assert_eq!(
        load_edited(&[(sip, "[sip]\ntimer_c_secs = 180")]).unwrap_err(),
        ConfigError::TimerC(180)
    );
    assert!(load_edited(&[(sip, "[sip]\ntimer_c_secs = 181")]).is_ok());
}

#[test]
fn trunks_may_not_share_source_addresses() {
    let widened = load_edited(&[(
        "sources = [\"127.0.0.9/32\"]",
        "sources = [\"127.0.0.0/24\"]",
    )]);
    match widened {
        Err(ConfigError::TrunkSourcesOverlap { first, second, .. }) => assert_ne!(first, second),
        other => panic!("{other:?}"),
    }
    let message = load_edited(&[(
        "sources = [\"127.0.0.9/32\"]",
        "sources = [\"127.0.0.0/24\"]",
    )])
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("127.0.0.0/24") && message.contains("[[trunk]]"),
        "{message}"
    );
}

/// The verifying example with each `(from, to)` replaced, loaded from a file in a
/// temporary directory (which relative paths resolve against).
fn load_verify_edited(edits: &[(&str, &str)]) -> (Result<Config, ConfigError>, tempfile::TempDir) {
    let (_, text) = &shipped()[1];
    let mut text = text.clone();
    for (from, to) in edits {
        assert!(text.contains(from), "the example has {from:?}");
        text = text.replacen(from, to, 1);
    }
    let repo = env!("CARGO_MANIFEST_DIR");
    let text = text.replace("\"../", &format!("\"{repo}/"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verify.toml");
    std::fs::write(&path, text).unwrap();
    (Config::load(&path), dir)
}

/// `[verify] trust_list`: a URL held to the x5u's rules (https, plain http only on a
/// development machine, nothing a fetcher refuses), or a file resolved like every path;
/// with or without `trust_anchors`, but one of the two.
#[test]
fn the_trust_list_is_an_https_url_or_a_file_beside_or_instead_of_the_anchors() {
    let anchors = "trust_anchors = \"../certs/dev/root.pem\"";
    let with_list = |value: &str| format!("{anchors}\ntrust_list = \"{value}\"");
    let list_only = |value: &str| format!("trust_list = \"{value}\"");
    let https = "https://lists.example.net/sti-ca-list.json";

    let (c, _) = load_verify_edited(&[(anchors, &with_list(https))]);
    let v = c.unwrap().verify.unwrap();
    assert_eq!(v.trust_list.as_deref(), Some(https));
    assert!(v.trust_anchors.is_some());
    let (c, dir) = load_verify_edited(&[(anchors, &list_only("lists/sti-ca.pem"))]);
    let v = c.unwrap().verify.unwrap();
    assert_eq!(v.trust_anchors, None);
    let file = dir.path().join("lists/sti-ca.pem");
    assert_eq!(v.trust_list.as_deref(), Some(file.to_str().unwrap()));

    let refused = |edits: &[(&str, &str)]| match load_verify_edited(edits).0 {
        Err(ConfigError::X5u {
            table,
            key,
            problem,
            ..
        }) => {
            assert_eq!((table, key), ("[verify]", "trust_list"));
            problem
        }
        other => panic!("{other:?}"),
    };
    let plain = list_only("http://127.0.0.1:8080/sti-ca-list.json");
    assert!(load_verify_edited(&[(anchors, &plain)]).0.is_ok());
    let https_x5u = (
        "x5u = \"http://127.0.0.1:8082/certs/chain.pem\"",
        "x5u = \"https://certs.example.net/chain.pem\"",
    );
    let problem = refused(&[NOT_DEVELOPMENT, https_x5u, (anchors, &plain)]);
    assert!(problem.contains("development = true"), "{problem}");
    for (value, says) in [
        ("https://u:p@lists.example.net/l.json", "userinfo"),
        ("https://lists.example.net/l.json?token=1", "query"),
        ("https://lists.example.net/l.json#x", "fragment"),
        ("ftp://lists.example.net/l.json", "https"),
    ] {
        assert!(
            refused(&[(anchors, &list_only(value))]).contains(says),
            "{value}"
        );
    }

    let (neither, _) = load_verify_edited(&[(anchors, "")]);
    assert_eq!(neither.unwrap_err(), ConfigError::NoTrustAnchors);
    let every = |secs: u64| format!("{}\ntrust_list_refresh_secs = {secs}", with_list(https));
    let (fast, _) = load_verify_edited(&[(anchors, &every(59))]);
    let fast = fast.unwrap_err();
    assert_eq!(fast, ConfigError::TrustListRefresh(59));
    assert!(fast.to_string().contains("at least 60"), "{fast}");
    assert!(load_verify_edited(&[(anchors, &every(60))]).0.is_ok());
}

/// The `[sip.tls]` table the TLS cases add to the sample.
const SIP_TLS: (&str, &str) = (
    "[http]",
    "[sip.tls]\nlisten = \"127.0.0.1:5061\"\ncertificate = \"tls/chain.pem\"\nkey = \"tls/key.pem\"\n\n[http]",
);

#[test]
fn sip_over_tls_reads_its_table_with_paths_beside_the_config() {
    let c = load_edited(&[SIP_TLS]).unwrap();
    let tls = c.sip.tls.as_ref().unwrap();
    assert_eq!(tls.listen, "127.0.0.1:5061".parse().unwrap());
    assert!(tls.certificate.is_absolute() && tls.certificate.ends_with("tls/chain.pem"));
    assert_eq!(tls.handshake_timeout_ms, 5_000);
    assert_eq!(tls.client_ca, None);
    // TLS alone is a listener.
    let only_tls = load_edited(&[
        SIP_TLS,
        ("udp = \"127.0.0.1:5060\"\ntcp = \"127.0.0.1:5060\"", ""),
    ])
    .unwrap();
    assert_eq!(only_tls.advertised_host(), "127.0.0.1");
    // And a stranger in it is refused by name.
    let stranger = load_edited(&[(
        SIP_TLS.0,
        &SIP_TLS.1.replace("[http]", "colour = 1\n[http]"),
    )]);
    assert!(
        matches!(stranger, Err(ConfigError::Parse { .. })),
        "{stranger:?}"
    );
}

#[test]
fn what_needs_tls_is_refused_without_it_naming_the_key() {
    let trunk = "name = \"bluebird\"\n";
    let refused = |edits: &[(&str, &str)]| load_edited(edits).unwrap_err().to_string();

    let e = refused(&[(trunk, "name = \"bluebird\"\nrequire_tls = true\n")]);
    assert!(
        e.contains("\"bluebird\" `require_tls`") && e.contains("[sip.tls]"),
        "{e}"
    );

    let names = "name = \"bluebird\"\ntls_client_names = [\"pbx.bluebird.example\"]\n";
    let e = refused(&[(trunk, names)]);
    assert!(
        e.contains("`tls_client_names`") && e.contains("[sip.tls]"),
        "{e}"
    );
    let e = refused(&[SIP_TLS, (trunk, names)]);
    assert!(e.contains("needs `client_ca`"), "{e}");

    let client_ca = SIP_TLS
        .1
        .replace("[http]", "client_ca = \"tls/ca.pem\"\n\n[http]");
    let bad = "name = \"bluebird\"\ntls_client_names = [\"pbx bluebird\"]\n";
    let e = refused(&[(SIP_TLS.0, &client_ca), (trunk, bad)]);
    assert!(e.contains("\"pbx bluebird\" is not a DNS name"), "{e}");
    assert!(load_edited(&[(SIP_TLS.0, &client_ca), (trunk, names)]).is_ok());

    let upstream = "transport = \"udp\"\n";
    let e = refused(&[(upstream, "transport = \"tls\"\n")]);
    assert!(e.contains("[upstream] `transport = \"tls\"`"), "{e}");
    let e = refused(&[(
        upstream,
        "transport = \"udp\"\ntls_name = \"carrier.example\"\n",
    )]);
    assert!(
        e.contains("only means something with `transport = \"tls\"`"),
        "{e}"
    );
    for bad in [
        "carrier example",
        "*.carrier.example",
        "",
        "carrier..example",
    ] {
        let upstream_name = format!("transport = \"tls\"\ntls_name = \"{bad}\"\n");
        let e = refused(&[SIP_TLS, (upstream, &upstream_name)]);
        assert!(
            e.contains("`tls_name`") && e.contains("is not a DNS name"),
            "{e}"
        );
    }
    let tls_upstream = "transport = \"tls\"\ntls_name = \"carrier.example\"\n";
    assert!(load_edited(&[SIP_TLS, (upstream, tls_upstream)]).is_ok());

    let zero = SIP_TLS
        .1
        .replace("[http]", "handshake_timeout_ms = 0\n\n[http]");
    assert_eq!(
        load_edited(&[(SIP_TLS.0, &zero)]).unwrap_err(),
        ConfigError::ZeroDuration("tls.handshake_timeout_ms")
    );
}

#[test]
fn sti_rest_is_checked_and_names_the_problem() {
    let shipped = &shipped()[0].1;
    let hash = "a".repeat(64);
    let ok = format!(
        "\n[sti_rest]\nlisten = \"127.0.0.1:8090\"\n[[sti_rest.client]]\nname = \"core\"\nusername = \"core\"\npassword_sha256 = \"{hash}\"\n"
    );
    let c = Config::from_toml(&format!("{shipped}{ok}")).unwrap();
    let r = c.sti_rest.as_ref().unwrap();
    assert_eq!(
        (r.max_body_bytes, r.max_connections, r.iat_window_secs),
        (16384, 1024, 60)
    );
    let client = |extra: &str| {
        format!(
            "\n[sti_rest]\nlisten = \"127.0.0.1:8090\"\n[[sti_rest.client]]\nname = \"core\"\n{extra}"
        )
    };
    for (added, says) in [
        (
            "\n[sti_rest]\nmax_body_bytes = 10\n".to_owned(),
            "max_body_bytes = 10",
        ),
        (
            "\n[sti_rest]\niat_window_secs = 0\n".to_owned(),
            "iat_window_secs = 0",
        ),
        (
            "\n[sti_rest]\nmax_connections = 0\n".to_owned(),
            "max_connections",
        ),
        (
            "\n[sti_rest.tls]\ncertificate = \"a\"\nkey = \"b\"\n".to_owned(),
            "needs [sti_rest] `listen`",
        ),
        (client("username = \"core\"\n"), "go together"),
        (
            client("username = \"core\"\npassword_sha256 = \"abc\"\n"),
            "64 hex digits",
        ),
        (client(""), "needs `username`"),
        (
            client("tls_names = [\"sbc.example\"]\n"),
            "needs [sti_rest.tls] `client_ca`",
        ),
        (
            format!("{ok}[[sti_rest.client]]\nname = \"core\"\ntls_names = [\"x\"]\n"),
            "unique",
        ),
        (
            format!(
                "{ok}[[sti_rest.client]]\nname = \"edge\"\nusername = \"core\"\npassword_sha256 = \"{hash}\"\n"
            ),
            "`username` must be unique",
        ),
    ] {
        match Config::from_toml(&format!("{shipped}{added}")) {
            Err(ConfigError::StiRest(why)) => assert!(why.contains(says), "{added}: {why}"),
            other => panic!("{added}: {other:?}"),
        }
    }
}
