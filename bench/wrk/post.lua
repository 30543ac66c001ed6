-- POSTs the JSON bodies of the file named by BENCH_BODIES (one a line) in turn, and, when the run is
-- over, prints one line "BENCH_WRK_JSON {...}" that bench/wrk.ts parses (wrk's own text report
-- rounds the figures). The requests are formatted once, before the run.
local path = assert(os.getenv("BENCH_BODIES"), "BENCH_BODIES is not set")
local requests = {}
local next = 0

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  for body in assert(io.open(path)):lines() do
    if body ~= "" then requests[#requests + 1] = wrk.format("POST", nil, headers, body) end
  end
  assert(#requests > 0, "BENCH_BODIES: no bodies in " .. path)
end

function request()
  next = next % #requests + 1
  return requests[next]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"mean":%.3f,"stdev":%.3f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
