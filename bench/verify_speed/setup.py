#!/usr/bin/env python3
"""Prepares a running keyledger for the verify/authz/create benchmarks.

usage: setup.py BASE_URL OPERATOR_TOKEN OUT_DIR [N_KEYS]

Creates workspace "acme" (plan pro), an admin key and N_KEYS read_only API keys; writes
OUT_DIR/tokens.txt (one API token a line) and OUT_DIR/admin.txt (the admin token).
Tokens are bench credentials of a throw-away data directory."""
import http.client, json, sys, urllib.parse

def main():
    base, operator, out = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port)

    def call(method, path, token, body):
        conn.request(method, path, json.dumps(body),
                     {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status not in (200, 201):
            sys.exit(f"{method} {path}: {r.status} {data!r}")
        return json.loads(data)

    call("POST", "/admin/v1/workspaces", operator, {"id": "acme", "name": "Acme Inc", "plan": "pro"})
    admin = call("POST", "/admin/v1/workspaces/acme/admin-keys", operator,
                 {"name": "bench admin", "role": "admin"})["token"]
    tokens = []
    for i in range(n):
        tokens.append(call("POST", "/admin/v1/workspaces/acme/keys", admin,
                           {"name": f"bench key {i}", "preset": "read_only",
                            "owner": "bench@acme.test"})["token"])
    with open(out + "/tokens.txt", "w") as f:
        f.write("\n".join(tokens) + "\n")
    with open(out + "/admin.txt", "w") as f:
        f.write(admin + "\n")

if __name__ == "__main__":
    main()
