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
