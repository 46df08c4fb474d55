#!/usr/bin/env python3
"""Driver of benches/vetting-load.sh: automated vetting under a steady stream of
submissions, against a running `callsign serve` (Python 3 standard library only).

    vetting_load.py records N                  the subscriber records CSV, on stdout
    vetting_load.py run --base URL --operator SID:TOKEN --pid PID [--rate R]
                        [--duration S] [--poll-ms MS] [--miss-after S] [--dump CSV]

`run`, in order:

1. Prepares, untimed, N = rate x duration accounts as the operator. Each gets its
   representative's phone number and a Primary customer profile that passes the default
   workflow: a business end user with an EIN of a valid prefix (27-1000000 + i, so that
   the duplicate check never fires), a website and email domain of its own, a
   representative whose name and address match the account's row of the CSV, and a
   customer_profile_address document, all linked.
2. Submits them (`POST /v1/CustomerProfiles/{sid}` with Status=pending-review, as the
   account) open-loop: a scheduler fires each submission at its planned time, start +
   k / rate, on a thread pool, without waiting for the earlier ones.
3. Once a submission is answered, polls the profile as the account every --poll-ms
   until it leaves pending-review. A poll is a short job on a second pool, scheduled by a
   timer heap; a bundle still pending --miss-after seconds after its submission is a
   miss. The decision latency is the time from the submission's request being sent to
   the response of the first poll that shows the decision, so it is late by up to one
   poll interval plus one poll's round trip.
4. Reads callsign's CPU time (/proc/PID/stat utime + stime) before the first submission
   and after the last decision or miss; waits (bounded) for late decisions; then reads
   the review log (`GET /v1/ReviewLog`, paged) as the operator to check that every
   submission has exactly one submission entry and one workflow decision.

Exits 1 when a submission failed, a decision is missing or the log disagrees.
"""

import argparse
import base64
import calendar
import heapq
import http.client
import json
import os
import resource
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

PRIMARY = "RN6433641899984f951173ef1738c3bdd0"
ADDRESS_SID = "AD0123456789abcdef0123456789abcdef"
FIRST = ["Dana", "Robin", "Alex", "Morgan", "Casey", "Jordan", "Taylor", "Jamie",
         "Avery", "Riley", "Quinn", "Harper", "Rowan", "Emerson", "Finley", "Hayden"]
LAST = ["Whitfield", "Okafor", "Lindqvist", "Moreau", "Castillo", "Nakamura",
        "Brennan", "Adeyemi", "Kowalski", "Fairbanks", "Delacroix", "Huxley", "Sandoval"]
STREETS = [("Commerce Street", "Commerce St"), ("Market Street", "Market St"),
           ("Walnut Avenue", "Walnut Ave"), ("Chestnut Boulevard", "Chestnut Blvd")]
# The most review log pages read (of 1000 entries each).
PAGE_LIMIT = 1000


def person(i):
    """The representative of account i: phone, names, and the address as the subscriber
    records hold it and as the representative writes it (abbreviated, as in
    tests/vetting.rs)."""
    street_long, street_short = STREETS[i % len(STREETS)]
    number = 100 + i % 900
    return {
        "phone": f"+1215{7000000 + i:07d}",
        "first_name": FIRST[i % len(FIRST)],
        "last_name": LAST[(i // len(FIRST)) % len(LAST)],
        "record_line1": f"{number} {street_long}",
        "line1": f"{number} {street_short}",
    }


def records(n):
    out = ["phone_number,first_name,last_name,address_line1,city,state,postal_code,"
           "address_country_code"]
    for i in range(n):
        p = person(i)
        out.append(f"{p['phone']},{p['first_name']},{p['last_name']},{p['record_line1']},"
                   "Philadelphia,PA,19103,US")
    return "\n".join(out) + "\n"


class Client:
    """Basic-auth HTTP/1.1 over one keep-alive connection per thread."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"{base}: loopback only")
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def call(self, method, path, creds, form=None):
        """(status, JSON body or None). One reconnect when a kept connection was closed."""
        auth = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        headers = {"Authorization": auth, "Accept": "application/json"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                self.local.conn = conn
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 1:
                    raise
                continue
            try:
                return resp.status, json.loads(data) if data else None
            except ValueError:
                return resp.status, data.decode(errors="replace")
        raise AssertionError("unreachable")

    def ok(self, path, creds, form):
        status, body = self.call("POST", path, creds, form)
        if status not in (200, 201):
            raise RuntimeError(f"POST {path} -> {status}: {body}")
        return body


def prepare(api, operator, i):
    """Account i with its number and a submittable Primary profile: (creds, profile)."""
    p = person(i)
    domain = f"vetload-{i}-logistics.com"
    acct = api.ok("/2010-04-01/Accounts.json", operator, {"FriendlyName": f"Vetload {i}"})
    creds = (acct["sid"], acct["auth_token"])
    api.ok(f"/2010-04-01/Accounts/{creds[0]}/IncomingPhoneNumbers.json", operator,
           {"PhoneNumber": p["phone"]})
    profile = api.ok("/v1/CustomerProfiles", creds, {
        "FriendlyName": f"Vetload {i}", "Email": f"ops@{domain}", "PolicySid": PRIMARY,
    })["sid"]
    business = {
        "business_name": f"Vetload {i} Logistics LLC",
        "business_type": "Limited Liability Corporation",
        "business_registration_identifier": "EIN",
        "business_registration_number": f"27-{1000000 + i}",
        "business_identity": "direct_customer",
        "business_industry": "TRANSPORTATION",
        "website_url": f"https://{domain}",
        "business_regions_of_operation": "USA_AND_CANADA",
    }
    representative = {
        "first_name": p["first_name"],
        "last_name": p["last_name"],
        "email": f"{p['first_name'].lower()}@{domain}",
        "phone_number": p["phone"],
        "business_title": "Owner",
        "job_position": "CEO",
        "address_line1": p["line1"],
    }
    objects = []
    for kind, attributes in [("customer_profile_business_information", business),
                             ("authorized_representative_1", representative)]:
        objects.append(api.ok("/v1/EndUsers", creds, {
            "FriendlyName": kind, "Type": kind, "Attributes": json.dumps(attributes),
        })["sid"])
    objects.append(api.ok("/v1/SupportingDocuments", creds, {
        "FriendlyName": "address", "Type": "customer_profile_address",
        "Attributes": json.dumps({"address_sids": ADDRESS_SID}),
    })["sid"])
    for sid in objects:
        api.ok(f"/v1/CustomerProfiles/{profile}/EntityAssignments", creds, {"ObjectSid": sid})
    return creds, profile


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


class Timers:
    """A heap of (due, seq, job) fired onto `pool` at their time by one thread, until
    `deadline` (monotonic)."""

    def __init__(self, pool, deadline):
        self.pool, self.deadline = pool, deadline
        self.heap, self.seq = [], 0
        self.cv = threading.Condition()
        self.stopped = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def at(self, due, job):
        with self.cv:
            self.seq += 1
            heapq.heappush(self.heap, (due, self.seq, job))
            self.cv.notify()

    def stop(self):
        with self.cv:
            self.stopped = True
            self.cv.notify()
        self.thread.join(5)

    def run(self):
        while time.monotonic() < self.deadline:
            with self.cv:
                if self.stopped:
                    return
                now = time.monotonic()
                if not self.heap:
                    self.cv.wait(0.05)
                    continue
                due = self.heap[0][0]
                if due > now:
                    self.cv.wait(min(due - now, 0.05))
                    continue
                _, _, job = heapq.heappop(self.heap)
            self.pool.submit(job)


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def review_log(api, operator):
    """Every review log entry, oldest first, following next_page_url."""
    entries, path = [], "/v1/ReviewLog?PageSize=1000"
    for _ in range(PAGE_LIMIT):
        status, body = api.call("GET", path, operator)
        if status != 200:
            raise RuntimeError(f"GET {path} -> {status}: {body}")
        entries.extend(body.get("results", []))
        nxt = (body.get("meta") or {}).get("next_page_url")
        if not nxt:
            return entries
        u = urllib.parse.urlsplit(nxt)
        path = u.path + ("?" + u.query if u.query else "")
    raise RuntimeError(f"the review log has more than {PAGE_LIMIT} pages")


def run(args):
    rate, duration = args.rate, args.duration
    n = rate * duration
    api = Client(args.base)
    operator = tuple(args.operator.split(":", 1))

    # 1. Preparation, untimed.
    t = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.prepare_threads) as pool:
        prepared = list(pool.map(lambda i: prepare(api, operator, i), range(n)))
    print(f"prepared: {n} accounts, each with its number and a draft Primary profile "
          f"(2 end users, 1 document), in {time.monotonic() - t:.1f} s", flush=True)

    # 2 and 3. Open-loop submissions; polls until each decision is seen.
    lock = threading.Lock()
    sent = [None] * n          # monotonic time the submission request was sent
    planned = [None] * n
    answered = [None] * n      # the submission's response: (time, status)
    decided = [None] * n       # (time the deciding poll's response arrived, status)
    polls = [0]
    poll_errors = [0]
    misses = []
    done = threading.Event()
    remaining = [n]
    interval = args.poll_ms / 1000.0
    poll_pool = ThreadPoolExecutor(max_workers=args.poll_threads)
    submit_pool = ThreadPoolExecutor(max_workers=args.submit_threads)
    hard_deadline = time.monotonic() + 60 + duration * 2 + args.miss_after
    timers = Timers(poll_pool, hard_deadline)

    finished = set()

    def finish(i, outcome):
        with lock:
            if i in finished:
                return
            finished.add(i)
            if outcome is None:
                misses.append(i)
            else:
                decided[i] = outcome
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()

    def guarded(job):
        """A submission or poll job; a bundle whose job fails unexpectedly is a miss."""
        def run_job(i):
            try:
                job(i)
            except Exception as e:  # noqa: BLE001 - reported, and the bundle counted
                print(f"bundle {i}: {e!r}", file=sys.stderr)
                finish(i, None)
        return run_job

    def poll(i):
        creds, profile = prepared[i]
        try:
            status, body = api.call("GET", f"/v1/CustomerProfiles/{profile}", creds)
        except (OSError, http.client.HTTPException):
            status, body = 0, None
        now = time.monotonic()
        with lock:
            polls[0] += 1
        if status == 200 and isinstance(body, dict) and body.get("status") != "pending-review":
            finish(i, (now, body.get("status")))
            return
        if status != 200:
            with lock:
                poll_errors[0] += 1
        if now - sent[i] > args.miss_after:
            finish(i, None)
            return
        timers.at(now + interval, lambda: guarded_poll(i))

    def submit(i):
        creds, profile = prepared[i]
        sent[i] = time.monotonic()
        try:
            status, body = api.call("POST", f"/v1/CustomerProfiles/{profile}", creds,
                                    {"Status": "pending-review"})
        except (OSError, http.client.HTTPException) as e:
            status, body = 0, str(e)
        now = time.monotonic()
        answered[i] = (now, status)
        if status != 200 or not isinstance(body, dict):
            print(f"submission {i} -> {status}: {body}", file=sys.stderr)
            finish(i, None)
            return
        if body.get("status") != "pending-review":
            finish(i, (now, body.get("status")))
            return
        timers.at(now + interval, lambda: guarded_poll(i))

    guarded_poll, guarded_submit = guarded(poll), guarded(submit)

    ticks = os.sysconf("SC_CLK_TCK")
    cpu_before = cpu_ticks(args.pid)
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic() + 0.2
    for k in range(n):
        planned[k] = start + k / rate
        delay = planned[k] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        submit_pool.submit(guarded_submit, k)
    done.wait(max(0.0, hard_deadline - time.monotonic()))
    end = time.monotonic()
    cpu_after = cpu_ticks(args.pid)
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    decided_by_then = decisions_total(api)
    timers.stop()
    submit_pool.shutdown(wait=True, cancel_futures=True)
    poll_pool.shutdown(wait=True, cancel_futures=True)
    # Missed bundles may still be decided late: wait (bounded) until callsign has decided
    # every submission, so that the review log below is complete.
    drained = None
    accepted = sum(1 for a in answered if a and a[1] == 200)
    if misses:
        for _ in range(args.drain_secs * 10):
            if decisions_total(api) >= accepted:
                drained = time.monotonic()
                break
            time.sleep(0.1)

    # 4. Report.
    sends = [s for s in sent if s is not None]
    ok_submissions = sum(1 for a in answered if a and a[1] == 200)
    failed_submissions = n - ok_submissions
    span = max(sends) - min(sends) if len(sends) > 1 else 0.0
    lag = sorted((sent[i] - planned[i]) * 1000 for i in range(n) if sent[i] is not None)
    answer_ms = sorted((answered[i][0] - sent[i]) * 1000 for i in range(n)
                       if answered[i] and answered[i][1] == 200)
    latencies = sorted((decided[i][0] - sent[i]) * 1000 for i in range(n) if decided[i])
    outcomes = {}
    for d in decided:
        if d:
            outcomes[d[1]] = outcomes.get(d[1], 0) + 1
    missing = n - len(latencies)
    over = sum(1 for v in latencies if v > 1000)
    cpu_s = (cpu_after - cpu_before) / ticks
    self_s = (self_after.ru_utime - self_before.ru_utime
              + self_after.ru_stime - self_before.ru_stime)

    print(f"offered: {rate} submissions/s for {duration} s, open loop; poll every "
          f"{args.poll_ms} ms, a miss after {args.miss_after} s")
    print(f"submissions sent: {len(sends)}   answered 200: {ok_submissions}   failed: "
          f"{failed_submissions}")
    if span > 0:
        print(f"achieved submission rate: {(len(sends) - 1) / span:.1f}/s over {span:.2f} s; "
              f"send lag behind schedule p50 {pct(lag, 0.5):.1f} ms, max {lag[-1]:.1f} ms")
    if answer_ms:
        print(f"submission response time: p50 {pct(answer_ms, 0.5):.1f} ms, p99 "
              f"{pct(answer_ms, 0.99):.1f} ms, max {answer_ms[-1]:.1f} ms")
    print(f"decisions seen: {len(latencies)} of {n}; missing (pending after "
          f"{args.miss_after} s, or not submitted): {missing}")
    print("outcomes: " + (", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none"))
    if latencies:
        print(f"decision latency (submission sent -> poll showing the decision): p50 "
              f"{pct(latencies, 0.5):.0f} ms, p90 {pct(latencies, 0.9):.0f} ms, p99 "
              f"{pct(latencies, 0.99):.0f} ms, max {latencies[-1]:.0f} ms")
        print(f"over 1 s: {over} of {len(latencies)} ({100.0 * over / len(latencies):.2f}%)")
    if misses:
        last = max(sends) if sends else end
        print("backlog: " + (f"every submission decided {drained - last:.1f} s after the last one"
                             if drained else f"not drained {args.drain_secs} s after the load"))
    print(f"polls: {polls[0]} ({poll_errors[0]} not 200), {polls[0] / max(len(latencies), 1):.1f} "
          f"per decision; timed phase {end - min(sends or [end]):.1f} s")
    print(f"callsign CPU: {cpu_s:.2f} s in the timed phase, {decided_by_then:.0f} decisions made, "
          f"{cpu_s / max(decided_by_then, 1) * 1000:.2f} ms per decision (its submission and "
          f"polls included); driver CPU: {self_s:.2f} s")

    # The review log: one customer entry and one workflow entry per submitted bundle.
    by_bundle = {}
    for e in review_log(api, operator):
        by_bundle.setdefault(e["bundle_sid"], []).append(e)
    log_outcomes, coarse, log_bad = {}, {}, 0
    for creds, profile in prepared:
        entries = by_bundle.get(profile, [])
        customer = [e for e in entries if e["decided_by"] == "customer"]
        workflow = [e for e in entries if e["decided_by"] == "workflow"]
        if len(customer) != 1 or len(workflow) != 1:
            log_bad += 1
            continue
        w = workflow[0]
        log_outcomes[w["to_status"]] = log_outcomes.get(w["to_status"], 0) + 1
        secs = iso_seconds(w["date_created"]) - iso_seconds(customer[0]["date_created"])
        coarse[secs] = coarse.get(secs, 0) + 1
    print("review log: workflow decisions " +
          (", ".join(f"{k} {v}" for k, v in sorted(log_outcomes.items())) or "none") +
          f"; bundles without exactly one submission and one decision: {log_bad}")
    print("review log, whole seconds from submission to decision (1 s resolution): " +
          ", ".join(f"{k} s: {v}" for k, v in sorted(coarse.items())))

    if args.dump:
        # One row per submission, in order: the number of profiles submitted before it is
        # its index, so that latency can be read against the store's size.
        with open(args.dump, "w") as f:
            f.write("index,sent_s,answer_ms,decision_ms,status\n")
            t0 = min(sends or [0.0])
            for i in range(n):
                a = f"{(answered[i][0] - sent[i]) * 1000:.1f}" if answered[i] else ""
                d = f"{(decided[i][0] - sent[i]) * 1000:.1f}" if decided[i] else ""
                st = decided[i][1] if decided[i] else "missing"
                s_ = f"{sent[i] - t0:.3f}" if sent[i] is not None else ""
                f.write(f"{i},{s_},{a},{d},{st}\n")

    # Every profile is made for the workflow to approve: another outcome means the run
    # measured some other path.
    not_approved = n - outcomes.get("twilio-approved", 0)
    failed = failed_submissions > 0 or missing > 0 or log_bad > 0 or not_approved > 0
    if failed:
        print("FAILED: a submission failed, a decision is missing or not an approval, "
              "or the log disagrees", file=sys.stderr)
    return 1 if failed else 0


def decisions_total(api):
    """callsign_vetting_decisions_total, summed over its labels (/metrics)."""
    conn = http.client.HTTPConnection(api.host, api.port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("callsign_vetting_decisions_total{"))


def iso_seconds(text):
    """Unix seconds of an RFC 3339 UTC time as callsign writes it (2026-12-05T10:00:00Z)."""
    return calendar.timegm(time.strptime(text.rstrip("Z")[:19], "%Y-%m-%dT%H:%M:%S"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("records")
    r.add_argument("n", type=int)
    p = sub.add_parser("run")
    p.add_argument("--base", required=True)
    p.add_argument("--operator", required=True, help="SID:TOKEN")
    p.add_argument("--pid", required=True, type=int, help="callsign's process id")
    p.add_argument("--rate", type=int, default=100)
    p.add_argument("--duration", type=int, default=30)
    p.add_argument("--poll-ms", type=int, default=20)
    p.add_argument("--miss-after", type=float, default=10.0)
    p.add_argument("--drain-secs", type=int, default=120,
                   help="how long to wait for late decisions before reading the log")
    p.add_argument("--dump", help="write each submission's times to this CSV file")
    p.add_argument("--prepare-threads", type=int, default=8)
    p.add_argument("--submit-threads", type=int, default=32)
    p.add_argument("--poll-threads", type=int, default=16)
    args = ap.parse_args()
    if args.cmd == "records":
        sys.stdout.write(records(args.n))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
