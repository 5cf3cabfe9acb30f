#!/bin/bash
# up.sh - build the ha-manager test lab: N MariaDB/MySQL "hosts" (net+mount namespaces, own sshd), db2..dbN replicating from db1.
#
# Usage: up.sh [--hosts N] [--mode gtid|filepos] [--server mariadb-10.11|mariadb-11.8|mysql-8.4] [--topology star|dual-master|tiers] [--tls] [--dir DIR] [--keep-on-failure]
#   --topology: star (default) db2..dbN <- db1; dual-master: also db1 <- db2 (db2 read_only, the standby master); tiers: db3 <- db2 <- db1, the others <- db1
#   --tls: a lab CA (tls.sh) and a certificate per host in my.cnf (ssl_ca/ssl_cert/ssl_key); repl REQUIRE SSL; replicas use MASTER_SSL=1 and verify
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

usage() {
	sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

hosts=3
mode=gtid
topology=star
keep_on_failure=0
tls=0
# Where up.sh --tls installs the TLS files inside every host (its /etc/mysql, see below).
TLS_HOST_DIR=/etc/mysql/tls
while (($#)); do
	case "$1" in
	--hosts) hosts=${2:?--hosts needs a value}; shift 2 ;;
	--hosts=*) hosts=${1#*=}; shift ;;
	--mode) mode=${2:?--mode needs a value}; shift 2 ;;
	--mode=*) mode=${1#*=}; shift ;;
	--topology) topology=${2:?--topology needs a value}; shift 2 ;;
	--topology=*) topology=${1#*=}; shift ;;
	--server) LAB_SERVER=${2:?--server needs a value}; shift 2 ;;
	--server=*) LAB_SERVER=${1#*=}; shift ;;
	--dir) lab_set_dir "${2:?--dir needs a value}"; shift 2 ;;
	--dir=*) lab_set_dir "${1#*=}"; shift ;;
	--keep-on-failure) keep_on_failure=1; shift ;;
	--tls) tls=1; shift ;;
	-h | --help) usage ;;
	*) echo "up.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
if ! [[ $hosts =~ ^[0-9]+$ ]] || ((hosts < 1 || hosts > 50)); then
	die "--hosts must be 1..50 (got '$hosts')"
fi
[[ $mode == gtid || $mode == filepos ]] || die "--mode must be gtid or filepos (got '$mode')"
case "$topology" in
star) ;;
dual-master) ((hosts >= 2)) || die "--topology dual-master needs --hosts 2 or more" ;;
tiers) ((hosts >= 3)) || die "--topology tiers needs --hosts 3 or more" ;;
*) die "--topology must be star, dual-master or tiers (got '$topology')" ;;
esac
# The source of host i (0: none) once the lab is up; db1's source in dual-master is set last.
source_of() { # I
	if (($1 == 1)); then
		echo 0
	elif [[ $topology == tiers ]] && (($1 == 3)); then
		echo 2
	else
		echo 1
	fi
}
[[ " $LAB_SERVERS " == *" $LAB_SERVER "* ]] || die "--server must be one of: $LAB_SERVERS (got '$LAB_SERVER')"
lab_set_dir "$LAB_DIR"
((EUID == 0)) || die "up.sh must run as root"
if [[ $LAB_SERVER == mariadb-10.11 ]]; then
	# The machine's own MariaDB 10.11 and sshd, as always.
	LAB_ROOT=/
	for cmd in mariadbd mariadb-install-db mariadb /usr/sbin/sshd; do
		command -v "$cmd" >/dev/null || die "required command '$cmd' not found"
	done
else
	# Every host's mysqld and sshd run from a cached debootstrap root (built on first use, ~1 min).
	LAB_ROOT=$(bash "$HERE/roots.sh" "$LAB_SERVER") || die "no $LAB_SERVER root (roots.sh failed, see above)"
	for cmd in "$(lab_mysqld)" "/usr/bin/$(lab_client)" /usr/sbin/sshd /usr/bin/findmnt; do
		[[ -x $LAB_ROOT$cmd ]] || die "$LAB_SERVER root $LAB_ROOT has no $cmd; rebuild it: $HERE/roots.sh --rebuild $LAB_SERVER"
	done
fi
for cmd in ip nsenter unshare taskset setsid findmnt ps ssh ssh-keygen pivot_root; do
	command -v "$cmd" >/dev/null || die "required command '$cmd' not found"
done

# ------------------------------------------------------------ tear down an old lab
if [[ -e /sys/class/net/$LAB_BRIDGE ]]; then
	owner=$(cat "/sys/class/net/$LAB_BRIDGE/ifalias" 2>/dev/null || true)
	if [[ -n $owner && $owner != "ha-lab $LAB_DIR" ]]; then
		die "another lab is up (bridge $LAB_BRIDGE belongs to '${owner#ha-lab }'); run: $HERE/down.sh --dir ${owner#ha-lab }"
	fi
fi
if [[ -e $LAB_DIR/$LAB_MARKER || -e /sys/class/net/$LAB_BRIDGE ]] || ip netns list | grep -q '^halab-db'; then
	log "an old lab exists; tearing it down first"
	"$HERE/down.sh" --dir "$LAB_DIR"
fi
if [[ -d $LAB_DIR ]] && [[ -n $(ls -A "$LAB_DIR") ]]; then
	die "$LAB_DIR exists, is not empty and is not a lab directory; refusing to use it"
fi

# On failure, tear down what was built (unless --keep-on-failure).
built=0
bg=()
on_exit() {
	local rc=${1:-$?} p deadline running
	trap '' INT TERM HUP # also inherited by down.sh below: a second Ctrl-C cannot cut the teardown short
	((cleanup_done == 0)) || return 0
	cleanup_done=1
	if ((rc != 0 && built == 0)); then
		# Let our per-host start-up subshells finish (they stop at the next step once the abort flag
		# exists) so that every daemon they started is recorded before the teardown; kill them after 60 s.
		if ((${#bg[@]})); then
			[[ -d $LAB_DIR ]] && touch "$LAB_DIR/.aborting" 2>/dev/null
			deadline=$((${EPOCHREALTIME/./} + 60000000))
			while ((${EPOCHREALTIME/./} < deadline)); do
				running=0
				for p in "${bg[@]}"; do
					[[ $(proc_stat_rest "$p" 2>/dev/null | cut -d' ' -f1) =~ ^[RSDT]$ ]] && running=1
				done
				((running)) || break
				sleep 0.2
			done
			for p in "${bg[@]}"; do kill "$p" 2>/dev/null || true; done
			wait 2>/dev/null || true
		fi
		if ((keep_on_failure)); then
			echo "[lab] up.sh FAILED (rc=$rc); half-built lab left in $LAB_DIR; clean with: $HERE/down.sh --dir $LAB_DIR" >&2
		else
			echo "[lab] up.sh FAILED (rc=$rc); tearing down the half-built lab (use --keep-on-failure to keep it)" >&2
			"$HERE/down.sh" --dir "$LAB_DIR" >&2 || true
		fi
	fi
}
cleanup_done=0
trap on_exit EXIT
# On a fatal signal bash would run the EXIT trap with the last command's status (often 0).
trap 'on_exit 130; exit 130' INT
trap 'on_exit 143; exit 143' TERM
trap 'on_exit 129; exit 129' HUP

# ------------------------------------------------------------ safety route (first!)
if ! out=$(ip route add unreachable "$LAB_SAFETY_ROUTE" metric 4000 2>&1); then
	[[ $out == *"File exists"* ]] || die "cannot add safety route: $out"
fi
ip route show table main exact "$LAB_SAFETY_ROUTE" | grep -q '^unreachable' ||
	die "safety route 'unreachable $LAB_SAFETY_ROUTE' is not in place"
log "safety route unreachable $LAB_SAFETY_ROUTE metric 4000 in place"

# Netfilter on bridged traffic (br_netfilter + a FORWARD DROP policy, e.g. Docker) would drop host<->host packets.
if [[ $(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo 0) == 1 ]] && command -v iptables >/dev/null &&
	iptables -S FORWARD 2>/dev/null | grep -q '^-P FORWARD DROP'; then
	warn "bridge-nf-call-iptables=1 and iptables FORWARD policy is DROP: replication between lab hosts may be blocked"
fi

# ------------------------------------------------------------ lab dir (private tmpfs)
mkdir -p "$LAB_DIR"
mount -t tmpfs -o mode=0755,size=256m ha-lab "$LAB_DIR"
mount --make-private "$LAB_DIR"
echo "ha-manager lab; created by $0 at $(date -Is)" >"$LAB_DIR/$LAB_MARKER"
mkdir -p "$LAB_DIR/manager"
ssh-keygen -q -t ed25519 -N '' -C ha-lab-manager -f "$LAB_DIR/id_ed25519"
cp "$LAB_DIR/id_ed25519.pub" "$LAB_DIR/authorized_keys"
chmod 0600 "$LAB_DIR/authorized_keys"
: >"$LAB_DIR/known_hosts"
: >"$LAB_DIR/known_hosts.hosts"
log "lab dir $LAB_DIR (tmpfs, private); manager key $LAB_DIR/id_ed25519"

# ------------------------------------------------------------ network
ip link add "$LAB_BRIDGE" type bridge stp_state 0 forward_delay 0
ip link set "$LAB_BRIDGE" alias "ha-lab $LAB_DIR"
sysctl -qw "net.ipv6.conf.$LAB_BRIDGE.disable_ipv6=1" || true
ip addr add "$LAB_MANAGER_IP/24" dev "$LAB_BRIDGE"
ip link set "$LAB_BRIDGE" up
for ((i = 1; i <= hosts; i++)); do
	ns=$(host_netns "$i")
	veth=$(host_veth "$i")
	ip netns add "$ns"
	ip link add "$veth" type veth peer name eth0 netns "$ns"
	sysctl -qw "net.ipv6.conf.$veth.disable_ipv6=1" || true
	ip link set "$veth" master "$LAB_BRIDGE" up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$(host_ip "$i")/24" dev eth0
	ip -n "$ns" link set eth0 up
done
log "bridge $LAB_BRIDGE $LAB_MANAGER_IP/24 and $hosts netns halab-db1..$hosts"

# ------------------------------------------------------------ mount namespaces
# Mount points must exist on the real filesystem (empty standard dirs; contents stay untouched).
mkdir -p /var/lib/mysql /var/log/mysql /run/mysqld /run/sshd /etc/mysql /root

# Persist a mount+UTS namespace for host i in $d/mntns and $d/utsns. Binding a namespace to a
# file was seen to fail at random on these machines; retry, pinned to each CPU in turn.
ns_create() {
	local i=$1 d cpus attempt k err
	d=$(host_dir "$i")
	cpus=$(nproc --all 2>/dev/null || echo 1)
	for ((attempt = 0; attempt < 3 * cpus + 1; attempt++)); do
		touch "$d/mntns" "$d/utsns"
		if ((attempt == 0)); then
			err=$(unshare --mount="$d/mntns" --uts="$d/utsns" --propagation private true 2>&1) && return 0
		else
			k=$(((attempt - 1) % cpus))
			err=$(taskset -c "$k" unshare --mount="$d/mntns" --uts="$d/utsns" --propagation private true 2>&1) && return 0
		fi
		warn "db$i: creating persistent namespaces failed (attempt $((attempt + 1))): $err; retrying"
		umount "$d/mntns" 2>/dev/null || true
		umount "$d/utsns" 2>/dev/null || true
		sleep 0.1
	done
	die "db$i: could not create persistent mount/uts namespaces in $d"
}

write_mycnf() { # I -> stdout
	local i=$1 ip
	ip=$(host_ip "$i")
	cat <<EOF
# my.cnf of lab host db$i ($ip); seen as /etc/mysql/my.cnf inside the host.
[client]
socket = /run/mysqld/mysqld.sock

[mysqld]
user = mysql
datadir = /var/lib/mysql
socket = /run/mysqld/mysqld.sock
pid_file = /run/mysqld/mysqld.pid
tmpdir = /tmp
port = 3306
bind_address = $ip
log_error = /var/log/mysql/error.log
skip_name_resolve = 1
skip_external_locking = 1

server_id = $i
report_host = $ip
report_port = 3306
log_bin = /var/lib/mysql/mysql-bin
log_bin_index = /var/lib/mysql/mysql-bin.index
relay_log = /var/lib/mysql/relay-bin
relay_log_index = /var/lib/mysql/relay-bin.index
log_slave_updates = 1
binlog_format = ROW
relay_log_purge = 0
sync_binlog = 1
EOF
	if [[ $mode == gtid ]]; then
		echo "gtid_strict_mode = 1"
	fi
	if ((i != 1)); then
		echo "read_only = 1"
	fi
	cat <<EOF

# small memory footprint (datadir is a tmpfs: fsync is free)
innodb_buffer_pool_size = 32M
innodb_log_file_size = 48M
innodb_log_buffer_size = 4M
innodb_flush_log_at_trx_commit = 1
innodb_use_native_aio = 0
innodb_buffer_pool_dump_at_shutdown = 0
innodb_buffer_pool_load_at_startup = 0
performance_schema = OFF
key_buffer_size = 1M
aria_pagecache_buffer_size = 8M
query_cache_type = 0
query_cache_size = 0
max_connections = 200
table_open_cache = 400
thread_cache_size = 16
tmp_table_size = 16M
max_heap_table_size = 16M
character_set_server = utf8mb4
collation_server = utf8mb4_general_ci
EOF
	if ((tls)); then
		cat <<EOF

# up.sh --tls: the lab CA's certificate for this host (SAN IP $ip)
ssl_ca = $TLS_HOST_DIR/ca.pem
ssl_cert = $TLS_HOST_DIR/server-cert.pem
ssl_key = $TLS_HOST_DIR/server-key.pem
EOF
	fi
}

# MySQL takes the MariaDB my.cnf above with its own names for a few settings: renamed
# (log_replica_updates, replica_net_timeout), GTID switched on its way (gtid_mode +
# enforce_gtid_consistency instead of gtid_strict_mode; both OFF in filepos mode), MariaDB-only or deprecated ones
# made "loose_" (ignored with a warning if the server lacks them), and MySQL-only ones added.
mycnf_for_server() { # stdin -> stdout
	if ! lab_is_mysql; then
		cat
		return
	fi
	sed -E -e 's/^log_slave_updates( *)=/log_replica_updates\1=/' \
		-e 's/^slave_net_timeout( *)=/replica_net_timeout\1=/' \
		-e 's/^gtid_strict_mode( *)= *1$/gtid_mode = ON\nenforce_gtid_consistency = ON/' \
		-e 's/^(aria_|query_cache_|innodb_log_file_size|binlog_format)/loose_\1/'
	cat <<EOF

# MySQL only
secure_file_priv = ""
mysqlx = OFF
EOF
	# MySQL 9.7 starts with gtid_mode=ON by default: file/position mode must say OFF.
	if [[ $mode == filepos ]]; then
		printf 'gtid_mode = OFF\nenforce_gtid_consistency = OFF\n'
	fi
}

write_sshd_config() { # I -> stdout
	local i=$1 d
	d=$(host_dir "$i")
	cat <<EOF
# sshd_config of lab host db$i; started as: /usr/sbin/sshd -D -f $d/sshd_config
ListenAddress $(host_ip "$i"):22
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
AuthorizedKeysFile $LAB_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxSessions 30
MaxStartups 30
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
	# The default post-quantum kex (sntrup761x25519) costs ~0.13 s of client CPU per connection on
	# these VMs, doubling the cost of a plain "ssh host true". LAB_SSH_KEX=default keeps OpenSSH's list.
	if [[ ${LAB_SSH_KEX:-fast} != default ]]; then
		echo "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256"
	fi
}

# Inside a freshly created host namespace: private mounts over the standard paths.
# shellcheck disable=SC2016  # expanded by sh -c, from the environment
ns_setup_script='
set -e
# Drop copies of other namespace handles (other hosts, /run/netns) so they are not pinned here.
for m in $(findmnt -rn -t nsfs -o TARGET | sort -r); do umount "$m"; done
mount -t tmpfs -o mode=0755,size=${LAB_DATA_SIZE} "halab-db${I}-data" /var/lib/mysql
chown mysql:mysql /var/lib/mysql
mount -t tmpfs -o mode=0750,size=64m "halab-db${I}-log" /var/log/mysql
chown mysql:adm /var/log/mysql
mount -t tmpfs -o mode=0755,size=16m "halab-db${I}-run" /run/mysqld
chown mysql:mysql /run/mysqld
mount -t tmpfs -o mode=1777,size=${LAB_TMP_SIZE} "halab-db${I}-tmp" /tmp
mount -t tmpfs -o mode=0755,size=1m "halab-db${I}-sshd" /run/sshd
mount --bind "${D}/etc-mysql" /etc/mysql
mount --bind "${LAB_DIR}/hosts" /etc/hosts
# A private /root: root .bashrc on the real machine may run "pyenv init" (~0.35 s per ssh command)
# and a DB host would not have it, so the host gets an empty .bashrc; /root/.ssh holds the lab
# key and known_hosts so hosts can ssh to each other (MHA checks that).
mount -t tmpfs -o mode=0700,size=16m "halab-db${I}-root" /root
: >/root/.bashrc
mkdir -m 0700 /root/.ssh
cp "${LAB_DIR}/id_ed25519" /root/.ssh/id_ed25519
cp "${LAB_DIR}/known_hosts.hosts" /root/.ssh/known_hosts
chmod 0600 /root/.ssh/id_ed25519
hostname "db${I}"
'

# /etc/hosts inside every host: the lab names only.
{
	printf '127.0.0.1\tlocalhost\n%s\tmanager\n' "$LAB_MANAGER_IP"
	for ((i = 1; i <= hosts; i++)); do printf '%s\tdb%d\n' "$(host_ip "$i")" "$i"; done
} >"$LAB_DIR/hosts"
chmod 0644 "$LAB_DIR/hosts"
if ((tls)); then
	bash "$HERE/tls.sh" --dir "$LAB_DIR" --hosts "$hosts" || die "tls.sh failed (see above)"
fi
for ((i = 1; i <= hosts; i++)); do
	d=$(host_dir "$i")
	mkdir -p "$d/etc-mysql"
	write_mycnf "$i" | mycnf_for_server >"$d/etc-mysql/my.cnf"
	chmod 0755 "$d/etc-mysql"
	chmod 0644 "$d/etc-mysql/my.cnf"
	if ((tls)); then
		mkdir -p "$d/etc-mysql/tls"
		cp "$LAB_DIR/tls/ca.pem" "$d/etc-mysql/tls/ca.pem"
		cp "$LAB_DIR/tls/db$i.pem" "$d/etc-mysql/tls/server-cert.pem"
		cp "$LAB_DIR/tls/db$i.key" "$d/etc-mysql/tls/server-key.pem"
		chmod 0755 "$d/etc-mysql/tls"
		chmod 0644 "$d/etc-mysql/tls/ca.pem" "$d/etc-mysql/tls/server-cert.pem"
		chmod 0600 "$d/etc-mysql/tls/server-key.pem"
	fi
	ssh-keygen -q -t ed25519 -N '' -C "db$i" -f "$d/ssh_host_ed25519_key"
	printf '%s %s\n' "$(host_ip "$i")" "$(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" >>"$LAB_DIR/known_hosts"
	# inside the hosts, also by name (db1, ...), as /etc/hosts there resolves them
	printf '%s,db%d %s\n' "$(host_ip "$i")" "$i" "$(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" >>"$LAB_DIR/known_hosts.hosts"
	write_sshd_config "$i" >"$d/sshd_config"
done
# With a server root: the host's mount namespace gets that root as "/" (pivot_root), read-only,
# with /proc, /dev, /sys, a fresh /run and the lab dir (same path) mounted in; the private
# mounts below then go over its standard paths. Every later nsenter (sshd, mysqld, hostexec)
# lands in that root, so an ssh session sees the server's own client and binlog tool.
# shellcheck disable=SC2016  # expanded by sh -c, from the environment
ns_pivot_script='
set -e
for m in $(findmnt -rn -t nsfs -o TARGET | sort -r); do umount "$m"; done
mount --bind "$R" "$R"
mount -o remount,bind,ro "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --rbind /sys "$R/sys"
mount -t tmpfs -o mode=0755,size=16m "halab-db${I}-runroot" "$R/run"
mkdir -p "$R/run/mysqld" "$R/run/sshd" "$R$LAB_DIR"
mount --bind "$LAB_DIR" "$R$LAB_DIR"
cd "$R"
pivot_root . .oldroot
cd /
umount -l /.oldroot
'
if [[ $LAB_ROOT != / ]]; then
	# mount point for the lab dir when it is not under /run (the root is read-only inside)
	mkdir -p "$LAB_ROOT$LAB_DIR"
fi
for ((i = 1; i <= hosts; i++)); do
	d=$(host_dir "$i")
	ns_create "$i"
	if [[ $LAB_ROOT != / ]]; then
		R=$LAB_ROOT I=$i LAB_DIR=$LAB_DIR nsenter --mount="$d/mntns" -- sh -c "$ns_pivot_script" ||
			die "db$i: making $LAB_ROOT the root of its mount namespace failed"
	fi
	I=$i D=$d LAB_DIR=$LAB_DIR LAB_DATA_SIZE=${LAB_DATA_SIZE:-2g} LAB_TMP_SIZE=${LAB_TMP_SIZE:-1g} \
		hostexec_i "$i" sh -c "$ns_setup_script" ||
		die "db$i: setting up private mounts in its mount namespace failed"
	if ((tls)); then
		# The server reads its key as the host's own mysql user (a root has its own uid for it).
		hostexec_i "$i" chown mysql "$TLS_HOST_DIR/server-key.pem" ||
			die "db$i: chown mysql $TLS_HOST_DIR/server-key.pem failed"
	fi
done
log "mount namespaces ready"

# ------------------------------------------------------------ MariaDB + sshd, all hosts in parallel
start_host() {
	local i=$1 d
	d=$(host_dir "$i")
	abort_check "$i"
	if lab_is_mysql; then
		# root@localhost with no password, reachable only through the local socket.
		install_db=("$(lab_mysqld)" --defaults-file=/etc/mysql/my.cnf --initialize-insecure --user=mysql)
	else
		install_db=(mariadb-install-db --defaults-file=/etc/mysql/my.cnf --user=mysql
			--skip-test-db --skip-name-resolve --auth-root-authentication-method=socket)
	fi
	hostexec_i "$i" "${install_db[@]}" >"$d/install-db.log" 2>&1 || {
		grep -iE 'error|fail' "$d/install-db.log" | head -n 3 >&2
		hostexec_i "$i" tail -n 5 /var/log/mysql/error.log >&2 || true
		die "db$i: ${install_db[0]} failed (log above, full log $d/install-db.log)"
	}
	abort_check "$i"
	mysqld_start "$i"
	abort_check "$i"
	sshd_start "$i"
}
abort_check() { [[ ! -e $LAB_DIR/.aborting ]] || die "db$1: start-up aborted"; }
for ((i = 1; i <= hosts; i++)); do
	start_host "$i" &
	bg+=($!)
done
failed=()
for ((i = 1; i <= hosts; i++)); do
	wait "${bg[i - 1]}" || failed+=("db$i")
done
((${#failed[@]} == 0)) || die "start-up failed on: ${failed[*]}"
log "$(lab_mysqld_comm) ($LAB_SERVER) and sshd up on all $hosts hosts"

# ------------------------------------------------------------ users, schema, replication
if lab_is_mysql; then
	reset_binlog="RESET BINARY LOGS AND GTIDS;"
	show_master="SHOW BINARY LOG STATUS"
else
	reset_binlog="RESET MASTER; SET GLOBAL gtid_slave_pos='';"
	show_master="SHOW MASTER STATUS"
fi
start_file=() start_pos=()
for ((i = 1; i <= hosts; i++)); do
	host_sql "$i" "$reset_binlog" || die "db$i: $reset_binlog failed"
	# Where a slave of host i starts in file/position mode: its binlog right after the reset.
	read -r "start_file[$i]" "start_pos[$i]" < <(host_sql "$i" "$show_master" | cut -f1,2)
	[[ -n ${start_file[$i]:-} && -n ${start_pos[$i]:-} ]] || die "db$i: $show_master returned nothing (is log_bin on?)"
done

# Created on db1 after its binlog was reset and before the slaves start, so they replicate.
repl_require=""
((tls)) && repl_require=" REQUIRE SSL"
host_sql 1 "
CREATE USER 'hauser'@'198.18.0.%' IDENTIFIED BY 'hapass';
GRANT ALL PRIVILEGES ON *.* TO 'hauser'@'198.18.0.%' WITH GRANT OPTION;
CREATE USER 'repl'@'198.18.0.%' IDENTIFIED BY 'replpass'$repl_require;
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'198.18.0.%';
-- The application's account: no SUPER, so read_only applies to it (a freeze is real).
CREATE USER 'app'@'198.18.0.%' IDENTIFIED BY 'apppass';
GRANT SELECT, INSERT, UPDATE, DELETE ON test.* TO 'app'@'198.18.0.%';
CREATE DATABASE IF NOT EXISTS test;
CREATE TABLE test.t (id BIGINT PRIMARY KEY, v VARCHAR(64));
" || die "db1: creating users and test schema failed"

# CHANGE MASTER of a slave to host SRC, from FILE:POS in file/position mode; GTID=own makes a
# MariaDB slave start from its own binlog's GTIDs (current_pos: the dual-master db1).
change_master_to() { # SRC FILE POS [own]
	local src=$1 file=$2 pos=$3 own=${4:-} use_gtid ssl="" word=MASTER
	lab_is_mysql && word=SOURCE
	if ((tls)); then
		# Over TLS, checking the source's certificate against the lab CA and its IP.
		ssl="${word}_SSL=1, ${word}_SSL_CA='$TLS_HOST_DIR/ca.pem', ${word}_SSL_VERIFY_SERVER_CERT=1, "
	fi
	if lab_is_mysql; then
		# caching_sha2_password (MySQL's default) over plain TCP needs the source's RSA key.
		if [[ $mode == gtid ]]; then
			use_gtid="SOURCE_AUTO_POSITION=1"
		else
			use_gtid="SOURCE_AUTO_POSITION=0, SOURCE_LOG_FILE='$file', SOURCE_LOG_POS=$pos"
		fi
		echo "CHANGE REPLICATION SOURCE TO SOURCE_HOST='$(host_ip "$src")', SOURCE_PORT=3306, SOURCE_USER='repl',
		SOURCE_PASSWORD='replpass', SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1, $ssl$use_gtid; START REPLICA;"
	else
		if [[ $mode == gtid && -n $own ]]; then
			use_gtid="MASTER_USE_GTID=current_pos"
		elif [[ $mode == gtid ]]; then
			use_gtid="MASTER_USE_GTID=slave_pos"
		else
			use_gtid="MASTER_USE_GTID=no, MASTER_LOG_FILE='$file', MASTER_LOG_POS=$pos"
		fi
		echo "CHANGE MASTER TO MASTER_HOST='$(host_ip "$src")', MASTER_PORT=3306, MASTER_USER='repl',
		MASTER_PASSWORD='replpass', MASTER_CONNECT_RETRY=1, $ssl$use_gtid; START SLAVE;"
	fi
}
if lab_is_mysql; then pos_wait=SOURCE_POS_WAIT; else pos_wait=MASTER_POS_WAIT; fi
for ((i = 2; i <= hosts; i++)); do
	src=$(source_of "$i")
	host_sql "$i" "$(change_master_to "$src" "${start_file[$src]}" "${start_pos[$src]}")" ||
		die "db$i: CHANGE MASTER / START SLAVE failed"
done

# Bounded wait: both threads running and the slave caught up with its source (in source order).
slave_ok() {
	local st
	st=$(host_replica_status "$1") || return 1
	grep -q 'Slave_IO_Running: Yes' <<<"$st" && grep -q 'Slave_SQL_Running: Yes' <<<"$st" &&
		[[ $(host_sql "$1" "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='test' AND TABLE_NAME='t'") == 1 ]]
}
caught_up() { # I
	local i=$1 src end_file end_pos r
	src=$(source_of "$i")
	if ! wait_until 30 "db$i replication (IO+SQL threads running, test.t present)" slave_ok "$i"; then
		host_replica_status "$i" |
			grep -E 'Slave_(IO|SQL)_Running|Last_(IO_|SQL_)?Err' >&2 || true
		die "db$i: replication from db$src did not start"
	fi
	read -r end_file end_pos < <(host_sql "$src" "$show_master" | cut -f1,2)
	r=$(host_sql "$i" "SELECT $pos_wait('$end_file', $end_pos, 20)")
	[[ $r != -1 && $r != NULL ]] || die "db$i: did not catch up with db$src ($end_file:$end_pos) ($pos_wait=$r)"
}
for ((i = 2; i <= hosts; i++)); do
	if [[ $(source_of "$i") == 1 ]]; then caught_up "$i"; fi
done
for ((i = 2; i <= hosts; i++)); do
	if [[ $(source_of "$i") != 1 ]]; then caught_up "$i"; fi
done
if [[ $topology == dual-master ]]; then
	# db1 <- db2 from db2's binlog as it is now (db1's own events, echoed back, end there).
	read -r file2 pos2 < <(host_sql 2 "$show_master" | cut -f1,2)
	host_sql 1 "$(change_master_to 2 "$file2" "$pos2" own)" || die "db1: CHANGE MASTER to db2 failed"
	wait_until 30 "db1 replication from db2 (IO+SQL threads running)" slave_ok 1 ||
		die "db1: replication from db2 did not start"
fi
log "replication running: $topology topology ($mode, $LAB_SERVER$( ((tls)) && echo ", TLS"))"

# ------------------------------------------------------------ manager config and env
{
	cat <<EOF
[server default]
user=hauser
password=hapass
repl_user=repl
repl_password=replpass
ssh_user=root
ssh_options=-i $LAB_DIR/id_ed25519
known_hosts_file=$LAB_DIR/known_hosts
manager_workdir=$LAB_DIR/manager
remote_workdir=/tmp
master_binlog_dir=/var/lib/mysql
ping_interval=1
EOF
	for ((i = 1; i <= hosts; i++)); do
		printf '\n[server%d]\nhostname=%s\n' "$i" "$(host_ip "$i")"
		if ((i <= 2)); then printf 'candidate_master=1\n'; fi
	done
} >"$LAB_DIR/app1.cnf"

{
	echo "# ha-manager lab environment (source me)"
	printf 'LAB_DIR=%q\n' "$LAB_DIR"
	printf 'LAB_HOSTS=%d\n' "$hosts"
	printf 'LAB_MODE=%s\n' "$mode"
	printf 'LAB_TOPOLOGY=%s\n' "$topology"
	printf 'LAB_SERVER=%s\n' "$LAB_SERVER"
	printf 'LAB_TLS=%d\n' "$tls"
	if ((tls)); then
		printf 'LAB_TLS_CA_HOSTS=%q\n' "$TLS_HOST_DIR/ca.pem"
		printf 'LAB_TLS_CA=%q\n' "$LAB_DIR/tls/ca.pem"
	fi
	printf 'LAB_ROOT=%q\n' "$LAB_ROOT"
	printf 'LAB_MANAGER_IP=%s\n' "$LAB_MANAGER_IP"
	printf 'LAB_CONF=%q\n' "$LAB_DIR/app1.cnf"
	printf 'LAB_SSH_KEY=%q\n' "$LAB_DIR/id_ed25519"
	printf 'LAB_KNOWN_HOSTS=%q\n' "$LAB_DIR/known_hosts"
	printf 'LAB_SSH_OPTS=%q\n' "-i $LAB_DIR/id_ed25519 -o UserKnownHostsFile=$LAB_DIR/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes"
	printf 'LAB_MASTER_IP=%s\n' "$(host_ip 1)"
	ips=()
	for ((i = 1; i <= hosts; i++)); do
		printf 'LAB_DB%d_IP=%s\n' "$i" "$(host_ip "$i")"
		ips+=("$(host_ip "$i")")
	done
	printf 'LAB_HOST_IPS=%q\n' "${ips[*]}"
} >"$LAB_DIR/lab.env"

built=1
log "lab is up"
cat <<EOF

ha-manager lab ($LAB_SERVER, $mode mode, $topology, $hosts host$( ((hosts == 1)) || echo s)$( ((tls)) && echo ", TLS")) in $LAB_DIR, up in $(lab_elapsed)s
  manager (root netns): $LAB_MANAGER_IP on bridge $LAB_BRIDGE
EOF
for ((i = 1; i <= hosts; i++)); do
	role="slave of db$(source_of "$i"), read_only=1"
	((i == 1)) && role="master"
	((i == 1)) && [[ $topology == dual-master ]] && role="master (active), slave of db2"
	((i == 2)) && [[ $topology == dual-master ]] && role="standby master, slave of db1, read_only=1"
	printf '  db%d  %-12s %s pid %-7s sshd pid %-7s %s\n' "$i" "$(host_ip "$i")" "$(lab_mysqld_comm)" \
		"$(cut -d' ' -f1 "$(mysqld_pidfile "$i")")" "$(cut -d' ' -f1 "$(sshd_pidfile "$i")")" "$role"
done
cat <<EOF
  config: $LAB_DIR/app1.cnf    env: $LAB_DIR/lab.env
  ssh:    ssh -i $LAB_DIR/id_ed25519 -o UserKnownHostsFile=$LAB_DIR/known_hosts -o StrictHostKeyChecking=yes root@$(host_ip 1)
  sql:    $(lab_client) -h$(host_ip 1) -uhauser -phapass
  down:   $HERE/down.sh --dir $LAB_DIR
EOF
