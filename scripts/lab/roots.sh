#!/usr/bin/env bash
# Builds (or reuses) a cached Debian root holding one database server, its own client and
# binlog tool, and openssh-server, for the lab's hosts to run from (`up.sh --server`).
#
# Usage: roots.sh [--cache DIR] [--rebuild] SERVER...
#   SERVER: mariadb-11.8 (Debian 13 "trixie") | mysql-8.4 (Debian unstable's MySQL, the
#   8.4-line SQL surface) | mariadb-10.11 (the machine's own packages: no root, prints "/").
# Prints the root's path for each SERVER on stdout, one per line. A root is rebuilt only when
# it is missing or its recipe (suite, packages, this script's version) changed.
# The mirror is the one the machine's own apt sources name (only that one is reachable).
set -euo pipefail
RECIPE_VERSION=1
cache=${LAB_ROOTS_CACHE:-/var/cache/ha-lab/roots}
rebuild=0
servers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cache) cache=$2; shift 2 ;;
    --rebuild) rebuild=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "roots.sh: unknown option $1" >&2; exit 2 ;;
    *) servers+=("$1"); shift ;;
  esac
done
[ ${#servers[@]} -gt 0 ] || { echo "roots.sh: name a server (mariadb-11.8, mysql-8.4)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "roots.sh: must run as root" >&2; exit 1; }

# The Debian mirror of the machine's own apt sources (deb822 URIs: or one-line deb form).
mirror() {
  local m
  m=$(grep -rhsE '^[[:space:]]*URIs:[[:space:]]*http' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
  if [ -z "$m" ]; then
    m=$(grep -rhsE '^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?http' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | sed -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' | awk '{print $1}' | grep -E '/debian/?$' | head -n1 || true)
  fi
  [ -n "$m" ] || { echo "roots.sh: no Debian mirror found in /etc/apt/sources.list*" >&2; exit 1; }
  echo "${m%/}"
}

# suite and packages per server. Both roots carry the server, its client (mysql/mariadb),
# its binlog tool (mysqlbinlog/mariadb-binlog), openssh-server and what the lab scripts use.
recipe() {
  local common=openssh-server,procps,iproute2
  case "$1" in
    mariadb-11.8) echo "trixie mariadb-server-core,mariadb-client,$common" ;;
    mysql-8.4) echo "sid mysql-server-core,mysql-client,$common" ;;
    *) echo "roots.sh: unknown server '$1' (mariadb-10.11, mariadb-11.8, mysql-8.4)" >&2; exit 2 ;;
  esac
}

build() {
  local server=$1 suite pkgs root stamp want m t0
  if [ "$server" = mariadb-10.11 ]; then echo /; return; fi
  read -r suite pkgs < <(recipe "$server")
  root=$cache/$server
  stamp=$root/.ha-lab-root
  want="v$RECIPE_VERSION $suite $pkgs"
  if [ $rebuild = 0 ] && [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ]; then
    echo "$root"; return
  fi
  command -v debootstrap >/dev/null || { echo "roots.sh: debootstrap missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
  m=$(mirror)
  mkdir -p "$cache"
  rm -rf "$root.tmp"
  t0=$(date +%s)
  echo "roots.sh: building $server root ($suite: $pkgs) from $m, about a minute" >&2
  # The packages' own services must not start inside the root.
  if ! debootstrap --variant=minbase --include="$pkgs" "$suite" "$root.tmp" "$m" >"$cache/$server.debootstrap.log" 2>&1; then
    echo "roots.sh: debootstrap of $server failed; see $cache/$server.debootstrap.log (last lines below)" >&2
    tail -n 15 "$cache/$server.debootstrap.log" >&2
    exit 1
  fi
  # Mount points the lab binds over, and no host keys baked into a shared root.
  mkdir -p "$root.tmp"/{var/lib/mysql,var/log/mysql,run/mysqld,run/sshd,etc/mysql,lab}
  rm -f "$root.tmp"/etc/ssh/ssh_host_*
  rm -rf "$root.tmp"/var/cache/apt/archives/*.deb
  chroot "$root.tmp" dpkg-query -W -f='${Package} ${Version}\n' >"$root.tmp/.ha-lab-packages" 2>/dev/null || true
  { echo "$want"; echo "built $(date -u +%FT%TZ) in $(( $(date +%s) - t0 )) s from $m"; } >"$root.tmp/.ha-lab-root"
  rm -rf "$root"
  mv "$root.tmp" "$root"
  echo "roots.sh: $server root ready in $(( $(date +%s) - t0 )) s" >&2
  echo "$root"
}

# Idempotent finishing steps, run on every call (cheap): the server's account (the Debian
# *-server-core packages do not create it) and the mount points the lab mounts over.
prepare() {
  local root=$1
  [ "$root" = / ] && return 0
  chroot "$root" getent passwd mysql >/dev/null ||
    chroot "$root" useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin mysql
  mkdir -p "$root"/{proc,dev,sys,run,tmp,root,.oldroot,var/lib/mysql,var/log/mysql,etc/mysql}
  [ -e "$root/etc/hosts" ] || : >"$root/etc/hosts"
}

for s in "${servers[@]}"; do
  r=$(build "$s")
  prepare "$r"
  echo "$r"
done
