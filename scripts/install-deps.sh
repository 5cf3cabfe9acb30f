#!/usr/bin/env bash
# Installs the Debian packages the lab and the tests need (idempotent; root only).
set -euo pipefail
# debootstrap builds the lab's MariaDB 11.8 and MySQL roots (scripts/lab/roots.sh).
# openssl makes the certificates of `up.sh --tls` (scripts/lab/tls.sh).
pkgs=(mariadb-server mariadb-client openssh-server openssh-client iproute2 procps util-linux psmisc debootstrap openssl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  # The packages' own services are not wanted: the lab starts its own servers.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
