#!/bin/bash
# run.sh - benchmark ha-manager against MHA 0.58 on the project's lab (scripts/lab).
#
# Usage: bash scripts/bench/run.sh [--runs N] [--ping-interval 1|3] [--scenarios LIST]
#                                  [--idle-seconds S] [--work DIR] [--results DIR] [--no-build]
#
#   --runs N            runs per scenario and tool (default 5); the tools alternate run by run
#   --ping-interval S   ping_interval for both tools (1 or 3, default 1)
#   --scenarios LIST    comma-separated, from: kill9,linkdown,lag-gtid,lag-filepos,switch,
#                       binlog1g,relaylog-filepos,bigtx,sqlstop-filepos (default: all);
#                       NAME:N runs that scenario N times instead of --runs
#   --idle-seconds S    window for the resource measurement while monitoring (default 60; 0 = skip)
#   --work DIR          scratch: logs, per-run JSON, MHA's patched modules (default /var/tmp/ha-bench)
#   --results DIR       where latest.md / latest.json / latest.png go (default scripts/bench/results)
#   --no-build          use the existing release binary (HA_MANAGER_BIN or $CARGO_TARGET_DIR/release)
#
# Every run rebuilds the lab (scripts/lab/up.sh, ~3 s) and holds `flock /run/ha-lab.lock` only
# for that run (at most 5 minutes; 9 for binlog1g and relaylog-filepos, which write ~1 GB and
# ~500 MB first), so other users of the lab can run in between.
# Needs root, Debian 12 (apt: mha4mysql-manager, mha4mysql-node), python3 with pip (PyMySQL,
# matplotlib), cargo. Traffic stays on loopback and the lab's 198.18.0.0/24.
set -euo pipefail
# The whole script is one function, parsed before it runs, and the last line exits: editing
# this file while a benchmark runs cannot change what the running one does.
main() {
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

runs=5
ping=1
ALL_SCENARIOS=kill9,linkdown,lag-gtid,lag-filepos,switch,binlog1g,relaylog-filepos,bigtx,sqlstop-filepos
scenarios=$ALL_SCENARIOS
idle=60
work=/var/tmp/ha-bench
results=$HERE/results
build=1
LOCK=/run/ha-lab.lock
LAB_DIR=/run/ha-lab

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
	case "$1" in
	--runs) runs=${2:?}; shift 2 ;;
	--ping-interval) ping=${2:?}; shift 2 ;;
	--scenarios) scenarios=${2:?}; shift 2 ;;
	--idle-seconds) idle=${2:?}; shift 2 ;;
	--work) work=${2:?}; shift 2 ;;
	--results) results=${2:?}; shift 2 ;;
	--no-build) build=0; shift ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }
[[ $ping == 1 || $ping == 3 ]] || { echo "--ping-interval must be 1 or 3" >&2; exit 2; }
[[ $idle =~ ^[0-9]+$ ]] || { echo "--idle-seconds must be a whole number" >&2; exit 2; }
IFS=, read -r -a items <<<"$scenarios"
scen=()
declare -A nruns=()
for item in "${items[@]}"; do
	s=${item%%:*}
	n=$runs
	[[ $item == *:* ]] && n=${item#*:}
	[[ ,$ALL_SCENARIOS, == *",$s,"* ]] || { echo "unknown scenario '$s' (known: $ALL_SCENARIOS)" >&2; exit 2; }
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "runs of '$s' must be a positive integer (got '$n')" >&2; exit 2; }
	scen+=("$s")
	nruns[$s]=$n
done
runs_json=$(for s in "${scen[@]}"; do printf '"%s": %d, ' "$s" "${nruns[$s]}"; done)
scen_csv=$(IFS=,; echo "${scen[*]}")
((EUID == 0)) || { echo "run.sh must run as root (the lab needs it)" >&2; exit 1; }

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------------ dependencies
if ! command -v masterha_manager >/dev/null || ! command -v apply_diff_relay_logs >/dev/null; then
	say "installing MHA 0.58 from Debian (mha4mysql-manager, mha4mysql-node)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y mha4mysql-manager mha4mysql-node >/dev/null
fi
PY=${PYTHON:-python3}
# A python3 ahead of the system's on PATH (pyenv) may lack the modules Debian's python3 has.
if [[ -z ${PYTHON:-} ]] && ! "$PY" -c 'import pymysql, matplotlib' 2>/dev/null &&
	/usr/bin/python3 -c 'import pymysql, matplotlib' 2>/dev/null; then
	PY=/usr/bin/python3
fi
if ! "$PY" -c 'import pymysql, matplotlib' 2>/dev/null; then
	say "installing PyMySQL and matplotlib from PyPI"
	"$PY" -m pip install --quiet pymysql matplotlib
fi
command -v flock >/dev/null || { echo "flock (util-linux) is missing" >&2; exit 1; }
[[ -e $LOCK ]] || : >"$LOCK"

# ------------------------------------------------------------------ ha-manager
target=${CARGO_TARGET_DIR:-$REPO/target}
if [[ -z ${HA_MANAGER_BIN:-} ]]; then
	if ((build)); then
		say "building ha-manager (release, CARGO_TARGET_DIR=$target)"
		(cd "$REPO" && CARGO_TARGET_DIR=$target cargo build --release --quiet)
	fi
	HA_MANAGER_BIN=$target/release/ha-manager
fi
[[ -x $HA_MANAGER_BIN ]] || { echo "no ha-manager binary at $HA_MANAGER_BIN" >&2; exit 1; }
# A private copy: a shared target dir may be rebuilt or cleaned while the bench runs.
mkdir -p "$work/bin"
if [[ $(realpath "$HA_MANAGER_BIN") != $(realpath -m "$work/bin/ha-manager") ]]; then
	cp -f "$HA_MANAGER_BIN" "$work/bin/ha-manager"
fi
HA_MANAGER_BIN=$work/bin/ha-manager
export HA_MANAGER_BIN

# ------------------------------------------------------------------ work dir, MHA fixes
rm -rf "$work/runs"
mkdir -p "$work/runs"
# Run a snapshot of the bench code: editing scripts/bench/ during a run changes nothing.
mkdir -p "$work/code"
cp "$HERE/bench.py" "$HERE/writer.py" "$work/code/"
export BENCH_REPO=$REPO
BENCH=$work/code/bench.py
"$PY" "$BENCH" prepare-mha --work "$work"

alive=no
if "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import bench; sys.exit(0 if bench.ha_has_alive_switch() else 1)' "$work/code"; then
	alive=yes
fi
say "ha-manager $("$HA_MANAGER_BIN" --version | awk '{print $2}') ($HA_MANAGER_BIN); switch --master-state alive: $alive"

"$PY" - "$work/meta.json" <<EOF
import json, socket, subprocess, sys, time
def out(*a):
    try:
        return subprocess.run(a, capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"
meta = {
    "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    "host": socket.gethostname(),
    "cpus": out("nproc"),
    "runs": $runs,
    "runs_per_scenario": {${runs_json%, }},
    "ping_interval": $ping,
    "scenarios": "$scen_csv".split(","),
    "idle_seconds": $idle,
    "ha_version": out("$HA_MANAGER_BIN", "--version"),
    "ha_commit": out("git", "-C", "$REPO", "log", "-1", "--format=%h", "--", "src", "Cargo.toml", "Cargo.lock"),
    "worktree_commit": out("git", "-C", "$REPO", "rev-parse", "--short", "HEAD"),
    "ha_switch_alive": "$alive" == "yes",
    "mha_version": out("dpkg-query", "-W", "-f", "\${Version}", "mha4mysql-manager"),
    "mariadb_version": out("mariadbd", "--version"),
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
EOF

# ------------------------------------------------------------------ runs
locked() { # one lab session: exclusive, bounded (RUN_LIMIT seconds)
	BENCH_QUEUED_AT=$(date +%s.%N) flock "$LOCK" timeout -k 10 "${RUN_LIMIT:-300}" "$PY" "$BENCH" "$@"
}
t_start=$(date +%s)
for s in "${scen[@]}"; do
	for ((i = 1; i <= nruns[$s]; i++)); do
		# alternate: odd runs ha-manager first, even runs MHA first
		if ((i % 2)); then order=(ha mha); else order=(mha ha); fi
		for tool in "${order[@]}"; do
			say "$s run $i/${nruns[$s]}: $tool"
			case "$s" in binlog1g | relaylog-filepos) RUN_LIMIT=540 ;; *) RUN_LIMIT=300 ;; esac
			rc=0
			RUN_LIMIT=$RUN_LIMIT locked run-one --tool "$tool" --scenario "$s" --run "$i" --ping-interval "$ping" --work "$work" || rc=$?
			res=$work/runs/$s-$(printf %02d "$i")-$tool/result.json
			if [[ ! -s $res ]]; then # killed before it could write one: recorded as a failed run
				mkdir -p "${res%/*}"
				printf '{"tool": "%s", "scenario": "%s", "run": %d, "ok": false, "error": "the run ended without a result (exit %d; %d s limit)"}\n' \
					"$tool" "$s" "$i" "$rc" "$RUN_LIMIT" >"$res"
			fi
			((rc == 0)) || say "$s run $i $tool: the run itself failed (exit $rc); see $work/runs"
		done
	done
done
if ((idle > 0)); then
	for tool in ha mha; do
		say "resource use while monitoring: $tool (${idle}s)"
		locked idle --tool "$tool" --seconds "$idle" --ping-interval "$ping" --work "$work" ||
			say "idle $tool failed (exit $?)"
	done
fi
flock "$LOCK" bash "$REPO/scripts/lab/down.sh" --dir "$LAB_DIR" >/dev/null 2>&1 || true
say "all runs done in $(($(date +%s) - t_start))s"

readme=()
[[ $(realpath -m "$results") == "$HERE/results" ]] && readme=(--readme "$REPO/README.md")
"$PY" "$BENCH" report --work "$work" --results "$results" "${readme[@]}"
say "results: $results/latest.md, latest.json, latest.png (logs and per-run JSON in $work/runs)"
}
# On one line: bash has read `exit` before main runs, so it never reads this file again.
main "$@"; exit $?
