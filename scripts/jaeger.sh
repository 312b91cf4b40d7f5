#!/usr/bin/env bash
# `make jaeger`: builds Jaeger v1.75.0 (Apache-2.0; a Jaeger v2 binary) from its Go module into
# ${XDG_CACHE_HOME:-~/.cache}/ftgo-mesh/jaeger-v1.75.0/jaeger, and links it to the gitignored .tools/bin/jaeger
# that `make up` and the tests run. A no-op when the binary there was built from v1.75.0. Run with no --config it
# is all-in-one: an in-memory store, OTLP on :4317 (gRPC) and :4318 (HTTP), the query API on :16686. The web UI's
# built assets are not in the Go module, so its page is a placeholder: the query API works, and `npm run trace`
# and the dashboard show traces from it (docs/observability.md says how to point a full Jaeger UI at it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

NAME=jaeger
VERSION=v1.75.0
MODULE=github.com/jaegertracing/jaeger
# shellcheck source=source-build.sh
source "$root/scripts/source-build.sh"

# is_built: the binary there was built from this version of the module (Go records it: `go version -m`).
is_built() {
  local said
  [[ -x $binary ]] && [[ -n ${GO:-} ]] && said=$("$GO" version -m "$binary" 2>/dev/null) &&
    grep -qE "^\s+(mod|dep)\s+$MODULE\s+$VERSION\s" <<<"$said"
}

# shellcheck source=go-env.sh
source "$root/scripts/go-env.sh"
if is_built; then
  link_binary
  exit 0
fi
require_go

say "building Jaeger $VERSION from source: ~10 min and ~4 GB the first time (Go module cache and build cache)"
dir=$(module_dir "$MODULE@$VERSION")
[[ -n $dir ]] || die "go mod download $MODULE@$VERSION found nothing"
grep -q "Apache License" "$dir/LICENSE" || die "refusing to build: $MODULE@$VERSION is not under the Apache licence ($dir/LICENSE)"
say "licence checked: jaeger is Apache-2.0"

# Jaeger is built as a tool of a small module of our own, which pins it and lets Go resolve its dependencies.
if [[ ! -f $src/go.mod ]] || ! grep -q "$MODULE $VERSION" "$src/go.mod"; then
  rm -rf "$src"
  mkdir -p "$src"
  (cd "$src" && "$GO" mod init ftgo-mesh/jaeger-build >/dev/null 2>&1 && "$GO" get -tool "$MODULE/cmd/jaeger@$VERSION")
fi
compile "$MODULE/cmd/jaeger" "-s -w"
