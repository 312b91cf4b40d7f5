# Sourced, not run: finds Go and the folder `go install` writes to, and puts that folder first on PATH.
# Sets GO (empty when Go is missing) and GO_BIN. Used by setup.sh, generate.sh and the Makefile's Go targets.
GO=$(command -v go || { [[ -x /usr/local/go/bin/go ]] && echo /usr/local/go/bin/go; } || true)
GO_BIN=""
if [[ -n $GO ]]; then
  GO_BIN=$("$GO" env GOBIN)
  GO_BIN=${GO_BIN:-$("$GO" env GOPATH | cut -d: -f1)/bin}
  export PATH="$GO_BIN:$(dirname "$GO"):$PATH"
fi
