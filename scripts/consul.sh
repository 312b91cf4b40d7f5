#!/usr/bin/env bash
# `make consul`: builds the Consul agent v1.16.3 (the last MPL-2.0 release; 1.16.4 and later are BUSL) from
# its Go module source into ${XDG_CACHE_HOME:-~/.cache}/ftgo-mesh/consul-v1.16.3/consul, and links it to the
# gitignored .tools/bin/consul that the harness and `make up REGISTRY=consul` run. Checks the licence of
# consul and of each published nested module it builds with before compiling. A no-op when the binary there
# already says v1.16.3. `go install …@v1.16.3` cannot build it: its go.mod replaces the nested modules with
# local folders that the module zip lacks, so this drops those replaces and uses the published ones it requires.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

VERSION=v1.16.3
MODULE=github.com/hashicorp/consul
NESTED=(api sdk proto-public envoyextensions troubleshoot)
MPL="Mozilla Public License, version 2.0"
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ftgo-mesh/consul-$VERSION
binary=$cache/consul
src=$cache/src
link=$root/.tools/bin/consul

say() { echo "consul: $*"; }
die() { echo "consul: $*" >&2; exit 1; }

# is_built: the binary there answers `consul version` with this version (captured first: with pipefail,
# `consul version | head -n1` fails whenever head closes the pipe before consul has written everything).
is_built() {
  local said
  [[ -x $binary ]] && said=$("$binary" version 2>/dev/null) && [[ ${said%%$'\n'*} == "Consul $VERSION" ]]
}

link_binary() {
  mkdir -p "$(dirname "$link")"
  ln -sfn "$binary" "$link"
}

# The no-op: the right version is already built.
if is_built; then
  link_binary
  exit 0
fi

# shellcheck source=go-env.sh
source "$root/scripts/go-env.sh"
[[ -n $GO ]] ||
  die "Go is missing, and Consul $VERSION is built from source with it: install Go 1.26 or newer (https://go.dev/dl/) and rerun \`make consul\`."

# module_dir <module@version>: where the module cache holds it (downloading it if needed).
module_dir() {
  "$GO" mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}

# check_licence <module> <dir>: MPL-2.0 or refuse, naming the module.
check_licence() {
  [[ -f $2/LICENSE ]] && grep -q "$MPL" "$2/LICENSE" ||
    die "refusing to build: $1 is not under the MPL-2.0 licence ($2/LICENSE)"
}

say "building Consul $VERSION from source: ~13 min and ~2.5 GB the first time (Go module cache and build cache)"
dir=$(module_dir "$MODULE@$VERSION")
[[ -n $dir ]] || die "go mod download $MODULE@$VERSION found nothing"
check_licence "$MODULE@$VERSION" "$dir"

# A fresh, writable copy of the module source, with the local replaces of the nested modules dropped.
if [[ ! -f $src/go.mod ]] || ! cmp -s "$dir/LICENSE" "$src/LICENSE"; then
  rm -rf "$src"
  mkdir -p "$cache"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
fi
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

# go build -v names each package as it compiles it: the log keeps them, the terminal gets a dot per 20.
log=$cache/build.log
say "compiling (log: $log); a dot per 20 packages"
status=0
(cd "$src" && CGO_ENABLED=0 "$GO" build -v -mod=mod -ldflags "-s -w" -o "$binary.tmp" . 2>&1) |
  tee "$log" | awk '{ if (++n % 20 == 0) { printf "."; fflush() } } END { if (n >= 20) print "" }' ||
  status=$?
[[ $status -eq 0 && -x $binary.tmp ]] || {
  tail -n 20 "$log" >&2
  die "the build failed (whole log: $log)"
}
mv -f "$binary.tmp" "$binary"
is_built || die "$binary does not say Consul $VERSION"
link_binary
say "built Consul $VERSION into $binary; linked to .tools/bin/consul"
