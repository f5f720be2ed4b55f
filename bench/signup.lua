-- Sign-ups for wrk (see bench_signup.py, which runs it):
--
--   wrk -t1 -c32 -d10s -s bench/signup.lua URL -- PATH CSRF_TOKEN PREFIX
--
-- Every request POSTs the join form with a new address (PREFIX-<n>@example.org), the
-- required names, the consent box ticked and the honeypot empty, with the CSRF cookie
-- and the same value as the form's token (Django accepts an unmasked token). A valid
-- sign-up answers with a redirect (302); done() prints the tally of status codes.

local counter = 0
local path, token, prefix
local threads = {}
codes = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  path, token, prefix = args[1], args[2], args[3]
end

function request()
  counter = counter + 1
  local body = "csrfmiddlewaretoken=" .. token
    .. "&email=" .. prefix .. "-" .. counter .. "%40example.org"
    .. "&first_name=Bench&last_name=Example" .. counter
    .. "&language=en&consent=on&website="
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. token,
  }, body)
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("codes")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do
    parts[#parts + 1] = string.format('"%d": %d', status, n)
  end
  io.write("CODES {" .. table.concat(parts, ", ") .. "}\n")
end
