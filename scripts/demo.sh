#!/usr/bin/env bash
# The main job on a sandbox: build, bring up a 3-host MariaDB cluster in network
# namespaces, and run ha-manager's checks against it. The lab stays up afterwards
# (tear it down with: bash scripts/lab/down.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dir=${HA_LAB_DIR:-/run/ha-lab}
cargo build --release --quiet
bin=target/release/ha-manager
bash scripts/lab/up.sh --hosts 3 --mode gtid --dir "$dir"
echo; echo "== ha-manager check-ssh --conf $dir/app1.cnf"
"$bin" check-ssh --conf "$dir/app1.cnf"
echo; echo "== ha-manager check-repl --conf $dir/app1.cnf"
"$bin" check-repl --conf "$dir/app1.cnf"
echo; echo "The lab is still up: $dir/app1.cnf. Remove it with: bash scripts/lab/down.sh --dir $dir"
