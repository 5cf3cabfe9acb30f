#!/usr/bin/env bash
# Runs the whole test suite: unit and fake-driven tests, then the real-lab tests
# (MariaDB/MySQL servers replicating in network namespaces, reached over SSH):
# the whole lab suite on each server of HA_LAB_SERVERS, in order (default: MariaDB 10.11,
# the machine's own; then MySQL 9.7 and MariaDB 11.8 from cached debootstrap roots).
# On MariaDB 11.8 the dialect-sensitive part runs (failover, switch, checks, applied-ness,
# errant GTIDs, semi-sync, TLS, resume, cut and big transactions, the server matrix): the
# topology, daemon and option tests do not depend on the server's SQL and run on the other two,
# which keeps the whole run under an hour on 2 cores. HA_LAB_FULL=1 runs everything on 11.8 too.
# HA_LAB_SERVERS=mariadb-10.11 runs only today's lab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export HA_LAB_DIR=${HA_LAB_DIR:-/run/ha-lab}
servers=${HA_LAB_SERVERS:-mariadb-10.11 mysql-8.4 mariadb-11.8}
start=$(date +%s)
cargo build --all-targets --quiet
echo "== tier 1 and 2: unit and fake-driven tests"
cargo test --quiet --all-targets
# One lab per machine (namespace names are global): wait for anyone else using it.
exec 9>/run/ha-lab.lock
flock 9
trap 'bash scripts/lab/down.sh --dir "$HA_LAB_DIR" >/dev/null 2>&1 || true' EXIT
failed=()
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
	only=()
	if [[ $server == mariadb-11.8 && ${HA_LAB_FULL:-0} != 1 ]]; then
		only=(lab_failover:: lab_switch:: lab_checks:: lab_applied:: lab_errant:: lab_semisync::
			lab_tls:: lab_servers:: lab_resume:: lab_cut_trx:: lab_bigtx::
			lab_auto::kill9 lab_auto::candidate_without_ssh)
	fi
	# A failing server does not stop the others: every server's result is known at the end.
	if cargo test --quiet --test integration -- --ignored --test-threads=1 "${skip[@]}" "${only[@]}"; then
		echo "== lab on $server passed in $(($(date +%s) - t1))s"
	else
		echo "== lab on $server FAILED after $(($(date +%s) - t1))s"
		failed+=("$server")
	fi
done
if ((${#failed[@]})); then
	echo "== the lab failed on: ${failed[*]} (after $(( $(date +%s) - start ))s)"
	exit 1
fi
echo "== all tests passed in $(( $(date +%s) - start ))s"
