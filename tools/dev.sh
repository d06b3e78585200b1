#!/usr/bin/env bash
# The README's two set-up commands, for a fresh Debian bookworm machine (root, apt reachable):
#
#   bash tools/dev.sh serve   install what is missing, build, and start keyledger on ./data at
#                             127.0.0.1:8080 (prints the operator token once on a new ./data)
#   bash tools/dev.sh test    install what is missing, build, and run every test
#
# Extra arguments after `serve` are passed to `keyledger serve` (e.g. --listen 127.0.0.1:9090).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${KEYLEDGER_BUILD_DIR:-$ROOT/build}"
JOBS="${KEYLEDGER_JOBS:-$(nproc)}"

PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-test1.81-dev libboost-json1.81-dev
  librocksdb-dev libsimdjson-dev libssl-dev openssl libcli11-dev
  libgoogle-perftools-dev  # tcmalloc, the heap allocator (core/memory.h)
  curl ca-certificates jq
  libbenchmark-dev wrk nginx  # bench/ (its smoke run is a test)
)

install_missing_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "==> Installing Debian packages: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

build() {
  echo "==> Building in $BUILD" >&2
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" --parallel "$JOBS" "$@"
}

case "${1:-}" in
  serve)
    shift
    install_missing_packages
    build --target keyledger
    echo "==> Starting keyledger (Ctrl-C to stop)" >&2
    cd "$ROOT"
    exec "$BUILD/tools/keyledger" serve --data ./data --listen 127.0.0.1:8080 "$@"
    ;;
  test)
    install_missing_packages
    build
    cd "$BUILD"
    exec ctest --output-on-failure --parallel "$JOBS" --timeout 600
    ;;
  *)
    echo "usage: bash tools/dev.sh serve [serve flags...] | test" >&2
    exit 2
    ;;
esac
