"""A rolling update on one machine: three chinook instances behind nginx on loopback, sharing
one PostgreSQL, under a mixed load of catalog reads, searches, purchases and slow streams.
The instances are restarted one at a time the way a Deployment rollout does it (SIGTERM, wait
for the process to exit, start the new one, wait for /health/ready), and the run passes only
if no request failed and the streams in flight on each stopping instance finished intact
within the grace period.

Usage: rolling_update.py BINARY DATASET POSTGRES_URL
Environment: ROLLING_SECONDS_BETWEEN (pause between instances, default 4).
"""

import hashlib
import urllib.request
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

DEMO_PASSWORD = "chinook-demo"
STAFF = "jane@chinookcorp.com"
INSTANCES = 3
SHUTDOWN_DELAY = 2
SHUTDOWN_TIMEOUT = 30  # the grace period for streams in flight
AUDIO_SECS = 600  # 8 kHz 8-bit mono, capped by each track's length: 1.6 to 3 MB per file
# Background listeners play the first 480 kB of a track (a Range request) at 96 kB/s: ~5 s.
LISTEN_BYTES = 480 * 1024
STREAM_RATE = 96 * 1024
# The stream kept in flight on each stopping instance is a whole file, read at 512 kB/s
# through a small receive buffer straight from the instance, so the instance is still sending
# it well after its listener closes. (Through nginx, its socket buffers and nginx's would take
# the whole file at once, and the test would not show the instance waiting for it.)
PINNED_RATE = 512 * 1024
STREAM_TRACKS = 12


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(*args):
    print("==>", *args, file=sys.stderr, flush=True)


class Instance:
    def __init__(self, n, binary, env, root):
        self.n, self.binary, self.root = n, binary, root
        self.port = free_port()
        self.data = os.path.join(root, f"instance-{n}")
        os.makedirs(self.data)
        self.env = dict(env, CHINOOK_BIND=f"127.0.0.1:{self.port}", CHINOOK_DATA_DIR=self.data)
        self.process = None
        self.generation = 0

    def start(self):
        self.generation += 1
        logfile = open(os.path.join(self.data, f"server-{self.generation}.log"), "w")
        self.process = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=logfile,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"instance {self.n} exited with {self.process.returncode}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health/ready")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"instance {self.n} was not ready within {timeout}s")


def nginx_config(root, instances, port):
    servers = "\n".join(f"    server 127.0.0.1:{i.port} max_fails=1 fail_timeout=2s;" for i in instances)
    return f"""
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
  access_log {root}/nginx-access.log;
  client_body_temp_path {root}/client_body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  upstream chinook {{
{servers}
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 1m;
    location / {{
      proxy_pass http://chinook;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 60s;
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = {}
        self.failed = {}
        self.examples = []

    def add(self, kind, good, detail=""):
        with self.lock:
            book = self.ok if good else self.failed
            book[kind] = book.get(kind, 0) + 1
            if not good and len(self.examples) < 20:
                self.examples.append(f"{kind}: {detail}")


class Client:
    """One keep-alive connection to nginx, reopened after any error."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None, timeout=30):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        except Exception:
            self.conn.close()
            self.conn = None
            raise


def json_request(client, method, path, payload, headers=None):
    headers = dict(headers or {}, **{"content-type": "application/json"})
    return client.request(method, path, json.dumps(payload).encode(), headers)


def token_for(port, email):
    status, _, body = json_request(Client(port), "POST", "/api/v1/auth/login",
                                   {"email": email, "password": DEMO_PASSWORD})
    assert status == 200, (status, body)
    return json.loads(body)["token"]


def reader(port, tally, stop, seed):
    rng = random.Random(seed)
    client = Client(port)
    words = ["rock", "love", "blues", "night", "metal", "jazz", "symphony", "girl"]
    while not stop.is_set():
        choice = rng.random()
        if choice < 0.45:
            kind, path = "catalog", rng.choice([
                f"/api/v1/tracks/{rng.randint(1, 3503)}",
                f"/api/v1/tracks?album_id={rng.randint(1, 347)}&include=album,artist",
                "/api/v1/tracks?limit=25&sort=-popularity",
                f"/api/v1/artists/{rng.randint(1, 275)}",
                "/api/v1/genres",
            ])
        else:
            kind, path = "search", f"/api/v1/search?q={rng.choice(words)}&limit=10"
        try:
            status, _, _ = client.request("GET", path)
            tally.add(kind, status == 200, f"{path} -> {status}")
        except Exception as e:
            tally.add(kind, False, f"{path} -> {e!r}")
        # A steady load, not a flood: the machine is shared with the instances and nginx.
        time.sleep(0.004)


def buyer(port, tally, stop, n, tracks):
    client = Client(port)
    email = f"rolling-{n}-{uuid.uuid4().hex[:8]}@example.com"
    status, _, body = json_request(client, "POST", "/api/v1/auth/register", {
        "email": email, "password": "rolling-update-pw", "first_name": "Rolling", "last_name": f"Buyer{n}"})
    assert status == 201, (status, body)
    status, _, body = json_request(client, "POST", "/api/v1/auth/login",
                                   {"email": email, "password": "rolling-update-pw"})
    assert status == 200, (status, body)
    auth = {"authorization": f"Bearer {json.loads(body)['token']}"}
    for track in tracks:
        if stop.is_set():
            break
        key = str(uuid.uuid4())
        # A client retries a purchase whose answer it never got, with the same key; the
        # server replays the first answer. Only a 201 (or its replay) counts as success.
        for attempt in range(3):
            try:
                status, headers, body = json_request(client, "POST", "/api/v1/purchases",
                                                     {"track_ids": [track]}, dict(auth, **{"idempotency-key": key}))
                tally.add("purchase", status == 201, f"track {track} -> {status} {body[:200]!r}")
                break
            except Exception as e:
                if attempt == 2:
                    tally.add("purchase", False, f"track {track} -> {e!r}")
        time.sleep(0.05)


class SlowReaderConnection(http.client.HTTPConnection):
    """A connection with a small receive buffer, set before connecting so the window the
    server sees stays small: what it has sent is close to what the listener has read."""

    def connect(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))


def stream_once(port, token, track, expected, tally, label, on_first_chunk=None, want_upstream=None,
                ranged=False, rate=STREAM_RATE):
    """Streams a track (or its first LISTEN_BYTES) at a listener's pace; returns (upstream,
    seconds) or None when the stream landed on another upstream than `want_upstream` (then
    it is abandoned unread)."""
    conn = SlowReaderConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"authorization": f"Bearer {token}"}
        if ranged:
            headers["range"] = f"bytes=0-{LISTEN_BYTES - 1}"
        conn.request("GET", f"/api/v1/tracks/{track}/stream", headers=headers)
        response = conn.getresponse()
        upstream = response.getheader("X-Upstream", "")
        if want_upstream and upstream != want_upstream:
            conn.close()
            return None
        if response.status != (206 if ranged else 200):
            tally.add(label, False, f"track {track} -> {response.status}")
            return upstream, 0
        digest, received, started = hashlib.sha256(), 0, time.time()
        while True:
            chunk = response.read(64 * 1024)
            if not chunk:
                break
            digest.update(chunk)
            received += len(chunk)
            if on_first_chunk:
                on_first_chunk()
                on_first_chunk = None
            # Read no faster than a listener would.
            ahead = received / rate - (time.time() - started)
            if ahead > 0:
                time.sleep(ahead)
        good = (received, digest.hexdigest()) == expected
        tally.add(label, good, f"track {track} via {upstream}: {received} bytes, intact={good}")
        return upstream, time.time() - started
    except Exception as e:
        tally.add(label, False, f"track {track} -> {e!r}")
        return "", 0
    finally:
        conn.close()


def listener(port, token, files, tally, stop, seed):
    rng = random.Random(seed)
    while not stop.is_set():
        track = rng.choice(sorted(files))
        stream_once(port, token, track, files[track]["range"], tally, "stream", ranged=True)


def main():
    binary, dataset, postgres_url = sys.argv[1:4]
    between = float(os.environ.get("ROLLING_SECONDS_BETWEEN", "4"))
    root = tempfile.mkdtemp(prefix="chinook-rolling-")
    media = os.path.join(root, "media")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CHINOOK_")}
    base_env.update({
        "CHINOOK_DATABASE_URL": postgres_url,
        "CHINOOK_MEDIA_DIR": media,
        "CHINOOK_LOG": "warn",
        "CHINOOK_WORKERS": "2",
        "CHINOOK_DB_MAX_CONNECTIONS": "8",
        "CHINOOK_SHUTDOWN_DELAY_SECS": str(SHUTDOWN_DELAY),
        "CHINOOK_SHUTDOWN_TIMEOUT_SECS": str(SHUTDOWN_TIMEOUT),
        "CHINOOK_SEED_AUDIO": "none",
        "CHINOOK_MAX_STREAMS_PER_ACCOUNT": "100",
        # The listeners stream short files back to back on one account; a place that lingers
        # 10 s after each (the default) fills the cap, and this test is about draining.
        "CHINOOK_STREAM_LINGER_SECS": "0",
        # All load comes from one address: the limiter runs (its cost is part of every
        # request) with allowances no load here reaches.
        "CHINOOK_RATE_LIMIT_ANONYMOUS": "1000000/s burst 1000000",
        "CHINOOK_RATE_LIMIT_ACCOUNT": "1000000/s burst 1000000",
        "CHINOOK_RATE_LIMIT_LOGIN": "1000000/s burst 1000000",
    })
    log("seeding the Chinook dataset with audio for the first tracks")
    seed_env = dict(base_env, CHINOOK_DATA_DIR=os.path.join(root, "seed"), CHINOOK_AUDIO_MAX_SECS=str(AUDIO_SECS))
    subprocess.run([binary, "seed", "--dataset", dataset, "--audio", str(STREAM_TRACKS)], env=seed_env,
                   check=True, stdout=subprocess.DEVNULL)
    instances = [Instance(n + 1, binary, base_env, root) for n in range(INSTANCES)]
    for instance in instances:
        instance.start()
    for instance in instances:
        instance.wait_ready()
    lb_port = free_port()
    with open(os.path.join(root, "nginx.conf"), "w") as f:
        f.write(nginx_config(root, instances, lb_port))
    nginx = subprocess.Popen(["nginx", "-p", root, "-c", os.path.join(root, "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(root, "nginx.out"), "w"))
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", lb_port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or nginx.poll() is not None:
                raise RuntimeError("nginx did not start: " + open(os.path.join(root, "nginx.out")).read())
            time.sleep(0.1)
    log(f"{INSTANCES} instances ready behind nginx on port {lb_port}")

    staff_token = token_for(lb_port, STAFF)
    # What each stream must be: its MP3 rendition, fetched once before the rollout.
    # Renditions are deterministic, so every instance serves these same bytes.
    by_track = {}
    for track in range(1, STREAM_TRACKS + 1):
        request = urllib.request.Request(f"http://127.0.0.1:{lb_port}/api/v1/tracks/{track}/stream",
                                         headers={"Authorization": f"Bearer {staff_token}"})
        with urllib.request.urlopen(request, timeout=120) as r:
            data = r.read()
        by_track[track] = {
            "whole": (len(data), hashlib.sha256(data).hexdigest()),
            "range": (LISTEN_BYTES, hashlib.sha256(data[:LISTEN_BYTES]).hexdigest()),
        }
    tally, stop = Tally(), threading.Event()
    # Each buyer works through tracks of its own until the rollout ends.
    sold = list(range(1, 3401))
    threads = [threading.Thread(target=reader, args=(lb_port, tally, stop, n)) for n in range(4)]
    threads += [threading.Thread(target=buyer, args=(lb_port, tally, stop, n, sold[n * 1700:(n + 1) * 1700]))
                for n in range(2)]
    threads += [threading.Thread(target=listener, args=(lb_port, staff_token, by_track, tally, stop, n))
                for n in range(3)]
    for t in threads:
        t.daemon = True  # a failed rollout must not hang on its load threads
        t.start()
    started = time.time()
    time.sleep(between)

    drains = []
    for instance in instances:
        # A stream that is in flight on this instance when it is told to stop.
        first_chunk = threading.Event()
        result = {}

        def pinned():
            track = sorted(by_track)[instance.n]
            stream_once(instance.port, staff_token, track, by_track[track]["whole"], tally,
                        "stream-during-stop", on_first_chunk=first_chunk.set, rate=PINNED_RATE)
            result["done"] = time.time()

        pin = threading.Thread(target=pinned, daemon=True)
        pin.start()
        if not first_chunk.wait(20):
            # What the instance answers meanwhile, and where the pinned request waits.
            frame = sys._current_frames().get(pin.ident)
            where = "".join(traceback.format_stack(frame)) if frame else "ended"
            probe = {}
            for path in ("/health/live", f"/api/v1/tracks/{sorted(by_track)[instance.n]}/stream"):
                t0 = time.time()
                try:
                    req = urllib.request.Request(f"http://127.0.0.1:{instance.port}{path}",
                                                 headers={"Authorization": f"Bearer {staff_token}", "Range": "bytes=0-9"})
                    with urllib.request.urlopen(req, timeout=15) as r:
                        probe[path] = (r.status, round(time.time() - t0, 2))
                except Exception as e:
                    probe[path] = (repr(e), round(time.time() - t0, 2))
            raise RuntimeError(f"no stream could be placed on instance {instance.n}: "
                               + "; ".join(e for e in tally.examples if "during-stop" in e)
                               + f" probe={probe} pinned thread at:\n{where}")
        term = time.time()
        instance.process.send_signal(signal.SIGTERM)
        code = instance.process.wait(timeout=SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT + 10)
        exited = time.time() - term
        pin.join(timeout=SHUTDOWN_TIMEOUT + 10)
        stream_end = result.get("done", float("inf")) - term
        drains.append((instance.n, code, exited, stream_end))
        log(f"instance {instance.n}: SIGTERM -> exit {code} after {exited:.1f}s; "
            f"its stream finished {stream_end:.1f}s after SIGTERM")
        instance.start()
        instance.wait_ready()
        log(f"instance {instance.n}: restarted and ready")
        time.sleep(between)

    stop.set()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.time() - started
    nginx.send_signal(signal.SIGQUIT)
    nginx.wait(timeout=10)
    for instance in instances:
        instance.process.send_signal(signal.SIGTERM)
    for instance in instances:
        instance.process.wait(timeout=60)

    total_ok = sum(tally.ok.values())
    total_failed = sum(tally.failed.values())
    print(f"\nrolling update: {INSTANCES} instances restarted one at a time in {elapsed:.0f}s of mixed load")
    print(f"{'class':<20}{'ok':>8}{'failed':>8}")
    for kind in sorted(set(tally.ok) | set(tally.failed)):
        print(f"{kind:<20}{tally.ok.get(kind, 0):>8}{tally.failed.get(kind, 0):>8}")
    for n, code, exited, stream_end in drains:
        print(f"instance {n}: exit code {code}, {exited:.1f}s from SIGTERM to exit, "
              f"stream in flight finished {stream_end:.1f}s after SIGTERM (grace {SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT}s)")
    for example in tally.examples:
        print(f"  failed: {example}")
    problems = []
    if total_failed:
        problems.append(f"{total_failed} requests failed")
    for kind in ("catalog", "search", "purchase", "stream", "stream-during-stop"):
        if not tally.ok.get(kind):
            problems.append(f"no successful {kind} requests: the load did not exercise them")
    for n, code, exited, stream_end in drains:
        if code != 0:
            problems.append(f"instance {n} exited with {code}")
        if not stream_end <= SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT:
            problems.append(f"instance {n}'s stream did not finish within the grace period")
        # The stream must still have been playing well after the listener closed, or the test
        # proved nothing. The instance itself may exit sooner: the kernel's send buffer on
        # loopback can take the rest of a file of a few MB, and delivers it after the exit.
        if not stream_end > SHUTDOWN_DELAY + 1:
            problems.append(f"instance {n}'s stream ended {stream_end:.1f}s after SIGTERM, before "
                            "the listener closed, so the test proved nothing")
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"{total_ok} requests succeeded, {total_failed} failed")
    if not problems:
        subprocess.run(["rm", "-rf", root])
    else:
        print(f"logs kept in {root}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
