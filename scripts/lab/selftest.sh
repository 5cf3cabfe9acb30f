#!/bin/bash
# selftest.sh - bring the lab up, check that it and every fault action work as documented, tear it down, check nothing is left.
#
# Usage: selftest.sh [--mode gtid|filepos] [--hosts N] [--dir DIR]     (N >= 3)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

mode=gtid
hosts=3
while (($#)); do
	case "$1" in
	--mode) mode=${2:?}; shift 2 ;;
	--hosts) hosts=${2:?}; shift 2 ;;
	--dir) lab_set_dir "${2:?}"; shift 2 ;;
	*) sed -n '4p' "$0" | sed 's/^# //' >&2; exit 2 ;;
	esac
done
((hosts >= 3)) || die "selftest needs at least 3 hosts"

pass=0
ok() {
	pass=$((pass + 1))
	printf '[selftest] ok %2d - %s\n' "$pass" "$*"
}
fail() {
	printf '[selftest] FAILED - %s\n' "$*" >&2
	"$HERE/fault.sh" --dir "$LAB_DIR" status >&2 || true
	exit 1
}
D=(--dir "$LAB_DIR")
secs() { # elapsed seconds of a command, printed to stdout; the command's output goes to stderr
	local t0=${EPOCHREALTIME/./}
	"$@" >&2
	local us=$((${EPOCHREALTIME/./} - t0))
	printf '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000))
}
SSH=(ssh -i "$LAB_DIR/id_ed25519" -o "UserKnownHostsFile=$LAB_DIR/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=3)
MYSQL=(mariadb --connect-timeout=3 -uhauser -phapass -N -B)
io_is() { [[ $(hostexec_i "${1#db}" mariadb -uroot -e 'SHOW SLAVE STATUS\G' | awk -F': ' '/ Slave_IO_Running:/{print $2}') == "$2" ]]; }
row_on() { [[ $("$HERE/sql.sh" "${D[@]}" "$1" "SELECT v FROM test.t WHERE id=$2") == "$3" ]]; }
tcp_times_out() { # IP PORT: a connect from the root namespace gets no answer within 3 s
	local rc=0
	timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null || rc=$?
	((rc == 124))
}

# ---------------------------------------------------------------- up
t_up=$(secs "$HERE/up.sh" "${D[@]}" --mode "$mode" --hosts "$hosts")
ok "up.sh --mode $mode --hosts $hosts took ${t_up}s"
# shellcheck disable=SC1091
source "$LAB_DIR/lab.env"

# ---------------------------------------------------------------- hosts, ssh, sql
out=$("${SSH[@]}" root@198.18.0.12 'hostname; ls /var/lib/mysql; mariadb -N -e "show slave status\G" | head')
if ! { grep -q '^db2$' <<<"$out" && grep -q 'relay-bin.000' <<<"$out" && grep -q '198.18.0.11' <<<"$out"; }; then
	fail "ssh to db2 did not show db2's own datadir and slave status: $out"
fi
out1=$("${SSH[@]}" root@198.18.0.11 'hostname; ls /var/lib/mysql')
if ! grep -q '^db1$' <<<"$out1" || grep -q 'relay-bin' <<<"$out1"; then
	fail "db1's datadir looks like a slave's: $out1"
fi
ok "ssh (strict host key checking) reaches each host's own files (db2 has relay logs, db1 has none)"

"${SSH[@]}" root@198.18.0.11 'echo db1-only >/tmp/selftest-marker'
[[ ! -e /tmp/selftest-marker ]] || fail "db1's /tmp is the root namespace's /tmp"
"${SSH[@]}" root@198.18.0.12 'test ! -e /tmp/selftest-marker' || fail "db1's /tmp is shared with db2"
[[ $("${SSH[@]}" root@198.18.0.11 'cat /tmp/selftest-marker; wc -c <~/.bashrc') == $'db1-only\n0' ]] ||
	fail "db1's /tmp or empty ~/.bashrc not as expected"
ok "/tmp is private per host; ~/.bashrc on hosts is empty"

[[ $("${SSH[@]}" root@198.18.0.11 "ssh -o BatchMode=yes -o ConnectTimeout=3 root@198.18.0.13 hostname") == db3 ]] ||
	fail "host-to-host ssh db1 -> db3"
[[ $("${SSH[@]}" root@198.18.0.13 "ssh -o BatchMode=yes -o ConnectTimeout=3 db2 hostname") == db2 ]] ||
	fail "host-to-host ssh db3 -> db2 by name"
ok "host-to-host ssh works (db1 -> 198.18.0.13, db3 -> db2 by name)"
[[ $("${SSH[@]}" root@198.18.0.12 "mariadb -uroot -N -e 'select current_user()'") == root@localhost ]] ||
	fail "mariadb -uroot over ssh on db2 (unix_socket auth)"
ok "over ssh, plain 'mariadb -uroot' connects via the socket as root@localhost"

[[ $("${MYSQL[@]}" -h198.18.0.11 -e 'select @@server_id') == 1 ]] || fail "hauser@198.18.0.11 select @@server_id"
for ((i = 2; i <= hosts; i++)); do
	[[ $("${MYSQL[@]}" -h"$(host_ip "$i")" -e 'select concat(@@server_id, @@read_only+0)') == "${i}1" ]] ||
		fail "db$i: server_id/read_only over TCP as hauser"
done
want_gtid=Slave_Pos want_strict=1
[[ $mode == filepos ]] && want_gtid=No want_strict=0
for ((i = 2; i <= hosts; i++)); do
	[[ $(hostexec_i "$i" mariadb -uroot -e 'SHOW SLAVE STATUS\G' | awk -F': ' '/ Using_Gtid:/{print $2}') == "$want_gtid" ]] ||
		fail "db$i: Using_Gtid is not $want_gtid"
	[[ $("$HERE/sql.sh" "${D[@]}" "db$i" "SELECT @@gtid_strict_mode+0") == "$want_strict" ]] || fail "db$i: gtid_strict_mode"
done
ok "hauser reaches every host over TCP; server_id=i; read_only=1 on slaves; Using_Gtid=$want_gtid"

"$HERE/sql.sh" "${D[@]}" db1 "INSERT INTO test.t VALUES (1, 'first')"
for ((i = 2; i <= hosts; i++)); do
	wait_until 10 "row 1 on db$i" row_on "db$i" 1 first || fail "insert on db1 did not reach db$i"
done
ok "an insert on db1 appears on db2..db$hosts"

# ---------------------------------------------------------------- cut-manager
"$HERE/fault.sh" "${D[@]}" cut-manager db1
tcp_times_out 198.18.0.11 3306 || fail "after cut-manager db1, connecting to 198.18.0.11:3306 did not time out"
tcp_times_out 198.18.0.11 22 || fail "after cut-manager db1, connecting to 198.18.0.11:22 did not time out"
sleep 5 # a few seconds, as a monitor's confirmation would wait
io_is db2 Yes || fail "db2 IO thread not Yes while only the manager's path to db1 is cut"
"$HERE/sql.sh" "${D[@]}" db1 "INSERT INTO test.t VALUES (2, 'during-cut')"
wait_until 10 "row 2 on db2" row_on db2 2 during-cut || fail "replication stopped during cut-manager"
"$HERE/fault.sh" "${D[@]}" heal-manager db1
[[ $("${MYSQL[@]}" -h198.18.0.11 -e 'select 1') == 1 ]] || fail "manager cannot reach db1 after heal-manager"
ok "cut-manager db1: manager's connects time out, db2 keeps replicating; heal-manager restores"

# ---------------------------------------------------------------- link-down
"$HERE/fault.sh" "${D[@]}" link-down db1
tcp_times_out 198.18.0.11 3306 || fail "db1 still reachable from the manager after link-down"
rc=0
hostexec_i 2 timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe 198.18.0.11 3306 2>/dev/null || rc=$?
((rc == 124)) || fail "after link-down db1, a connect from db2 to 198.18.0.11:3306 did not time out (rc=$rc)"
# Server defaults (slave_net_timeout=60): the loss is silent, the IO threads still say Yes.
io_is db2 Yes || fail "db2 IO thread not Yes right after a silent link-down (is slave_net_timeout tuned?)"
"$HERE/fault.sh" "${D[@]}" link-up db1
"$HERE/sql.sh" "${D[@]}" db1 "INSERT INTO test.t VALUES (5, 'after-link-up')"
wait_until 30 "row 5 on db2" row_on db2 5 after-link-up || fail "replication did not go on after link-up"
ok "link-down db1: no answer from the manager or db2 while db2's IO thread still says Yes; link-up: replication goes on"

# ---------------------------------------------------------------- kill / start mysqld
pid=$(cut -d' ' -f1 "$LAB_DIR/db1/mariadbd.pid")
"$HERE/fault.sh" "${D[@]}" kill-mysqld db1
[[ ! -e $LAB_DIR/db1/mariadbd.pid ]] || fail "pid file still there after kill-mysqld"
[[ $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || echo gone) =~ ^(gone|Z)$ ]] || fail "mariadbd $pid still alive"
wait_until 10 "db2 IO Connecting after kill-mysqld db1" io_is db2 Connecting || fail "kill-mysqld"
t_start=$(secs "$HERE/fault.sh" "${D[@]}" start-mysqld db1)
wait_until 10 "db2 IO Yes after start-mysqld db1" io_is db2 Yes || fail "start-mysqld"
"$HERE/sql.sh" "${D[@]}" db1 "INSERT INTO test.t VALUES (3, 'after-restart')"
wait_until 10 "row 3 on db3" row_on db3 3 after-restart || fail "replication after start-mysqld"
ok "kill-mysqld db1 (pid $pid gone, slaves Connecting); start-mysqld db1 took ${t_start}s; replication resumes"

# ---------------------------------------------------------------- stop / start mysqld
"$HERE/fault.sh" "${D[@]}" stop-mysqld db3
hostexec_i 3 grep -q 'Shutdown complete' /var/log/mysql/error.log || fail "stop-mysqld db3 was not a clean shutdown"
"$HERE/fault.sh" "${D[@]}" start-mysqld db3
wait_until 10 "db3 IO Yes after restart" io_is db3 Yes || fail "db3 replication after restart"
ok "stop-mysqld db3 (clean shutdown) / start-mysqld db3"

# ---------------------------------------------------------------- freeze / thaw
"$HERE/fault.sh" "${D[@]}" freeze-mysqld db2
rc=0
timeout 4 "${MYSQL[@]}" -h198.18.0.12 -e 'select 1' >/dev/null 2>&1 || rc=$?
((rc != 0)) || fail "frozen db2 answered a query"
"$HERE/fault.sh" "${D[@]}" thaw-mysqld db2
wait_until 10 "db2 answering after thaw" "${MYSQL[@]}" -h198.18.0.12 -e 'select 1' || fail "thaw"
ok "freeze-mysqld db2: queries hang; thaw-mysqld: answers again"

# ---------------------------------------------------------------- sshd
"$HERE/fault.sh" "${D[@]}" stop-sshd db2
! "${SSH[@]}" root@198.18.0.12 true 2>/dev/null || fail "ssh to db2 works after stop-sshd"
"$HERE/fault.sh" "${D[@]}" start-sshd db2
"${SSH[@]}" root@198.18.0.12 true || fail "ssh to db2 fails after start-sshd"
ok "stop-sshd / start-sshd db2"

# ---------------------------------------------------------------- slave threads
"$HERE/fault.sh" "${D[@]}" stop-io db2
io_is db2 No || fail "stop-io"
"$HERE/fault.sh" "${D[@]}" stop-sql db2
[[ $("$HERE/sql.sh" "${D[@]}" db2 "SHOW SLAVE STATUS\G" | wc -l) -gt 10 ]] || fail "show slave status on db2"
"$HERE/fault.sh" "${D[@]}" start-slave db2
wait_until 10 "db2 IO Yes after start-slave" io_is db2 Yes || fail "start-slave"
"$HERE/fault.sh" "${D[@]}" lag db3 1
wait_until 10 "db3 IO Yes after lag" io_is db3 Yes || fail "lag"
ok "stop-io / stop-sql / start-slave / lag"

# ---------------------------------------------------------------- checksums agree
"$HERE/sql.sh" "${D[@]}" db1 "INSERT INTO test.t VALUES (4, 'last')"
wait_until 10 "row 4 on db2" row_on db2 4 last
wait_until 10 "row 4 on db3" row_on db3 4 last
c1=$("$HERE/sql.sh" "${D[@]}" db1 "CHECKSUM TABLE test.t" | cut -f2)
for ((i = 2; i <= hosts; i++)); do
	[[ $("$HERE/sql.sh" "${D[@]}" "db$i" "CHECKSUM TABLE test.t" | cut -f2) == "$c1" ]] || fail "db$i checksum differs"
done
ok "test.t checksums agree on all hosts"

# ---------------------------------------------------------------- down
mapfile -t recorded < <(cat "$LAB_DIR"/db*/*.pid.rec "$LAB_DIR"/db*/mariadbd.pid 2>/dev/null)
t_down=$(secs "$HERE/down.sh" "${D[@]}")
for e in "${recorded[@]}"; do
	# shellcheck disable=SC2086
	pid_is_ours_alive $e && fail "recorded process ${e%% *} still alive after down.sh"
done
! ip netns list | grep -q halab || fail "halab netns left: $(ip netns list)"
for l in /sys/class/net/halab*; do [[ ! -e $l ]] || fail "link ${l##*/} left"; done
[[ ! -e $LAB_DIR ]] || fail "$LAB_DIR left"
! grep -q -e halab -e ha-lab /proc/self/mountinfo || fail "lab mounts left"
ok "down.sh took ${t_down}s; no recorded process alive (${#recorded[@]} checked), no netns, links, mounts or lab dir left"

echo "[selftest] ALL $pass CHECKS PASSED ($mode, $hosts hosts): up ${t_up}s, down ${t_down}s"
