#!/usr/bin/env bash
# Builds the Go program go/cmd/<program> into go/bin/<program> (gitignored), without cgo.
# Quiet on success, the compiler's errors on failure. Go's build cache makes a rebuild of unchanged
# sources cheap, so callers simply run this before every start. Several builds at once (parallel tests,
# two `make up`s) are safe: each writes its own temporary file in go/bin and renames it into place,
# which is atomic, so nobody ever runs a half-written binary.
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
tmp=$(mktemp "$root/go/bin/.$program.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd "$root/go" && CGO_ENABLED=0 "$GO" build -o "$tmp" "./cmd/$program")
mv -f "$tmp" "$root/go/bin/$program"
