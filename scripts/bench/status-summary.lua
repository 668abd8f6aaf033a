-- wrk script: wrk's totals and the answers by status as one JSON line, for benchmark scripts
-- that must count failed answers, not only socket errors. Adds `response` (which costs wrk a
-- little per request) and `done`.
thread_id = 0
statuses = {}
local threads = {}

setup = function(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local by_status = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      by_status[code] = (by_status[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(by_status) do
    table.insert(parts, string.format('"%d": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-SUMMARY {"duration_us": %d, "requests": %d, "errors": %d, "statuses": {%s}, "p50_us": %d, "p99_us": %d}\n',
    summary.duration, summary.requests, e.connect + e.read + e.write + e.timeout,
    table.concat(parts, ", "), latency:percentile(50), latency:percentile(99)))
end
