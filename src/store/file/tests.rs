//! Streaming import and export against the whole-file paths: the same bytes out, the
//! same refusals in, and a refused file leaves the store as it was.

use super::*;
use crate::store::{SqliteStore, Store};

const SAMPLE: &str = include_str!("../../../config/trust.json");
const NOW: &str = "2026-01-01T00:00:00Z";
const BLUEBIRD: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801";

fn sqlite() -> Box<dyn Store> {
    Box::new(SqliteStore::in_memory().unwrap())
}

/// The sample with a trunk, so that every list of the file is there.
fn sample() -> serde_json::Value {
    let mut d: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    d["trunking"] = serde_json::json!({
        "trunks": [{"sid": "TK00000000000000000000000000000001", "account_sid": BLUEBIRD,
                    "friendly_name": "PBX"}],
    });
    d
}

fn write(dir: &std::path::Path, name: &str, d: &serde_json::Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, d.to_string()).unwrap();
    path
}

fn exported(store: &dyn RecordStore) -> (String, Vec<Progress>) {
    let (mut out, mut heard) = (Vec::new(), Vec::new());
    export_to(store, &mut out, &mut |p| heard.push(p)).unwrap();
    (String::from_utf8(out).unwrap(), heard)
}

fn imports_and_exports_as_the_whole_file_paths_do(store: Box<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "sample.json", &sample());
    let mut heard = Vec::new();
    let counts = import_file(&*store, &path, false, NOW, &mut |p| heard.push(p)).unwrap();
    assert_eq!(
        counts,
        Counts {
            accounts: 4,
            numbers: 7,
            bundles: 5,
            assignments: 8
        }
    );
    assert_eq!(
        heard.last().map(|p| (p.what, p.done, p.total)),
        Some(("channel endpoint assignments", 8, 8))
    );

    // The same data as the whole-file import gives, tokens aside.
    let mut whole = crate::store::load_file(&path).unwrap();
    prepare_import(&mut whole, NOW);
    let mut streamed = store.export().unwrap();
    for d in [&mut streamed, &mut whole] {
        // The export lists parents first.
        d.accounts.sort_by_key(|a| a.sid);
        for a in &mut d.accounts {
            a.auth_token = None;
        }
    }
    assert!(streamed == whole, "the streamed import differs");

    // Byte for byte what the whole-file export writes.
    let (text, heard) = exported(&*store);
    let pretty = serde_json::to_string_pretty(&store.export().unwrap()).unwrap() + "\n";
    assert_eq!(text, pretty);
    assert_eq!(heard.len(), 2, "{heard:?}");

    // Into a store that holds data only with `replace`.
    let again = write(
        dir.path(),
        "again.json",
        &serde_json::from_str(&text).unwrap(),
    );
    let e = import_file(&*store, &again, false, NOW, &mut |_| {});
    assert_eq!(e, Err(StoreError::NotEmpty));
    import_file(&*store, &again, true, NOW, &mut |_| {}).unwrap();
    assert_eq!(exported(&*store).0, text);
}

fn a_refused_file_leaves_the_store_as_it_was(store: Box<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "sample.json", &sample());
    import_file(&*store, &path, false, NOW, &mut |_| {}).unwrap();
    let before = exported(&*store).0;
    // Refused at the last assignment, after the numbers went in: the same error as the
    // whole-file load gives.
    let mut d = sample();
    let list = d["channel_endpoint_assignments"].as_array_mut().unwrap();
    let last = list.len() - 1;
    list[last]["bundle_sid"] = "BU000000000000000000000000000000ff".into();
    let bad = write(dir.path(), "bad.json", &d);
    let whole = crate::store::load_file(&bad).unwrap_err();
    let e = import_file(&*store, &bad, true, NOW, &mut |_| {}).unwrap_err();
    assert_eq!(e, whole);
    assert!(e.to_string().contains("names unknown bundle"), "{e}");
    assert_eq!(exported(&*store).0, before);
}

#[test]
fn sqlite_imports_and_exports_as_the_whole_file_paths_do() {
    imports_and_exports_as_the_whole_file_paths_do(sqlite());
}

#[test]
fn sqlite_a_refused_file_leaves_the_store_as_it_was() {
    a_refused_file_leaves_the_store_as_it_was(sqlite());
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn postgres_imports_and_exports_as_the_whole_file_paths_do() {
    imports_and_exports_as_the_whole_file_paths_do(crate::store::tests::postgres());
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn postgres_a_refused_file_leaves_the_store_as_it_was() {
    a_refused_file_leaves_the_store_as_it_was(crate::store::tests::postgres());
}

#[test]
fn a_list_that_is_not_a_list_is_refused_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("phone_numbers", serde_json::Value::Null),
        ("channel_endpoint_assignments", serde_json::json!(5)),
    ] {
        let mut d = sample();
        d[key] = value;
        let bad = write(dir.path(), "bad.json", &d);
        let e = import_file(&*sqlite(), &bad, true, NOW, &mut |_| {}).unwrap_err();
        assert!(
            e.to_string().contains("expected a sequence at line 1"),
            "{key}: {e}"
        );
    }
}
