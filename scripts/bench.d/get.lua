-- wrk: a GET, printing requests/s and p99 in one line for scripts/bench api.
function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p99_ms=%.2f non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, summary.errors.status))
end
