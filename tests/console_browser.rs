//! The operator console in a real browser: headless Chromium, driven over WebDriver by a
//! chromedriver this test starts, logs in as the operator, finds in the queue a profile
//! that the vetting workflow sent to review (its representative is not the person the
//! subscriber records hold on the number), reads the identity match, and approves it
//! with a reason that the review log keeps as the operator's. Once the workflow has
//! approved the trust product, SIPp calls from the customer's trunk are signed A, the
//! console's attestation preview says A, the calls page draws its chart, logging out
//! ends the session, and a wrong token is refused. Screenshots of the approved bundle
//! and of the calls page are kept in `target/console-artifacts/`.
//!
//! Needs Chromium, chromedriver and SIPp (`scripts/test.sh` installs them), so plain
//! `cargo test` ignores it. `CALLSIGN_CHROMIUM` and `CALLSIGN_CHROMEDRIVER` override
//! `/usr/bin/chromium` and `/usr/bin/chromedriver`.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::api::*;
use common::sipp::{calls, free_udp_port};
use common::vetting::*;
use common::*;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The calling number, as the API holds it and as SIPp sends it.
const CALLING: &str = "+12155550121";
const CALLING_NATIONAL: &str = "2155550121";
/// The source address of the customer's trunk.
const TRUNK_IP: &str = "127.0.0.5";
/// The operator's reason for the approval, typed into the console.
const REASON: &str = "Called Robin back on the number on file; Dana is the account holder";
/// How long the browser may take to show what a step expects: page loads, redirects.
const BROWSER_WAIT: Duration = Duration::from_secs(10);

fn program(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// Where the screenshots are kept (created).
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A chromedriver on a free loopback port, killed on drop.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    /// Starts chromedriver and waits (bounded) until it reports itself ready.
    async fn start() -> ChromeDriver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program("CALLSIGN_CHROMEDRIVER", "/usr/bin/chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (Debian's chromium-driver; scripts/test.sh)");
        let mut driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = http_client();
        let since = Instant::now();
        loop {
            let status = client.get(format!("{}/status", driver.url)).send().await;
            if let Ok(response) = status
                && let Ok(text) = response.text().await
                && let Ok(body) = serde_json::from_str::<Value>(&text)
                && body["value"]["ready"] == true
            {
                return driver;
            }
            if let Some(exit) = driver.child.try_wait().unwrap() {
                panic!("chromedriver exited before it was ready: {exit}");
            }
            assert!(
                since.elapsed() < BROWSER_WAIT,
                "chromedriver not ready on {} after {BROWSER_WAIT:?}",
                driver.url
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session on the console of the server at `base`.
struct Browser {
    driver: Client,
    base: String,
}

impl Browser {
    /// A new session, its user-data dir in `profile`.
    async fn open(chromedriver: &ChromeDriver, profile: &Path, base: SocketAddr) -> Browser {
        let chromium = program("CALLSIGN_CHROMIUM", "/usr/bin/chromium");
        let options = json!({
            "binary": chromium.display().to_string(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        // chromedriver on loopback speaks plain HTTP: no TLS connector.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let driver = tokio::time::timeout(
            Duration::from_secs(30),
            ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(chromedriver.url.as_str()),
        )
        .await
        .expect("chromedriver answered in time")
        .expect("chromedriver starts a headless Chromium session");
        let timeouts = fantoccini::wd::TimeoutConfiguration::new(None, Some(BROWSER_WAIT), None);
        driver.update_timeouts(timeouts).await.unwrap();
        Browser {
            driver,
            base: format!("http://{base}"),
        }
    }

    async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.driver
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("GET {url} in the browser: {e}"));
    }

    /// The first element matching `css` whose text passes `test`, waiting (bounded) for
    /// it. Fails with the page's address and source, and a screenshot in the artifacts.
    async fn wait_for(&self, css: &str, test: impl Fn(&str) -> bool) -> Element {
        let since = Instant::now();
        let mut last = None;
        loop {
            if let Ok(element) = self.driver.find(Locator::Css(css)).await {
                match element.text().await {
                    Ok(text) if test(&text) => return element,
                    Ok(text) => last = Some(text),
                    // Gone with the page it was on: look again on the next one.
                    Err(_) => {}
                }
            }
            if since.elapsed() > BROWSER_WAIT {
                self.fail(&format!(
                    "no `{css}` as expected after {BROWSER_WAIT:?} (last text: {last:?})"
                ))
                .await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (bounded) until the page's path passes `test`, as after a form's redirect.
    async fn wait_for_path(&self, test: impl Fn(&str) -> bool) {
        let since = Instant::now();
        loop {
            let url = self.driver.current_url().await.unwrap();
            if test(url.path()) {
                return;
            }
            if since.elapsed() > BROWSER_WAIT {
                self.fail(&format!("still at {url} after {BROWSER_WAIT:?}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The first element matching `css`, waiting (bounded) for it.
    async fn element(&self, css: &str) -> Element {
        self.wait_for(css, |_| true).await
    }

    /// The text of the first element matching `css`, trimmed.
    async fn text(&self, css: &str) -> String {
        let element = self.element(css).await;
        element.text().await.unwrap().trim().to_owned()
    }

    /// Whether an element matches `css` on the page as it is now.
    async fn has(&self, css: &str) -> bool {
        !self
            .driver
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    /// Types `text` into the field matching `css`, replacing what it held.
    async fn fill(&self, css: &str, text: &str) {
        let field = self.element(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap();
    }

    /// Saves a screenshot of the page as `target/console-artifacts/{name}.png`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.driver.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        let path = artifacts().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Panics with `why`, the page's address and source, after a screenshot.
    async fn fail(&self, why: &str) -> ! {
        let url = self.driver.current_url().await.map(|u| u.to_string());
        let source = self.driver.source().await.unwrap_or_default();
        let shot = artifacts().join("failure.png");
        let saved = match self.driver.screenshot().await {
            Ok(png) => std::fs::write(&shot, png).map(|()| shot.display().to_string()),
            Err(e) => Ok(format!("none: {e}")),
        };
        panic!(
            "{why}\nat {url:?} (screenshot {saved:?})\n{}",
            source.chars().take(4000).collect::<String>()
        );
    }
}

/// Lower case, with `_` and `-` as spaces: `identity_match` and `Identity match` alike.
fn words(text: &str) -> String {
    text.to_lowercase().replace(['_', '-'], " ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver; run by scripts/test.sh"]
async fn the_operator_approves_a_queued_profile_in_the_console_and_calls_reach_a() {
    let chromedriver = ChromeDriver::start().await;
    let uas_port = free_udp_port();
    let uas: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("subscribers.csv");
    std::fs::write(&records, RECORDS).unwrap();
    let h = calling_server(uas, &records).start_in(dir).await;
    let op = Creds::operator();

    // The customer's account and numbers; then a trunk for it, which config names.
    let api = Api::new(h.http);
    let a = api.account(&op, "Whitfield Logistics").await;
    api.number(&a.sid, REP_PHONE).await;
    let calling = api.number(&a.sid, CALLING).await;
    let next = calling_server(uas, &records).trunk(signing_trunk("whitfield", &a.sid, TRUNK_IP));
    let h = h.restart(next).await;
    let api = Api::new(h.http);

    // A Primary profile whose representative is not the person on file, and its
    // SHAKEN/STIR trust product, linked and holding the calling number before the
    // profile is submitted (an approved Primary with none linked would get one made).
    // The subscriber records say the representative's number is Dana Whitfield's, not
    // Robin's.
    let p = api.bundle(&a, PROFILES, PRIMARY, None).await;
    for (kind, attributes) in [
        (
            "customer_profile_business_information",
            business("27-1234567"),
        ),
        ("authorized_representative_1", representative("Robin")),
    ] {
        linked_end_user(&api, &a, &p, kind, &attributes).await;
    }
    let address = api.address_document(&a).await;
    api.link(&a, PROFILES, &p, &address).await;
    api.assign(&a, PROFILES, &p, &calling).await;
    let product = api.bundle(&a, PRODUCTS, SHAKEN, None).await;
    api.link(&a, PRODUCTS, &product, &p).await;
    api.assign(&a, PRODUCTS, &product, &calling).await;
    api.move_to(&a, PROFILES, &p, "pending-review").await;
    let queued = left(&api, &a, PROFILES, &p, "pending-review").await;
    assert_eq!(queued["status"], "in-review", "{queued}");

    // The console, in the browser: the operator logs in.
    let profile_dir = tempfile::tempdir().unwrap();
    let browser = Browser::open(&chromedriver, profile_dir.path(), h.http).await;
    browser.goto("/console/login").await;
    browser.element("form#login").await;
    let token = browser.element("input[name=token]").await;
    assert_eq!(
        token.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    browser.fill("input[name=sid]", &op.sid).await;
    browser.fill("input[name=token]", &op.token).await;
    browser.click("button#login-submit").await;
    browser.element("table#queue").await;
    let url = browser.driver.current_url().await.unwrap();
    assert_eq!(
        url.path(),
        "/console/queue",
        "the login redirects to the queue"
    );
    let cookies = browser.driver.get_all_cookies().await.unwrap();
    assert!(!cookies.is_empty(), "the login set no session cookie");

    // The queued profile's row leads to its page, which shows why it waits.
    let link = format!("tr.queue-row[data-bundle=\"{p}\"] a.bundle-link");
    let href = browser.element(&link).await.attr("href").await.unwrap();
    assert!(
        href.as_deref()
            .is_some_and(|h| h.ends_with(&format!("/console/bundles/{p}"))),
        "{href:?}"
    );
    browser.click(&link).await;
    browser
        .wait_for("span#bundle-status", |s| s.trim() == "in-review")
        .await;
    let checks = words(&browser.text("section#checks").await);
    assert!(checks.contains("identity match"), "{checks}");
    assert!(
        checks.contains("no match"),
        "the first name's level: {checks}"
    );
    let csrf = browser
        .element("form#decision input[type=hidden][name=csrf]")
        .await;
    let csrf = csrf.attr("value").await.unwrap().unwrap_or_default();
    assert!(!csrf.is_empty(), "the decision form has no CSRF token");

    // The operator approves it with a reason.
    browser.fill("textarea#reason[name=reason]", REASON).await;
    browser.click("form#decision button#approve").await;
    browser.element("div#flash").await;
    browser
        .wait_for("span#bundle-status", |s| s.trim() == "twilio-approved")
        .await;
    let url = browser.driver.current_url().await.unwrap();
    assert_eq!(url.path(), format!("/console/bundles/{p}"));
    browser.screenshot("bundle-approved").await;

    // The API agrees, and the log has the operator's decision with the reason.
    let (_, b) = api.get(&format!("/v1/{PROFILES}/{p}"), &a, &[]).await;
    assert_eq!(b["status"], "twilio-approved", "{b}");
    let (s, log) = api
        .get("/v1/ReviewLog", &op, &[("BundleSid", p.as_str())])
        .await;
    assert_eq!(s, 200, "{log}");
    let entries = log["results"].as_array().unwrap();
    let deciders: Vec<_> = entries
        .iter()
        .map(|e| (e["decided_by"].as_str(), e["to_status"].as_str()))
        .collect();
    assert_eq!(
        deciders,
        [
            (Some("customer"), Some("pending-review")),
            (Some("workflow"), Some("in-review")),
            (Some("operator"), Some("twilio-approved")),
        ],
        "{log}"
    );
    assert_eq!(entries[2]["reason"], REASON, "{log}");
    let (s, queue) = api.get("/v1/ReviewQueue", &op, &[]).await;
    assert_eq!(s, 200, "{queue}");
    assert!(
        !queue["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["bundle_sid"] == p.as_str()),
        "the approved profile is still queued: {queue}"
    );

    // The customer submits the trust product; the workflow approves it, and calls are A.
    let (_, tp) = api.get(&format!("/v1/{PRODUCTS}/{product}"), &a, &[]).await;
    assert_eq!(tp["status"], "draft", "{tp}");
    api.move_to(&a, PRODUCTS, &product, "pending-review").await;
    let tp = left(&api, &a, PRODUCTS, &product, "pending-review").await;
    assert_eq!(tp["status"], "twilio-approved", "{tp}");
    for claims in calls(&h, uas_port, CALLING_NATIONAL, TRUNK_IP, 2, "vetted").await {
        assert_eq!(claims["attest"], "A", "{claims}");
        assert_eq!(claims["orig"]["tn"], format!("1{CALLING_NATIONAL}"));
    }

    // The account's page previews A for the calling number.
    browser.goto("/console/accounts").await;
    let account_link = format!("a.account-link[href$=\"/console/accounts/{}\"]", a.sid);
    browser.click(&account_link).await;
    browser
        .fill("form#preview input[name=number]", CALLING)
        .await;
    browser.click("form#preview button#preview-submit").await;
    browser
        .wait_for("div#preview-result", |t| t.contains("level: A"))
        .await;
    let preview = browser.text("div#preview-result").await;
    assert!(preview.contains("reason: a_full"), "{preview}");

    // The calls page draws its chart.
    browser.goto("/console/calls").await;
    browser.element("svg#calls-chart").await;
    browser.screenshot("calls").await;

    // Logging out ends the session: the queue is no longer shown.
    browser.click("form#logout button").await;
    browser.wait_for_path(|path| path != "/console/calls").await;
    browser.goto("/console/queue").await;
    assert!(
        !browser.has("table#queue").await,
        "the queue is shown after logout"
    );

    // A wrong token, from the page that has just logged in with the right one, gets the
    // login again with a message, and no queue.
    browser.goto("/console/login").await;
    browser.fill("input[name=sid]", &op.sid).await;
    browser
        .fill("input[name=token]", "not-the-operator-token")
        .await;
    browser.click("button#login-submit").await;
    browser.element("div#flash").await;
    assert!(browser.has("form#login").await, "the login is shown again");
    assert!(
        !browser.has("table#queue").await,
        "a wrong token saw the queue"
    );

    browser.driver.clone().close().await.unwrap();
}
