#!/usr/bin/env bash
# Builds the Go program go/cmd/<program> into go/bin/<program> (gitignored), without cgo.
# Quiet on success, the compiler's errors on failure. Callers simply run this before every start: when the
# binary in go/bin was built from the sources as they are, `go list` says it is not stale (Go compares the
# build ID it would give the binary with the one inside it: content, not mtimes) and nothing is built; a
# `go build` of unchanged sources would still link again, which takes seconds. Several builds at once
# (parallel tests, two `make up`s) are safe: each writes its own temporary file in go/bin and renames it into
# place, which is atomic, so nobody ever runs a half-written binary.
set -euo pipefail
program=${1:?usage: scripts/build-go.sh <program>   (a folder under go/cmd)}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $program =~ ^[a-z0-9][a-z0-9_-]*$ && -d $root/go/cmd/$program ]] || {
  echo "build-go: no program go/cmd/$program" >&2
  exit 2
}
# shellcheck source=go-env.sh
source "$root/scripts/go-env.sh"
[[ -n $GO ]] || {
  echo "build-go: Go not found: install Go 1.26 or newer (see README) and run \`make setup\`" >&2
  exit 1
}
mkdir -p "$root/go/bin"
export CGO_ENABLED=0
stale=$(cd "$root/go" && GOBIN="$root/go/bin" "$GO" list -f '{{.Stale}}' "./cmd/$program")
[[ $stale == false ]] && exit 0
tmp=$(mktemp "$root/go/bin/.$program.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd "$root/go" && "$GO" build -o "$tmp" "./cmd/$program")
mv -f "$tmp" "$root/go/bin/$program"
