-- The registration storm for wrk (see bench_registration.py, which runs it).
--
--   wrk -t1 -c32 -s bench/registration.lua URL -- PATH SUBMISSIONS_FILE
--
-- SUBMISSIONS_FILE holds one API token a line, in the order people submit (a double
-- click is the same token twice). With one wrk thread there is one Lua state, so the
-- 32 connections take people from one queue, each POSTing PATH with the next token,
-- and every token is sent exactly once. Every answer is tallied by status code and by
-- the registration status in its body. When the last answer is in, the script prints
-- "all answered" (the caller then stops wrk with SIGINT) and done() prints one line of
-- JSON with the tallies, the time from the first request to the last answer, and the
-- latency percentiles.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- The thread's state: the queue and the tallies (read by done() with thread:get).
local requests = {}
local next_request = 1
local checked = false
answered = 0
expected = 0
codes = {}
outcomes = {}
started = nil
finished = nil

function init(args)
  local path = args[1]
  for token in io.lines(args[2]) do
    requests[#requests + 1] = wrk.format(
      "POST", path, { ["Authorization"] = "Bearer " .. token }, ""
    )
  end
  expected = #requests
end

function request()
  -- wrk calls request() once before the run to check what it builds: show it the
  -- first request without taking anyone from the queue.
  if not checked then
    checked = true
    return requests[1]
  end
  if next_request > #requests then
    -- Everyone has submitted: an empty write leaves this connection idle while the
    -- last answers come in on the others.
    return ""
  end
  started = started or now()
  local r = requests[next_request]
  next_request = next_request + 1
  return r
end

function response(status, headers, body)
  answered = answered + 1
  codes[tostring(status)] = (codes[tostring(status)] or 0) + 1
  local outcome = status == 200 and body:match('"status"%s*:%s*"([%w_]+)"') or "-"
  outcomes[outcome] = (outcomes[outcome] or 0) + 1
  if answered == expected then
    finished = now()
    io.write("all answered\n")
    io.flush()
    wrk.thread:stop()
  end
end

local function json(value)
  if type(value) == "table" then
    local parts = {}
    for k, v in pairs(value) do
      parts[#parts + 1] = string.format("%q: %s", tostring(k), json(v))
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  elseif value == nil then
    return "null"
  end
  return tostring(value)
end

function done(summary, latency, _)
  local result = { answered = 0, expected = 0, codes = {}, outcomes = {} }
  local first, last
  for _, thread in ipairs(threads) do
    result.answered = result.answered + thread:get("answered")
    result.expected = result.expected + thread:get("expected")
    for k, v in pairs(thread:get("codes")) do
      result.codes[k] = (result.codes[k] or 0) + v
    end
    for k, v in pairs(thread:get("outcomes")) do
      result.outcomes[k] = (result.outcomes[k] or 0) + v
    end
    local s, f = thread:get("started"), thread:get("finished")
    if s and (first == nil or s < first) then first = s end
    if f and (last == nil or f > last) then last = f end
  end
  result.seconds = (first and last) and (last - first) or nil
  result.socket_errors = summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  -- wrk adds coordinated-omission corrections to answers slower than twice the mean.
  result.p50_ms = latency:percentile(50) / 1000
  result.p99_ms = latency:percentile(99) / 1000
  io.write("RESULT " .. json(result) .. "\n")
end
