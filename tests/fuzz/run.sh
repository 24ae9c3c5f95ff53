#!/usr/bin/env bash
# tests/fuzz/run.sh BUILDDIR [SECONDS]: runs every fuzz target for SECONDS
# (default 15) from its seed corpus in tests/fuzz/corpus/<target>/. New
# inputs go to a scratch directory; a crash is kept in tests/fuzz/crashes/
# (add it to the corpus once fixed, so it stays a regression test).
set -uo pipefail
dir=$1
secs=${2:-15}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/crashes"
pass=0
fail=0
for t in "$dir"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	seeds=$here/corpus/$name
	mkdir -p "$seeds"
	scratch=$(mktemp -d)
	if "$t" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 \
		-artifact_prefix="$here/crashes/$name-" "$scratch" "$seeds" \
		>"$scratch.log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$scratch.log" | tail -1)
		echo "PASS fuzz $name (${runs:-?} in ${secs}s)"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz $name: crash saved in tests/fuzz/crashes/"
		tail -30 "$scratch.log"
		fail=$((fail + 1))
	fi
	rm -rf "$scratch" "$scratch.log"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
