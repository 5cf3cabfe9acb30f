#!/bin/bash
# tls.sh - make the lab's TLS files: a CA and one server certificate per host (SAN IP 198.18.0.(10+i)).
#
# Usage: tls.sh [--dir DIR] [--hosts N]     (writes DIR/tls/: ca.pem, ca.key, db<i>.pem, db<i>.key)
#   Test-only keys, valid 30 days, made fresh with every lab; up.sh --tls runs this and installs them.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

hosts=3
while (($#)); do
	case "$1" in
	--dir) lab_set_dir "${2:?--dir needs a value}"; shift 2 ;;
	--dir=*) lab_set_dir "${1#*=}"; shift ;;
	--hosts) hosts=${2:?--hosts needs a value}; shift 2 ;;
	--hosts=*) hosts=${1#*=}; shift ;;
	-h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	*) echo "tls.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
if ! [[ $hosts =~ ^[0-9]+$ ]] || ((hosts < 1 || hosts > 50)); then
	die "--hosts must be 1..50 (got '$hosts')"
fi
command -v openssl >/dev/null || die "required command 'openssl' not found"
lab_set_dir "$LAB_DIR"
[[ -d $LAB_DIR ]] || die "lab dir $LAB_DIR does not exist"

t=$LAB_DIR/tls
mkdir -p "$t"
chmod 0755 "$t"
# Everything below is argv: no value reaches a shell.
quiet() { # CMD... : run it, show its output only when it fails
	local out
	out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; die "failed: $*"; }
}
quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 30 \
	-keyout "$t/ca.key" -out "$t/ca.pem" -subj "/CN=ha-manager lab CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
for ((i = 1; i <= hosts; i++)); do
	ip=$(host_ip "$i")
	# The name a replica or the manager checks is the address it connects to: the IP.
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth,clientAuth" \
		"subjectAltName=IP:$ip,DNS:db$i" >"$t/db$i.ext"
	quiet openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
		-keyout "$t/db$i.key" -out "$t/db$i.csr" -subj "/CN=$ip"
	quiet openssl x509 -req -sha256 -days 30 -in "$t/db$i.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
		-set_serial "$((1000 + i))" -extfile "$t/db$i.ext" -out "$t/db$i.pem"
	rm -f "$t/db$i.csr" "$t/db$i.ext"
	quiet openssl verify -CAfile "$t/ca.pem" "$t/db$i.pem"
done
chmod 0600 "$t"/*.key
chmod 0644 "$t"/*.pem
log "TLS: CA $t/ca.pem and server certificates db1..db$hosts (SAN IP $(host_ip 1)..$(host_ip "$hosts"))"
