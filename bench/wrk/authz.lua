-- wrk script: forward-auth GET /v1/authz with each token of $KL_TOKENS in turn as the bearer and
-- X-Required-Ability: invoices:read (a 204 for the read_only keys). Use with -t1.
local requests = {}
for line in io.lines(os.getenv("KL_TOKENS")) do
  requests[#requests + 1] = wrk.format("GET", "/v1/authz", {
    ["Authorization"] = "Bearer " .. line,
    ["X-Required-Ability"] = "invoices:read",
  })
end
if #requests == 0 then error("no tokens in " .. os.getenv("KL_TOKENS")) end
local i = 0

request = function()
  i = i % #requests + 1
  return requests[i]
end

-- With $KL_PACE_MS, every connection pauses that long after each response: a paced load below
-- the server's capacity, for latency. Without it each connection sends again at once, so the
-- load is as fast as the server answers (its latency then is 64 connections / its rate).
local pace = tonumber(os.getenv("KL_PACE_MS") or "")
if pace then
  delay = function()
    return pace
  end
end
