#!/usr/bin/env python3
"""Prints a fresh well-formed token: token.py PREFIX (API.md, "Tokens")."""
import secrets, sys, zlib
D = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def b62(v, w):
    s = ""
    while v:
        s = D[v % 62] + s
        v //= 62
    return s.rjust(w, "0")
def compose(prefix, rnd):
    head = prefix + "_" + rnd
    return head + b62(zlib.crc32(head.encode()), 6)
assert compose("kl", "0123456789ABCDEFGHIJKLMNOPQRSTUV") == "kl_0123456789ABCDEFGHIJKLMNOPQRSTUV0dYxzJ"
print(compose(sys.argv[1], "".join(secrets.choice(D) for _ in range(32))))
