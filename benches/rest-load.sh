#!/usr/bin/env bash
# Load on the ATIS-1000082 REST API: wrk (Debian package `wrk`) posts signing requests
# to a release build of callsign over CONNECTIONS keep-alive connections for DURATION
# seconds, all on this machine, as an SBC bound to a provisioned trunk (HTTP basic
# credentials of the trunk's credential list; the level comes from the trust data).
# Reports signings per second, wrk's latency percentiles, non-200 answers, and
# callsign's CPU time per signing.
#
#   benches/rest-load.sh [DURATION] [CONNECTIONS] [THREADS]     (defaults: 20 16 1)
#
# CALLSIGN_BIN=path runs that build instead (no cargo build). ENDPOINT=verification
# posts verification requests of one token signed at the start instead (the x5u comes
# from callsign's own HTTP listener and is cached after the first fetch).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20}
connections=${2:-16}
threads=${3:-1}
endpoint=${ENDPOINT:-signing}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
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
sip_port=$(free_port); http_port=$(free_port); rest_port=$(free_port)
root=$(pwd)
user=sbc-load
password=Load-Password-1234
account=AC1a2b3c4d5e6f708192a3b4c5d6e7f801

# The sample trust data, plus a trunk of the sample account whose credential list holds
# the SBC's user (kept as RFC 8760 digests in realm "callsign", as the API keeps it).
python3 - "$root/config/trust.json" "$work/trust.json" "$user" "$password" "$account" <<'PY'
import hashlib, json, sys
src, dst, user, password, account = sys.argv[1:]
data = json.load(open(src))
h = lambda alg: hashlib.new(alg, f"{user}:callsign:{password}".encode()).hexdigest()
data["trunking"] = {
    "trunks": [{"sid": "TK" + "1" * 32, "account_sid": account, "friendly_name": "load-sbc"}],
    "credential_lists": [{"sid": "CL" + "1" * 32, "account_sid": account}],
    "credentials": [{"sid": "CR" + "1" * 32, "account_sid": account,
                     "credential_list_sid": "CL" + "1" * 32, "username": user,
                     "realm": "callsign", "ha1_md5": h("md5"), "ha1_sha256": h("sha256")}],
    "trunk_credential_lists": [{"trunk_sid": "TK" + "1" * 32,
                                "credential_list_sid": "CL" + "1" * 32, "account_sid": account}],
}
json.dump(data, open(dst, "w"))
PY

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
file = "$work/trust.json"
[upstream]
address = "127.0.0.1:9"
[verify]
trust_anchors = "$root/certs/dev/root.pem"
allow_http = true
allow_loopback = true
[sti_rest]
listen = "127.0.0.1:$rest_port"
TOML
RUST_LOG=${CALLSIGN_LOG:-warn} "$bin" serve --config "$work/callsign.toml" >"$work/callsign.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$http_port/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/callsign.log" >&2; exit 1; }
  sleep 0.1
done

auth=$(printf %s "$user:$password" | base64 -w0)
iat=$(date +%s)
signing_body="{\"signingRequest\":{\"attest\":\"A\",\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":$iat,\"orig\":{\"tn\":\"12155550121\"},\"origid\":\"123e4567-e89b-12d3-a456-426655440000\"}}"
if [ "$endpoint" = verification ]; then
  identity=$(curl -sf -u "$user:$password" -H 'content-type: application/json' \
    --data "$signing_body" "http://127.0.0.1:$rest_port/stir/v1/signing" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["signingResponse"]["identity"])')
  body="{\"verificationRequest\":{\"from\":{\"tn\":\"12155550121\"},\"to\":{\"tn\":[\"12155550131\"]},\"time\":$iat,\"identity\":\"$identity\"}}"
else
  body=$signing_body
fi
# One request through curl first: it must succeed, or the load measures refusals.
check=$(curl -s -o /dev/null -w '%{http_code}' -u "$user:$password" -H 'content-type: application/json' \
  --data "$body" "http://127.0.0.1:$rest_port/stir/v1/$endpoint")
[ "$check" = 200 ] || { echo "the first $endpoint request got $check" >&2; cat "$work/callsign.log" >&2; exit 1; }

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Basic $auth"
local non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
LUA

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; }
before=$(cpu)
wrk -t "$threads" -c "$connections" -d "${duration}s" --latency -s "$work/post.lua" \
  "http://127.0.0.1:$rest_port/stir/v1/$endpoint" >"$work/wrk.txt"
after=$(cpu)
curl -sf "http://127.0.0.1:$http_port/metrics" >"$work/metrics.txt"
cat "$work/wrk.txt"
python3 - "$work/wrk.txt" "$work/metrics.txt" "$before" "$after" "$ticks" "$endpoint" "$connections" <<'PY'
import re, sys
wrk, metrics, before, after, ticks, endpoint, conns = sys.argv[1:]
text = open(wrk).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
ok = 0
for line in open(metrics):
    if line.startswith("callsign_sti_rest_requests_total") and f'endpoint="{endpoint}"' in line and 'status="200"' in line:
        ok += int(float(line.split()[-1]))
cpu_s = (float(after) - float(before)) / float(ticks)
print(f"endpoint: {endpoint}; {conns} keep-alive connections")
print(f"{endpoint} requests/s: {rps:.0f}; answered 200 by callsign: {ok} of {total} sent; non-2xx: {non2xx.group(1) if non2xx else 0}")
print(f"callsign CPU: {cpu_s:.2f} s, {cpu_s / max(ok, 1) * 1e6:.1f} us per {endpoint}")
PY
