-- GET /v1/authz (forward auth), cycling over the tokens in $KL_TOKENS.
local reqs, n, i = {}, 0, 0
function init(args)
  local path = os.getenv("KL_TOKENS") or "tokens.txt"
  for token in io.lines(path) do
    if #token > 0 then
      n = n + 1
      reqs[n] = wrk.format("GET", "/v1/authz",
        {["Authorization"] = "Bearer " .. token, ["X-Required-Ability"] = "invoices:read"})
    end
  end
  i = math.random(n) - 1
end
function request()
  i = i % n + 1
  return reqs[i]
end
