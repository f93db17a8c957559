#!/usr/bin/env python3
"""Captures every IPv4/IPv6 packet on every interface of the current network namespace
(an AF_PACKET socket, so root or CAP_NET_RAW, which the browser tests' namespace has) and,
when it gets SIGTERM, prints one JSON object: the interfaces seen and, per packet that was
not loopback-to-loopback, its interface, protocol, source, destination and ports. ARP
requests count too: the namespace's default route has no gateway, so traffic for an
outside address first asks for that address by ARP.

Used by tests/browser/no-phoning-home.test.mjs: a namespace with a default route out of
it lets any DNS lookup or outbound connection leave a packet here instead of failing in
silence. Bounded: it stops by itself after --seconds (default 300)."""
import json
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
seconds = 300
if len(sys.argv) > 2 and sys.argv[1] == "--seconds":
    seconds = int(sys.argv[2])

sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
sock.settimeout(0.2)
seen = []
interfaces = set()
count = 0
done = False


def stop(*_):
    global done
    done = True


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
print("ready", flush=True)


def addr4(b):
    return socket.inet_ntop(socket.AF_INET, b)


def addr6(b):
    return socket.inet_ntop(socket.AF_INET6, b)


def dns_name(msg):
    """The first question's name of a DNS query, or "?" if it cannot be read."""
    labels, i = [], 12
    try:
        while msg[i] != 0 and len(labels) < 64:
            n = msg[i]
            labels.append(msg[i + 1 : i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        return ".".join(labels)
    except IndexError:
        return "?"


def local(a):
    return a.startswith("127.") or a == "::1"


end = time.time() + seconds
while not done and time.time() < end:
    try:
        frame, meta = sock.recvfrom(65535)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    ifname = meta[0]
    interfaces.add(ifname)
    if len(frame) < 14:
        continue
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        proto = ip[9]
        ihl = (ip[0] & 15) * 4
        src, dst = addr4(ip[12:16]), addr4(ip[16:20])
        l4 = ip[ihl:]
    elif ethertype == 0x0806 and len(ip) >= 28:
        # ARP: the default route has no gateway, so a packet for an address outside the
        # namespace shows up first (or only) as a request for that address.
        count += 1
        target = addr4(ip[24:28])
        if len(seen) < 1000:
            seen.append({"if": ifname, "proto": "arp", "src": addr4(ip[14:18]), "dst": target, "sport": None, "dport": None})
        continue
    elif ethertype == 0x86DD and len(ip) >= 40:
        proto = ip[6]
        src, dst = addr6(ip[8:24]), addr6(ip[24:40])
        l4 = ip[40:]
    else:
        continue
    count += 1
    sport = dport = None
    if proto in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack("!HH", l4[:4])
    name = dns_name(l4[8:]) if proto == 17 and dport == 53 else None
    if local(src) and local(dst) and name is None:
        continue
    if len(seen) < 1000:
        entry = {"if": ifname, "proto": proto, "src": src, "dst": dst, "sport": sport, "dport": dport}
        if name is not None:
            entry["dns"] = name
        seen.append(entry)

print(json.dumps({"interfaces": sorted(interfaces), "packets": count, "not_loopback": seen}), flush=True)
