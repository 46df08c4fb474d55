//! Supporting documents over HTTP: Twilio's form and file upload, the file served to its
//! own account and the operator only, uploads refused as an attacker would send them
//! (wrong types, lies about the type, oversize, malformed multipart, no credentials),
//! the types catalogue, and documents with their files across a restart and an export
//! and import.

mod common;

use common::api::*;
use common::binary::{callsign, serve, text};
use common::*;
use serde_json::{Value, json};

const DOCS: &str = "/v1/SupportingDocuments";
const ADDRESS_TYPE: &str = "customer_profile_address";

/// A small PDF whose bytes say whose it is.
fn pdf(owner: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% proof of address of {owner}\n%%EOF\n").into_bytes()
}

fn address_fields(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("FriendlyName", name.to_owned()),
        ("Type", ADDRESS_TYPE.to_owned()),
        ("Attributes", json!({"address_sids": ADDRESS}).to_string()),
    ]
}

async fn upload_as(
    api: &Api,
    c: Option<&Creds>,
    fields: &[(&'static str, String)],
    file: Option<(&str, &str, &[u8])>,
) -> (u16, Value) {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    api.upload(DOCS, c, &fields, file).await
}

async fn listed(api: &Api, c: &Creds) -> Vec<String> {
    let (s, list) = api.get(DOCS, c, &[]).await;
    assert_eq!(s, 200, "{list}");
    sids(&list, "results")
}

#[tokio::test]
async fn documents_are_created_listed_updated_and_deleted_in_twilios_shape() {
    let (_h, api) = hub().await;
    let a = api.account(&Creds::operator(), "A").await;
    let attributes = json!({"address_sids": [ADDRESS]});
    let rd = api.document(&a, ADDRESS_TYPE, &attributes).await;
    let path = format!("{DOCS}/{rd}");
    let (s, doc) = api.get(&path, &a, &[]).await;
    assert_eq!(s, 200, "{doc}");
    for (field, value) in [
        ("sid", json!(rd)),
        ("account_sid", json!(a.sid)),
        ("friendly_name", json!(ADDRESS_TYPE)),
        ("type", json!(ADDRESS_TYPE)),
        ("status", json!("DRAFT")),
        ("mime_type", Value::Null),
        ("attributes", attributes.clone()),
    ] {
        assert_eq!(doc[field], value, "{field}: {doc}");
    }
    assert!(doc["url"].as_str().unwrap().ends_with(&path), "{doc}");
    assert!(doc["date_created"].is_string() && doc["date_updated"].is_string());

    let second = api.document(&a, ADDRESS_TYPE, &json!({})).await;
    let (_, page) = api.get(DOCS, &a, &[("PageSize", "1")]).await;
    assert_eq!(sids(&page, "results"), std::slice::from_ref(&rd));
    assert_eq!(page["meta"]["key"], "results");
    let next = page["meta"]["next_page_url"].as_str().expect("a next page");
    let (_, rest) = api.get(&next[next.find("/v1/").unwrap()..], &a, &[]).await;
    assert_eq!(sids(&rest, "results"), std::slice::from_ref(&second));

    let (s, renamed) = api.post(&path, &a, &[("FriendlyName", "HQ")]).await;
    assert_eq!((s, renamed["friendly_name"].as_str()), (200, Some("HQ")));
    for (form, why) in [
        (vec![], "nothing to update"),
        (vec![("Attributes", "[1]")], "JSON object"),
        (vec![("Attributes", "{")], "JSON object"),
        (vec![("Colour", "blue")], "Unknown parameter Colour"),
        (vec![("Status", "SHINY")], "Status must be one of"),
        (vec![("ValidUntil", "tomorrow")], "ISO 8601"),
    ] {
        assert_refused(&api.post(&path, &a, &form).await, why);
    }
    for form in [
        vec![("FriendlyName", "x")],
        vec![("FriendlyName", "x"), ("Type", "utility_bill")],
        vec![("Type", ADDRESS_TYPE)],
        vec![
            ("FriendlyName", "x"),
            ("Type", ADDRESS_TYPE),
            ("Attributes", "\"text\""),
        ],
    ] {
        let (s, body) = api.post(DOCS, &a, &form).await;
        assert_eq!((s, body["code"].as_u64()), (400, Some(20001)), "{form:?}");
    }
    // A customer may neither review its own document nor set its expiry.
    for form in [
        [("Status", "APPROVED")],
        [("ValidUntil", "2030-01-01T00:00:00Z")],
    ] {
        let (s, body) = api.post(&path, &a, &form).await;
        assert_eq!((s, body["code"].as_u64()), (403, Some(20403)), "{body}");
    }
    let (s, body) = api
        .post(&path, &Creds::operator(), &[("Status", "EXPIRED")])
        .await;
    assert_eq!(s, 400, "{body}");
    let (s, approved) = api
        .post(&path, &Creds::operator(), &[("Status", "APPROVED")])
        .await;
    assert_eq!((s, approved["status"].as_str()), (200, Some("APPROVED")));
    // Expired by the operator's ValidUntil in the past.
    let (s, expired) = api
        .post(
            &path,
            &Creds::operator(),
            &[("ValidUntil", "2020-01-01T00:00:00Z")],
        )
        .await;
    assert_eq!((s, expired["status"].as_str()), (200, Some("EXPIRED")));
    assert_eq!(expired["valid_until"], "2020-01-01T00:00:00Z");

    let (s, _) = api.delete(&path, &a).await;
    assert_eq!(s, 204);
    let (s, body) = api.get(&path, &a, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (404, Some(20404)));
    assert!(body["message"].as_str().unwrap().contains(&path), "{body}");
    assert_eq!(listed(&api, &a).await, [second]);
}

#[tokio::test]
async fn an_uploaded_file_is_served_to_its_account_and_the_operator_only() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let a = api.account(&op, "A").await;
    let b = api.account(&op, "B").await;
    let sub = api.account(&a, "A-sub").await;
    let content = pdf("A");
    let (s, doc) = upload_as(
        &api,
        Some(&a),
        &address_fields("hq"),
        Some(("hq.pdf", "application/pdf", &content)),
    )
    .await;
    assert_eq!(s, 201, "{doc}");
    assert_eq!(doc["mime_type"], "application/pdf");
    assert_eq!(doc["status"], "DRAFT");
    assert_eq!(doc["attributes"]["address_sids"], ADDRESS);
    let rd = doc["sid"].as_str().unwrap().to_owned();
    let file = format!("{DOCS}/{rd}/File");

    for who in [&a, &op] {
        let (s, headers, bytes) = api.download(&file, who).await;
        assert_eq!(s, 200);
        assert_eq!(bytes, content);
        assert_eq!(headers["content-type"], "application/pdf");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment"), "{disposition}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
    }
    // Another account, and a sub-account of the owner, learn nothing: not the file,
    // not the record, not that it exists.
    for who in [&b, &sub] {
        let (s, _, bytes) = api.download(&file, who).await;
        assert_eq!(s, 404);
        assert!(!String::from_utf8_lossy(&bytes).contains("proof of address"));
        let (s, _) = api.get(&format!("{DOCS}/{rd}"), who, &[]).await;
        assert_eq!(s, 404);
        assert!(listed(&api, who).await.is_empty());
        let (s, _) = api.delete(&format!("{DOCS}/{rd}"), who).await;
        assert_eq!(s, 404);
    }
    // Nor may they attach it to their bundles: refused as a document that never
    // existed is.
    let theirs = api.bundle(&b, PROFILES, PRIMARY, None).await;
    let (s, body) = api.try_link(&b, PROFILES, &theirs, &rd).await;
    let never = "RD00000000000000000000000000000000";
    let (s2, body2) = api.try_link(&b, PROFILES, &theirs, never).await;
    assert_eq!((s, s2), (400, 400), "{body} {body2}");
    assert_eq!(
        body["message"].as_str().unwrap().replace(&rd, never),
        body2["message"].as_str().unwrap()
    );
    // A document without a file has none to serve.
    let bare = api.document(&a, ADDRESS_TYPE, &json!({})).await;
    let (s, _, _) = api.download(&format!("{DOCS}/{bare}/File"), &a).await;
    assert_eq!(s, 404);
    // Aliases tools send are taken for their type.
    let jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 0x10];
    let (s, doc) = upload_as(
        &api,
        Some(&a),
        &address_fields("photo"),
        Some(("photo.jpg", "image/jpg", &jpeg)),
    )
    .await;
    assert_eq!(
        (s, doc["mime_type"].as_str()),
        (201, Some("image/jpeg")),
        "{doc}"
    );
    // PNG and JPEG too, recorded by their bytes; a declaration of octet-stream is fine.
    for (bytes, mime) in [
        (&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..], "image/png"),
        (&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10][..], "image/jpeg"),
    ] {
        let (s, doc) = upload_as(
            &api,
            Some(&a),
            &address_fields("scan"),
            Some(("scan", "application/octet-stream", bytes)),
        )
        .await;
        assert_eq!((s, doc["mime_type"].as_str()), (201, Some(mime)), "{doc}");
    }
}

#[tokio::test]
async fn hostile_uploads_are_refused_and_store_nothing() {
    let limit = 4096;
    let (_h, api) = hub_on(TestServer::new().max_document_bytes(limit)).await;
    let a = api.account(&Creds::operator(), "A").await;
    let fields = address_fields("hq");
    let html = b"<html><script>alert(document.cookie)</script></html>";
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let too_big = [b"%PDF-1.4\n".to_vec(), vec![b'x'; limit]].concat();
    for (file, status, why) in [
        (("x.png", "image/png", &html[..]), 400, "none of them"),
        (("x.html", "text/html", &html[..]), 400, "none of them"),
        (("x.pdf", "application/pdf", &png[..]), 400, "declared"),
        (("x.pdf", "text/html", &pdf("A")[..]), 400, "declared"),
        (("x.pdf", "application/pdf", &b""[..]), 400, "empty"),
        (("x.pdf", "application/pdf", &too_big[..]), 413, "larger"),
    ] {
        let (s, body) = upload_as(&api, Some(&a), &fields, Some(file)).await;
        assert_eq!(s, status, "{file:?}: {body}");
        assert!(body["message"].as_str().unwrap().contains(why), "{body}");
        assert!(body["code"].is_u64(), "a Twilio error body: {body}");
    }
    // Malformed forms.
    let mut unknown = fields.clone();
    unknown.push(("Colour", "blue".into()));
    let (s, body) = upload_as(&api, Some(&a), &unknown, None).await;
    assert_eq!(s, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("Colour"),
        "{body}"
    );
    let mut control = fields.clone();
    control[0].1 = "line\r\nbreak".into();
    let (s, body) = upload_as(&api, Some(&a), &control, None).await;
    assert_eq!(s, 400, "{body}");
    let (ct, body) = multipart(&[("FriendlyName", "hq"), ("Type", ADDRESS_TYPE)], None);
    let boundary = ct.split("boundary=").nth(1).unwrap();
    let file_part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"File\"; filename=\"a.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n%PDF-1.4 a\r\n"
    );
    let end = format!("--{boundary}--\r\n");
    let twice = [
        &body[..body.len() - end.len()],
        file_part.as_bytes(),
        file_part.as_bytes(),
        end.as_bytes(),
    ]
    .concat();
    let (s, answer) = api.raw("POST", DOCS, Some(&a), &ct, twice).await;
    assert_eq!(s, 400, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("File"),
        "{answer}"
    );
    let (s, answer) = api
        .raw("POST", DOCS, Some(&a), "multipart/form-data", body.clone())
        .await;
    assert_eq!(s, 400, "no boundary: {answer}");
    let truncated = body[..body.len() / 2].to_vec();
    let (s, answer) = api.raw("POST", DOCS, Some(&a), &ct, truncated).await;
    assert_eq!(s, 400, "truncated: {answer}");
    let (_, not_utf8) = multipart(&[("FriendlyName", "x")], None);
    let not_utf8: Vec<u8> = String::from_utf8(not_utf8)
        .unwrap()
        .replace("\r\n\r\nx\r\n", "\r\n\r\n\u{1}\r\n")
        .into_bytes()
        .into_iter()
        .map(|b| if b == 1 { 0xff } else { b })
        .collect();
    let (s, answer) = api.raw("POST", DOCS, Some(&a), &ct, not_utf8).await;
    assert_eq!(s, 400, "not UTF-8: {answer}");
    // Every field under its own limit, the whole body over the sum (4 KiB for the file
    // and 4 KiB for the rest): refused while it streams.
    let long = "x".repeat(3000);
    let fat = [
        ("FriendlyName", long.clone()),
        ("Type", long.clone()),
        ("Attributes", long),
    ];
    let (s, body) = upload_as(&api, Some(&a), &fat, None).await;
    assert_eq!(s, 413, "{body}");
    // Parameters in the query are held to the form's rules too.
    let (ct, body) = multipart(&[("FriendlyName", "hq"), ("Type", ADDRESS_TYPE)], None);
    let query = format!("{DOCS}?Colour=blue");
    let (s, answer) = api.raw("POST", &query, Some(&a), &ct, body).await;
    assert_eq!(s, 400, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("Colour"),
        "{answer}"
    );
    // No credentials, or wrong ones: refused before the body is read, so a body over
    // every limit gets 401, not 413.
    let content = pdf("A");
    let file = Some(("a.pdf", "application/pdf", &content[..]));
    let (s, body) = upload_as(&api, None, &fields, file).await;
    assert_eq!((s, body["code"].as_u64()), (401, Some(20003)));
    let wrong = Creds::new(&a.sid, "not-the-token");
    let (s, _) = upload_as(&api, Some(&wrong), &fields, file).await;
    assert_eq!(s, 401);
    let huge = vec![b'%'; 4 * limit];
    let huge = Some(("a.pdf", "application/pdf", &huge[..]));
    let (s, body) = upload_as(&api, None, &fields, huge).await;
    assert_eq!((s, body["code"].as_u64()), (401, Some(20003)), "{body}");

    // Nothing was stored, and the service still takes a good upload.
    assert!(listed(&api, &a).await.is_empty());
    let (s, body) = upload_as(&api, Some(&a), &fields, file).await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(listed(&api, &a).await.len(), 1);
}

#[tokio::test]
async fn the_types_catalogue_and_the_policies_name_the_address_document() {
    let (_h, api) = hub().await;
    let a = api.account(&Creds::operator(), "A").await;
    let (s, types) = api
        .get("/v1/SupportingDocumentTypes", &a, &[("PageSize", "1")])
        .await;
    assert_eq!(s, 200, "{types}");
    assert_eq!(types["meta"]["key"], "supporting_document_types");
    let first = &types["supporting_document_types"][0];
    assert_eq!(first["machine_name"], ADDRESS_TYPE);
    assert_eq!(
        first["fields"],
        json!([{"machine_name": "address_sids", "friendly_name": "Address Sids", "constraint": "List"}])
    );
    assert!(types["meta"]["next_page_url"].is_string());
    let sid = first["sid"].as_str().unwrap();
    assert!(sid.starts_with("OY"));
    for key in [sid, ADDRESS_TYPE] {
        let (s, t) = api
            .get(&format!("/v1/SupportingDocumentTypes/{key}"), &a, &[])
            .await;
        assert_eq!((s, t["sid"].as_str()), (200, Some(sid)), "{key}");
    }
    for key in ["OY00000000000000000000000000000000", "utility_bill", "RD1"] {
        let path = format!("/v1/SupportingDocumentTypes/{key}");
        let (s, body) = api.get(&path, &a, &[]).await;
        assert_eq!((s, body["code"].as_u64()), (404, Some(20404)), "{key}");
        assert!(body["message"].as_str().unwrap().contains(&path), "{body}");
    }
    let (_, policy) = api.get(&format!("/v1/Policies/{PRIMARY}"), &a, &[]).await;
    let doc = &policy["requirements"]["supporting_document"][0][0];
    assert_eq!(doc["requirement_name"], "customer_profile_address");
    let accepted = &doc["accepted_documents"][0];
    assert_eq!(accepted["type"], ADDRESS_TYPE);
    assert_eq!(accepted["fields"], json!(["address_sids"]));
    let url = accepted["url"].as_str().unwrap();
    let (s, _) = api.get(&url[url.find("/v1/").unwrap()..], &a, &[]).await;
    assert_eq!(s, 200, "{url}");
}

/// A config in `dir` for a SQLite store, empty at first.
fn store_config(dir: &std::path::Path) -> std::path::PathBuf {
    TestServer::new()
        .trunks(Vec::new())
        .store("{}")
        .store_db("data/callsign.db")
        .write_config(dir)
}

fn import(cfg: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    let (cfg, file) = (cfg.to_str().unwrap(), file.to_str().unwrap());
    callsign(&["trust", "import", "--config", cfg, file])
}

#[tokio::test]
async fn documents_and_their_files_survive_a_restart_and_an_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = store_config(dir.path());
    let server = serve(&cfg);
    let api = Api::new(server.http);
    let a = api.account(&Creds::operator(), "A").await;
    let content = pdf("A");
    let (s, doc) = upload_as(
        &api,
        Some(&a),
        &address_fields("hq"),
        Some(("hq.pdf", "application/pdf", &content)),
    )
    .await;
    assert_eq!(s, 201, "{doc}");
    let rd = doc["sid"].as_str().unwrap().to_owned();
    let p = api.compliant_profile(&a, PRIMARY).await;
    api.link(&a, PROFILES, &p, &rd).await;
    server.kill();

    let server = serve(&cfg);
    let api = Api::new(server.http);
    let file = format!("{DOCS}/{rd}/File");
    let (s, _, bytes) = api.download(&file, &a).await;
    assert_eq!((s, bytes.as_slice()), (200, content.as_slice()));
    server.kill();

    // Exported with its file, and imported into another store whole.
    let exported = callsign(&["trust", "export", "--config", cfg.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    let data: Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert_eq!(data["supporting_documents"][0]["sid"], rd, "{data}");
    assert_eq!(data["document_files"][0]["sid"], rd);
    let other = tempfile::tempdir().unwrap();
    let other_cfg = store_config(other.path());
    let file_json = other.path().join("export.json");
    std::fs::write(&file_json, &exported.stdout).unwrap();
    let imported = import(&other_cfg, &file_json);
    assert!(imported.status.success(), "{}", text(&imported));
    let server = serve(&other_cfg);
    let api = Api::new(server.http);
    let (s, _, bytes) = api.download(&file, &a).await;
    assert_eq!((s, bytes.as_slice()), (200, content.as_slice()));
    server.kill();

    // An export whose file does not match its document is refused, not imported.
    let mut forged = data.clone();
    forged["document_files"][0]["content"] = json!("JVBERi1mb3JnZWQ=");
    std::fs::write(&file_json, forged.to_string()).unwrap();
    let refused = import(&other_cfg, &file_json);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("file_sha256"), "{}", text(&refused));
}

#[tokio::test]
async fn file_transfers_are_bounded_and_a_slow_reader_holds_one_until_it_goes() {
    let size = 16 << 20;
    let (_h, api) = hub_on(TestServer::new().max_document_bytes(size)).await;
    let a = api.account(&Creds::operator(), "A").await;
    let mut content = b"%PDF-1.4\n".to_vec();
    content.resize(size, b'x');
    let (s, doc) = upload_as(
        &api,
        Some(&a),
        &address_fields("big"),
        Some(("big.pdf", "application/pdf", &content)),
    )
    .await;
    assert_eq!(s, 201, "{doc}");
    let file = format!("{DOCS}/{}/File", doc["sid"].as_str().unwrap());
    // Downloads whose bodies nobody reads: each holds a transfer until it is dropped.
    let mut stalled = Vec::new();
    for _ in 0..callsign::api::reply::FILE_TRANSFERS {
        let (s, response) = api.start_download(&file, &a).await;
        assert_eq!(s, 200);
        stalled.push(response);
    }
    let (s, _, _) = api.download(&file, &a).await;
    assert_eq!(s, 429, "one transfer more than the bound");
    let (s, body) = upload_as(&api, Some(&a), &address_fields("more"), None).await;
    assert_eq!(s, 429, "a multipart body may hold a file: {body}");
    let (s, body) = api
        .post(
            DOCS,
            &a,
            &[("FriendlyName", "more"), ("Type", ADDRESS_TYPE)],
        )
        .await;
    assert_eq!(s, 201, "a form needs no transfer: {body}");
    let (s, body) = api
        .get(&format!("{DOCS}/{}", doc["sid"].as_str().unwrap()), &a, &[])
        .await;
    assert_eq!(s, 200, "the record is not a transfer: {body}");
    drop(stalled);
    // The connections close; their transfers come back (bounded wait for the server to
    // see the closes, not a timer under test).
    let mut status = 0;
    for _ in 0..100 {
        let (s, _, bytes) = api.download(&file, &a).await;
        status = s;
        if s == 200 {
            assert_eq!(bytes.len(), size);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, 200);
}
