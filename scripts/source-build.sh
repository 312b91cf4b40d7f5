# Sourced, not run: what scripts/consul.sh and scripts/traefik.sh share to build a server program from its Go
# module source into ${XDG_CACHE_HOME:-~/.cache}/ftgo-mesh/<name>-<version>/<name> and link it to the gitignored
# .tools/bin/<name>, where the harness and up.ts find it. The caller sets NAME and VERSION, sources this file,
# and defines is_built (the binary there says that version).
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ftgo-mesh/$NAME-$VERSION
binary=$cache/$NAME
src=$cache/src
link=$root/.tools/bin/$NAME

say() { echo "$NAME: $*"; }
die() { echo "$NAME: $*" >&2; exit 1; }

link_binary() {
  mkdir -p "$(dirname "$link")"
  ln -sfn "$binary" "$link"
}

# require_go: sets GO, or stops saying how to get it.
require_go() {
  # shellcheck source=go-env.sh
  source "$root/scripts/go-env.sh"
  [[ -n $GO ]] ||
    die "Go is missing, and $NAME $VERSION is built from source with it: install Go 1.26 or newer (https://go.dev/dl/) and rerun \`make $NAME\`."
}

# module_dir <module@version>: where the module cache holds it (downloading it if needed).
module_dir() {
  "$GO" mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}

# writable_copy <dir> <marker>: a fresh, writable copy of the module source in $src, unless the copy there
# already has the same <marker> file (`go build -mod=mod` records what it fetches in the copy's go.sum).
writable_copy() {
  if [[ ! -f $src/go.mod ]] || ! cmp -s "$1/$2" "$src/$2"; then
    rm -rf "$src"
    mkdir -p "$cache"
    cp -r "$1" "$src"
    chmod -R u+w "$src"
  fi
}

# compile <package> <ldflags>: go build in $src into $binary, the log kept in the cache and a dot per 20
# packages on the terminal (go build -v names each package as it compiles it); then links it.
compile() {
  local log=$cache/build.log status=0
  say "compiling (log: $log); a dot per 20 packages"
  (cd "$src" && CGO_ENABLED=0 "$GO" build -v -mod=mod -trimpath -ldflags "$2" -o "$binary.tmp" "$1" 2>&1) |
    tee "$log" | awk '{ if (++n % 20 == 0) { printf "."; fflush() } } END { if (n >= 20) print "" }' ||
    status=$?
  [[ $status -eq 0 && -x $binary.tmp ]] || {
    tail -n 20 "$log" >&2
    die "the build failed (whole log: $log)"
  }
  mv -f "$binary.tmp" "$binary"
  is_built || die "$binary does not say $NAME $VERSION"
  link_binary
  say "built $NAME $VERSION into $binary; linked to .tools/bin/$NAME"
}
