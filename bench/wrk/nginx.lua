-- wrk script for the nginx reference: the request the authz benchmark sends (GET /v1/authz with
-- a bearer token and X-Required-Ability), answered by nginx with a fixed 200 "ok".
-- GET rather than the verify POST: nginx discards the body of a POST it does not read, and answers
-- it as fast as the GET (118-121 k against 106-107 k req/s, eighteenth session); one request
-- serves as the reference of both verify and authz.
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
