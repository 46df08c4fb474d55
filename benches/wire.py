#!/usr/bin/env python3
"""Wire-to-wire latency of forwarded INVITEs, from a loopback capture in pcap format.

    benches/wire.py CAPTURE.pcap LABEL

For each Call-ID it takes the first INVITE seen (the caller's, arriving at the proxy)
and the first INVITE with that Call-ID sent from another port afterwards (the proxy's,
leaving it), over UDP or TCP, and prints the percentiles of the time between them.
Retransmissions from the caller come from the same port and are skipped. Reads the
capture itself rather than through tshark's SIP dissector, which takes minutes on a
capture of a minute's load.
"""
import re
import struct
import sys

CALL_ID = re.compile(rb"\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]+)", re.IGNORECASE)
INVITE = re.compile(rb"(?:^|\n)INVITE [^\r\n]* SIP/2\.0\r\n")
# Link-layer header lengths by pcap link type: Ethernet, Linux cooked v1 and v2.
LINK = {1: 14, 113: 16, 276: 20}


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            sys.exit(f"{path}: not a pcap file (capture with dumpcap -P)")
        nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        link = struct.unpack(endian + "I", head[20:24])[0]
        skip = LINK.get(link)
        if skip is None:
            sys.exit(f"{path}: link type {link} not understood")
        scale = 1e-9 if nanos else 1e-6
        record = struct.Struct(endian + "IIII")
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            sec, frac, incl, _ = record.unpack(rh)
            data = f.read(incl)
            yield sec + frac * scale, data[skip:]


def invites(path):
    """(time, source port, Call-ID) of every INVITE request in the capture."""
    for t, ip in packets(path):
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 15) * 4
        proto = ip[9]
        l4 = ip[ihl:]
        if proto == 17 and len(l4) >= 8:
            sport, payload = struct.unpack(">H", l4[:2])[0], l4[8:]
        elif proto == 6 and len(l4) >= 20:
            sport, payload = struct.unpack(">H", l4[:2])[0], l4[(l4[12] >> 4) * 4:]
        else:
            continue
        for m in INVITE.finditer(payload):
            c = CALL_ID.search(payload, m.end() - 2)
            if c:
                yield t, sport, c.group(1).strip()


def main():
    path, label = sys.argv[1], sys.argv[2]
    first, latency = {}, {}
    for t, sport, call_id in invites(path):
        seen = first.get(call_id)
        if seen is None:
            first[call_id] = (t, sport)
        elif sport != seen[1] and call_id not in latency:
            latency[call_id] = t - seen[0]
    lat = sorted(latency.values())
    if not lat:
        print(f"{label} wire-to-wire INVITE: n=0 of {len(first)} (nothing forwarded)")
        return
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e6
    print(f"{label} wire-to-wire INVITE: n={len(lat)} of {len(first)} "
          f"p50={q(.5):.0f} us p90={q(.9):.0f} us p99={q(.99):.0f} us max={lat[-1] * 1e6:.0f} us")


if __name__ == "__main__":
    main()
