-- Loaded by the wrk scripts: with $KL_PACE_MS, every connection pauses that long after each
-- response (a paced load below the server's capacity, for latency). Without it each connection
-- sends again at once, so the load is as fast as the server answers (its latency then is
-- 64 connections / its rate).
local pace = tonumber(os.getenv("KL_PACE_MS") or "")
if pace then
  delay = function()
    return pace
  end
end
