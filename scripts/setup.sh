#!/usr/bin/env bash
# Idempotent set-up of a machine for ftgo-mesh. Plain: what `make up` needs (Node 20.11+, npm
# dependencies, nats-server). With --with-test-tools: grpcurl too, which only the tests use.
# Silent when everything is already there; installs what is missing when it can, and otherwise
# says exactly what to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GRPCURL_MODULE=github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3

with_test_tools=false
for arg in "$@"; do
  case "$arg" in
    --with-test-tools) with_test_tools=true ;;
    -h | --help) echo "usage: scripts/setup.sh [--with-test-tools]"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "setup: $*"; }
die() { echo "setup: $*" >&2; exit 1; }

# Node.js, as package.json's engines field asks.
command -v node >/dev/null || die "Node.js is missing: install Node 20.11 or newer (https://nodejs.org/, or nvm)."
node -e 'const [major, minor] = process.versions.node.split(".").map(Number);
  process.exit(major > 20 || (major === 20 && minor >= 11) ? 0 : 1)' ||
  die "Node $(node --version) is too old: ftgo-mesh needs Node 20.11 or newer."

# npm dependencies: npm ci writes node_modules/.package-lock.json, so a newer package-lock.json means stale.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm dependencies (npm ci)"
  npm ci
fi

# nats-server: Debian and Ubuntu package it (into /usr/sbin, which is not on every user's PATH).
if ! command -v nats-server >/dev/null && [[ ! -x /usr/sbin/nats-server && ! -x ${NATS_SERVER_BIN:-} ]]; then
  command -v apt-get >/dev/null ||
    die "nats-server is missing: install 2.9 or newer from https://github.com/nats-io/nats-server/releases and put it on PATH (or set NATS_SERVER_BIN)."
  if [[ $(id -u) -eq 0 ]]; then
    as_root=(env)
  elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [[ -t 0 ]]; }; then
    as_root=(sudo) # passwordless, or it can ask on this terminal
  else
    die "nats-server is missing. Install it with: sudo apt-get update && sudo apt-get install -y nats-server"
  fi
  say "installing nats-server (apt-get)"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server
fi

# grpcurl, for the tests only. `go install` puts it in $(go env GOBIN) or $(go env GOPATH)/bin, which
# is not on PATH by default: the tests look there.
if $with_test_tools && ! command -v grpcurl >/dev/null; then
  go=$(command -v go || echo /usr/local/go/bin/go)
  [[ -x $go ]] ||
    die "grpcurl is missing, and so is Go to build it: install Go 1.21 or newer (https://go.dev/dl/) and rerun, or put grpcurl on PATH."
  bin=$("$go" env GOBIN)
  bin=${bin:-$("$go" env GOPATH | cut -d: -f1)/bin}
  if [[ ! -x $bin/grpcurl ]]; then
    say "installing grpcurl into $bin (go install $GRPCURL_MODULE)"
    "$go" install "$GRPCURL_MODULE"
  fi
fi
