#!/usr/bin/env python3
"""
Switch latency for the lab (the kernel here has no netem): copies every frame between the two
ends of each pair of interfaces, each frame held for a random delay in [--min-ms, --max-ms] before
it is sent on. Frames leave a pair's side in the order they arrived (a switch port is a FIFO: a
frame is never sent before one that arrived before it on the same side).

Runs in the switch's namespace between a cable end (sw-p0, facing the host's eth0) and a veth
whose peer is the switch's port (sw-r0 / sw-f0). AF_PACKET hands the relay frames with their
802.1Q tag taken off into auxdata (the kernel untags before packet taps): the tag is put back.

On SIGUSR1 (and at exit) it writes what it did to --stats as JSON: frames relayed per direction
and the delays it applied (min, median, max, in ms).

usage: relay.py --pair A:B [--pair C:D ...] --min-ms 0.15 --max-ms 1.0 [--seed N] [--stats FILE]
"""
import argparse
import heapq
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
AUX = struct.Struct('IIIHHHH')


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--pair', action='append', required=True)
    ap.add_argument('--min-ms', type=float, required=True)
    ap.add_argument('--max-ms', type=float, required=True)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--stats', default=None)
    a = ap.parse_args()
    rnd = random.Random(a.seed)

    socks: list[socket.socket] = []
    peer: dict[int, socket.socket] = {}
    name: dict[int, str] = {}
    for pair in a.pair:
        x, y = pair.split(':')
        sx, sy = open_sock(x), open_sock(y)
        socks += [sx, sy]
        peer[sx.fileno()], peer[sy.fileno()] = sy, sx
        name[sx.fileno()], name[sy.fileno()] = x, y

    delays: list[float] = []
    relayed: dict[str, int] = {}
    last_due: dict[int, float] = {}
    queue: list[tuple[float, int, socket.socket, bytes]] = []
    seq = 0

    def write_stats(*_: object) -> None:
        if not a.stats:
            return
        d = sorted(delays)
        out = {
            'configuredMs': [a.min_ms, a.max_ms],
            'frames': len(d),
            'relayed': relayed,
            'appliedMs': {'min': round(d[0], 3), 'median': round(d[len(d) // 2], 3), 'max': round(d[-1], 3)} if d else None,
        }
        tmp = a.stats + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(out, f)
        os.replace(tmp, a.stats)

    def stop(*_: object) -> None:
        write_stats()
        sys.exit(0)

    signal.signal(signal.SIGUSR1, write_stats)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    while True:
        now = time.monotonic()
        timeout = max(0.0, queue[0][0] - now) if queue else None
        try:
            ready, _, _ = select.select(socks, [], [], timeout)
        except InterruptedError:
            continue
        for s in ready:
            while True:
                try:
                    data, anc, _flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(AUX.size))
                except BlockingIOError:
                    break
                except OSError:
                    # The interface went away (the lab is being torn down).
                    stop()
                if addr[2] == socket.PACKET_OUTGOING:
                    continue  # our own sends, seen again on the way out
                data = with_tag(data, anc)
                out = peer[s.fileno()]
                d = rnd.uniform(a.min_ms, a.max_ms) / 1000.0
                due = max(time.monotonic() + d, last_due.get(out.fileno(), 0.0))
                last_due[out.fileno()] = due
                delays.append(d * 1000.0)
                key = f'{name[s.fileno()]}->{name[out.fileno()]}'
                relayed[key] = relayed.get(key, 0) + 1
                seq += 1
                heapq.heappush(queue, (due, seq, out, data))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, data = heapq.heappop(queue)
            try:
                out.send(data)
            except OSError:
                pass  # a frame lost, as a switch drops one: counted in nothing but not fatal


def open_sock(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, ETH_P_ALL))
    s.setblocking(False)
    return s


def with_tag(data: bytes, anc: list) -> bytes:
    """Puts back the 802.1Q tag the kernel moved into auxdata."""
    for level, kind, raw in anc:
        if level != SOL_PACKET or kind != PACKET_AUXDATA or len(raw) < AUX.size:
            continue
        status, _len, _snap, _mac, _net, tci, tpid = AUX.unpack(raw[: AUX.size])
        if status & TP_STATUS_VLAN_VALID or tci:
            tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID and tpid else 0x8100
            return data[:12] + struct.pack('!HH', tpid, tci) + data[12:]
    return data


if __name__ == '__main__':
    sys.exit(main())
