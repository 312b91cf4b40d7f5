#!/usr/bin/env bash
# scripts/build-go.sh <program>: builds go/cmd/<program> into go/bin/<program> (gitignored), without cgo.
# `make up` and the tests run it before every start: Go's build cache makes it a no-op (about a second) when
# no source changed, so the binary is always the sources'. Several builds at once are safe: each writes a
# temporary file beside the target and renames it over, so a running or starting binary is never half-written.
# Silent on success; the compiler's errors, and a non-zero exit, on failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
program=${1:?usage: scripts/build-go.sh <program> (one of: $(ls go/cmd | tr '\n' ' '))}
[[ -d go/cmd/$program ]] || { echo "build-go: no program go/cmd/$program (there are: $(ls go/cmd | tr '\n' ' '))" >&2; exit 2; }
# shellcheck source=scripts/go-env.sh
source scripts/go-env.sh
[[ -n $GO ]] || { echo "build-go: Go is missing: install Go 1.26 or newer and run scripts/setup.sh" >&2; exit 1; }
mkdir -p go/bin
tmp=$(mktemp "go/bin/.$program.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd go && CGO_ENABLED=0 "$GO" build -o "bin/${tmp##*/}" "./cmd/$program")
mv -f "$tmp" "go/bin/$program"
trap - EXIT
