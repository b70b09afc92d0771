-- wrk script: POSTs validation bodies read from BENCH_BODIES (one JSON body per line), in turn.
-- With BENCH_DELAY_MS set, each connection waits that long between requests (a rate cap).
local bodies = {}
local counter = 0
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

for line in io.lines(os.getenv("BENCH_BODIES")) do
  bodies[#bodies + 1] = line
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  -- Threads start at different offsets so they do not send the same keys in lockstep.
  counter = math.random(#bodies)
end

function request()
  counter = counter % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[counter])
end

function delay()
  return delay_ms
end

function done(summary, latency, requests)
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f p50_us=%d p90_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout
  ))
end
