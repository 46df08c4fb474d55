//! The console's pages, as maud markup: every value is escaped where it is written.
//! The element ids and classes named in the module docs of [`super`] are what the
//! browser test drives; keep them.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use crate::clock;
use crate::metrics::calls::{AccountCalls, Bucket};
use crate::trust::{Account, PhoneNumber, ReviewEntry, Sid, Trunk};
use crate::trusthub::Preview;
use crate::trusthub::vetting::{Queued, ReviewDetail};
use crate::vetting::workflow::policy_name;

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
header form{margin-left:auto}
main{padding:1rem 1.2rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0 1.2rem}
th,td{border:1px solid #d8dce3;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.92rem}
th{background:#eef0f4}
.overdue{color:#b3261e;font-weight:600}
.passed{color:#1e7b34}.failed{color:#b3261e}.unavailable{color:#a15c00}
#flash{background:#e6f4ea;border:1px solid #1e7b34;padding:.5rem .8rem;margin:.5rem 0}
#flash.error{background:#fdecea;border-color:#b3261e}
code{font-size:.88rem}
textarea{width:100%;max-width:40rem}
button{padding:.35rem .9rem;margin-right:.5rem}
.status{font-weight:700}
";

fn layout(title: &str, csrf: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · callsign console" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    span { "callsign" }
                    @if let Some(csrf) = csrf {
                        a href="/console/queue" { "Review queue" }
                        a href="/console/accounts" { "Accounts" }
                        a href="/console/calls" { "Calls" }
                        form #logout method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// How long until (or since) `deadline`, for a person.
fn time_left(deadline: i64, now: i64) -> String {
    let secs = deadline - now;
    let (sign, secs) = if secs < 0 {
        ("overdue by ", -secs)
    } else {
        ("", secs)
    };
    format!("{sign}{}h {:02}m", secs / 3600, (secs % 3600) / 60)
}

pub fn login(flash: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            @if let Some(f) = flash { div #flash .error { (f) } }
            form #login method="post" action="/console/login" {
                p { label { "Operator SID " input name="sid" autocomplete="username" size="40"; } }
                p { label { "Auth token " input name="token" type="password" autocomplete="current-password" size="40"; } }
                button #login-submit type="submit" { "Sign in" }
            }
        },
    )
}

pub fn error(csrf: &str, message: &str) -> Markup {
    layout(
        "Refused",
        Some(csrf),
        html! { div #flash .error { (message) } p { a href="/console/queue" { "Back to the queue" } } },
    )
}

pub fn queue(csrf: &str, queue: &[Queued], now: i64) -> Markup {
    let overdue = queue.iter().filter(|q| now > q.deadline).count();
    let oldest = queue
        .iter()
        .map(|q| now - q.submitted_at)
        .max()
        .unwrap_or(0);
    layout(
        "Review queue",
        Some(csrf),
        html! {
            p #queue-summary {
                (queue.len()) " waiting, " (overdue) " overdue; the oldest submitted "
                (oldest / 3600) "h " ((oldest % 3600) / 60) "m ago."
            }
            table #queue {
                tr { th { "Bundle" } th { "Account" } th { "Policy" } th { "Status" } th { "Submitted" } th { "Deadline" } th { "Time left" } }
                @for q in queue {
                    tr .queue-row data-bundle=(q.bundle.sid) {
                        td { a .bundle-link href={ "/console/bundles/" (q.bundle.sid) } { (q.bundle.friendly_name.as_deref().unwrap_or("(unnamed)")) } br; code { (q.bundle.sid) } }
                        td { a href={ "/console/accounts/" (q.bundle.account_sid) } { code { (q.bundle.account_sid) } } }
                        td { (policy_name(q.policy)) }
                        td .status { (q.bundle.status.as_str()) }
                        td { (clock::rfc3339(q.submitted_at)) }
                        td { (clock::rfc3339(q.deadline)) }
                        td class=@if now > q.deadline { "overdue" } @else { "" } { (time_left(q.deadline, now)) }
                    }
                }
            }
            @if queue.is_empty() { p { "Nothing waits for a decision." } }
        },
    )
}

fn attributes(value: &Value) -> Markup {
    html! {
        @match value {
            Value::Object(map) => {
                table { @for (k, v) in map { tr { th { (k) } td { (v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())) } } } }
            }
            other => { code { (other.to_string()) } }
        }
    }
}

fn checks(results: &Value) -> Markup {
    let rows = results.as_array().cloned().unwrap_or_default();
    html! {
        table {
            tr { th { "Check" } th { "Result" } th { "On failure" } th { "Weight" } th { "Details" } }
            @for r in &rows {
                @let status = r["status"].as_str().unwrap_or(if r["passed"] == Value::Bool(true) { "passed" } else { "failed" });
                tr {
                    td { (r["requirement_name"].as_str().unwrap_or("")) br; small { (r["requirement_friendly_name"].as_str().unwrap_or("")) } }
                    @if r["requirement_name"] == "vetting_decision" {
                        td .status { (r["outcome"].as_str().unwrap_or("")) }
                        td { "rules " code { (r["workflow_version"].as_str().unwrap_or("")) } }
                        td { "score " (r["score"]) " of " (r["approve_at"]) " needed" }
                        td {}
                    } @else {
                        td class=(status) { (status) }
                        td { (r["on_fail"].as_str().unwrap_or("")) }
                        td { (r["weight"]) }
                        td {
                            @for f in r["invalid"].as_array().into_iter().flatten() {
                                div { code { (f["object_type"].as_str().unwrap_or("")) "." (f["object_field"].as_str().unwrap_or("")) } ": " (f["failure_reason"].as_str().unwrap_or("")) }
                            }
                            @if let Some(detail) = r["detail"].as_object() {
                                @for (rep, m) in detail {
                                    div .identity-match {
                                        b { "Identity match of " (rep) ": " }
                                        @if let Some(m) = m.as_object() {
                                            @for (field, level) in m { @if field.ends_with("_match") { span { (field.trim_end_matches("_match")) " " code { (level.as_str().unwrap_or("")) } "; " } } }
                                            "summary score " (m.get("summary_score").cloned().unwrap_or(Value::Null))
                                        } @else { "no phone number to match" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn log(entries: &[ReviewEntry]) -> Markup {
    html! {
        table #review-log {
            tr { th { "When" } th { "From" } th { "To" } th { "By" } th { "Reason" } th { "Late" } }
            @for e in entries {
                tr {
                    td { (e.date_created) }
                    td { (e.from_status.as_str()) }
                    td { (e.to_status.as_str()) }
                    td { (e.decided_by.as_str()) ": " (e.actor) }
                    td { (e.reason.as_deref().unwrap_or("")) }
                    td { @if e.late { span .overdue { "late" } } }
                }
            }
        }
    }
}

pub fn bundle(csrf: &str, d: &ReviewDetail, now: i64, flash: Option<&str>) -> Markup {
    let b = &d.bundle;
    let decidable = matches!(
        b.status.as_str(),
        "pending-review" | "in-review" | "twilio-approved"
    );
    layout(
        b.friendly_name.as_deref().unwrap_or("Bundle"),
        Some(csrf),
        html! {
            @if let Some(f) = flash { div #flash { (f) } }
            table {
                tr { th { "SID" } td { code { (b.sid) } } }
                tr { th { "Status" } td { span #bundle-status .status { (b.status.as_str()) } } }
                tr { th { "Policy" } td { (policy_name(d.policy)) " " code { (b.policy_sid) } } }
                tr { th { "Account" } td { a href={ "/console/accounts/" (b.account_sid) } { code { (b.account_sid) } } } }
                tr { th { "Email" } td { (b.email.as_deref().unwrap_or("")) } }
                @if let Some((submitted, deadline)) = d.waiting {
                    tr { th { "Submitted" } td { (clock::rfc3339(submitted)) } }
                    tr { th { "Deadline" } td class=@if now > deadline { "overdue" } @else { "" } { (clock::rfc3339(deadline)) " (" (time_left(deadline, now)) ")" } }
                }
                @if let Some(errors) = &b.errors { tr { th { "Errors" } td { code { (errors.to_string()) } } } }
            }
            @if decidable {
                h2 { "Decision" }
                form #decision method="post" action={ "/console/bundles/" (b.sid) "/decision" } {
                    input type="hidden" name="csrf" value=(csrf);
                    p { label for="reason" { "Reason, for the review log" } br; textarea #reason name="reason" rows="3" maxlength="1024" required {} }
                    @if b.status.as_str() != "twilio-approved" {
                        button #approve type="submit" name="decision" value="approve" { "Approve" }
                    }
                    button #reject type="submit" name="decision" value="reject" { "Reject" }
                }
            }
            section #checks {
                h2 { "Checks" }
                @match &d.evaluation {
                    Some(e) => { p { "Evaluation " code { (e.sid) } ", " (e.date_created) ": " b { (e.status) } } (checks(&e.results)) }
                    None => { p { "No evaluation yet." } }
                }
            }
            h2 { "End users" }
            @for u in &d.end_users {
                h3 { (u.end_user_type) " " code { (u.sid) } }
                (attributes(&u.attributes))
            }
            @if d.end_users.is_empty() { p { "None attached." } }
            h2 { "Supporting documents" }
            @for doc in &d.documents {
                h3 { (doc.document_type) " " code { (doc.sid) } }
                (attributes(&doc.attributes))
            }
            @if d.documents.is_empty() { p { "None attached." } }
            @if !d.linked.is_empty() {
                h2 { "Linked profiles" }
                ul { @for l in &d.linked { li { a href={ "/console/bundles/" (l.sid) } { code { (l.sid) } } " " (l.status.as_str()) } } }
            }
            h2 { "Review log" }
            (log(&d.log))
        },
    )
}

pub fn accounts(csrf: &str, list: &[Account], calls: &[AccountCalls]) -> Markup {
    let calls_of = |sid: Sid| calls.iter().find(|c| c.account == sid);
    layout(
        "Accounts",
        Some(csrf),
        html! {
            table #accounts {
                tr { th { "Account" } th { "Status" } th { "Parent" } th { "Calls A / B / C (6 h)" } }
                @for a in list {
                    tr {
                        td { a .account-link href={ "/console/accounts/" (a.sid) } { (a.friendly_name.as_deref().unwrap_or("(unnamed)")) } br; code { (a.sid) } }
                        td .status { (a.status.as_str()) @if let Some(c) = a.suspension_cause { " (" (c.as_str()) ")" } }
                        td { @if let Some(p) = a.parent() { code { (p) } } }
                        td { @if let Some(c) = calls_of(a.sid) { (c.by_level[0]) " / " (c.by_level[1]) " / " (c.by_level[2]) } }
                    }
                }
            }
        },
    )
}

/// What the account page shows.
pub struct AccountView {
    pub account: Account,
    pub trunks: Vec<Trunk>,
    pub numbers: Vec<(PhoneNumber, Option<Sid>)>,
    pub preview: Option<Result<Preview, String>>,
}

pub fn account(csrf: &str, v: &AccountView, series: &[Bucket]) -> Markup {
    let a = &v.account;
    layout(
        a.friendly_name.as_deref().unwrap_or("Account"),
        Some(csrf),
        html! {
            table {
                tr { th { "SID" } td { code { (a.sid) } } }
                tr { th { "Status" } td { span #account-status .status { (a.status.as_str()) } @if let Some(c) = a.suspension_cause { " (" (c.as_str()) ")" } } }
                @if let Some(p) = a.parent() { tr { th { "Parent" } td { a href={ "/console/accounts/" (p) } { code { (p) } } } } }
            }
            h2 { "Why not A? The attestation preview" }
            form #preview method="get" action={ "/console/accounts/" (a.sid) } {
                label { "Calling number " input name="number" size="20" maxlength="64"; }
                " " button #preview-submit type="submit" { "Preview" }
            }
            @if let Some(p) = &v.preview {
                div #preview-result {
                    @match p {
                        Ok(p) => {
                            p .level { "level: " (p.attest) }
                            p .reason { "reason: " (p.reason) }
                            pre { (p.to_text()) }
                        }
                        Err(e) => { div #flash .error { (e) } }
                    }
                }
            }
            h2 { "Calls by level, last 6 hours" }
            (chart(series))
            h2 { "Trunks" }
            table #trunks {
                tr { th { "Trunk" } th { "Domain" } th { "SID" } }
                @for t in &v.trunks { tr { td { (t.friendly_name.as_deref().unwrap_or("")) } td { (t.domain_name.as_deref().unwrap_or("")) } td { code { (t.sid) } } } }
            }
            h2 { "Phone numbers" }
            table #numbers {
                tr { th { "Number" } th { "Customer profile" } }
                @for (n, profile) in &v.numbers {
                    tr { td { (n.phone_number) } td { @if let Some(p) = profile { a href={ "/console/bundles/" (p) } { code { (p) } } } } }
                }
            }
        },
    )
}

/// A stacked bar chart of calls by level, as inline SVG.
fn chart(series: &[Bucket]) -> Markup {
    let (width, height, pad) = (720.0_f64, 180.0_f64, 24.0_f64);
    let max = (series.iter().map(|(_, l)| l.iter().sum::<u64>()))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bar = (width - pad) / series.len().max(1) as f64;
    let colours = ["#1e7b34", "#d08a00", "#b3261e"];
    let mut rects = Vec::new();
    for (i, (at, levels)) in series.iter().enumerate() {
        let mut y = height;
        for (level, count) in levels.iter().enumerate() {
            let h = *count as f64 / max * (height - pad);
            if *count > 0 {
                let label = format!(
                    "{}: {count} from {}",
                    ["A", "B", "C"][level],
                    clock::rfc3339(*at)
                );
                rects.push((
                    pad + i as f64 * bar,
                    y - h,
                    (bar - 1.0).max(1.0),
                    h,
                    colours[level],
                    label,
                ));
            }
            y -= h;
        }
    }
    html! {
        svg #calls-chart xmlns="http://www.w3.org/2000/svg" width=(width) height=(height + pad) role="img" {
            title { "Calls signed A, B and C" }
            text x="0" y="12" font-size="11" { (max as u64) " calls" }
            @for (x, y, w, h, fill, label) in &rects {
                rect x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(format!("{w:.1}")) height=(format!("{h:.1}")) fill=(fill) {
                    title { (label) }
                }
            }
            @if let (Some((first, _)), Some((last, _))) = (series.first(), series.last()) {
                text x=(pad) y=(height + 16.0) font-size="11" { (clock::rfc3339(*first)) }
                text x=(width - 150.0) y=(height + 16.0) font-size="11" { (clock::rfc3339(*last)) }
            }
        }
        p { span style="color:#1e7b34" { "■ A " } span style="color:#d08a00" { "■ B " } span style="color:#b3261e" { "■ C" } }
    }
}

pub fn calls(
    csrf: &str,
    series: &[Bucket],
    accounts: &[AccountCalls],
    queue: &[Queued],
    decisions: &[(&str, &str, u64, u64)],
    now: i64,
) -> Markup {
    let overdue = queue.iter().filter(|q| now > q.deadline).count();
    layout(
        "Calls",
        Some(csrf),
        html! {
            p { "Signed calls on this node, by 10 minutes, over the last 6 hours. Reload for the latest." }
            (chart(series))
            h2 { "By account and reason" }
            table #calls-by-account {
                tr { th { "Account" } th { "A" } th { "B" } th { "C" } th { "Reasons" } }
                @for c in accounts {
                    tr {
                        td { a href={ "/console/accounts/" (c.account) } { code { (c.account) } } }
                        td { (c.by_level[0]) } td { (c.by_level[1]) } td { (c.by_level[2]) }
                        td { @for (reason, n) in &c.by_reason { code { (reason) } " " (n) "; " } }
                    }
                }
            }
            h2 { "Vetting" }
            p #vetting-summary { (queue.len()) " bundles wait for a decision, " (overdue) " past their deadline." }
            table #decisions {
                tr { th { "Decided by" } th { "Outcome" } th { "Decisions" } th { "Late (all outcomes)" } }
                @for (outcome, by, n, late) in decisions {
                    tr { td { (by) } td { (outcome) } td { (n) } td { (late) } }
                }
            }
            p { "Decisions since this node started; every node's are in " code { "callsign_vetting_decisions_total" } " on " code { "/metrics" } "." }
        },
    )
}
