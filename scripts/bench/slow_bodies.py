"""The slow-body attack for scripts/bench-slow-body: N raw connections, spread over SOURCES
loopback addresses (127.1.0.1, ...), each sending a POST with `Content-Length: 60000`, then
`{`, then nothing. While they are held it samples the server's RSS and open descriptors;
it reports how each connection ended (the status it was answered, or how it closed), how
long that took, and RSS and descriptors before, at the peak, and after every connection has
ended. Prints one JSON object.

    python3 slow_bodies.py HOST PORT PID [--connections N] [--sources S] [--path P] [--settle SECONDS]
"""

import argparse
import json
import os
import selectors
import socket
import time
from collections import Counter


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def sample(pid):
    return {"rss_mib": round(rss_kib(pid) / 1024, 1), "fds": fds(pid)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("pid", type=int)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--path", default="/api/v1/auth/login")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--limit", type=float, default=120.0, help="give up after this many seconds")
    args = parser.parse_args()

    request = (
        f"POST {args.path} HTTP/1.1\r\nHost: {args.host}\r\nContent-Type: application/json\r\n"
        "Content-Length: 60000\r\n\r\n{"
    ).encode()
    before = sample(args.pid)
    selector = selectors.DefaultSelector()
    opened = {}
    failed = Counter()
    started = time.monotonic()
    for i in range(args.connections):
        source = f"127.1.{(i % args.sources) // 250}.{(i % args.sources) % 250 + 1}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((source, 0))
            sock.connect((args.host, args.port))
            sock.sendall(request)
        except OSError as e:
            failed[type(e).__name__] += 1
            sock.close()
            continue
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        opened[sock] = time.monotonic()
    sent_secs = time.monotonic() - started
    peak = sample(args.pid)
    ended = Counter()
    seconds = []
    last_sample = 0.0
    while opened and time.monotonic() - started < args.limit:
        for key, _ in selector.select(timeout=0.1):
            sock = key.fileobj
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "closed"
            ended[status] += 1
            seconds.append(time.monotonic() - opened.pop(sock))
            selector.unregister(sock)
            sock.close()
        now = time.monotonic()
        if now - last_sample > 0.2:
            last_sample = now
            current = sample(args.pid)
            if current["rss_mib"] > peak["rss_mib"]:
                peak["rss_mib"] = current["rss_mib"]
            peak["fds"] = max(peak["fds"], current["fds"])
    held = len(opened)
    for sock in list(opened):
        sock.close()
    time.sleep(args.settle)
    after = sample(args.pid)
    seconds.sort()
    pick = lambda q: round(seconds[min(len(seconds) - 1, int(q * len(seconds)))], 2) if seconds else None
    print(json.dumps({
        "connections": args.connections,
        "sources": args.sources,
        "connect_failures": dict(failed),
        "send_secs": round(sent_secs, 2),
        "ended": dict(ended),
        "still_held_at_limit": held,
        "seconds_to_end": {"p50": pick(0.5), "p99": pick(0.99), "max": pick(1.0)},
        "before": before,
        "peak": peak,
        "after": after,
    }))


if __name__ == "__main__":
    main()
