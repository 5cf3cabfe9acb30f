# lib.sh - shared helpers for the ha-manager test lab scripts (source it, do not run it).
# shellcheck shell=bash

# shellcheck disable=SC2034  # constants used by the scripts that source this file
# Fixed names and addresses. The lab only ever uses 198.18.0.0/24.
LAB_BRIDGE=halab0
LAB_MANAGER_IP=198.18.0.1
LAB_NET_PREFIX=198.18.0
LAB_SAFETY_ROUTE=198.18.0.0/15
LAB_DEFAULT_DIR=/run/ha-lab
LAB_MARKER=.ha-lab          # file in the lab dir that says "this dir is a lab"

LAB_DIR=${LAB_DIR:-$LAB_DEFAULT_DIR}

# The database server the lab runs (up.sh --server; kept in lab.env as LAB_SERVER):
# mariadb-10.11 = the machine's own packages; mariadb-11.8, mysql-8.4 = a debootstrap root
# (roots.sh) that every host's mysqld and sshd run from (LAB_ROOT).
LAB_SERVER=${LAB_SERVER:-mariadb-10.11}
LAB_SERVERS="mariadb-10.11 mariadb-11.8 mysql-8.4"
lab_is_mysql() { [[ $LAB_SERVER == mysql-* ]]; }
lab_client() { if lab_is_mysql; then echo mysql; else echo mariadb; fi; }
lab_mysqld() { if lab_is_mysql; then echo /usr/sbin/mysqld; else echo /usr/sbin/mariadbd; fi; }
lab_mysqld_comm() { if lab_is_mysql; then echo mysqld; else echo mariadbd; fi; }
# SHOW SLAVE STATUS / STOP SLAVE ... in the server's own words (MariaDB >= 10.5 also takes REPLICA).
# (run with the client's -E, vertical output: MySQL 9's client rejects "\G" given with -e)
lab_replica_status_sql() { if lab_is_mysql; then echo 'SHOW REPLICA STATUS'; else echo 'SHOW SLAVE STATUS'; fi; }
lab_replica_word() { if lab_is_mysql; then echo REPLICA; else echo SLAVE; fi; }

lab_t0=${EPOCHREALTIME/./}

log() { printf '[lab %6.2fs] %s\n' "$(lab_elapsed)" "$*" >&2; }
warn() { printf '[lab] WARNING: %s\n' "$*" >&2; }
die() {
	printf '[lab] ERROR: %s\n' "$*" >&2
	exit 1
}

# Seconds (with 2 decimals) since this script started.
lab_elapsed() {
	local now=${EPOCHREALTIME/./}
	local us=$((now - lab_t0))
	printf '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000))
}

# Check and normalize a lab directory argument.
lab_set_dir() {
	local d=$1
	[[ $d == /* ]] || die "--dir must be an absolute path (got '$d')"
	d=${d%/}
	[[ -n $d && $d != / ]] || die "--dir must not be /"
	case "$d" in
	/etc | /etc/* | /usr | /usr/* | /bin | /sbin | /lib | /lib/* | /var | /var/lib | /var/lib/mysql* | /root | /home | /boot | /proc* | /sys* | /dev*)
		die "--dir $d is not a sensible lab directory" ;;
	esac
	LAB_DIR=$d
}

host_ip() { printf '%s.%d' "$LAB_NET_PREFIX" $((10 + $1)); }
host_netns() { printf 'halab-db%d' "$1"; }
host_veth() { printf 'halab-db%d' "$1"; } # root-side veth name (<= 15 chars)
host_dir() { printf '%s/db%d' "$LAB_DIR" "$1"; }

# Turn "db3" (or "3") into 3, checking it against the running lab if known.
host_index() {
	local name=$1 i
	case "$name" in
	db[1-9] | db[1-9][0-9]) i=${name#db} ;;
	[1-9] | [1-9][0-9]) i=$name ;;
	*) die "bad host name '$name' (expected db1, db2, ...)" ;;
	esac
	if [[ -n ${LAB_HOSTS:-} ]] && ((i > LAB_HOSTS)); then
		die "host db$i does not exist in this lab (LAB_HOSTS=$LAB_HOSTS)"
	fi
	printf '%d' "$i"
}

# Load $LAB_DIR/lab.env of a running lab (fails if there is none).
lab_load_env() {
	[[ -f $LAB_DIR/lab.env ]] || die "no lab in $LAB_DIR (missing $LAB_DIR/lab.env); run up.sh first"
	# shellcheck disable=SC1091
	source "$LAB_DIR/lab.env"
}

# Run a command inside host i's network, mount and UTS namespaces.
hostexec_i() {
	local i=$1
	shift
	local d
	d=$(host_dir "$i")
	[[ -e /run/netns/$(host_netns "$i") ]] || die "db$i: network namespace $(host_netns "$i") does not exist"
	[[ -e $d/mntns ]] || die "db$i: mount namespace file $d/mntns does not exist"
	nsenter --net="/run/netns/$(host_netns "$i")" --mount="$d/mntns" --uts="$d/utsns" -- "$@"
}

# ---------------------------------------------------------------- processes
# A pid file holds lines "PID STARTTIME" (STARTTIME = field 22 of /proc/PID/stat),
# so that a recycled PID is never mistaken for ours.

proc_stat_rest() { # fields 3.. of /proc/PID/stat (after the "(comm)")
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	printf '%s' "${s##*) }"
}

proc_starttime() {
	local rest
	rest=$(proc_stat_rest "$1") || return 1
	# shellcheck disable=SC2086
	set -- $rest
	printf '%s' "${20}"
}

# True if PID is alive, not a zombie, and started at STARTTIME.
# (PID 1 on some machines does not reap orphans, so dead daemons stay zombies.)
pid_is_ours_alive() {
	local pid=$1 st=$2 rest
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	rest=$(proc_stat_rest "$pid") || return 1
	# shellcheck disable=SC2086
	set -- $rest
	[[ $1 != Z && $1 != X && ${20} == "$st" ]]
}

pid_gone() { ! pid_is_ours_alive "$@"; }

pid_record() { # FILE PID
	local st
	st=$(proc_starttime "$2") || die "process $2 vanished before it could be recorded ($1)"
	printf '%s %s\n' "$2" "$st" >"$1"
}

pid_append() { # FILE PID (silently skips a vanished PID)
	local st
	st=$(proc_starttime "$2") || return 0
	printf '%s %s\n' "$2" "$st" >>"$1"
}

# First PID of a pid file if it is alive; else fail.
pidfile_alive() {
	local pid st
	[[ -f $1 ]] || return 1
	read -r pid st <"$1" || return 1
	pid_is_ours_alive "$pid" "$st" && printf '%s' "$pid"
}

# Stop every live process listed in the given pid files: TERM, wait up to
# $PID_STOP_TIMEOUT s, then KILL and wait up to 5 s more. Removes the files.
PID_STOP_TIMEOUT=${PID_STOP_TIMEOUT:-15}
pids_stop() {
	local sig=${PID_STOP_SIGNAL:-TERM} f pid st live=() deadline
	for f in "$@"; do
		[[ -f $f ]] || continue
		while read -r pid st; do
			pid_is_ours_alive "$pid" "$st" || continue
			kill "-$sig" "$pid" 2>/dev/null || true
			live+=("$pid $st")
		done <"$f"
	done
	local phase
	for phase in wait kill; do
		local limit=5
		[[ $phase == wait ]] && limit=$PID_STOP_TIMEOUT
		deadline=$((${EPOCHREALTIME/./} + limit * 1000000))
		while :; do
			local still=() e
			for e in "${live[@]}"; do
				# shellcheck disable=SC2086
				pid_is_ours_alive $e && still+=("$e")
			done
			live=("${still[@]}")
			((${#live[@]} == 0)) && break 2
			((${EPOCHREALTIME/./} > deadline)) && break
			sleep 0.1
		done
		if [[ $phase == wait ]]; then
			for e in "${live[@]}"; do
				warn "process ${e%% *} ($(cat "/proc/${e%% *}/comm" 2>/dev/null)) ignored SIG$sig for ${PID_STOP_TIMEOUT}s; sending KILL"
				kill -KILL "${e%% *}" 2>/dev/null || true
			done
		fi
	done
	if ((${#live[@]})); then
		warn "processes still alive after KILL: ${live[*]}"
		return 1
	fi
	rm -f -- "$@"
}

# Record every descendant of PID (e.g. sshd's session processes) into FILE.
pid_descendants_record() { # PID FILE
	local root=$1 file=$2 p pp
	local -A kids=()
	while read -r p pp; do
		kids[$pp]+="$p "
	done < <(ps -e -o pid=,ppid=)
	local queue=("$root") cur
	while ((${#queue[@]})); do
		cur=${queue[0]}
		queue=("${queue[@]:1}")
		for p in ${kids[$cur]:-}; do
			pid_append "$file" "$p"
			queue+=("$p")
		done
	done
}

# ---------------------------------------------------------------- waiting
# wait_until TIMEOUT_S "description" CMD... : poll CMD every 0.2 s.
wait_until() {
	local timeout=$1 desc=$2
	shift 2
	local deadline=$((${EPOCHREALTIME/./} + timeout * 1000000))
	while ! "$@" >/dev/null 2>&1; do
		if ((${EPOCHREALTIME/./} > deadline)); then
			printf '[lab] ERROR: timed out after %ss waiting for %s\n' "$timeout" "$desc" >&2
			return 1
		fi
		sleep 0.2
	done
}

# ---------------------------------------------------------------- ssh / sql
lab_ssh_opts() {
	printf '%s\n' -i "$LAB_DIR/id_ed25519" -o "UserKnownHostsFile=$LAB_DIR/known_hosts" \
		-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=3 -o LogLevel=ERROR
}

lab_ssh() { # I CMD...
	local i=$1 opts
	shift
	mapfile -t opts < <(lab_ssh_opts)
	# shellcheck disable=SC2029  # the command is meant to run remotely as given
	ssh "${opts[@]}" "root@$(host_ip "$i")" "$@"
}

# Run SQL on host i as root over its local socket; prints tab-separated rows.
host_sql() { # I SQL
	hostexec_i "$1" "$(lab_client)" -uroot -N -B -e "$2"
}

# SHOW SLAVE STATUS of host i, with MySQL's column names mapped to MariaDB's
# (Replica_IO_Running -> Slave_IO_Running, Source_Host -> Master_Host, ...), so the
# scripts and tests read one set of names on every server.
host_replica_status() { # I
	hostexec_i "$1" "$(lab_client)" -uroot -E -e "$(lab_replica_status_sql)" |
		sed -E 's/^( *)Replica_/\1Slave_/; s/^( *)Source_/\1Master_/; s/^( *)Seconds_Behind_Source:/\1Seconds_Behind_Master:/; s/([A-Za-z])_Source_/\1_Master_/g'
}

# ---------------------------------------------------------------- mariadbd / sshd
mysqld_pidfile() { printf '%s/mariadbd.pid' "$(host_dir "$1")"; }
sshd_pidfile() { printf '%s/sshd.pid.rec' "$(host_dir "$1")"; }

mysqld_ping() { hostexec_i "$1" "$(lab_client)" -uroot -N -B -e 'SELECT 1' >/dev/null 2>&1; }

# Start mariadbd for host i (datadir must be initialized) and record its PID.
mysqld_start() {
	local i=$1 d pid
	d=$(host_dir "$i")
	if pid=$(pidfile_alive "$(mysqld_pidfile "$i")"); then
		log "db$i: mariadbd already running (pid $pid)"
		return 0
	fi
	# setsid: detach from the caller's process group (no job control here, so no fork).
	# The subshell execs, so $! is the daemon; it keeps no descriptor of ours.
	(
		close_inherited_fds
		exec setsid nsenter --net="/run/netns/$(host_netns "$i")" --mount="$d/mntns" --uts="$d/utsns" -- \
			"$(lab_mysqld)" --defaults-file=/etc/mysql/my.cnf --user=mysql
	) </dev/null >>"$d/mariadbd.out" 2>&1 &
	pid=$!
	pid_record "$(mysqld_pidfile "$i")" "$pid"
	mysqld_wait_up "$i" "$pid"
	local comm
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	[[ $comm == "$(lab_mysqld_comm)" ]] || die "db$i: recorded pid $pid is '$comm', not $(lab_mysqld_comm)"
}

mysqld_wait_up() { # I PID
	local i=$1 pid=$2 st deadline
	st=$(proc_starttime "$pid") || st=gone
	deadline=$((${EPOCHREALTIME/./} + ${MYSQLD_START_TIMEOUT:-30} * 1000000))
	until mysqld_ping "$i"; do
		if ! pid_is_ours_alive "$pid" "$st"; then
			hostexec_i "$i" tail -n 20 /var/log/mysql/error.log >&2 2>/dev/null || true
			die "db$i: mariadbd (pid $pid) exited during start-up (error log above)"
		fi
		if ((${EPOCHREALTIME/./} > deadline)); then
			hostexec_i "$i" tail -n 20 /var/log/mysql/error.log >&2 2>/dev/null || true
			die "db$i: mariadbd (pid $pid) not accepting connections after ${MYSQLD_START_TIMEOUT:-30}s"
		fi
		sleep 0.1
	done
}

sshd_start() {
	local i=$1 d pid
	d=$(host_dir "$i")
	if pid=$(pidfile_alive "$(sshd_pidfile "$i")"); then
		log "db$i: sshd already running (pid $pid)"
		return 0
	fi
	(
		close_inherited_fds
		exec setsid nsenter --net="/run/netns/$(host_netns "$i")" --mount="$d/mntns" --uts="$d/utsns" -- \
			/usr/sbin/sshd -D -f "$d/sshd_config" -E "$d/sshd.log"
	) </dev/null >>"$d/sshd.out" 2>&1 &
	pid=$!
	pid_record "$(sshd_pidfile "$i")" "$pid"
	local st
	st=$(proc_starttime "$pid") || st=gone
	local deadline=$((${EPOCHREALTIME/./} + 15 * 1000000))
	until lab_ssh "$i" true >/dev/null 2>&1; do
		if ! pid_is_ours_alive "$pid" "$st"; then
			tail -n 20 "$d/sshd.log" >&2 2>/dev/null || true
			die "db$i: sshd (pid $pid) exited during start-up (log above)"
		fi
		((${EPOCHREALTIME/./} > deadline)) && die "db$i: sshd on $(host_ip "$i"):22 not answering after 15s"
		sleep 0.1
	done
	local comm
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	[[ $comm == sshd ]] || die "db$i: recorded pid $pid is '$comm', not sshd"
}

# Daemons must not keep the caller's descriptors: a `flock` lock held on one
# would outlive the caller and block every later lab user.
close_inherited_fds() {
	local fd
	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		if [ "$fd" -gt 2 ] 2>/dev/null; then
			eval "exec $fd>&-" 2>/dev/null || true
		fi
	done
}
