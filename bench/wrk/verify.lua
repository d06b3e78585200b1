-- wrk script: POST /v1/keys/verify, cycling through the tokens in $KL_TOKENS (one per line),
-- asking for "invoices:read" (granted by the read_only preset). Use with -t1.
local tokens = {}
for line in io.lines(os.getenv("KL_TOKENS")) do tokens[#tokens + 1] = line end
if #tokens == 0 then error("no tokens in " .. os.getenv("KL_TOKENS")) end
local headers = { ["Content-Type"] = "application/json" }
local bodies = {}
for i, token in ipairs(tokens) do
  bodies[i] = '{"token":"' .. token .. '","ability":"invoices:read"}'
end
local i = 0

request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/keys/verify", headers, bodies[i])
end

-- $KL_PACE_MS: a paced load (pace.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "pace.lua")
