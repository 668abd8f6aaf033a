"""CPU cost per request of each endpoint class, for the capacity arithmetic in k8s/README.md.

One release instance on PostgreSQL (the Chinook dataset, audio for a few tracks). Each class
runs for a fixed time under steady load from a separate process (oha at a fixed rate; wrk for
purchases, which need a new Idempotency-Key and buyer per request); the server's CPU time
(utime + stime from /proc/<pid>/stat) and PostgreSQL's (the postmaster and its backends)
are read before and after, and divided by the requests answered.

Usage: capacity.py BINARY DATASET POSTGRES_URL POSTMASTER_PID_FILE WORKDIR
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")
SECS = int(os.environ.get("CAPACITY_SECS", "10"))
STREAM_SECS = 60  # audio length: 8 kHz 8-bit mono, 480 kB


def say(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_of(pid, children=False):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime, stime, cutime, cstime are fields 14..17.
    total = int(fields[11]) + int(fields[12])
    if children:
        total += int(fields[13]) + int(fields[14])
    return total / TICK


def postgres_cpu(postmaster):
    """The postmaster (with its exited children) plus every live backend it forked."""
    total = cpu_of(postmaster, children=True)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError):
            pass
    return total


def call(method, url, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def oha(url, rate, headers=()):
    cmd = ["oha", "--no-tui", "--output-format", "json", "-z", f"{SECS}s", "-q", str(rate), "-c", "16"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    codes = report.get("statusCodeDistribution", {})
    ok = sum(n for code, n in codes.items() if code.startswith("2"))
    return ok, sum(codes.values()), report["latencyPercentiles"]["p50"], report["latencyPercentiles"]["p99"]


def wrk_purchases(base, tokens_file):
    env = dict(os.environ, BENCH_TOKENS=tokens_file, BENCH_THREADS="2")
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{SECS}s", "-s", "scripts/bench/purchases.lua", base],
                         env=env, check=True, capture_output=True, text=True).stdout
    summary = json.loads(re.search(r"WRK-SUMMARY (\{.*\})", out).group(1))
    ok = summary["statuses"].get("201", 0)
    return ok, summary["requests"], summary["p50_us"] / 1e6, summary["p99_us"] / 1e6


def main():
    binary, dataset, postgres_url, pid_file, work = sys.argv[1:6]
    with open(pid_file) as f:
        postmaster = int(f.readline())
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHINOOK_")}
    port = free_port()
    env.update({
        "CHINOOK_DATABASE_URL": postgres_url,
        "CHINOOK_DATA_DIR": os.path.join(work, "data"),
        "CHINOOK_BIND": f"127.0.0.1:{port}",
        "CHINOOK_LOG": "warn",
        "CHINOOK_WORKERS": "1",
        "CHINOOK_AUDIO_MAX_SECS": str(STREAM_SECS),
        "CHINOOK_MAX_STREAMS_PER_ACCOUNT": "1000",
        # All load comes from one address: the limiter runs (its cost is part of every
        # request) with allowances no load here reaches.
        "CHINOOK_RATE_LIMIT_ANONYMOUS": "1000000/s burst 1000000",
        "CHINOOK_RATE_LIMIT_ACCOUNT": "1000000/s burst 1000000",
        "CHINOOK_RATE_LIMIT_LOGIN": "1000000/s burst 1000000",
    })
    say("seeding the Chinook dataset into PostgreSQL")
    subprocess.run([binary, "seed", "--dataset", dataset, "--audio", "5"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    server = subprocess.Popen([binary, "serve"], env=env, stdout=open(os.path.join(work, "server.log"), "w"),
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if call("GET", base + "/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        status, body = call("POST", base + "/api/v1/auth/login",
                            {"email": "jane@chinookcorp.com", "password": "chinook-demo"})
        assert status == 200, status
        staff = body["token"]
        tokens = []
        for n in range(32):
            email = f"capacity-{n}-{os.getpid()}@example.com"
            status, body = call("POST", base + "/api/v1/auth/register", {
                "email": email, "password": "capacity-pw-1", "first_name": "Cap", "last_name": str(n)})
            assert status == 201, status
            tokens.append(call("POST", base + "/api/v1/auth/login",
                               {"email": email, "password": "capacity-pw-1"})[1]["token"])
        tokens_file = os.path.join(work, "tokens")
        with open(tokens_file, "w") as f:
            f.write("\n".join(tokens) + "\n")
        stream_bytes = int(urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/tracks/1/stream", method="HEAD",
            headers={"Authorization": f"Bearer {staff}"})).headers["Content-Length"])

        classes = [
            ("baseline /health/live", lambda: oha(base + "/health/live", 500)),
            ("catalog: track by id", lambda: oha(base + "/api/v1/tracks/1", 300)),
            ("catalog: list of 25", lambda: oha(base + "/api/v1/tracks?limit=25&sort=-popularity", 200)),
            ("search", lambda: oha(base + "/api/v1/search?q=love&limit=10", 200)),
            ("stream: whole track", lambda: oha(base + "/api/v1/tracks/1/stream", 50, [f"authorization: Bearer {staff}"])),
            ("stream: 64 KiB range", lambda: oha(base + "/api/v1/tracks/1/stream", 200,
                                                 [f"authorization: Bearer {staff}", "range: bytes=100000-165535"])),
            ("purchase (wrk, max rate)", lambda: wrk_purchases(base, tokens_file)),
        ]
        rows = []
        for name, run in classes:
            say(f"measuring {name} for {SECS}s")
            app0, pg0, t0 = cpu_of(server.pid), postgres_cpu(postmaster), time.time()
            ok, total, p50, p99 = run()
            app1, pg1, t1 = cpu_of(server.pid), postgres_cpu(postmaster), time.time()
            rows.append((name, ok, total, ok / (t1 - t0), (app1 - app0) / max(ok, 1) * 1000,
                         (pg1 - pg0) / max(ok, 1) * 1000, p50 * 1000, p99 * 1000))
        with open(f"/proc/{server.pid}/status") as f:
            memory = {k: v.strip() for k, v in (line.split(":", 1) for line in f) if k in ("VmRSS", "VmHWM")}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    print(f"\nCPU per request, one instance (1 worker) on PostgreSQL, {SECS}s per class; "
          f"a whole stream is {stream_bytes} bytes ({STREAM_SECS}s of 8 kHz audio)")
    print(f"{'class':<28}{'ok':>7}{'sent':>7}{'req/s':>9}{'app ms CPU':>12}{'db ms CPU':>11}{'p50 ms':>9}{'p99 ms':>9}")
    for name, ok, total, rate, app_ms, pg_ms, p50, p99 in rows:
        print(f"{name:<28}{ok:>7}{total:>7}{rate:>9.0f}{app_ms:>12.3f}{pg_ms:>11.3f}{p50:>9.2f}{p99:>9.2f}")
    whole = next(r for r in rows if r[0] == "stream: whole track")
    print(f"stream CPU per MB sent: {whole[4] / (stream_bytes / 1e6):.3f} ms")
    print(f"server memory after the run: resident {memory['VmRSS']}, peak {memory['VmHWM']}")
    failed = [r[0] for r in rows if r[1] < r[2]]
    if failed:
        print(f"non-2xx answers in: {', '.join(failed)}")


if __name__ == "__main__":
    main()
