#!/usr/bin/env bash
# The mesh's own certificate authority, for SECURE=1 (docs/security.md). With the openssl CLI only:
#
#   scripts/pki.sh init         the CA and one certificate per mesh identity (idempotent: keeps what exists)
#   scripts/pki.sh cert NAME    a learner's client certificate, CN=NAME, to call the services with grpcurl
#
# Files go to FTGO_PKI_DIR (default .pki at the repository root): ca.crt, ca.key, and <name>.crt/<name>.key
# for each identity. A certificate's subject is /O=ftgo/OU=<role>/CN=<name>: the role (service, gateway,
# courier, admin, learner, broker, registry) is what the access table (proto/access.json) grants methods to, the
# name is who the caller is. Each also carries the e-mail name <name>@ftgo.mesh, by which nats-server maps a client
# certificate to its NATS user (verify_and_map), and localhost, 127.0.0.1 and its own name as host names, so that
# any of them can serve on this machine or, under docker compose, at the host name of its container. The broker's
# (nats) also names nats-2 and nats-3: docker-compose.cluster.yml runs three broker nodes under those host names,
# and their routes to each other present this one certificate, checked against the host name each route dials.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${FTGO_PKI_DIR:-$root/.pki}"
days=825

# Every identity of the mesh, as role:name.
identities=(
  service:order service:consumer service:kitchen service:accounting service:delivery service:loyalty
  gateway:gateway
  courier:courier-1 courier:courier-2 courier:courier-3
  admin:admin
  broker:nats registry:consul
)

die() { echo "pki: $*" >&2; exit 2; }

# extra_hosts NAME: host names NAME's certificate carries beyond localhost and NAME (the broker's cluster nodes).
extra_hosts() { [[ "$1" == nats ]] && echo "nats-2 nats-3" || true; }

# current NAME: its key and certificate exist, and the certificate names every extra host. A broker certificate
# from before the cluster nodes is issued again rather than kept: routes to nats-2 would fail its host name check.
current() {
  local name="$1" have host
  [[ -s "$dir/$name.crt" && -s "$dir/$name.key" ]] || return 1
  have="$(openssl x509 -in "$dir/$name.crt" -noout -ext subjectAltName 2>/dev/null | tr -d ' \n')," || return 1
  for host in $(extra_hosts "$name"); do [[ "$have" == *[:,]"DNS:$host,"* ]] || return 1; done
}

ensure_ca() {
  mkdir -p "$dir"
  chmod 700 "$dir"
  [[ -s "$dir/ca.crt" && -s "$dir/ca.key" ]] && return
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -days 3650 \
    -subj "/O=ftgo/OU=ca/CN=ftgo-mesh local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  chmod 600 "$dir/ca.key"
  echo "pki: created the mesh CA in $dir"
}

# issue ROLE NAME: a key and a certificate signed by the CA, for both TLS server and client use.
issue() {
  local role="$1" name="$2"
  [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ ]] || die "NAME must be 1-64 letters, digits, '-' or '_' (got '$name')"
  current "$name" && return
  local ext dns="DNS:localhost,DNS:$name" host
  for host in $(extra_hosts "$name"); do dns+=",DNS:$host"; done
  ext="$(mktemp)"
  trap 'rm -f "$ext"' RETURN
  cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$dns,IP:127.0.0.1,IP:::1,email:$name@ftgo.mesh
EOF
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 \
    -subj "/O=ftgo/OU=$role/CN=$name" -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr"
  chmod 600 "$dir/$name.key"
}

command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"
# One writer at a time: two `make up`s or tests starting together must not each write half of a key pair.
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
case "${1:-}" in
  init)
    ensure_ca
    for identity in "${identities[@]}"; do issue "${identity%%:*}" "${identity#*:}"; done
    ;;
  cert)
    [[ -n "${2:-}" ]] || die "usage: scripts/pki.sh cert NAME"
    for identity in "${identities[@]}"; do
      [[ "${identity#*:}" == "$2" ]] && die "'$2' is a mesh identity; a learner's certificate needs another name"
    done
    ensure_ca
    issue learner "$2"
    echo "pki: $dir/$2.crt and $dir/$2.key (CN=$2, OU=learner), signed by $dir/ca.crt"
    ;;
  *) die "usage: scripts/pki.sh init | cert NAME" ;;
esac
