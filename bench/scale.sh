#!/usr/bin/env bash
# How Haven grows with the journal: the rows of issue 24's table at 10,000, 50,000 and
# 100,000 generated entries (`gen-journal`), each against its goal, and how each grows
# from the smallest size to the largest. Whole processes, release build, medians.
#
#   bash bench/scale.sh                          # as root, or any user with `unshare`
#   HAVEN_SCALE_SIZES="10000 100000" bash bench/scale.sh
#
# The daemon runs inside a network namespace this script creates (`unshare --net`), so
# nothing reaches the host's interfaces; only processes this script started are stopped,
# by pid.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sizes=${HAVEN_SCALE_SIZES:-10000 50000 100000}

if [ -z "${HAVEN_BENCH_IN_NETNS:-}" ]; then
  if ! command -v hyperfine >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
  fi
  if [ -z "${HAVEN_BENCH_BIN:-}" ]; then
    (cd "$root" && cargo build --release -q -p haven-cli -p haven-daemon -p haven-bench)
  fi
  unshare=(unshare --net)
  [ "$(id -u)" = 0 ] || unshare=(unshare --user --map-root-user --net)
  exec "${unshare[@]}" env HAVEN_BENCH_IN_NETNS=1 bash "$0" "$@"
fi

work=$(mktemp -d /tmp/haven-scale.XXXXXX)
bin="${HAVEN_BENCH_BIN:-$root/target/release}"
export PATH="$bin:$PATH" HAVEN_PASSPHRASE_FILE="$work/pass"
daemon_pid() { cat "$HAVEN_HOME/havend.pid" 2>/dev/null || true; }
stop_daemon() {
  local pid; pid=$(daemon_pid)
  [ -n "$pid" ] || return 0
  haven daemon stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}
cleanup() { [ -n "${HAVEN_HOME:-}" ] && stop_daemon; rm -rf "$work"; }
trap cleanup EXIT
echo "a passphrase for the benchmark" > "$work/pass"
# Median seconds of a hyperfine run, in ms.
hf() { # hf NAME HYPERFINE_ARGS...
  hyperfine -N --style none --export-json "$work/$1.json" "${@:2}" >/dev/null 2>&1 \
    || hyperfine --style none --export-json "$work/$1.json" "${@:2}" >/dev/null
  python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$work/$1.json"
}
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

declare -A fig
for n in $sizes; do
  export HAVEN_HOME="$work/home-$n"
  echo "generating $n entries..." >&2
  plain=$(gen-journal "$HAVEN_HOME" "$work/pass" "$n" /dev/null | awk '{print $3}')
  fig[plain,$n]=$plain
  echo "measuring at $n..." >&2
  fig[version,$n]=$(hf version --warmup 3 --runs 30 "haven --version")
  # A cold daemon to an answer: stopped before each run; `unlock` starts it.
  fig[unlock,$n]=$(hf unlock --runs 3 --prepare "bash -c 'haven daemon stop >/dev/null 2>&1 || true'" "haven unlock")
  fig[load,$n]=$(grep -o 'load_ms=[0-9]*' "$HAVEN_HOME/havend.log" | cut -d= -f2 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  for k in scrypt open read index; do
    fig[$k,$n]=$(grep -o "${k}_ms=[0-9]*" "$HAVEN_HOME/havend.log" | cut -d= -f2 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  done
  fig[status,$n]=$(hf status --warmup 3 --runs 30 "haven status")
  fig[list,$n]=$(hf list --warmup 3 --runs 30 "haven journal list -n 10")
  # The first search builds the word index; the figures are of the searches after it.
  fig[first_search,$n]=$(hf first --runs 1 "haven journal list --search river -n 10")
  fig[common,$n]=$(hf common --warmup 3 --runs 30 "haven journal list --search river -n 10")
  fig[rare,$n]=$(hf rare --warmup 3 --runs 30 "haven journal list --search lighthouse -n 10")
  fig[write,$n]=$(hf write --warmup 3 --runs 20 "haven journal write 'a short entry written by the benchmark'")
  pid=$(daemon_pid)
  fig[rss,$n]=$(kb "$pid" VmRSS)
  fig[hwm,$n]=$(kb "$pid" VmHWM)
  stop_daemon
done

first=${sizes%% *}; last=${sizes##* }
ratio() { python3 -c 'import sys; a,b=map(float,sys.argv[1:]); print("%.1fx" % (b/a) if a else "-")' "$1" "$2"; }
printf '%-44s' "what"; for n in $sizes; do printf '%12s' "$n"; done; printf '%14s  %s\n' "goal" "growth"
row() { # row LABEL KEY UNIT GOAL [per-entry]
  printf '%-44s' "$1"
  for n in $sizes; do printf '%12s' "${fig[$2,$n]}$3"; done
  printf '%14s  %s\n' "$4" "$(ratio "${fig[$2,$first]}" "${fig[$2,$last]}")"
}
rel() { # rel LABEL KEY GOAL: times `haven --version`
  printf '%-44s' "$1"
  for n in $sizes; do printf '%12s' "$(python3 -c 'import sys; print("%.2fx" % (float(sys.argv[1])/float(sys.argv[2])))' "${fig[$2,$n]}" "${fig[version,$n]}")"; done
  printf '%14s\n' "$3"
}
per_plain() { # per_plain LABEL KEY GOAL: KiB figure against the plaintext
  printf '%-44s' "$1"
  for n in $sizes; do printf '%12s' "$(python3 -c 'import sys; print("%.1fx" % (float(sys.argv[1])*1024/float(sys.argv[2])))' "${fig[$2,$n]}" "${fig[plain,$n]}")"; done
  printf '%14s\n' "$3"
}
row "plaintext (bytes)" plain "" ""
row "unlock, cold daemon to answer (ms)" unlock "" "<= 1200"
row "  of which scrypt (ms)" scrypt "" ""
row "  of which load (ms)" load "" "<= 300"
row "    open: rows, checks, decrypt, automerge" open "" ""
row "    read the entries out of automerge" read "" ""
row "    sort them into the index" index "" ""
row "daemon resident after use (KiB)" rss "" ""
per_plain "  against the plaintext" rss "<= 2x"
row "daemon peak, VmHWM (KiB; scrypt's 256 MiB)" hwm "" ""
per_plain "  against the plaintext" hwm "<= 2.5x"
row "haven --version (ms)" version "" ""
row "first search, builds the word index (ms)" first_search "" ""
row "--search common word -n 10 (ms)" common "" "<= 10"
row "--search rare word -n 10 (ms)" rare "" "<= 10"
rel "status against --version" status "<= 1.3x"
rel "journal list -n 10 against --version" list "<= 1.3x"
rel "journal write against --version" write "<= 1.5x"
