#!/usr/bin/env python3
"""One customer's writers for scripts/bench-write-queue: THREADS threads, one keep-alive
connection each, insert a track at position 1 of a long playlist and take it off again, for
SECONDS seconds. They stay within the account's limits: a 429 waits out its Retry-After
before the next write. Prints one JSON line: writes done, 429s met, write latency p50/p99."""

import http.client
import json
import sys
import threading
import time


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def writer(port, token, playlist, seconds, track, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/api/v1/me/playlists/{playlist}/tracks"
    add = json.dumps({"track_ids": [track], "position": 1, "allow_duplicates": True})
    end = time.monotonic() + seconds
    step = 0
    while time.monotonic() < end:
        # Alternate: add at 1, then remove position 1, so the playlist keeps its length.
        if step % 2 == 0:
            method, url, body = "POST", path, add
        else:
            method, url, body = "DELETE", f"{path}/1", None
        started = time.monotonic()
        conn.request(method, url, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        took = time.monotonic() - started
        if response.status == 429:
            out["limited"] += 1
            wait = float(response.getheader("Retry-After") or "1")
            time.sleep(min(wait, max(0.0, end - time.monotonic())))
            continue
        if response.status not in (200, 201):
            raise SystemExit(f"{method} {url}: {response.status}")
        out["latencies"].append(took)
        step += 1
    conn.close()


def main():
    port, token, playlist, seconds, threads = (
        int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    results = [{"latencies": [], "limited": 0} for _ in range(threads)]
    workers = [threading.Thread(target=writer, args=(port, token, playlist, seconds, 10 + i, r))
               for i, r in enumerate(results)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    latencies = sorted(t for r in results for t in r["latencies"])
    print(json.dumps({
        "writes": len(latencies),
        "per_second": len(latencies) / seconds,
        "limited": sum(r["limited"] for r in results),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }))


if __name__ == "__main__":
    main()
