-- wrk's own totals as one line of JSON, for scripts/bench-streaming: bytes read, requests
-- completed, the run's duration and its errors. Loaded with `wrk -s`; it only adds `done`,
-- so wrk's request path is untouched.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-SUMMARY {"duration_us": %d, "requests": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))
end
