#!/usr/bin/env bash
# Builds a Go program of the repository: go/cmd/<program> into go/bin/<program> (gitignored), statically
# (CGO_ENABLED=0). The binary is written under a temporary name in go/bin and moved into place, so a
# program running or starting meanwhile never sees half a file.
#
#   scripts/build-go.sh ftgo        (make ftgo)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -ne 1 || ! $1 =~ ^[a-z][a-z0-9-]*$ ]]; then
  echo "usage: scripts/build-go.sh <program>   (a folder of go/cmd)" >&2
  exit 2
fi
program=$1
if [[ ! -d go/cmd/$program ]]; then
  echo "build-go: no program go/cmd/$program" >&2
  exit 2
fi
# shellcheck source=scripts/go-env.sh
source scripts/go-env.sh
if [[ -z $GO ]]; then
  echo "build-go: Go not found: install Go 1.26 or newer (see README) and run \`make setup\`" >&2
  exit 1
fi
mkdir -p go/bin
tmp=$(mktemp "go/bin/.$program.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd go && CGO_ENABLED=0 "$GO" build -o "../$tmp" "./cmd/$program")
mv -f "$tmp" "go/bin/$program"
trap - EXIT
