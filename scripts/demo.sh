#!/usr/bin/env bash
# The main job on a sandbox: build, bring up a 3-host MariaDB cluster in network
# namespaces, check it, start the manager, kill -9 the master under a writer,
# show the failover report and count the acknowledged rows on the new master.
# The lab stays up afterwards (remove it with: bash scripts/lab/down.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dir=${HA_LAB_DIR:-/run/ha-lab}
cargo build --release --quiet
bin=$PWD/target/release/ha-manager
conf=$dir/app1.cnf
bash scripts/lab/up.sh --hosts 3 --mode gtid --dir "$dir"

echo; echo "== ha-manager check-ssh --conf $conf"
"$bin" check-ssh --conf "$conf"
echo; echo "== ha-manager check-repl --conf $conf"
"$bin" check-repl --conf "$conf"

echo; echo "== ha-manager start --conf $conf --exit-after-failover   (log: $dir/manager.log)"
"$bin" start --conf "$conf" --exit-after-failover >"$dir/manager.log" 2>&1 &
manager=$!
writer=
cleanup() {
	[ -n "$writer" ] && kill "$writer" 2>/dev/null || true
	kill "$manager" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
	"$bin" status --conf "$conf" >/dev/null 2>&1 && break
	sleep 0.2
done
"$bin" status --conf "$conf"

# The application: one row at a time, as the app user (read_only applies to it),
# on whichever server accepts writes; an id counts only once the server said OK.
: >"$dir/acked"
(
	id=1
	while :; do
		for host in 198.18.0.11 198.18.0.12 198.18.0.13; do
			if MYSQL_PWD=apppass mariadb --connect-timeout=1 -h"$host" -uapp \
				-e "INSERT INTO test.t VALUES ($id, 'demo')" 2>/dev/null; then
				echo "$id $host" >>"$dir/acked"
				id=$((id + 1))
				break
			fi
		done
	done
) &
writer=$!
sleep 3
echo; echo "== $(wc -l <"$dir/acked") rows written on db1; now: kill -9 db1's mysqld"
bash scripts/lab/fault.sh --dir "$dir" kill-mysqld db1
set +e
wait "$manager"
code=$?
set -e
manager=
sleep 2
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
writer=
echo; echo "== the manager exited with $code; its report:"
sed -n '/----- Failover Report -----/,$p' "$dir/manager.log"

new=
for i in 2 3; do
	if [ "$(bash scripts/lab/sql.sh --dir "$dir" "db$i" 'SELECT @@read_only')" = 0 ]; then new=db$i; fi
done
[ -n "$new" ] || { echo "no writable new master found" >&2; exit 1; }
acked=$(wc -l <"$dir/acked")
present=$(bash scripts/lab/sql.sh --dir "$dir" "$new" "SELECT id FROM test.t" | sort -n)
lost=$(cut -d' ' -f1 "$dir/acked" | sort -n | comm -23 - <(echo "$present") | wc -l)
echo
echo "== rows acknowledged to the writer: $acked; on the new master ($new): $(echo "$present" | wc -l); acknowledged rows lost: $lost"
echo "The lab is still up: $conf. Remove it with: bash scripts/lab/down.sh --dir $dir"
[ "$code" = 0 ] && [ "$lost" = 0 ]
