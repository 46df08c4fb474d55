#!/usr/bin/env bash
# SIPp load test: SIPp's UAC places calls at RATE calls/s for DURATION seconds through a
# proxy to SIPp's UAS, all on this machine. Reports sustained calls per second, failed
# calls, the proxy's pipeline-time percentiles (callsign's /metrics) and the proxy's CPU
# time per call.
#
#   benches/sipp-load.sh [RATE] [DURATION] [TRANSPORT]     (defaults: 5000 60 u1)
#   PROXY=... benches/sipp-load.sh [RATE] [DURATION]
#
# TRANSPORT is SIPp's -t value: u1 (UDP, one socket) or t1 (TCP, one connection).
# PROXY picks what sits between the UAC and the UAS, for same-machine comparisons:
#   callsign             a release build of callsign, signing every INVITE (default)
#   kamailio             Kamailio 5, stateful (tm) with record-routing, its secsipid
#                        module signing every INVITE with the same dev key
#   kamailio-stateless   the same, stateless (forward())
#   kamailio-unsigned    stateless and unsigned: the floor for a proxy
#   none                 no proxy: the UAC calls the UAS straight (what SIPp can do here)
#   callsign-tls         callsign over TLS on both sides. SIPp speaks no TLS, so a
#                        relay (examples/sip_tls_relay.rs) stands between: UAC -UDP->
#                        relay -TLS-> callsign -TLS-> relay -UDP-> UAS. CPU per call
#                        is callsign's alone (the relay's is printed apart).
# CALLSIGN_BIN=path runs that build of callsign instead (no cargo build), for A/B runs.
# Kamailio runs two UDP workers (apt-get install kamailio kamailio-secsipid-modules); its
# CPU per call is summed over all its processes.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-5000}
duration=${2:-60}
transport=${3:-u1}
calls=$((rate * duration))
command -v sipp >/dev/null || { echo "sipp is missing: apt-get install sip-tester" >&2; exit 1; }

# CALLSIGN_BIN runs another build of callsign (an A/B comparison) as it is.
bin=${CALLSIGN_BIN:-target/release/callsign}
[ -n "${CALLSIGN_BIN:-}" ] || cargo build --release --quiet
# Its own target directory: an example pulls in the dev-dependencies' features, and
# sharing target/ would rebuild callsign's library back and forth.
[ "${PROXY:-}" != callsign-tls ] || cargo build --release --quiet --example sip_tls_relay --target-dir target/tls-relay
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Nothing of this run may still be running when the next one starts.
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sip_port=$(free_port); http_port=$(free_port); uas_port=$(free_port); uac_port=$(free_port)
root=$(pwd)
mode=${PROXY:-callsign}
up_port=$uas_port
up_transport=$([ "$transport" = t1 ] && echo tcp || echo udp)
sip_tls=""
if [ "$mode" = callsign-tls ]; then
  # The TLS relay's ports, and one certificate (IP 127.0.0.1) from a throwaway CA for
  # both callsign and the relay.
  gw_udp=$(free_port); gw_tls=$(free_port); tls_port=$(free_port)
  up_port=$gw_tls; up_transport=tls
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=bench-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
    -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$work/ext.cnf"
  openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -days 2 -extfile "$work/ext.cnf" -out "$work/tls.pem" 2>/dev/null
  sip_tls="[sip.tls]
listen = \"127.0.0.1:$tls_port\"
certificate = \"$work/tls.pem\"
key = \"$work/tls.key\"
ca = \"$work/ca.pem\""
fi
cat >"$work/callsign.toml" <<TOML
development = true
[sip]
udp = "127.0.0.1:$sip_port"
tcp = "127.0.0.1:$sip_port"
# Stop at once when the run ends: a drain would hold the CPU the next run measures.
drain_secs = 0
$sip_tls
[http]
listen = "127.0.0.1:$http_port"
[signing]
certificate = "$root/certs/dev/chain.pem"
key = "$root/certs/dev/leaf.key"
x5u = "http://127.0.0.1:$http_port/certs/chain.pem"
[trust]
file = "$root/config/trust.json"
[upstream]
address = "127.0.0.1:$up_port"
transport = "$up_transport"
[[trunk]]
name = "load"
account_sid = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801"
sources = ["127.0.0.1/32"]
TOML

target_port=$sip_port
case "$mode" in
kamailio|kamailio-stateless|kamailio-unsigned)
  command -v kamailio >/dev/null || { echo "kamailio is missing: apt-get install kamailio kamailio-secsipid-modules" >&2; exit 1; }
  [ "$transport" = u1 ] || { echo "the Kamailio comparison runs over UDP only" >&2; exit 1; }
  # libsecsipid reads SEC1 ("EC PRIVATE KEY") keys.
  openssl ec -in certs/dev/leaf.key -out "$work/leaf-sec1.key" 2>/dev/null
  modules=$(dirname "$(dpkg -L kamailio-secsipid-modules | grep '/secsipid.so$')")
  if [ "$mode" = kamailio ]; then
    relay='t_relay()'; tm='loadmodule "tm.so"'; check='t_check_trans();'
  else
    relay='forward()'; tm=''; check=''
  fi
  sign=''
  if [ "$mode" != kamailio-unsigned ]; then
    sign="if (is_method(\"INVITE\")) { secsipid_add_identity(\"1\$fU\", \"1\$tU\", \"A\", \"\", \"http://127.0.0.1:$http_port/certs/chain.pem\", \"$work/leaf-sec1.key\"); }"
  fi
  cat >"$work/kamailio.cfg" <<KAM
#!KAMAILIO
debug=0
log_stderror=yes
children=2
disable_tcp=yes
listen=udp:127.0.0.1:$sip_port
mpath="$modules/"
$tm
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "secsipid.so"
request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { $relay; exit; }
    if (is_method("ACK")) { $relay; exit; }
    sl_send_reply("404", "Not Here"); exit;
  }
  if (is_method("CANCEL")) { \$du = "sip:127.0.0.1:$uas_port"; $relay; exit; }
  $check
  record_route();
  $sign
  \$du = "sip:127.0.0.1:$uas_port";
  $relay;
}
KAM
  kamailio -f "$work/kamailio.cfg" -DD -E -m 512 -M 64 >"$work/proxy.log" 2>&1 &
  proxy=$!
  pids+=("$proxy")
  sleep 2
  kill -0 "$proxy" 2>/dev/null || { cat "$work/proxy.log" >&2; exit 1; }
  proxy_pids() { pgrep -f "kamailio -f $work/kamailio.cfg" | tr '\n' ' '; }
  ;;
none)
  target_port=$uas_port
  proxy_pids() { :; }
  ;;
callsign|callsign-tls)
  RUST_LOG=${CALLSIGN_LOG:-warn} "$bin" serve --config "$work/callsign.toml" >"$work/proxy.log" 2>&1 &
  proxy=$!
  pids+=("$proxy")
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$http_port/metrics" >/dev/null 2>&1 && break
    sleep 0.1
  done
  proxy_pids() { echo "$proxy"; }
  if [ "$mode" = callsign-tls ]; then
    [ "$transport" = u1 ] || { echo "the TLS run takes SIPp's UDP (u1): the relay speaks TLS" >&2; exit 1; }
    # SIPp speaks no TLS: the relay (examples/sip_tls_relay.rs) carries the UAC's side
    # to callsign's TLS listener and takes callsign's TLS upstream to the UAS, in order.
    target/tls-relay/release/examples/sip_tls_relay "127.0.0.1:$gw_udp" "127.0.0.1:$tls_port" \
      "127.0.0.1:$gw_tls" "127.0.0.1:$uas_port" "$work/tls.pem" "$work/tls.key" "$work/ca.pem" \
      >"$work/relay.log" 2>&1 &
    relay=$!
    pids+=("$relay")
    sleep 1
    kill -0 "$relay" 2>/dev/null || { cat "$work/relay.log" >&2; exit 1; }
    target_port=$gw_udp
  fi
  ;;
*) echo "PROXY=$mode: callsign, callsign-tls, kamailio, kamailio-stateless, kamailio-unsigned or none" >&2; exit 2 ;;
esac
cpu_of() { local t=0; for p in $(proxy_pids); do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
# The TLS relay's CPU, reported apart from callsign's.
gateway_pids() { [ "$mode" = callsign-tls ] && echo "$relay"; }
gateway_cpu() { local t=0; for p in $(gateway_pids); do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }

sipp -sf tests/sipp/uas.xml -i 127.0.0.1 -p "$uas_port" -t "$transport" -nostdin \
  -trace_err -error_file "$work/uas_errors.log" >/dev/null 2>&1 &
pids+=("$!")

ticks=$(getconf CLK_TCK)
cpu_before=$(cpu_of)
gw_before=$(gateway_cpu)
start=$(date +%s.%N)
set +e
sipp -sf tests/sipp/uac.xml -i 127.0.0.1 -p "$uac_port" -t "$transport" \
  -key caller 2155550121 -s 2155550131 -r "$rate" -m "$calls" -l $((rate * 4)) \
  -nostdin -timeout $((duration + 60))s -timeout_error -trace_stat -stf "$work/stat.csv" -fd 1 \
  -trace_err -error_file "$work/uac_errors.log" "127.0.0.1:$target_port" >/dev/null 2>&1
uac_rc=$?
set -e
end=$(date +%s.%N)
# HOLD=N keeps the proxy up N seconds after the load (to profile it idle).
sleep "${HOLD:-0}"
cpu_after=$(cpu_of)
gw_after=$(gateway_cpu)
curl -sf "http://127.0.0.1:$http_port/metrics" >"$work/metrics.txt" 2>/dev/null || : >"$work/metrics.txt"

python3 - "$work/stat.csv" "$work/metrics.txt" "$start" "$end" "$cpu_before" "$cpu_after" \
  "$ticks" "$uac_rc" "$rate" "$duration" "$transport" "$mode" "$gw_before" "$gw_after" <<'PY'
import csv, sys
stat, metrics, start, end, cb, ca, ticks, rc, rate, duration, transport, proxy, gb, ga = sys.argv[1:]
rows = list(csv.reader(open(stat), delimiter=';'))
head, last = rows[0], rows[-1]
col = lambda name: last[head.index(name)]
ok, failed = int(col("SuccessfulCall(C)")), int(col("FailedCall(C)"))
elapsed = float(end) - float(start)
buckets, count = [], 0
for line in open(metrics):
    if line.startswith("callsign_pipeline_seconds_bucket"):
        le = line.split('le="')[1].split('"')[0]
        buckets.append((float("inf") if le == "+Inf" else float(le), int(float(line.split()[-1]))))
    elif line.startswith("callsign_pipeline_seconds_count"):
        count = int(float(line.split()[-1]))
def pct(p):
    for le, c in buckets:
        if c >= p * count:
            return le
    return float("nan")
cpu_s = (float(ca) - float(cb)) / float(ticks)
print(f"proxy: {proxy}; offered: {rate} calls/s for {duration} s over {transport}")
print(f"successful calls: {ok}   failed calls: {failed}   sipp exit code: {rc}")
print(f"sustained: {ok / elapsed:.0f} calls/s over {elapsed:.1f} s")
if count:
  print("pipeline time per initial INVITE (received bytes -> forwarded bytes), histogram bucket bounds: "
        f"p50 <= {pct(0.5)*1e6:.0f} us, p90 <= {pct(0.9)*1e6:.0f} us, p99 <= {pct(0.99)*1e6:.0f} us ({count} INVITEs)")
print(f"proxy CPU: {cpu_s:.2f} s in all, {cpu_s / max(ok, 1) * 1e6:.0f} us per completed call")
if proxy == "callsign-tls":
    gw_s = (float(ga) - float(gb)) / float(ticks)
    print(f"TLS relay CPU: {gw_s:.2f} s in all, {gw_s / max(ok, 1) * 1e6:.0f} us per completed call")
PY
