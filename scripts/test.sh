#!/usr/bin/env bash
# Runs the whole test suite: unit and fake-driven tests, then the real-lab tests
# (MariaDB/MySQL servers replicating in network namespaces, reached over SSH):
# the whole lab suite on each server of HA_LAB_SERVERS, in order (default: MariaDB 10.11,
# the machine's own; then MySQL 9.7 from a cached debootstrap root; mariadb-11.8 on request).
# HA_LAB_SERVERS=mariadb-10.11 runs only today's lab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export HA_LAB_DIR=${HA_LAB_DIR:-/run/ha-lab}
# mariadb-11.8 is not in the default yet: 5 lab tests fail there (binlog salvage, scripts/lab/README.md).
servers=${HA_LAB_SERVERS:-mariadb-10.11 mysql-8.4}
start=$(date +%s)
cargo build --all-targets --quiet
echo "== tier 1 and 2: unit and fake-driven tests"
cargo test --quiet --all-targets
# One lab per machine (namespace names are global): wait for anyone else using it.
exec 9>/run/ha-lab.lock
flock 9
trap 'bash scripts/lab/down.sh --dir "$HA_LAB_DIR" >/dev/null 2>&1 || true' EXIT
for server in $servers; do
	t0=$(date +%s)
	# A missing root is built here (about a minute), outside the timed lab run.
	[[ $server == mariadb-10.11 ]] || bash scripts/lab/roots.sh "$server" >/dev/null
	t1=$(date +%s)
	echo "== tier 3: the lab on $server ($HA_LAB_DIR; root ready in $((t1 - t0))s)"
	bash scripts/lab/up.sh --hosts 3 --mode gtid --server "$server" --dir "$HA_LAB_DIR"
	# Lab tests share one cluster and change it: one at a time.
	skip=()
	if [[ $server == mysql-8.4 ]]; then
		# The gigabyte-log tests (lab_biglogs, ~1 GB in each host's tmpfs) run on MariaDB only,
		# to keep the suite's time and memory down. Everything else runs on both.
		for t in lab_biglogs::; do
			skip+=(--skip "$t")
		done
	fi
	cargo test --quiet --test integration -- --ignored --test-threads=1 "${skip[@]}"
	echo "== lab on $server passed in $(($(date +%s) - t1))s"
done
echo "== all tests passed in $(( $(date +%s) - start ))s"
