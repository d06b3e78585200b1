-- wrk script: API key creations. POST /admin/v1/workspaces/$KL_WS/keys with the admin token, a
-- unique name per request; the tokens of the first $KL_TOKENS_MAX created keys are appended, one
-- per line, to $KL_TOKENS_OUT (the token pool of the verify benchmarks). The names start with
-- $KL_NAME_PREFIX, so that several loads on one workspace make no name twice. Use with -t1.
local ws = os.getenv("KL_WS")
local path = "/admin/v1/workspaces/" .. ws .. "/keys"
local headers = {
  ["Authorization"] = "Bearer " .. os.getenv("KL_ADMIN"),
  ["Content-Type"] = "application/json",
}
local out_path = os.getenv("KL_TOKENS_OUT")
local max_tokens = tonumber(os.getenv("KL_TOKENS_MAX") or "20000")
local prefix = os.getenv("KL_NAME_PREFIX") or ""
local counter = 0
local saved = 0
local out = nil

request = function()
  counter = counter + 1
  local body = '{"name":"bench key ' .. prefix .. counter .. '","preset":"read_only","owner":"bench@bench.test"}'
  return wrk.format("POST", path, headers, body)
end

response = function(status, headers, body)
  if status ~= 201 or saved >= max_tokens then return end
  local token = body:match('"token":"([^"]+)"')
  if token then
    out = out or io.open(out_path, "a")
    out:write(token, "\n")
    out:flush()
    saved = saved + 1
  end
end
