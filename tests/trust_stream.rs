//! `callsign trust import` and `export` on files too large to hold: a file with any
//! error is refused with a message naming the problem and leaves the store as it was
//! (even after thousands of its numbers went in), an export imports back to the same
//! export byte for byte, and progress goes to stderr as plain lines when stderr is not
//! a terminal, leaving stdout to the JSON.

mod common;

use std::path::{Path, PathBuf};

use common::binary::{assert_fails_saying, callsign, text};
use common::*;
use serde_json::{Value, json};

/// The sample trust data the store is seeded from.
const SAMPLE: &str = include_str!("../config/trust.json");
const BLUEBIRD: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801";
const BLUEBIRD_PROFILE: &str = "BU2b3c4d5e6f708192a3b4c5d6e7f80101";
const BLUEBIRD_PRODUCT: &str = "BU2b3c4d5e6f708192a3b4c5d6e7f80102";
/// A top-level account of the sample that is not Bluebird's.
const QUICKDIAL: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f804";
/// More numbers than one batch of the import (10,000), in several.
const MANY: usize = 25_000;

/// A config in `dir` for the dev PKI and a store at `store` (a SQLite path relative to
/// `dir`, or a PostgreSQL URL) holding the sample trust data.
fn config_at(dir: &Path, store: &str) -> PathBuf {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/dev");
    let cfg = TestServer::new()
        .pki(&dev)
        .trunks(Vec::new())
        .store(SAMPLE)
        .store_db(store)
        .write_config(dir);
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/trust.json");
    let (c, s) = (cfg.to_str().unwrap(), sample.to_str().unwrap());
    let o = callsign(&["trust", "import", "--config", c, s]);
    assert!(o.status.success(), "{}", text(&o));
    cfg
}

fn config(dir: &Path) -> PathBuf {
    config_at(dir, "data/callsign.db")
}

/// The store's export, as `callsign trust export` writes it to stdout.
fn export(cfg: &Path) -> String {
    let o = callsign(&["trust", "export", "--config", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn import(cfg: &Path, file: &Path) -> std::process::Output {
    let (cfg, file) = (cfg.to_str().unwrap(), file.to_str().unwrap());
    callsign(&["trust", "import", "--replace", "--config", cfg, file])
}

/// The sample with `n` more numbers of Bluebird's, each on its profile and product.
fn many(n: usize) -> Value {
    let mut d: Value = serde_json::from_str(SAMPLE).unwrap();
    for i in 0..n {
        let pn = format!("PN{:032x}", 0x10_0000 + i);
        d["phone_numbers"].as_array_mut().unwrap().push(json!({
            "sid": pn, "account_sid": BLUEBIRD,
            "phone_number": format!("+1215{}", 3_000_000 + i),
        }));
        for (k, bundle) in [BLUEBIRD_PROFILE, BLUEBIRD_PRODUCT].into_iter().enumerate() {
            let list = d["channel_endpoint_assignments"].as_array_mut().unwrap();
            list.push(json!({
                "sid": format!("RA{:032x}", 0x10_0000 + 2 * i + k),
                "bundle_sid": bundle, "channel_endpoint_sid": pn,
                "channel_endpoint_type": "phone-number",
            }));
        }
    }
    d
}

/// Writes `text` as the file `name` in `dir`.
fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Imports `bad`, which must be refused saying `needle`, and checks the store is as it
/// was.
#[track_caller]
fn refused(cfg: &Path, bad: &Path, needle: &str) {
    let before = export(cfg);
    let o = import(cfg, bad);
    assert_fails_saying(&o, needle);
    assert!(text(&o).contains("the store is unchanged"), "{}", text(&o));
    assert_eq!(export(cfg), before, "the store changed");
}

/// The sample, changed by `change`, as pretty JSON.
fn sample_with(change: impl FnOnce(&mut Value)) -> String {
    let mut d: Value = serde_json::from_str(SAMPLE).unwrap();
    change(&mut d);
    serde_json::to_string_pretty(&d).unwrap()
}

#[test]
fn files_with_errors_in_their_numbers_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let d = dir.path();
    let pn0 = "PN3c4d5e6f708192a3b4c5d6e7f80a1b01";

    let twice = sample_with(|d| d["phone_numbers"][1]["sid"] = json!(pn0));
    refused(
        &cfg,
        &file(d, "dup-sid.json", &twice),
        &format!("SID {pn0} appears more than once"),
    );

    let owned_twice =
        sample_with(|d| d["phone_numbers"][1]["phone_number"] = json!("+12155550121"));
    refused(
        &cfg,
        &file(d, "dup-number.json", &owned_twice),
        "number 12155550121 is owned twice",
    );

    let ghost = "AC0000000000000000000000000000dead";
    let unknown = sample_with(|d| d["phone_numbers"][2]["account_sid"] = json!(ghost));
    refused(
        &cfg,
        &file(d, "unknown.json", &unknown),
        &format!("names unknown account {ghost}"),
    );

    // A number of Quickdial's on Bluebird's profile.
    let other = sample_with(|d| {
        d["phone_numbers"][0]["account_sid"] = json!(QUICKDIAL);
    });
    refused(&cfg, &file(d, "other.json", &other), pn0);

    let not_e164 = sample_with(|d| d["phone_numbers"][0]["phone_number"] = json!("2155550121"));
    refused(&cfg, &file(d, "e164.json", &not_e164), "not E.164");

    let wrong_type = sample_with(|d| d["phone_numbers"][3]["phone_number"] = json!(2155550121u64));
    refused(
        &cfg,
        &file(d, "type.json", &wrong_type),
        "invalid type: integer `2155550121`, expected a string",
    );

    let not_a_list = sample_with(|d| d["phone_numbers"] = json!({"sid": pn0}));
    refused(
        &cfg,
        &file(d, "map.json", &not_a_list),
        "expected a sequence",
    );

    let bundle = "BU000000000000000000000000000000ff";
    let no_bundle =
        sample_with(|d| d["channel_endpoint_assignments"][0]["bundle_sid"] = json!(bundle));
    refused(
        &cfg,
        &file(d, "bundle.json", &no_bundle),
        &format!("names unknown bundle {bundle}"),
    );

    let unknown_key = sample_with(|d| d["numbers"] = json!([]));
    refused(
        &cfg,
        &file(d, "key.json", &unknown_key),
        "unknown field `numbers`",
    );
}

#[test]
fn broken_json_is_refused_with_its_position_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let d = dir.path();
    let good = export(&cfg);

    refused(
        &cfg,
        &file(d, "empty.json", ""),
        "EOF while parsing a value at line 1 column 0",
    );

    // Cut in the middle of the numbers.
    let cut = good.find("\"phone_number\": \"+12155550123\"").unwrap();
    refused(
        &cfg,
        &file(d, "truncated.json", &good[..cut]),
        "EOF while parsing",
    );

    // Garbage between two numbers.
    let at = good.find("\"PN3c4d5e6f708192a3b4c5d6e7f80a1b03\"").unwrap();
    let line = good[..at].lines().count();
    let mut broken = good.clone();
    broken.insert_str(at, "}} ,");
    refused(
        &cfg,
        &file(d, "broken.json", &broken),
        &format!("at line {line}"),
    );

    let duplicated = good.replacen("\"end_users\": [", "\"accounts\": [], \"end_users\": [", 1);
    refused(
        &cfg,
        &file(d, "key-twice.json", &duplicated),
        "duplicate field `accounts`",
    );

    let missing = d.join("missing.json");
    let o = import(&cfg, &missing);
    assert_fails_saying(&o, "cannot read trust data");
}

#[test]
fn an_error_after_many_batches_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let mut d = many(MANY);
    // The last number repeats the first of the added ones: found after every batch of
    // numbers has gone in.
    let numbers = d["phone_numbers"].as_array_mut().unwrap();
    let first = numbers[7]["phone_number"].clone();
    numbers.last_mut().unwrap()["phone_number"] = first;
    let bad = file(dir.path(), "late.json", &d.to_string());
    refused(&cfg, &bad, "is owned twice");
    // And the same without --replace on a store that holds data: refused up front.
    let (c, b) = (cfg.to_str().unwrap(), bad.to_str().unwrap());
    assert_fails_saying(
        &callsign(&["trust", "import", "--config", c, b]),
        "--replace",
    );
}

#[test]
fn export_then_import_gives_the_same_export_and_progress_goes_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let big = file(dir.path(), "big.json", &many(MANY).to_string());
    let o = import(&cfg, &big);
    assert!(o.status.success(), "{}", text(&o));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        summary.trim(),
        format!(
            "imported 4 accounts, {} numbers, 5 bundles from {}",
            MANY + 7,
            big.display()
        )
    );
    // Plain lines on stderr (not a terminal here), a tenth of the list apart at most
    // and never for each batch.
    let progress = String::from_utf8_lossy(&o.stderr);
    let total = MANY + 7;
    for line in [
        format!("imported 10000 of {total} numbers"),
        format!("imported {total} of {total} numbers"),
        format!(
            "imported 20000 of {} channel endpoint assignments",
            2 * MANY + 8
        ),
    ] {
        assert!(
            progress.lines().any(|l| l == line),
            "no {line:?} in:\n{progress}"
        );
    }
    assert!(progress.lines().count() <= 12, "{progress}");

    let o = callsign(&["trust", "export", "--config", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let first = String::from_utf8(o.stdout).unwrap();
    // stdout is the JSON alone, pretty-printed as before; the progress is on stderr.
    let data: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(data["phone_numbers"].as_array().unwrap().len(), total);
    assert!(
        first.starts_with("{\n  \"accounts\": [\n    {\n      \"sid\": "),
        "{}",
        &first[..80]
    );
    let as_before = callsign::store::load_file(&big).unwrap();
    let exported = callsign::store::load_file(&file(dir.path(), "first.json", &first)).unwrap();
    assert_eq!(exported.phone_numbers.len(), as_before.phone_numbers.len());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("exported 10000 of {total} numbers")),
        "{stderr}"
    );

    let again = import(&cfg, &file(dir.path(), "first.json", &first));
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        export(&cfg),
        first,
        "export -> import -> export changed the export"
    );

    // --out writes the same, and nothing to stdout.
    let out = dir.path().join("out.json");
    let o = callsign(&[
        "trust",
        "export",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
}

#[test]
fn assignments_before_numbers_import_too() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let d = many(20);
    // Hand-written, with the assignments first: the import reads them in a pass of
    // their own.
    let mut text = String::from("{\"channel_endpoint_assignments\": ");
    text += &d["channel_endpoint_assignments"].to_string();
    for (key, value) in d.as_object().unwrap() {
        if key != "channel_endpoint_assignments" {
            text += &format!(", {key:?}: {value}");
        }
    }
    text += "}";
    let o = import(&cfg, &file(dir.path(), "reordered.json", &text));
    assert!(o.status.success(), "{}", common::binary::text(&o));
    let back: Value = serde_json::from_str(&export(&cfg)).unwrap();
    assert_eq!(
        back["channel_endpoint_assignments"]
            .as_array()
            .unwrap()
            .len(),
        48
    );
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn on_postgres_a_refused_file_changes_nothing_and_exports_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_at(dir.path(), &fresh_database());
    let big = file(dir.path(), "big.json", &many(MANY).to_string());
    let o = import(&cfg, &big);
    assert!(o.status.success(), "{}", text(&o));
    let first = export(&cfg);
    let again = import(&cfg, &file(dir.path(), "first.json", &first));
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(export(&cfg), first);

    let mut d = many(MANY);
    let numbers = d["phone_numbers"].as_array_mut().unwrap();
    let first_number = numbers[7]["phone_number"].clone();
    numbers.last_mut().unwrap()["phone_number"] = first_number;
    refused(
        &cfg,
        &file(dir.path(), "late.json", &d.to_string()),
        "is owned twice",
    );
}
