#!/usr/bin/env bash
# `make consul`: builds the Consul agent v1.16.3 (the last MPL-2.0 release; 1.16.4 and later are BUSL) from
# its Go module source into ${XDG_CACHE_HOME:-~/.cache}/ftgo-mesh/consul-v1.16.3/consul, and links it to the
# gitignored .tools/bin/consul that the harness and `make up REGISTRY=consul` run. Checks the licence of
# consul and of each published nested module it builds with before compiling. A no-op when the binary there
# already says v1.16.3. `go install …@v1.16.3` cannot build it: its go.mod replaces the nested modules with
# local folders that the module zip lacks, so this drops those replaces and uses the published ones it requires.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

NAME=consul
VERSION=v1.16.3
MODULE=github.com/hashicorp/consul
NESTED=(api sdk proto-public envoyextensions troubleshoot)
MPL="Mozilla Public License, version 2.0"
# shellcheck source=source-build.sh
source "$root/scripts/source-build.sh"

# is_built: the binary there answers `consul version` with this version (captured first: with pipefail,
# `consul version | head -n1` fails whenever head closes the pipe before consul has written everything).
is_built() {
  local said
  [[ -x $binary ]] && said=$("$binary" version 2>/dev/null) && [[ ${said%%$'\n'*} == "Consul $VERSION" ]]
}

# The no-op: the right version is already built.
if is_built; then
  link_binary
  exit 0
fi

require_go

# check_licence <module> <dir>: MPL-2.0 or refuse, naming the module.
check_licence() {
  [[ -f $2/LICENSE ]] && grep -q "$MPL" "$2/LICENSE" ||
    die "refusing to build: $1 is not under the MPL-2.0 licence ($2/LICENSE)"
}

say "building Consul $VERSION from source: ~13 min and ~2.5 GB the first time (Go module cache and build cache)"
dir=$(module_dir "$MODULE@$VERSION")
[[ -n $dir ]] || die "go mod download $MODULE@$VERSION found nothing"
check_licence "$MODULE@$VERSION" "$dir"

# A writable copy of the module source, with the local replaces of the nested modules dropped.
writable_copy "$dir" LICENSE
for m in "${NESTED[@]}"; do
  (cd "$src" && "$GO" mod edit -dropreplace="$MODULE/$m")
done

# Each nested module at the version consul's go.mod requires: its licence too.
for m in "${NESTED[@]}"; do
  version=$(cd "$src" && "$GO" list -m -mod=mod -f '{{.Version}}' "$MODULE/$m")
  [[ -n $version ]] || die "consul's go.mod requires no version of $MODULE/$m"
  check_licence "$MODULE/$m@$version" "$(cd "$src" && module_dir "$MODULE/$m@$version")"
done
say "licences checked: consul and ${NESTED[*]} are MPL-2.0"

compile . "-s -w"
