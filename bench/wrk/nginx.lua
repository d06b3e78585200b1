-- wrk script for the nginx reference: the request the authz benchmark sends (GET /v1/authz with
-- a bearer token and X-Required-Ability), answered by nginx with a fixed 200 "ok".
-- Not the verify POST: nginx answers a POST it does not read by discarding the body, which on the
-- development machine cost it 2-5x its GET rate (11-19 k/s against 53 k/s), an unfairly weak
-- reference. The GET is the stricter one for both verify and authz.
-- Formatted in init(), not when the script loads: wrk adds the Host header to wrk.headers just
-- before init(), and an HTTP/1.1 request without Host gets nginx's 400 and a closed connection.
local request_bytes
init = function(args)
  request_bytes = wrk.format("GET", "/v1/authz", {
    ["Authorization"] = "Bearer kl_" .. string.rep("x", 38),
    ["X-Required-Ability"] = "invoices:read",
  })
end

request = function()
  return request_bytes
end

-- $KL_PACE_MS: a paced load (pace.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "pace.lua")
