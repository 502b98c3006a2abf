#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20) from the committed corpus, without
# sanitizers (a panic is what we look for: Rust checks bounds itself), as many at a time as
# there are cores (a fuzzer uses one). New inputs go to a temporary folder, so the committed
# corpus only changes on purpose (`cargo fuzz cmin`).
#
#   bash fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}
parallel=$(nproc)
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

fuzz_one() { # fuzz_one TARGET: writes one line to $results/TARGET.ok or TARGET.failed
  local target=$1 scratch log status=0 runs
  scratch=$(mktemp -d)
  log="$scratch.log"
  cargo fuzz run "$target" -s none "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  if [ "$status" -eq 0 ]; then
    echo "fuzz: $target: $runs executions in ${seconds}s, no crash" > "$results/$target.ok"
  else
    { grep -E 'panicked|SUMMARY|ERROR' "$log" | head -n 5 || true
      echo "fuzz: $target FAILED (exit $status); the input is in fuzz/artifacts/$target"
    } > "$results/$target.failed"
  fi
  rm -rf "$scratch" "$log"
}

targets=$(cargo fuzz list)
for target in $targets; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  fuzz_one "$target" &
done
wait
passed=0
failed=0
for target in $targets; do
  if [ -f "$results/$target.ok" ]; then
    cat "$results/$target.ok"
    passed=$((passed + 1))
  else
    cat "$results/$target.failed" >&2 2>/dev/null || echo "fuzz: $target left no result" >&2
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
