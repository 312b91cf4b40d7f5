#!/usr/bin/env bash
# scripts/build-go.sh <program>: builds go/cmd/<program> (CGO_ENABLED=0) into go/bin/<program>, which is
# gitignored. Atomic: the binary is written under a temporary name in go/bin and moved into place, so a
# process starting it never runs a half-written file and a failed build leaves the last good one. Silent
# on success; on failure, the compiler's message and a non-zero exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

program=${1:-}
if [[ $# -ne 1 || ! $program =~ ^[a-z0-9][a-z0-9-]*$ ]]; then
  echo "usage: scripts/build-go.sh <program>   (a folder under go/cmd)" >&2
  exit 2
fi
[[ -d go/cmd/$program ]] || { echo "build-go: no program go/cmd/$program" >&2; exit 2; }

# shellcheck source=scripts/go-env.sh
source scripts/go-env.sh
[[ -n $GO ]] || { echo "build-go: Go is missing: install Go 1.26 or newer and run scripts/setup.sh" >&2; exit 1; }

mkdir -p go/bin
tmp=$(mktemp "go/bin/.$program.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd go && CGO_ENABLED=0 "$GO" build -o "bin/${tmp#go/bin/}" "./cmd/$program")
mv -f "$tmp" "go/bin/$program"
