-- The request mix of scripts/bench-redis: a rate-limited catalog list, a cached taxonomy
-- tree and a cached popular-tracks page, in turn; and wrk's totals as one line of JSON
-- (requests, non-2xx/3xx answers, socket errors) for the script to print.
local paths = {
  "/api/v1/genres",
  "/api/v1/taxonomies?type=genre",
  "/api/v1/tracks?sort=-popularity&limit=10",
}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-SUMMARY {"duration_us": %d, "requests": %d, "non2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.duration, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
