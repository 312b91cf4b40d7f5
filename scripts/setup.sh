#!/usr/bin/env bash
# Idempotent set-up of a machine for ftgo-mesh. Plain: what `make up` needs (Node 20.11+, npm
# dependencies, nats-server, Prometheus and Jaeger, the traces back-end, built from source the first time unless
# TRACING=off). With --with-test-tools: grpcurl, the Consul agent (make consul), Traefik (make traefik), Chromium
# (the docs' screenshots) and a docker compose CLI too, which only the tests and CI use (the compose CLI validates
# docker-compose.yml; no Docker engine needed);
# with --with-bench-tools: ghz, which only `npm run bench -- polyglot` uses (it runs this when ghz is missing).
# Silent when everything is already there; installs what is missing when it can, and otherwise
# says exactly what to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GRPCURL_MODULE=github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3
GHZ_MODULE=github.com/bojand/ghz/cmd/ghz@v0.93.0

with_test_tools=false
with_bench_tools=false
for arg in "$@"; do
  case "$arg" in
    --with-test-tools) with_test_tools=true ;;
    --with-bench-tools) with_bench_tools=true ;;
    -h | --help) echo "usage: scripts/setup.sh [--with-test-tools] [--with-bench-tools]"; exit 0 ;;
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

# apt_install <package> <what it is, and where else to get it>: installs a Debian/Ubuntu package as root, or
# with sudo when that needs no password or can ask on this terminal; otherwise says what to run. Without its
# recommends: docker-compose would bring a whole Docker engine, and validating a file needs none.
apt_install() {
  local package=$1 elsewhere=$2 as_root
  command -v apt-get >/dev/null || die "$package is missing: $elsewhere"
  if [[ $(id -u) -eq 0 ]]; then
    as_root=(env)
  elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [[ -t 0 ]]; }; then
    as_root=(sudo) # passwordless, or it can ask on this terminal
  else
    die "$package is missing. Install it with: sudo apt-get update && sudo apt-get install -y --no-install-recommends $package"
  fi
  say "installing $package (apt-get)"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package"
}

# PostgreSQL, the second engine the services run on (DATABASE=postgres, `make up-cluster`; docs/scaling.md): the
# server, which up.ts and the tests start as a throwaway cluster, and libpq's headers, which the optional npm
# package pg-native compiles against (so before npm ci below). `make up` on SQLite runs without them.
postgres_missing() { ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && [[ -z ${POSTGRES_BIN_DIR:-} ]]; }
for package in postgresql libpq-dev; do
  if { [[ $package == postgresql ]] && postgres_missing; } ||
    { [[ $package == libpq-dev ]] && ! command -v pg_config >/dev/null; }; then
    if $with_test_tools; then
      apt_install "$package" "install PostgreSQL 15 or newer (server, and libpq's headers) from https://www.postgresql.org/download/."
    else
      (apt_install "$package" "install PostgreSQL 15 or newer from https://www.postgresql.org/download/.") ||
        say "no $package: \`make up\` runs on SQLite without it; \`make up-cluster\` (PostgreSQL) needs it"
    fi
  fi
done

# npm dependencies: npm ci writes node_modules/.package-lock.json, so a newer package-lock.json means stale.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm dependencies (npm ci)"
  # Once more on failure: better-sqlite3 compiles from source here, and node-gyp has been seen to fail after a
  # good build (ENOENT on its build/node_gyp_bins); a second npm ci starts from a clean node_modules.
  npm ci || { say "npm ci failed; trying once more"; npm ci; }
fi

# nats-server: Debian and Ubuntu package it (into /usr/sbin, which is not on every user's PATH).
if ! command -v nats-server >/dev/null && [[ ! -x /usr/sbin/nats-server && ! -x ${NATS_SERVER_BIN:-} ]]; then
  apt_install nats-server \
    "install 2.9 or newer from https://github.com/nats-io/nats-server/releases and put it on PATH (or set NATS_SERVER_BIN)."
fi

# Prometheus, which `make up` starts to scrape every process's /metrics (Debian packages it). Optional for
# `make up`, which runs without it (METRICS=off skips it too); the tests need it.
if [[ ${METRICS:-on} != off ]] && ! command -v prometheus >/dev/null && [[ ! -x ${PROMETHEUS_BIN:-} ]]; then
  if $with_test_tools; then
    apt_install prometheus "install Prometheus 2.x from https://prometheus.io/download/ and put it on PATH (or set PROMETHEUS_BIN)."
  else
    (apt_install prometheus "install Prometheus 2.x from https://prometheus.io/download/ and put it on PATH.") ||
      say "no Prometheus: \`make up\` runs without it (every process still serves /metrics)"
  fi
fi

# A docker compose CLI, for the tests and CI only: test/compose.test.ts and .ci/run validate docker-compose.yml
# with it. Either Docker's `docker compose` plugin or Debian's docker-compose (1.29.2), which validates a file
# without a Docker engine.
if $with_test_tools && ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
  apt_install docker-compose \
    "install Docker's compose plugin (https://docs.docker.com/compose/install/) or docker-compose 1.29 and put it on PATH."
fi

# Chromium, for the tests and `npm run docs:screenshots` only (headless, driven by playwright-core).
# openssl: scripts/pki.sh makes the mesh CA and the certificates of the secure mode (SECURE=1) with it.
if ! command -v openssl >/dev/null; then
  apt_install openssl "install the openssl command-line tool."
fi

if $with_test_tools && ! command -v chromium >/dev/null && [[ ! -x ${CHROMIUM_BIN:-} ]]; then
  apt_install chromium "install Chromium and set CHROMIUM_BIN to it."
fi

# Go: the Loyalty service and the ftgo CLI (go/) are Go programs, and `npm run generate` writes gen/go with two
# Go plugins. `go install` puts programs in $(go env GOBIN) or $(go env GOPATH)/bin, which is not on PATH by
# default: scripts/go-env.sh finds it, for this script, scripts/generate.sh and the tests.
# shellcheck source=scripts/go-env.sh
source scripts/go-env.sh
[[ -n $GO ]] ||
  die "Go is missing: install Go 1.26 or newer (https://go.dev/dl/; Debian: golang-go from bookworm-backports) and rerun."

# go_tool <program> <module@version> [<version it prints>]: installs the pinned version unless it is there
# (without a version to check, unless the program is there: grpcurl built by `go install` prints no version).
go_tool() {
  local program=$1 module=$2 version=${3:-}
  if [[ ! -x $GO_BIN/$program ]] ||
    { [[ -n $version ]] && ! "$GO_BIN/$program" --version 2>&1 | grep -qF -- "$version"; }; then
    say "installing $program $version into $GO_BIN (go install $module)"
    "$GO" install "$module"
  fi
}
go_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12 v1.36.12
go_tool protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2 1.6.2

# Jaeger, which `make up` starts so that every process's spans can be read (scripts/jaeger.sh: ~10 min the first
# time, then a no-op). TRACING=off skips it, as it does in `make up`.
if [[ ${TRACING:-on} != off ]]; then
  bash scripts/jaeger.sh
fi

# grpcurl, the Consul agent and Traefik (built from source by scripts/consul.sh and scripts/traefik.sh: minutes
# the first time, then a no-op), for the tests only.
if $with_test_tools; then
  go_tool grpcurl "$GRPCURL_MODULE"
  bash scripts/consul.sh
  bash scripts/traefik.sh
fi

# ghz, for the benchmarks only. `ghz --version` of a `go install` build says "dev": `go version -m` has the version.
if $with_bench_tools; then
  if [[ -x $GO_BIN/ghz ]] && ! "$GO" version -m "$GO_BIN/ghz" | grep -qE "^\s+mod\s+github.com/bojand/ghz\s+${GHZ_MODULE##*@}\s"; then
    rm -f "$GO_BIN/ghz" # another version: reinstall the pinned one
  fi
  go_tool ghz "$GHZ_MODULE"
fi

# The Go programs of go/cmd (the Loyalty service, the ftgo CLI, the bench's menu server), built here when missing:
# the first build compiles grpc-go, nats.go and a SQLite in Go (minutes on a cold machine), which the first
# `make up` or test should not wait for. Keeping them current is not this script's job: up.ts and the tests run
# scripts/build-go.sh before each start (a Go build-cache hit unless a source changed).
# The modules the Go tests vet and test (test/go-modules.test.ts): their dependencies fetched here, so that
# no test's output is mixed with `go: downloading` lines on a fresh machine.
for module in gen/go go; do
  (cd "$module" && "$GO" mod download)
done
for program in go/cmd/*/; do
  program=$(basename "$program")
  if [[ ! -x go/bin/$program ]]; then
    say "building go/bin/$program (go build; the first time takes a while)"
    bash scripts/build-go.sh "$program"
  fi
done

# The secure mode's local CA and one certificate per process of the mesh (scripts/pki.sh; kept when they exist).
bash scripts/pki.sh init >/dev/null
