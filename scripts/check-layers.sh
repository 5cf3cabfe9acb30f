#!/usr/bin/env bash
# Layer check (DESIGN.md §2), run by CI. Dependencies point inward only:
#   L0 pure core: no I/O, no async, no clocks, no logging; uses only L0.
#   L1 adapters: use L0; not each other, except the pairs allowed below.
#   L2 use cases: use L0 and L1; not each other, except the pairs allowed below.
#   L3 edge: uses everything.
# Every top-level module under src/ must have a row here (a new one fails until it is
# classified). The work is done by scripts/check_layers.py; see its docstring for what
# counts as test code (left out) and how `crate::`/`super::` paths are resolved.
set -euo pipefail
cd "$(dirname "$0")/.."

# The one layer table. Rows: `module LAYER [note]`; `dir/file.rs LAYER reason` gives one
# file its own layer (a reason is required); `allow FROM -> TO reason` permits an import
# the rules above would refuse (a reason is required). `#` starts a comment.
python3 scripts/check_layers.py "$@" <<'TABLE'
# L0 pure core
topology    L0
binlog      L0
config      L0
policy      L0
render      L0
config/mod.rs    L1  the loading half of config: reads the files, the *_env and *_file secrets, runs init_conf_load_script
state/status.rs  L0  the pure half of state (status codes, health line, judge_status): checked as pure so it stays so

# L1 adapters
mysql       L1
transport   L1
notify      L1
state       L1
journal     L1
allow notify -> journal  a hook outcome is recorded as the journal's plain HookRan record; notify never writes the journal
allow render -> journal  the report is rendered from the journal's record types (Journal, Facts, Entry...); render never calls its file I/O, and is itself checked pure

# L2 use cases
check       L2
monitor     L2
failover    L2
switch      L2
recovery    L2
allow failover -> recovery  recovery is the toolkit shared by failover and switch
allow switch -> recovery    recovery is the toolkit shared by failover and switch

# L3 edge
lib         L3
main        L3
cli         L3
exit        L3
logging     L3
cmd         L3
shutdown    L3
TABLE
