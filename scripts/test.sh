#!/usr/bin/env bash
# Runs the whole test suite: unit and fake-driven tests, then the real-lab tests
# (MariaDB servers replicating in network namespaces, reached over SSH).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export HA_LAB_DIR=${HA_LAB_DIR:-/run/ha-lab}
start=$(date +%s)
cargo build --all-targets --quiet
echo "== tier 1 and 2: unit and fake-driven tests"
cargo test --quiet --all-targets
echo "== tier 3: the lab ($HA_LAB_DIR)"
# One lab per machine (namespace names are global): wait for anyone else using it.
exec 9>/run/ha-lab.lock
flock 9
trap 'bash scripts/lab/down.sh --dir "$HA_LAB_DIR" >/dev/null 2>&1 || true' EXIT
bash scripts/lab/up.sh --hosts 3 --mode gtid --dir "$HA_LAB_DIR"
# Lab tests share one cluster and change it: one at a time.
cargo test --quiet --test integration -- --ignored --test-threads=1
echo "== all tests passed in $(( $(date +%s) - start ))s"
