-- wrk script for scripts/bench-purchases: every request is a new purchase of one track by one
-- of the new customers whose tokens are in the file named by BENCH_TOKENS (one per line),
-- with a fresh Idempotency-Key each. The BENCH_THREADS threads share the customers out, and
-- each customer buys tracks 1, 2, 3, ... in turn, so no customer is sold a track twice and
-- every answer should be a 201. Prints wrk's totals, latency and the answers by status as
-- one JSON line.
local tokens = {}
local next_track = {}
local counter = 0
thread_id = 0
statuses = {}
local threads = {}

setup = function(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

init = function(args)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    table.insert(tokens, line)
  end
  -- Threads take turns over the customers, so no two threads buy for the same one.
  for i = 1, #tokens do
    next_track[i] = 1
  end
end

request = function()
  counter = counter + 1
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local per = math.floor(#tokens / nthreads)
  local customer = thread_id * per + (counter % per) + 1
  local track = next_track[customer]
  next_track[customer] = next_track[customer] + 1
  local body = string.format('{"track_ids": [%d]}', track)
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[customer],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("bench-%d-%d-%d", thread_id, customer, counter),
  }
  return wrk.format("POST", "/api/v1/purchases", headers, body)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local by_status = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do
      by_status[code] = (by_status[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(by_status) do
    table.insert(parts, string.format('"%d": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-SUMMARY {"duration_us": %d, "requests": %d, "errors": %d, "statuses": {%s}, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.duration, summary.requests, e.connect + e.read + e.write + e.timeout,
    table.concat(parts, ", "), latency:percentile(50), latency:percentile(99), latency.max))
end
