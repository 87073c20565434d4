-- wrk: POST /v1/invoices, each request a new invoice (unique number and Idempotency-Key).
-- The API key comes from the environment (PIPEIT_BENCH_KEY), never the command line.
local key = os.getenv("PIPEIT_BENCH_KEY")
local issue = os.getenv("PIPEIT_BENCH_ISSUE")
local due = os.getenv("PIPEIT_BENCH_DUE")
local counter = 0
local threads = 0

-- Runs in the main state once per thread: give each thread its own tag so numbers never collide.
function setup(thread)
  threads = threads + 1
  thread:set("tag", tostring(threads) .. "-" .. tostring(os.time()))
end

function request()
  counter = counter + 1
  local number = "B-" .. tag .. "-" .. counter
  local body = '{"debtor":{"name":"Acme Inc.","registration_id":"12-' .. tag .. '","country":"US"},'
    .. '"invoice_number":"' .. number .. '","currency":"USD","amount":"1000.00",'
    .. '"issue_date":"' .. issue .. '","due_date":"' .. due .. '"}'
  return wrk.format("POST", "/v1/invoices", {
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = number,
    ["Content-Type"] = "application/json",
  }, body)
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT rps=%.1f p99_ms=%.2f non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, non2xx))
end
