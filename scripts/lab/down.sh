#!/bin/bash
# down.sh - tear down the ha-manager test lab: stop recorded processes, drop namespaces, links, bridge and lab dir.
#
# Usage: down.sh [--dir DIR]     (exit 0 even if the lab is half built or absent)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

while (($#)); do
	case "$1" in
	--dir) lab_set_dir "${2:?--dir needs a value}"; shift 2 ;;
	--dir=*) lab_set_dir "${1#*=}"; shift ;;
	-h | --help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	*) echo "down.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
lab_set_dir "$LAB_DIR"
((EUID == 0)) || die "down.sh must run as root"

# Leave the global lab names (bridge, halab-db* netns and links) alone if the bridge says they
# belong to a lab in another directory.
own_net=1
if [[ -e /sys/class/net/$LAB_BRIDGE ]]; then
	owner=$(cat "/sys/class/net/$LAB_BRIDGE/ifalias" 2>/dev/null || true)
	if [[ -n $owner && $owner != "ha-lab $LAB_DIR" ]]; then
		warn "bridge $LAB_BRIDGE and the halab-db* namespaces belong to the lab in '${owner#ha-lab }', not $LAB_DIR; leaving them (run: $0 --dir ${owner#ha-lab })"
		own_net=0
	fi
fi

is_lab_dir=0
[[ -e $LAB_DIR/$LAB_MARKER ]] && is_lab_dir=1
if [[ -d $LAB_DIR && $is_lab_dir == 0 && -n $(ls -A "$LAB_DIR" 2>/dev/null) ]]; then
	warn "$LAB_DIR is not a lab directory (no $LAB_MARKER); leaving its files alone"
fi

rc=0
# Host indexes: every dbN dir in the lab dir and every halab-dbN netns.
declare -A idx=()
if ((is_lab_dir)); then
	for d in "$LAB_DIR"/db[0-9]*; do
		[[ -d $d && ${d##*/db} =~ ^[0-9]+$ ]] && idx[${d##*/db}]=1
	done
fi
if ((own_net)); then
	while read -r ns _; do
		[[ $ns =~ ^halab-db([0-9]+)$ ]] && idx[${BASH_REMATCH[1]}]=1
	done < <(ip netns list 2>/dev/null)
	for link in /sys/class/net/halab-db*; do
		[[ ${link##*/} =~ ^halab-db([0-9]+)$ ]] && idx[${BASH_REMATCH[1]}]=1
	done
fi
hosts=()
if ((${#idx[@]})); then mapfile -t hosts < <(printf '%s\n' "${!idx[@]}" | sort -n); fi

# ------------------------------------------------------------ processes
# Fallback for a daemon whose start-up was interrupted before its PID was recorded: the pid
# files the daemons write themselves (sshd: PidFile in the host's lab dir; mariadbd: pid_file
# in the host's /run/mysqld). Such a PID is used only if that process is a sshd/mariadbd living
# in this host's mount namespace.
daemon_pidfiles_record() {
	local i=$1 d ino pid comm f
	d=$(host_dir "$i")
	[[ -e $d/mntns ]] && findmnt -rn --mountpoint "$d/mntns" >/dev/null 2>&1 || return 0
	ino=$(stat -L -c %i "$d/mntns" 2>/dev/null) || return 0
	for pid in "$(cat "$d/sshd.pid" 2>/dev/null)" \
		"$(nsenter --mount="$d/mntns" -- cat /run/mysqld/mysqld.pid 2>/dev/null)"; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		[[ $comm == sshd || $comm == mariadbd || $comm == mysqld ]] || continue
		[[ $(readlink "/proc/$pid/ns/mnt" 2>/dev/null) == "mnt:[$ino]" ]] || continue
		for f in "$d/sshd.pid.rec" "$(mysqld_pidfile "$i")"; do
			[[ -f $f ]] && grep -q "^$pid " "$f" && continue 2
		done
		pid_append "$d/daemons.pid.rec" "$pid"
		warn "db$i: $comm pid $pid was not recorded by the lab but wrote its pid file in db$i; stopping it too"
	done
}

if ((is_lab_dir)); then
	pidfiles=()
	for i in "${hosts[@]}"; do
		d=$(host_dir "$i")
		[[ -d $d ]] || continue
		# sshd's session processes (and whatever they run) are descendants of the recorded sshd.
		if pid=$(pidfile_alive "$(sshd_pidfile "$i")"); then
			pid_descendants_record "$pid" "$d/sessions.pid.rec"
		fi
		daemon_pidfiles_record "$i"
		for f in "$d/sshd.pid.rec" "$d/sessions.pid.rec" "$(mysqld_pidfile "$i")" "$d"/*.pid.rec; do
			[[ -f $f ]] && pidfiles+=("$f")
		done
	done
	if ((${#pidfiles[@]})); then
		mapfile -t pidfiles < <(printf '%s\n' "${pidfiles[@]}" | sort -u)
		# The lab's data is thrown away with it (tmpfs): a clean shutdown only costs time
		# (MySQL 9.7 took ~10 s per teardown, in every test's fresh lab). KILL, unless told.
		PID_STOP_SIGNAL=${PID_STOP_SIGNAL:-KILL} PID_STOP_TIMEOUT=${PID_STOP_TIMEOUT:-15} \
			pids_stop "${pidfiles[@]}" || rc=1
	fi
fi

# ------------------------------------------------------------ namespaces
for i in "${hosts[@]}"; do
	d=$(host_dir "$i")
	if ((is_lab_dir)) && [[ -e $d/mntns ]]; then
		# Anything still inside the host's namespaces was not recorded by us: report, do not kill.
		ino=$(stat -L -c %i "$d/mntns" 2>/dev/null || true)
		if [[ -n $ino ]] && findmnt -rn -o TARGET --mountpoint "$d/mntns" >/dev/null 2>&1; then
			for p in /proc/[0-9]*; do
				[[ $(readlink "$p/ns/mnt" 2>/dev/null) == "mnt:[$ino]" ]] || continue
				[[ $(cut -d' ' -f3 "$p/stat" 2>/dev/null) == Z ]] && continue
				warn "db$i: process ${p#/proc/} ($(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)) is still inside the host's mount namespace (not recorded by the lab; left alone)"
			done
		fi
		for f in "$d/mntns" "$d/utsns"; do
			if findmnt -rn --mountpoint "$f" >/dev/null 2>&1; then
				umount "$f" 2>/dev/null || umount -l "$f" || { warn "cannot unmount $f"; rc=1; }
			fi
		done
	fi
	((own_net)) || continue
	ns=$(host_netns "$i")
	if [[ -e /run/netns/$ns ]]; then
		ip netns del "$ns" || { warn "cannot delete netns $ns"; rc=1; }
	fi
	veth=$(host_veth "$i")
	if [[ -e /sys/class/net/$veth ]]; then
		ip link del "$veth" 2>/dev/null || [[ ! -e /sys/class/net/$veth ]] || { warn "cannot delete link $veth"; rc=1; }
	fi
done

# ------------------------------------------------------------ bridge
if ((own_net)) && [[ -e /sys/class/net/$LAB_BRIDGE ]]; then
	ip link del "$LAB_BRIDGE" || { warn "cannot delete bridge $LAB_BRIDGE"; rc=1; }
fi
# The safety route (unreachable 198.18.0.0/15) stays: it is harmless and guards later runs.

# ------------------------------------------------------------ lab dir
if ((is_lab_dir)); then
	if [[ $(findmnt -rn -o SOURCE --mountpoint "$LAB_DIR" 2>/dev/null) == ha-lab ]]; then
		umount "$LAB_DIR" 2>/dev/null || umount -l "$LAB_DIR" || { warn "cannot unmount $LAB_DIR"; rc=1; }
	else
		rm -rf --one-file-system -- "${LAB_DIR:?}"/* "${LAB_DIR:?}/${LAB_MARKER:?}"
	fi
	rmdir "$LAB_DIR" 2>/dev/null || warn "$LAB_DIR not removed (not empty?)"
elif [[ -d $LAB_DIR && -z $(ls -A "$LAB_DIR" 2>/dev/null) ]]; then
	rmdir "$LAB_DIR" 2>/dev/null || true
fi

if ((rc)); then
	warn "lab teardown finished with warnings (see above)"
else
	log "lab in $LAB_DIR is down"
fi
exit 0
