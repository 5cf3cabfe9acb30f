#!/bin/bash
# binlog-server.sh - run a binlog server on a lab host: the server's own binlog client in raw, never-stop mode against the master.
#
# Usage: binlog-server.sh [--dir DIR] start HOST [MASTER]   (MASTER default db1; files in HOST:/tmp/binlogsrv)
#        binlog-server.sh [--dir DIR] stop HOST
#        binlog-server.sh [--dir DIR] files HOST            (list what it holds: name size)
#
# As MHA's users run binlog servers: `mariadb-binlog` (`mysqlbinlog` on MySQL)
# `--read-from-remote-server --raw --stop-never` from the master's first binlog, so the
# host holds byte copies of the master's binlog files under their own names. Point a
# `[binlogN]` block at it: `hostname=<HOST's IP>`, `master_binlog_dir=/tmp/binlogsrv`.
# The client logs in as the lab's replication user, with the password in a 0600 option
# file (never on a command line). Its PID is recorded in db<i>/binlogsrv.pid.rec, so
# `stop` and down.sh end it (only it).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

usage() {
	sed -n '2,/^# shellcheck/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while (($#)); do
	case "$1" in
	--dir) lab_set_dir "${2:?--dir needs a value}"; shift 2 ;;
	--dir=*) lab_set_dir "${1#*=}"; shift ;;
	-h | --help) usage ;;
	-*) echo "binlog-server.sh: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
(($# >= 2)) || usage
action=$1
((EUID == 0)) || die "binlog-server.sh must run as root"
lab_set_dir "$LAB_DIR"
lab_load_env
i=$(host_index "$2")
m=$(host_index "${3:-db1}")
d=$(host_dir "$i")
rec=$d/binlogsrv.pid.rec
out=/tmp/binlogsrv

case "$action" in
start)
	[[ $i != "$m" ]] || die "db$i: a binlog server runs on another host than its master"
	if pid=$(pidfile_alive "$rec"); then die "db$i: a binlog server already runs (pid $pid)"; fi
	tool=$(hostexec_i "$i" bash -c 'command -v mariadb-binlog || command -v mysqlbinlog') ||
		die "db$i: no mariadb-binlog or mysqlbinlog"
	first=$(host_sql "$m" "SHOW BINARY LOGS" | head -1 | cut -f1)
	[[ $first =~ ^[A-Za-z0-9._-]+$ ]] || die "db$m: no binary log to start from"
	extra=()
	lab_is_mysql && extra=(--get-server-public-key)
	hostexec_i "$i" bash -c "umask 077 && mkdir -p $out && rm -f $out/* && \
		printf '[client]\nuser=repl\npassword=replpass\nhost=%s\nport=3306\n' '$(host_ip "$m")' >$out/.client.cnf"
	# exec all the way down (subshell -> nsenter -> the client), so $! is the client's PID;
	# its output goes to a file, so the caller's pipes are not held open.
	(exec nsenter --net="/run/netns/$(host_netns "$i")" --mount="$d/mntns" --uts="$d/utsns" -- \
		"$tool" --defaults-extra-file="$out/.client.cnf" --read-from-remote-server \
		--raw --stop-never "${extra[@]}" --result-file="$out/" "$first" \
		</dev/null >"$d/binlogsrv.out" 2>&1) &
	pid=$!
	pid_record "$rec" "$pid"
	wait_until 10 "db$i: the binlog server's first file $out/$first" \
		hostexec_i "$i" test -s "$out/$first" ||
		{ cat "$d/binlogsrv.out" >&2; die "db$i: the binlog server did not start"; }
	log "db$i: binlog server (pid $pid, $tool) copying db$m's binlogs from $first into $out"
	;;
stop)
	pids_stop "$rec" || die "db$i: the binlog server did not stop"
	;;
files)
	hostexec_i "$i" bash -c "cd $out && stat -c '%n %s' -- *"
	;;
*) usage ;;
esac
