#!/usr/bin/env bash
# Wire-to-wire latency of the forwarded INVITE, as a caller feels it: captures loopback
# with dumpcap while benches/sipp-load.sh runs, then for each Call-ID takes the time from
# the INVITE arriving at the proxy's port to the INVITE leaving that port, and prints the
# percentiles. Run it once per proxy in the same session and compare the ratios:
#
#   benches/wire-latency.sh callsign [RATE] [DURATION]
#   benches/wire-latency.sh kamailio [RATE] [DURATION]
#
# Needs dumpcap (Debian package wireshark-common, pulled in by tshark) besides what
# sipp-load.sh needs; benches/wire.py reads the capture. Capturing on lo needs root or the dumpcap capabilities.
set -euo pipefail
cd "$(dirname "$0")/.."
proxy=${1:-callsign}
rate=${2:-1000}
duration=${3:-15}
command -v dumpcap >/dev/null || { echo "dumpcap is missing: apt-get install tshark" >&2; exit 1; }
work=$(mktemp -d)
cap=""
cleanup() { [ -n "$cap" ] && kill "$cap" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

dumpcap -q -P -B 64 -i lo -f "udp or tcp" -s 4000 -w "$work/lo.pcap" >/dev/null 2>&1 &
cap=$!
sleep 1
PROXY=$proxy benches/sipp-load.sh "$rate" "$duration" "${4:-u1}"
sleep 1
kill "$cap"; wait "$cap" 2>/dev/null || true; cap=""
python3 benches/wire.py "$work/lo.pcap" "$proxy"
