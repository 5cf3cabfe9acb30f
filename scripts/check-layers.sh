#!/usr/bin/env bash
# Layer check (DESIGN.md §2): the pure core (L0) does no I/O, no async, no
# clocks and no logging; adapters (L1) do not reach up into use cases.
set -euo pipefail
cd "$(dirname "$0")/.."
l0=(src/topology src/binlog src/policy
	src/config/model.rs src/config/raw.rs src/config/cnf.rs src/config/toml_file.rs
	src/config/resolve.rs src/config/keys.rs src/config/layers.rs src/config/value.rs
	src/config/words.rs src/config/secrets.rs src/config/init_script.rs src/render
)
forbidden='tokio::|mysql_async|openssh|tracing::|std::fs|std::net|std::process|Instant::now|SystemTime::now|Utc::now|Local::now'
status=0
# Test modules may read fixtures and use clocks; only non-test code is checked.
while IFS= read -r file; do
	hits=$(awk '/^#\[cfg\(test\)\]/{exit} {print FILENAME":"FNR": "$0}' "$file" | grep -E "$forbidden" | grep -vE '^\S+: *//' || true)
	if [ -n "$hits" ]; then
		echo "layer violation (L0 must be pure):"; echo "$hits"; status=1
	fi
done < <(find "${l0[@]}" -name '*.rs' ! -name 'tests.rs' ! -name '*_tests.rs' ! -name 'fixture.rs' ! -path '*/tests/*')
# L1 adapters must not use the use cases or the edge.
if grep -rnE 'crate::(check|failover|monitor|app|cli|start_cmd|switch_cmd)\b' src/mysql src/transport src/state src/journal.rs src/notify | grep -vE 'failover::guard|monitor::verdict' ; then
	echo "layer violation: an adapter (L1) uses a use case or the edge"; status=1
fi
[ $status = 0 ] && echo "layers: OK"
exit $status
