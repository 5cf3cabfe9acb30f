#!/bin/bash
# hostexec.sh - run a command inside one lab host (its network, mount and UTS namespaces), as root.
#
# Usage: hostexec.sh [--dir DIR] HOST [CMD ARGS...]     (default CMD: bash)
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
	*) break ;;
	esac
done
(($# >= 1)) || { sed -n '4p' "$0" | sed 's/^# //' >&2; exit 2; }
((EUID == 0)) || die "hostexec.sh must run as root"
lab_set_dir "$LAB_DIR"
if [[ -f $LAB_DIR/lab.env ]]; then
	# shellcheck disable=SC1091
	source "$LAB_DIR/lab.env"
fi
i=$(host_index "$1")
shift
(($#)) || set -- bash
d=$(host_dir "$i")
[[ -e /run/netns/$(host_netns "$i") ]] || die "db$i: network namespace $(host_netns "$i") does not exist"
[[ -e $d/mntns ]] || die "db$i: mount namespace file $d/mntns does not exist"
exec nsenter --net="/run/netns/$(host_netns "$i")" --mount="$d/mntns" --uts="$d/utsns" -- "$@"
