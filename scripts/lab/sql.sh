#!/bin/bash
# sql.sh - run SQL on one lab host as root over its local socket (mariadb -N -B -e) and print the result.
#
# Usage: sql.sh [--dir DIR] HOST "SQL"      (SQL read from stdin when omitted or "-")
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
	-*) echo "sql.sh: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
(($# == 1 || $# == 2)) || { sed -n '4p' "$0" | sed 's/^# //' >&2; exit 2; }
((EUID == 0)) || die "sql.sh must run as root"
lab_set_dir "$LAB_DIR"
lab_load_env
i=$(host_index "$1")
if (($# == 1)) || [[ $2 == - ]]; then
	hostexec_i "$i" mariadb -uroot -N -B
else
	hostexec_i "$i" mariadb -uroot -N -B -e "$2"
fi
