#!/usr/bin/env python3
"""Random catalog reads, as a store's clients make them, for scripts/bench-lists: lists of
every kind with random sorts, filters, ranges, includes and limits (half of them following
the next_cursor of an earlier page), details with includes, and searches with typos. One
connection, one request at a time, so each figure is the server's latency for one read.
Prints the latency spread, the slowest reads and any 5xx.

  scripts/read-mix.py HOST PORT [REQUESTS] [SEED]"""
import http.client, json, random, sys, time, urllib.parse

host, port = sys.argv[1], int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
conn = http.client.HTTPConnection(host, port)

def get(path):
    t = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    return r.status, body, time.perf_counter() - t

# discover ranges
_, b, _ = get("/api/v1/tracks?limit=1&sort=-id")
max_track = json.loads(b)["data"][0]["id"]
_, b, _ = get("/api/v1/albums?limit=1&sort=-id")
max_album = json.loads(b)["data"][0]["id"]
_, b, _ = get("/api/v1/artists?limit=1&sort=-id")
max_artist = json.loads(b)["data"][0]["id"]
_, b, _ = get("/api/v1/taxonomies?type=genre")
slugs = []
def walk(nodes):
    for x in nodes:
        slugs.append(x["slug"]); walk(x.get("children", []))
tx = json.loads(b)
walk(tx.get("data", tx if isinstance(tx, list) else []))
words = ["love", "rock", "night", "heart", "blue", "fire", "dream", "baby", "girl", "time",
         "lvoe", "nigth", "the", "of", "rock n roll", "black sabbath", "acdc", "led zepelin",
         "x", "zz", "a", "me", "you", "sun", "rain"]
sorts = ["id", "name", "milliseconds", "unit_price", "popularity"]

def track_list():
    p = {"limit": rng.choice([1, 10, 25, 50, 100])}
    s = rng.choice(sorts)
    p["sort"] = ("-" if rng.random() < .5 else "") + s
    r = rng.random()
    if r < .15: p["genre"] = rng.randint(1, 25)
    elif r < .25: p["album_id"] = rng.randint(1, max_album)
    elif r < .35: p["artist_id"] = rng.randint(1, max_artist)
    elif r < .45: p["media_type"] = rng.randint(1, 5)
    elif r < .55 and slugs: p["taxonomy"] = "genre:" + rng.choice(slugs)
    if rng.random() < .4:
        lo = rng.randint(0, 6_000_000)
        p["min_ms"] = lo
        if rng.random() < .5: p["max_ms"] = lo + rng.choice([10, 1000, 100_000, 5_000_000])
    if rng.random() < .15: p["min_price"] = rng.choice(["0.99", "1.99"])
    if rng.random() < .1: p["max_price"] = rng.choice(["0.99", "1.99"])
    if rng.random() < .3:
        p["include"] = ",".join(rng.sample(["album", "artist", "genre", "media_type"], rng.randint(1, 4)))
    return "/api/v1/tracks?" + urllib.parse.urlencode(p)

def other():
    k = rng.choice(["albums", "artists", "playlists", "genres", "media-types"])
    p = {"limit": rng.choice([10, 25, 100]), "sort": rng.choice(["id", "-id", "name", "-name"])}
    if k == "albums" and rng.random() < .5: p["include"] = rng.choice(["artist", "tracks", "artist,tracks"])
    if k == "artists" and rng.random() < .5: p["include"] = "albums"
    if k == "playlists" and rng.random() < .5: p["include"] = "tracks"
    if k == "albums" and rng.random() < .3: p["artist_id"] = rng.randint(1, max_artist)
    return f"/api/v1/{k}?" + urllib.parse.urlencode(p)

def detail():
    k, m = rng.choice([("tracks", max_track), ("albums", max_album), ("artists", max_artist)])
    inc = {"tracks": "album,artist,genre,media_type", "albums": "tracks,artist", "artists": "albums"}[k]
    return f"/api/v1/{k}/{rng.randint(1, m)}" + (f"?include={inc}" if rng.random() < .5 else "")

def search():
    p = {"q": rng.choice(words) + ("" if rng.random() < .7 else " " + rng.choice(words)),
         "limit": rng.choice([10, 25, 50])}
    if rng.random() < .3: p["type"] = rng.choice(["track", "album", "artist"])
    if rng.random() < .2: p["genre"] = rng.randint(1, 25)
    return "/api/v1/search?" + urllib.parse.urlencode(p)

times, statuses = [], {}
pending = []
for i in range(n):
    if pending and rng.random() < .5:
        path = pending.pop()
    else:
        r = rng.random()
        path = track_list() if r < .55 else other() if r < .7 else detail() if r < .85 else search()
    st, body, dt = get(path)
    statuses[st] = statuses.get(st, 0) + 1
    times.append((dt, st, path))
    if st == 200 and "cursor" not in path or (st == 200 and rng.random() < .7):
        try:
            nxt = json.loads(body).get("page", {}).get("next_cursor")
        except Exception:
            nxt = None
        if nxt:
            base = path.split("&cursor=")[0]
            pending.append(base + "&cursor=" + urllib.parse.quote(nxt))
lat = sorted(t for t, _, _ in times)
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
print(f"{n} requests, statuses {statuses}")
print(f"p50 {pct(.5):.2f} ms  p90 {pct(.9):.2f}  p99 {pct(.99):.2f}  p99.9 {pct(.999):.2f}  max {lat[-1]*1000:.2f}")
for dt, st, path in sorted(times, reverse=True)[:15]:
    print(f"  {dt*1000:8.2f} ms {st} {urllib.parse.unquote(path)[:200]}")
for st, p in [(st, p) for _, st, p in times if st >= 500][:10]:
    print("  5xx", st, p)
# Bad input the generator makes on purpose (a range whose ends cross, say) is a 4xx.
for st, p in [(st, p) for _, st, p in times if 400 <= st < 500][:3]:
    print("  4xx", st, urllib.parse.unquote(p)[:200])
