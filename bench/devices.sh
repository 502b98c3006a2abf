#!/usr/bin/env bash
# Whole-process benchmark of a person's own devices against the DESIGN.md targets: two
# devices made of two network namespaces joined by a veth pair, one release havend in
# each, mDNS only on the veth. Prints the first sync of a generated journal to a newly
# linked device (`init --join` + `device add`, to the journal on the new device) and the
# latency of a journal change to the other device's disk.
#
#   sudo bash bench/devices.sh [ENTRIES]     # needs root for `ip netns`; default 10000
#
# Nothing here touches the host's interfaces; the namespaces and the daemons this script
# started (by pid) are removed on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
entries=${1:-10000}
if [ -z "${HAVEN_BENCH_BIN:-}" ]; then
  (cd "$root" && cargo build --release -q -p haven-cli -p haven-daemon -p haven-bench)
fi
bin="${HAVEN_BENCH_BIN:-$root/target/release}"
work=$(mktemp -d /tmp/haven-devices-bench.XXXXXX)
tag="hvd$$"
cleanup() {
  for n in a b; do
    if [ -f "$work/$n/havend.pid" ]; then kill "$(cat "$work/$n/havend.pid")" 2>/dev/null || true; fi
  done
  sleep 0.3
  ip netns del "${tag}a" 2>/dev/null || true
  ip netns del "${tag}b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "${tag}a"; ip netns add "${tag}b"
ip link add eth0 netns "${tag}a" type veth peer name eth0 netns "${tag}b"
ip -n "${tag}a" addr add 10.98.0.1/24 dev eth0; ip -n "${tag}b" addr add 10.98.0.2/24 dev eth0
for n in a b; do ip -n "$tag$n" link set lo up; ip -n "$tag$n" link set eth0 up; done
echo "a passphrase for the benchmark" > "$work/pass"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
count() { on "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"] or 0)'; }

echo "generating $entries entries on Maya's laptop..." >&2
"$bin/gen-journal" "$work/a" "$work/pass" "$entries" /dev/null >/dev/null
on a unlock >/dev/null

echo "linking a new device and its first sync..." >&2
on b init --join --name desk > "$work/join.out" 2>&1 &
join_pid=$!
wait_until 30 grep -q "haven device add " "$work/join.out"
code=$(grep -o "haven device add [0-9a-z-]*" "$work/join.out" | awk '{print $4}')
t0=$(now_ms)
on a device add "$code" --yes >/dev/null
wait "$join_pid"
first_sync=$(( $(now_ms) - t0 ))
got=$(count b)
[ "$got" = "$entries" ] || { echo "the new device holds $got entries, not $entries" >&2; exit 1; }

in_session() { on b device list --json | grep -q '"path": "lan"'; }
wait_until 30 in_session

echo "latency of a journal change to the other device's disk (20 changes)..." >&2
: > "$work/latency"
for i in $(seq 1 20); do
  id=$(on a journal write "A change to measure, number $i")
  t0=$(now_ms)
  until on b journal show "$id" >/dev/null 2>&1; do
    [ $(( $(now_ms) - t0 )) -lt 10000 ] || { echo "timed out: change $i" >&2; exit 1; }
    sleep 0.002
  done
  echo $(( $(now_ms) - t0 )) >> "$work/latency"
done
latency=$(median < "$work/latency")
# What one `haven journal show` costs, so the figure above can be read net of polling.
: > "$work/show"
for i in $(seq 1 10); do
  t0=$(date +%s%N); on b journal show "$id" >/dev/null; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) >> "$work/show"
done
show=$(median < "$work/show")

printf '\n%-52s %10s %10s\n' "what" "haven" "target"
printf '%-52s %7s ms %7s ms\n' "first sync of $entries entries to a new device" "$first_sync" 10000
printf '%-52s %7s ms %7s ms\n' "journal change -> my other device's disk, LAN" "$latency" 50
printf '%-52s %7s ms\n' "(one poll: haven journal show, whole process)" "$show"
echo "latency runs (ms): $(tr '\n' ' ' < "$work/latency")"
