#!/usr/bin/env bash
# `npm run generate`: TypeScript (gen/ts, buf.gen.yaml) and Go (gen/go, buf.gen.go.yaml) from proto/.
# The Go plugins are pinned in scripts/setup.sh; gen/go/go.mod is kept, the code under gen/go/ftgo rewritten.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/go-env.sh
source scripts/go-env.sh
for plugin in protoc-gen-go protoc-gen-go-grpc; do
  command -v "$plugin" >/dev/null || { echo "generate: $plugin is missing: run scripts/setup.sh" >&2; exit 1; }
done
npx buf generate
rm -rf gen/go/ftgo
npx buf generate --template buf.gen.go.yaml
