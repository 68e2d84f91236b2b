#!/usr/bin/env python3
"""Time from process start to the first correct answer, for bench/cold_start.sh.

Starts COMMAND, then asks 127.0.0.1:PORT for NAME A over a connected UDP socket every
--interval-ms (5 ms) until an answer holds the address EXPECT; prints one line

    <seconds from just before the process was started> <queries sent> <VmRSS KiB then>

and stops the process (TERM, KILL after 5 s). Before the server binds its port, a connected
socket gets ECONNREFUSED at once; a server that answers before its data is loaded (REFUSED,
SERVFAIL, no record) is asked again at the next tick. Exits 1, with the reason on stderr, when
the process exits first or --timeout passes. Standard library only; loopback only.

Usage: first_answer.py --port P --name NAME --expect IP [--timeout S] [--interval-ms MS]
                       [--log FILE] -- COMMAND [ARG...]
"""

import argparse
import ipaddress
import os
import select
import socket
import struct
import subprocess
import sys
import time


def query(qid, name):
    """A plain A query for `name` (RD clear, no EDNS)."""
    labels = b"".join(bytes([len(part)]) + part.encode("ascii")
                      for part in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", 1, 1)


def skip_name(data, pos):
    """The offset after the (possibly compressed) name at `pos`."""
    while True:
        length = data[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + length


def holds(data, qid, expect):
    """Whether `data` answers query `qid` with NOERROR and an A record of `expect` (bytes)."""
    if len(data) < 12:
        return False
    rid, flags, qd, an = struct.unpack("!HHHH", data[:8])
    if rid != qid or not flags & 0x8000 or flags & 0xF:
        return False
    try:
        pos = 12
        for _ in range(qd):
            pos = skip_name(data, pos) + 4
        for _ in range(an):
            pos = skip_name(data, pos)
            rtype, _, _, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
            pos += 10
            if rtype == 1 and data[pos:pos + rdlen] == expect:
                return True
            pos += rdlen
    except (IndexError, struct.error):
        return False
    return False


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--expect", required=True, help="the IPv4 address the A answer must hold")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("--interval-ms", type=float, default=5.0, help="polling interval (default 5)")
    p.add_argument("--log", default=os.devnull, help="the process's stdout and stderr")
    p.add_argument("command", nargs="+")
    a = p.parse_args(argv)
    expect = ipaddress.IPv4Address(a.expect).packed
    interval = a.interval_ms / 1000.0

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", a.port))
    sock.setblocking(False)
    qid, polls = 0, 0
    with open(a.log, "ab") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(a.command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        while True:
            tick = time.perf_counter()
            if proc.poll() is not None:
                sys.exit(f"first_answer: {a.command[0]} exited with {proc.returncode} "
                         f"before answering (see {a.log})")
            if tick - t0 > a.timeout:
                sys.exit(f"first_answer: no answer {a.name} A {a.expect} within {a.timeout} s")
            qid = (qid + 1) & 0xFFFF
            polls += 1
            deadline = tick + interval
            try:
                sock.send(query(qid, a.name))
                while (left := deadline - time.perf_counter()) > 0:
                    if not select.select([sock], [], [], left)[0]:
                        break
                    if holds(sock.recv(4096), qid, expect):
                        elapsed = time.perf_counter() - t0
                        print(f"{elapsed:.6f} {polls} {rss_kib(proc.pid)}")
                        return
            except ConnectionRefusedError:
                pass  # nothing bound yet
            left = deadline - time.perf_counter()
            if left > 0:
                time.sleep(left)
    finally:
        stop(proc)


if __name__ == "__main__":
    main(sys.argv[1:])
