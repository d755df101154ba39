-- wrk script of bench/wrk.py: one session cookie per thread (each thread is one client), and the
-- latency figures as one line of JSON at the end.
-- Each thread is one client with its own session cookie (COOKIES: space-separated session keys).
local cookies = {}
for c in string.gmatch(os.getenv("COOKIES") or "", "%S+") do table.insert(cookies, c) end
local counter = 0
local threads = {}
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  if #cookies > 0 then
    wrk.headers["Cookie"] = "sessionid=" .. cookies[((id - 1) % #cookies) + 1]
  end
  wrk.headers["Accept-Encoding"] = "identity"
end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format('{"requests": %d, "errors": %d, "p50": %.3f, "p95": %.3f, "p99": %.3f, "max": %.3f, "seconds": %.3f}\n',
    summary.requests, errors, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.duration / 1e6))
end
