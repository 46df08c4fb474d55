#!/usr/bin/env bash
# What a caller feels, side by side in one run: the same SIPp load through each proxy
# one after the other, each under a loopback capture, and a table of the proxy's own
# wire-to-wire INVITE latency (p50, p90, p99, max), failed calls, sustained calls/s and
# CPU per call, with callsign's ratios to each Kamailio setup.
#
#   benches/compare.sh [RATE] [DURATION] [MODES...]
#
# MODES default to: none kamailio-unsigned kamailio-stateless kamailio callsign
# callsign-tcp callsign-tls (see benches/sipp-load.sh for each; callsign-tcp is callsign
# over TCP; callsign-tls is callsign over TLS on both sides behind a Kamailio TLS
# gateway, run without a capture: its SIP is encrypted, and the CPU per call is what it
# is there for).
# Needs what benches/wire-latency.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-2000}
duration=${2:-20}
shift $(( $# > 2 ? 2 : $# ))
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(none kamailio-unsigned kamailio-stateless kamailio callsign callsign-tcp callsign-tls)
cargo build --release --quiet
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for mode in "${modes[@]}"; do
  case "$mode" in
    callsign-tcp) proxy=callsign; transport=t1 ;;
    *) proxy=$mode; transport=u1 ;;
  esac
  echo "== $mode" >>"$out"
  if [ "$mode" = callsign-tls ]; then
    PROXY=$proxy benches/sipp-load.sh "$rate" "$duration" "$transport" >>"$out" 2>&1 || echo "run failed" >>"$out"
  else
    benches/wire-latency.sh "$proxy" "$rate" "$duration" "$transport" >>"$out" 2>&1 || echo "run failed" >>"$out"
  fi
done
python3 - "$out" "$rate" "$duration" <<'PY'
import re, sys
runs, cur = {}, None
for line in open(sys.argv[1]):
    if line.startswith("== "):
        cur = line[3:].strip(); runs[cur] = {}
        continue
    r = runs[cur]
    if m := re.search(r"successful calls: (\d+)\s+failed calls: (\d+)", line):
        r["ok"], r["failed"] = int(m[1]), int(m[2])
    if m := re.search(r"sustained: (\d+) calls/s", line):
        r["cps"] = int(m[1])
    if m := re.search(r"^proxy CPU: .* (\d+) us per completed call", line):
        r["cpu"] = int(m[1])
    if m := re.search(r"p50=(\d+) us p90=(\d+) us p99=(\d+) us max=(\d+) us", line):
        r["lat"] = tuple(int(x) for x in m.groups())
print(f"{sys.argv[2]} calls/s offered for {sys.argv[3]} s, one run, one mode after the other")
print("| mode | failed | calls/s | CPU/call | p50 | p90 | p99 | max |")
print("|---|---|---|---|---|---|---|---|")
for mode, r in runs.items():
    lat = r.get("lat")
    cols = [f"{v:,} µs" for v in lat] if lat else ["—"] * 4
    cpu = f"{r['cpu']} µs" if mode != "none" and "cpu" in r else "—"
    print(f"| {mode} | {r.get('failed', '?')} | {r.get('cps', '?')} | {cpu} | " + " | ".join(cols) + " |")
ours = runs.get("callsign", {})
for base in ("kamailio-unsigned", "kamailio-stateless", "kamailio"):
    theirs = runs.get(base, {})
    if "lat" in ours and "lat" in theirs:
        ratios = " / ".join(f"{a / b:.2f}" for a, b in zip(ours["lat"], theirs["lat"]))
        cpu = f"{ours['cpu'] / theirs['cpu']:.2f}" if theirs.get("cpu") else "—"
        print(f"callsign / {base}: latency p50/p90/p99/max {ratios}; CPU per call {cpu}")
for other in ("callsign-tcp", "callsign-tls"):
    r = runs.get(other, {})
    if r.get("cpu") and ours.get("cpu"):
        print(f"{other} / callsign (UDP): CPU per call {r['cpu'] / ours['cpu']:.2f}")
PY
