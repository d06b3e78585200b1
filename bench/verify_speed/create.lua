-- POST /admin/v1/workspaces/acme/keys with the admin token in $KL_ADMIN, a unique name each.
local admin, prefix, i = nil, nil, 0
local hdrs
function init(args)
  admin = io.open(os.getenv("KL_ADMIN") or "admin.txt"):read("*l")
  prefix = tostring(math.random(1, 1e9))
  hdrs = {["Authorization"] = "Bearer " .. admin, ["Content-Type"] = "application/json"}
end
function request()
  i = i + 1
  return wrk.format("POST", "/admin/v1/workspaces/acme/keys", hdrs,
    '{"name":"bench ' .. prefix .. '-' .. i .. '","preset":"read_only","owner":"bench@acme.test"}')
end
