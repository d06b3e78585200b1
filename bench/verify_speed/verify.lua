-- POST /v1/keys/verify, cycling over the tokens in $KL_TOKENS (one a line).
-- Requests are formatted once in init so that wrk spends as little as possible per request.
local reqs, n, i = {}, 0, 0
function init(args)
  local path = os.getenv("KL_TOKENS") or "tokens.txt"
  for token in io.lines(path) do
    if #token > 0 then
      n = n + 1
      reqs[n] = wrk.format("POST", "/v1/keys/verify",
        {["Content-Type"] = "application/json"},
        '{"token":"' .. token .. '","ability":"invoices:read"}')
    end
  end
  i = math.random(n) - 1
end
function request()
  i = i % n + 1
  return reqs[i]
end
