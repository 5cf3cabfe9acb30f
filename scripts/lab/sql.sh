#!/bin/bash
# sql.sh - run SQL on one lab host as root over its local socket (mariadb/mysql -N -B -e) and print the result.
#
# Usage: sql.sh [--dir DIR] HOST "SQL"      (SQL read from stdin when omitted or "-")
#        sql.sh [--dir DIR] --replica-status HOST   (SHOW SLAVE/REPLICA STATUS, vertical, MariaDB's column names)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

replica_status=0
while (($#)); do
	case "$1" in
	--replica-status) replica_status=1; shift ;;
	--dir) lab_set_dir "${2:?--dir needs a value}"; shift 2 ;;
	--dir=*) lab_set_dir "${1#*=}"; shift ;;
	-h | --help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	-*) echo "sql.sh: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
(($# == 1 || $# == 2)) || { sed -n '4,5p' "$0" | sed 's/^# //' >&2; exit 2; }
((EUID == 0)) || die "sql.sh must run as root"
lab_set_dir "$LAB_DIR"
lab_load_env
if ((replica_status)); then
	host_replica_status "$(host_index "$1")"
	exit
fi
i=$(host_index "$1")
if (($# == 1)) || [[ $2 == - ]]; then
	hostexec_i "$i" "$(lab_client)" -uroot -N -B
else
	hostexec_i "$i" "$(lab_client)" -uroot -N -B -e "$2"
fi
