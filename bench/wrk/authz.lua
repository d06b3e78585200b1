-- wrk script: forward-auth GET /v1/authz with each token of $KL_TOKENS in turn as the bearer and
-- X-Required-Ability: invoices:read (a 204 for the read_only keys). Use with -t1.
-- The requests are formatted once, in init(): wrk adds the Host header to wrk.headers just before
-- it, so requests formatted when the script loads would go without one.
local tokens = {}
for line in io.lines(os.getenv("KL_TOKENS")) do tokens[#tokens + 1] = line end
if #tokens == 0 then error("no tokens in " .. os.getenv("KL_TOKENS")) end
local requests = {}
init = function(args)
  for i, token in ipairs(tokens) do
    requests[i] = wrk.format("GET", "/v1/authz", {
      ["Authorization"] = "Bearer " .. token,
      ["X-Required-Ability"] = "invoices:read",
    })
  end
end
local i = 0

request = function()
  i = i % #requests + 1
  return requests[i]
end

-- $KL_PACE_MS: a paced load (pace.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "pace.lua")
