#!/bin/bash
# fault.sh - inject (and undo) faults on one lab host: kill/stop/start mariadbd, cut links, stop sshd, stop replication.
#
# Usage: fault.sh [--dir DIR] ACTION HOST [ARG]
#   kill-mysqld HOST      kill -9 the recorded mariadbd
#   stop-mysqld HOST      clean shutdown (SIGTERM, bounded wait)
#   start-mysqld HOST     start mariadbd again (same datadir and config), wait until it accepts connections
#   freeze-mysqld HOST    SIGSTOP mariadbd (hung server: connects hang, nothing answers)
#   thaw-mysqld HOST      SIGCONT mariadbd
#   link-down HOST        take the host's link down (isolated from everyone)
#   link-up HOST          bring it back
#   throttle HOST KBIT    limit what the host sends to KBIT kbit/s (tc tbf on its eth0)
#   unthrottle HOST       remove that limit
#   cut-manager HOST      silently drop the host's traffic to the manager (198.18.0.1) only
#   heal-manager HOST     undo cut-manager
#   stop-sshd HOST        stop the host's sshd listener (open sessions stay)
#   kill-sshd HOST        stop the listener and end its open sessions (SSH to the host is gone)
#   start-sshd HOST       start it again
#   stop-io HOST          STOP SLAVE IO_THREAD
#   stop-sql HOST         STOP SLAVE SQL_THREAD
#   start-slave HOST      START SLAVE
#   lag HOST SECONDS      stop the IO thread for SECONDS, then start it again (blocks)
#   status [HOST]         show processes, link, manager path and replication of one or all hosts
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while (($#)); do
	case "$1" in
	--dir) lab_set_dir "${2:?--dir needs a value}"; shift 2 ;;
	--dir=*) lab_set_dir "${1#*=}"; shift ;;
	-h | --help) usage ;;
	-*) echo "fault.sh: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
(($# >= 1)) || usage
action=$1
shift
((EUID == 0)) || die "fault.sh must run as root"
lab_set_dir "$LAB_DIR"
lab_load_env

if [[ $action == status ]]; then
	targets=()
	if (($#)); then targets=("$(host_index "$1")"); else for ((i = 1; i <= LAB_HOSTS; i++)); do targets+=("$i"); done; fi
	for i in "${targets[@]}"; do
		m=$(pidfile_alive "$(mysqld_pidfile "$i")" || echo down)
		s=$(pidfile_alive "$(sshd_pidfile "$i")" || echo down)
		l=$(cat "/sys/class/net/$(host_veth "$i")/operstate" 2>/dev/null || echo missing)
		c=ok
		ip -n "$(host_netns "$i")" route show 2>/dev/null | grep -q "^blackhole $LAB_MANAGER_IP" && c="cut"
		r=-
		if [[ $m != down ]]; then
			r=$(hostexec_i "$i" timeout 5 "$(lab_client)" -uroot -E -e "$(lab_replica_status_sql)" 2>/dev/null |
				awk -F': ' '/ (Master|Source)_Host:/{h=$2} / (Slave|Replica)_IO_Running:/{io=$2} / (Slave|Replica)_SQL_Running:/{sq=$2}
					END{if (h=="") print "no-slave"; else printf "master=%s io=%s sql=%s", h, io, sq}') || r=unknown
		fi
		printf 'db%d %-12s mariadbd=%-8s sshd=%-8s link=%-7s manager-path=%-3s %s\n' \
			"$i" "$(host_ip "$i")" "$m" "$s" "$l" "$c" "$r"
	done
	exit 0
fi

(($# >= 1)) || usage
i=$(host_index "$1")
h=db$i
shift

case "$action" in
kill-mysqld)
	pid=$(pidfile_alive "$(mysqld_pidfile "$i")") || die "$h: mariadbd is not running"
	kill -KILL "$pid"
	read -r _ st <"$(mysqld_pidfile "$i")"
	wait_until 10 "$h: mariadbd pid $pid to die after SIGKILL" pid_gone "$pid" "$st"
	rm -f "$(mysqld_pidfile "$i")"
	log "$h: mariadbd (pid $pid) killed with SIGKILL"
	;;
stop-mysqld)
	if pid=$(pidfile_alive "$(mysqld_pidfile "$i")"); then
		kill -CONT "$pid" 2>/dev/null || true # in case it was frozen
		PID_STOP_TIMEOUT=${PID_STOP_TIMEOUT:-60} pids_stop "$(mysqld_pidfile "$i")" ||
			die "$h: mariadbd (pid $pid) did not stop"
		log "$h: mariadbd (pid $pid) shut down cleanly"
	else
		log "$h: mariadbd was not running"
	fi
	;;
start-mysqld)
	mysqld_start "$i"
	log "$h: mariadbd running (pid $(cut -d' ' -f1 "$(mysqld_pidfile "$i")"))"
	;;
freeze-mysqld | thaw-mysqld)
	pid=$(pidfile_alive "$(mysqld_pidfile "$i")") || die "$h: mariadbd is not running"
	if [[ $action == freeze-mysqld ]]; then kill -STOP "$pid"; else kill -CONT "$pid"; fi
	if [[ $action == freeze-mysqld ]]; then log "$h: mariadbd (pid $pid) frozen (SIGSTOP)"; else log "$h: mariadbd (pid $pid) thawed (SIGCONT)"; fi
	;;
link-down | link-up)
	veth=$(host_veth "$i")
	[[ -e /sys/class/net/$veth ]] || die "$h: link $veth does not exist"
	ip link set "$veth" "${action#link-}"
	want=${action#link-}
	wait_until 5 "$h: link $veth to be $want" grep -qx "$want" "/sys/class/net/$veth/operstate"
	log "$h: link $veth $want"
	;;
throttle)
	rate=${1:?throttle needs a rate in kbit/s}
	[[ $rate =~ ^[0-9]+$ ]] || die "throttle: rate must be a number of kbit/s, got '$rate'"
	ip netns exec "$(host_netns "$i")" tc qdisc replace dev eth0 root tbf rate "${rate}kbit" burst 16kb latency 2s ||
		die "$h: cannot add the tbf qdisc"
	log "$h: sends at most ${rate} kbit/s"
	;;
unthrottle)
	ip netns exec "$(host_netns "$i")" tc qdisc del dev eth0 root 2>/dev/null || true
	log "$h: no send limit"
	;;
cut-manager)
	out=$(ip -n "$(host_netns "$i")" route add blackhole "$LAB_MANAGER_IP/32" 2>&1) ||
		[[ $out == *"File exists"* ]] || die "$h: cannot add blackhole route: $out"
	log "$h: traffic to the manager ($LAB_MANAGER_IP) is silently dropped"
	;;
heal-manager)
	out=$(ip -n "$(host_netns "$i")" route del blackhole "$LAB_MANAGER_IP/32" 2>&1) ||
		[[ $out == *"No such process"* ]] || die "$h: cannot remove blackhole route: $out"
	log "$h: path to the manager restored"
	;;
stop-sshd)
	if pid=$(pidfile_alive "$(sshd_pidfile "$i")"); then
		pids_stop "$(sshd_pidfile "$i")" || die "$h: sshd (pid $pid) did not stop"
		log "$h: sshd (pid $pid) stopped (open sessions are left running)"
	else
		log "$h: sshd was not running"
	fi
	;;
kill-sshd)
	if pid=$(pidfile_alive "$(sshd_pidfile "$i")"); then
		# The sessions are the listener's children (one per connection): ours, by pid.
		sessions=$(ps -o pid= --ppid "$pid" | tr -s ' \n' ' ' || true)
		pids_stop "$(sshd_pidfile "$i")" || die "$h: sshd (pid $pid) did not stop"
		for s in $sessions; do kill "$s" 2>/dev/null || true; done
		log "$h: sshd (pid $pid) stopped, open sessions ended:${sessions:- none}"
	else
		log "$h: sshd was not running"
	fi
	;;
start-sshd)
	sshd_start "$i"
	log "$h: sshd running (pid $(cut -d' ' -f1 "$(sshd_pidfile "$i")"))"
	;;
stop-io)
	host_sql "$i" "STOP $(lab_replica_word) IO_THREAD"
	log "$h: slave IO thread stopped"
	;;
stop-sql)
	host_sql "$i" "STOP $(lab_replica_word) SQL_THREAD"
	log "$h: slave SQL thread stopped"
	;;
start-slave)
	host_sql "$i" "START $(lab_replica_word)"
	log "$h: slave started"
	;;
lag)
	secs=${1:?usage: fault.sh lag HOST SECONDS}
	[[ $secs =~ ^[0-9]+$ ]] || die "lag: SECONDS must be a whole number (got '$secs')"
	host_sql "$i" "STOP $(lab_replica_word) IO_THREAD"
	log "$h: slave IO thread stopped for ${secs}s"
	sleep "$secs"
	host_sql "$i" "START $(lab_replica_word) IO_THREAD"
	log "$h: slave IO thread started again"
	;;
*)
	echo "fault.sh: unknown action '$action'" >&2
	usage
	;;
esac
