#!/usr/bin/env bash
# Wire-to-wire latency of the forwarded INVITE, as a caller feels it: captures loopback
# with dumpcap while benches/sipp-load.sh runs, then for each Call-ID takes the time from
# the INVITE arriving at the proxy's port to the INVITE leaving that port, and prints the
# percentiles. Run it once per proxy in the same session and compare the ratios:
#
#   benches/wire-latency.sh callsign [RATE] [DURATION]
#   benches/wire-latency.sh kamailio [RATE] [DURATION]
#
# Needs dumpcap and tshark (Debian packages wireshark-common and tshark) besides what
# sipp-load.sh needs. Capturing on lo needs root or the dumpcap capabilities.
set -euo pipefail
cd "$(dirname "$0")/.."
proxy=${1:-callsign}
rate=${2:-1000}
duration=${3:-15}
for tool in dumpcap tshark; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install tshark" >&2; exit 1; }
done
work=$(mktemp -d)
cap=""
cleanup() { [ -n "$cap" ] && kill "$cap" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

dumpcap -q -i lo -f udp -s 4000 -w "$work/lo.pcapng" >/dev/null 2>&1 &
cap=$!
sleep 1
PROXY=$proxy benches/sipp-load.sh "$rate" "$duration" u1
sleep 1
kill "$cap"; wait "$cap" 2>/dev/null || true; cap=""
tshark --enable-heuristic sip_udp -r "$work/lo.pcapng" -Y 'sip.Method == "INVITE"' \
  -T fields -e frame.time_epoch -e udp.srcport -e udp.dstport -e sip.Call-ID \
  -E separator=';' >"$work/invites.csv" 2>/dev/null
python3 - "$work/invites.csv" "$proxy" <<'PY'
import sys
arrived, latency = {}, {}
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    t, src, dst, call_id = line.rstrip("\n").split(";")
    t = float(t)
    if call_id not in arrived:
        arrived[call_id] = (t, dst)  # the INVITE reaching the proxy's port
    elif src == arrived[call_id][1] and call_id not in latency:
        latency[call_id] = t - arrived[call_id][0]  # the same INVITE leaving it
lat = sorted(latency.values())
if not lat:
    sys.exit("no forwarded INVITE in the capture")
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e6
print(f"{sys.argv[2]} wire-to-wire INVITE: n={len(lat)} "
      f"p50={q(.5):.0f} us p90={q(.9):.0f} us p99={q(.99):.0f} us")
PY
