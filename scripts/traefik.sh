#!/usr/bin/env bash
# `make traefik`: builds Traefik v3.6.12 (MIT), the router of server-side discovery (DISCOVERY=server), from
# its Go module source into ${XDG_CACHE_HOME:-~/.cache}/ftgo-mesh/traefik-v3.6.12/traefik, and links it to the
# gitignored .tools/bin/traefik that the harness and `make up DISCOVERY=server` run. A no-op when the binary
# there already says v3.6.12. Why 3.6 and not 3.7: v3.7's go.mod replaces a nested module
# (github.com/traefik/traefik/dynamic/ext) with a local folder that its module zip lacks, and that module is
# not published, so 3.7 cannot be built from the Go module proxy; 3.6.12 has no such replace. The web UI's
# built assets are not in the module either: the router works and its API answers, the dashboard page does not.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

VERSION=v3.6.12
MODULE=github.com/traefik/traefik/v3
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ftgo-mesh/traefik-$VERSION
binary=$cache/traefik
src=$cache/src
link=$root/.tools/bin/traefik

say() { echo "traefik: $*"; }
die() { echo "traefik: $*" >&2; exit 1; }

# is_built: the binary there says this version (captured first, for the reason consul.sh gives).
is_built() {
  local said
  [[ -x $binary ]] && said=$("$binary" version 2>/dev/null) && [[ $said == *"Version:"*"${VERSION#v}"* ]]
}

link_binary() {
  mkdir -p "$(dirname "$link")"
  ln -sfn "$binary" "$link"
}

if is_built; then
  link_binary
  exit 0
fi

# shellcheck source=go-env.sh
source "$root/scripts/go-env.sh"
[[ -n $GO ]] ||
  die "Go is missing, and Traefik $VERSION is built from source with it: install Go 1.26 or newer (https://go.dev/dl/) and rerun \`make traefik\`."

say "building Traefik $VERSION from source: ~10 min and ~2 GB the first time (Go module cache and build cache)"
dir=$("$GO" mod download -json "$MODULE@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -n $dir ]] || die "go mod download $MODULE@$VERSION found nothing"
[[ -f $dir/LICENSE.md ]] && grep -q "The MIT License" "$dir/LICENSE.md" ||
  die "refusing to build: $MODULE@$VERSION is not under the MIT licence ($dir/LICENSE.md)"
say "licence checked: traefik is MIT"

# A writable copy of the module source: `go build -mod=mod` records the checksums it fetches in go.sum.
if [[ ! -f $src/go.mod ]] || ! cmp -s "$dir/go.mod" "$src/go.mod"; then
  rm -rf "$src"
  mkdir -p "$cache"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
fi

log=$cache/build.log
say "compiling (log: $log); a dot per 20 packages"
status=0
(cd "$src" && CGO_ENABLED=0 "$GO" build -v -mod=mod -trimpath \
  -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${VERSION#v}" \
  -o "$binary.tmp" ./cmd/traefik 2>&1) |
  tee "$log" | awk '{ if (++n % 20 == 0) { printf "."; fflush() } } END { if (n >= 20) print "" }' ||
  status=$?
[[ $status -eq 0 && -x $binary.tmp ]] || {
  tail -n 20 "$log" >&2
  die "the build failed (whole log: $log)"
}
mv -f "$binary.tmp" "$binary"
is_built || die "$binary does not say Traefik $VERSION"
link_binary
say "built Traefik $VERSION into $binary; linked to .tools/bin/traefik"
