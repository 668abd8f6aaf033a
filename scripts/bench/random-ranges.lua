-- Random ranges of one file for scripts/bench-streaming: each request asks for RANGE bytes
-- at a random offset (aligned to 4 KiB, within SIZE), from a seed per thread so that both
-- servers get the same sequence. `wrk -s random-ranges.lua URL -- SIZE RANGE`. Its totals
-- are printed as wrk-summary.lua prints them.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk-summary.lua")

local threads = {}
local size, range = 0, 0
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
  table.insert(threads, thread)
end

function init(args)
  size = tonumber(args[1])
  range = tonumber(args[2])
  math.randomseed(seed)
end

function request()
  local blocks = math.floor((size - range) / 4096)
  local start = math.random(0, blocks) * 4096
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["Range"] = string.format("bytes=%d-%d", start, start + range - 1)
  return wrk.format(nil, nil, headers)
end
