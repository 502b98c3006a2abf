#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20) from the committed corpus, without
# sanitizers (a panic is what we look for: Rust checks bounds itself). New inputs go to a
# temporary folder, so the committed corpus only changes on purpose (`cargo fuzz cmin`).
#
#   bash fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none
passed=0
failed=0
for target in $(cargo fuzz list); do
  scratch=$(mktemp -d)
  log="$scratch.log"
  status=0
  cargo fuzz run "$target" -s none "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  if [ "$status" -eq 0 ]; then
    echo "fuzz: $target: $runs executions in ${seconds}s, no crash"
    passed=$((passed + 1))
  else
    grep -E 'panicked|SUMMARY|ERROR' "$log" | head -n 5 >&2 || true
    echo "fuzz: $target FAILED (exit $status); the input is in fuzz/artifacts/$target" >&2
    failed=$((failed + 1))
  fi
  rm -rf "$scratch" "$log"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
