#!/usr/bin/env bash
# Automated vetting under load: a release build of callsign on a fresh SQLite store, with
# the embedded default workflows and generated subscriber records (one row per
# representative's number). benches/vetting_load.py prepares RATE x DURATION accounts,
# each with a Primary customer profile that the workflow approves (untimed), then submits
# them at RATE per second for DURATION seconds, open-loop, and polls each profile until
# its decision shows. Reports the achieved submission rate, the outcomes, the decision
# latency percentiles and how many took over 1 s, and callsign's CPU time per decision;
# then checks the review log. Exits non-zero when a submission failed, or a decision is
# missing or is not an approval.
#
#   benches/vetting-load.sh [RATE] [DURATION]     (defaults: 100 30)
#
# CALLSIGN_BIN=path runs that build instead (no cargo build). POLL_MS (20) is the poll
# interval and MISS_AFTER (10) the seconds after which a bundle still pending is a miss.
# DUMP=file.csv (relative to the checkout) writes each submission's send time, response
# time, decision latency and outcome, in order of submission. CALLSIGN_LOG=info keeps
# each decision's log line (with KEEP=1, in the kept directory).
# Everything is on loopback; the driver needs Python 3 and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-100}
duration=${2:-30}
accounts=$((rate * duration))
bin=${CALLSIGN_BIN:-target/release/callsign}
[ -n "${CALLSIGN_BIN:-}" ] || cargo build --release --quiet
work=$(mktemp -d)
pid=""
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sip_port=$(free_port); http_port=$(free_port)
root=$(pwd)
operator_sid=AC0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e
operator_token=vetting-load-operator-token

python3 benches/vetting_load.py records "$accounts" >"$work/subscribers.csv"
cat >"$work/callsign.toml" <<TOML
development = true
[sip]
udp = "127.0.0.1:$sip_port"
drain_secs = 0
[http]
listen = "127.0.0.1:$http_port"
[signing]
certificate = "$root/certs/dev/chain.pem"
key = "$root/certs/dev/leaf.key"
x5u = "http://127.0.0.1:$http_port/certs/chain.pem"
[trust]
store = "$work/callsign.db"
[api]
operator_sid = "$operator_sid"
operator_auth_token = "$operator_token"
[upstream]
address = "127.0.0.1:9"
[vetting]
automatic = true
subscriber_records = "$work/subscribers.csv"
TOML
RUST_LOG=${CALLSIGN_LOG:-warn} "$bin" serve --config "$work/callsign.toml" >"$work/callsign.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$http_port/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/callsign.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$http_port/health" >/dev/null || { echo "callsign did not start" >&2; cat "$work/callsign.log" >&2; exit 1; }

dump=()
[ -z "${DUMP:-}" ] || dump=(--dump "$DUMP")
set +e
python3 benches/vetting_load.py run --base "http://127.0.0.1:$http_port" \
  --operator "$operator_sid:$operator_token" --pid "$pid" --rate "$rate" --duration "$duration" \
  --poll-ms "${POLL_MS:-20}" --miss-after "${MISS_AFTER:-10}" ${dump[@]+"${dump[@]}"}
rc=$?
set -e
curl -sf "http://127.0.0.1:$http_port/metrics" | grep '^callsign_vetting_decisions_total' || true
if [ "$rc" != 0 ] && [ -s "$work/callsign.log" ]; then
  echo "callsign's log (last lines):" >&2
  tail -20 "$work/callsign.log" >&2
fi
exit "$rc"
