"""Slow listeners for scripts/bench-streaming: N raw HTTP/1.1 connections that each GET one
URL and then read RATE bytes a second, for SECONDS, like players that only fetch what they
play. Prints one JSON line of totals when done: statuses, errors, bytes read, and the time
from connecting to the response head (p50, p99, max, in seconds).

    python3 slow_clients.py HOST PORT PATH [--clients N] [--rate BYTES] [--seconds S] [--header 'Name: value']
"""

import argparse
import asyncio
import json
import socket
import sys
import time
from collections import Counter


async def listener(args, request, start_at, results):
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    got = 0
    began = time.monotonic()
    try:
        await loop.sock_connect(sock, (args.host, args.port))
        await loop.sock_sendall(sock, request)
        head = b""
        while b"\r\n\r\n" not in head:
            data = await loop.sock_recv(sock, 4096)
            if not data:
                raise ConnectionError("closed before the response head")
            head += data
            if len(head) > 65536:
                raise ConnectionError("response head too long")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        status = status_line.split(" ")[1] if " " in status_line else "?"
        results["status"][status] += 1
        results["head_secs"].append(time.monotonic() - began)
        got = len(head) - head.index(b"\r\n\r\n") - 4
        if not status.startswith("2"):
            return
        results["open"] += 1
        # Read RATE bytes once a second until the deadline, as a player would.
        tick = time.monotonic()
        while tick < start_at + args.seconds:
            want = args.rate
            while want > 0:
                data = await loop.sock_recv(sock, min(want, 65536))
                if not data:
                    results["eof"] += 1
                    return
                want -= len(data)
                got += len(data)
            tick += 1.0
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
    except Exception as e:  # counted, not fatal: the figures say how many failed
        results["errors"][type(e).__name__ + ": " + str(e)[:80]] += 1
    finally:
        results["bytes"] += got
        sock.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("path")
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--rate", type=int, default=16384)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--header", action="append", default=[])
    args = p.parse_args()
    lines = [f"GET {args.path} HTTP/1.1", f"Host: {args.host}:{args.port}", *args.header,
             "Connection: close", "", ""]
    request = "\r\n".join(lines).encode()
    results = {"status": Counter(), "errors": Counter(), "open": 0, "eof": 0, "bytes": 0,
               "head_secs": []}
    start_at = time.monotonic()
    tasks = []
    # Open the connections in quick waves so the listen backlog is never the limit.
    for i in range(args.clients):
        tasks.append(asyncio.create_task(listener(args, request, start_at, results)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
    heads = sorted(results["head_secs"])
    pick = lambda q: round(heads[min(len(heads) - 1, int(q * len(heads)))], 3) if heads else None
    print(json.dumps({"clients": args.clients, "status": dict(results["status"]),
                      "streaming": results["open"], "early_eof": results["eof"],
                      "errors": dict(results["errors"]), "bytes": results["bytes"],
                      "head_p50": pick(0.5), "head_p99": pick(0.99), "head_max": heads[-1] if heads else None}),
          flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
