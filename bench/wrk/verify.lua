-- wrk script: POST /v1/keys/verify, cycling through the tokens in $KL_TOKENS (one per line),
-- asking for "invoices:read" (granted by the read_only preset). Use with -t1.
-- The requests are formatted once, in init() (wrk adds the Host header to wrk.headers just before
-- it), as authz.lua's and nginx.lua's are: formatting each one in request() cost wrk's core
-- ~1.6 us a request here, latency the server would be charged with.
local tokens = {}
for line in io.lines(os.getenv("KL_TOKENS")) do tokens[#tokens + 1] = line end
if #tokens == 0 then error("no tokens in " .. os.getenv("KL_TOKENS")) end
local requests = {}
init = function(args)
  local headers = { ["Content-Type"] = "application/json" }
  for i, token in ipairs(tokens) do
    requests[i] = wrk.format("POST", "/v1/keys/verify", headers,
                             '{"token":"' .. token .. '","ability":"invoices:read"}')
  end
end
local i = 0

request = function()
  i = i % #requests + 1
  return requests[i]
end

-- $KL_PACE_MS: a paced load (pace.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "pace.lua")
