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

NAME=traefik
VERSION=v3.6.12
MODULE=github.com/traefik/traefik/v3
# shellcheck source=source-build.sh
source "$root/scripts/source-build.sh"

# is_built: the binary there says this version (captured first, for the reason consul.sh gives).
is_built() {
  local said
  [[ -x $binary ]] && said=$("$binary" version 2>/dev/null) && [[ $said == *"Version:"*"${VERSION#v}"* ]]
}

if is_built; then
  link_binary
  exit 0
fi
require_go

say "building Traefik $VERSION from source: ~10 min and ~2 GB the first time (Go module cache and build cache)"
dir=$(module_dir "$MODULE@$VERSION")
[[ -n $dir ]] || die "go mod download $MODULE@$VERSION found nothing"
[[ -f $dir/LICENSE.md ]] && grep -q "The MIT License" "$dir/LICENSE.md" ||
  die "refusing to build: $MODULE@$VERSION is not under the MIT licence ($dir/LICENSE.md)"
say "licence checked: traefik is MIT"

writable_copy "$dir" go.mod
compile ./cmd/traefik "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${VERSION#v}"
