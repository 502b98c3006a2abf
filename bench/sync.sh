#!/usr/bin/env bash
# Whole-process benchmark of partner sync against the DESIGN.md targets: two laptops made
# of two network namespaces joined by a veth pair, one release havend in each, mDNS only
# on the veth. Prints discovery time, change-to-partner latency, the first sync of 1,000
# agreements, a shared note's latency, `haven status` with 1,000 waiting items and the
# bytes of an incremental sync after a restart; then Syncthing (Debian)
# between the same two namespaces, finding each other by its local discovery and carrying
# a small file with a 1 s watcher delay, and the ratios.
#
#   sudo bash bench/sync.sh        # needs root for `ip netns`
#
# Nothing here touches the host's interfaces; the namespaces and the daemons this script
# started (by pid) are removed on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v syncthing >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq syncthing >/dev/null
fi
if [ -z "${HAVEN_BENCH_BIN:-}" ]; then
  (cd "$root" && cargo build --release -q -p haven-cli -p haven-daemon)
fi
# HAVEN_BENCH_BIN=DIR: time the binaries in DIR (another build, for a before/after).
bin="${HAVEN_BENCH_BIN:-$root/target/release}"
work=$(mktemp -d /tmp/haven-sync-bench.XXXXXX)
tag="hvb$$"
cleanup() {
  for n in a b; do
    if [ -f "$work/$n/havend.pid" ]; then kill "$(cat "$work/$n/havend.pid")" 2>/dev/null || true; fi
    if [ -f "$work/st-$n.pid" ]; then kill "$(cat "$work/st-$n.pid")" 2>/dev/null || true; fi
  done
  sleep 0.3
  ip netns del "${tag}a" 2>/dev/null || true
  ip netns del "${tag}b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "${tag}a"; ip netns add "${tag}b"
ip link add eth0 netns "${tag}a" type veth peer name eth0 netns "${tag}b"
ip -n "${tag}a" addr add 10.99.0.1/24 dev eth0; ip -n "${tag}b" addr add 10.99.0.2/24 dev eth0
for n in a b; do ip -n "$tag$n" link set lo up; ip -n "$tag$n" link set eth0 up; done
echo "a passphrase for the benchmark" > "$work/pass"

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
connected() { on "$1" status --json | grep -q '"connected": true'; }
# From status, not `agree list`: listing marks the agreements seen, and the status
# benchmark below needs them waiting.
count() { on "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["agreements"] or 0)'; }

on a init --name Maya >/dev/null; on b init --name Sam >/dev/null
on a unlock >/dev/null; on b unlock >/dev/null

echo "creating 1,000 agreements on Maya's laptop..." >&2
for i in $(seq 1 1000); do
  on a agree propose "Agreement $i" --text "We agree on thing number $i: a sentence of the length people write." >/dev/null 2>&1
done

echo "pairing..." >&2
pair_laptops
paired=$(now_ms)
wait_until 30 connected b
linked=$(now_ms)
full() { [ "$(count b)" -ge 1000 ]; }
wait_until 60 full
synced=$(now_ms)
first_sync=$(( synced - linked ))

echo "haven status with 1,000 waiting items (20 runs)..." >&2
waiting=$(on b status --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["waiting"]))')
: > "$work/status"
for i in $(seq 1 20); do
  t0=$(date +%s%N); on b status >/dev/null; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 )) >> "$work/status"
done
status_us=$(median < "$work/status")

echo "latency of a change to the partner's disk (20 changes)..." >&2
latency=$(proposal_latency Live 20 10)

echo "latency of a shared note to the partner's disk (20 notes)..." >&2
: > "$work/note-latency"
for i in $(seq 1 20); do
  entry=$(on a journal write --kind needs "A need to share, number $i")
  note=$(on a share "$entry" --yes 2>/dev/null)
  t0=$(now_ms)
  arrived_note() { on b notes show "$note" >/dev/null 2>&1; }
  wait_until 10 arrived_note
  echo $(( $(now_ms) - t0 )) >> "$work/note-latency"
done
note_latency=$(median < "$work/note-latency")

echo "an incremental sync after a restart..." >&2
on b daemon stop >/dev/null
on a agree propose "While away" --text "Made while Sam's laptop was off" >/dev/null 2>&1
on b unlock >/dev/null
wait_until 30 connected b
late() { on b agree list | grep -q "While away"; }
wait_until 30 late
sleep 0.5
on a daemon stop >/dev/null
sent=$(grep -o 'sent_bytes=[0-9]*' "$work/a/havend.log" | cut -d= -f2)
first_bytes=$(echo "$sent" | sort -n | tail -1)  # the largest: a duplicate session at pairing may come first
resume_bytes=$(echo "$sent" | tail -1)

echo "discovery after both daemons start (5 runs)..." >&2
on b daemon stop >/dev/null
: > "$work/discovery"
for run in 1 2 3 4 5; do
  on a unlock >/dev/null 2>&1 & pa=$!
  on b unlock >/dev/null 2>&1 & pb=$!
  wait "$pa" "$pb"
  t0=$(now_ms)
  both() { connected a && connected b; }
  wait_until 30 both
  echo $(( $(now_ms) - t0 )) >> "$work/discovery"
  on a daemon stop >/dev/null 2>&1; on b daemon stop >/dev/null 2>&1
done
discovery=$(median < "$work/discovery")

echo "syncthing: discovery and a small file (5 runs)..." >&2
syncthing_homes
st_start() {
  ip netns exec "$tag$1" env HOME="$work/st-$1" STNOUPGRADE=1 syncthing serve --home "$work/st-$1" \
    --no-browser --no-restart >"$work/st-$1.log" 2>&1 &
  echo $! > "$work/st-$1.pid"
}
st_stop() { kill "$(cat "$work/st-$1.pid")"; wait "$(cat "$work/st-$1.pid")" 2>/dev/null || true; rm -f "$work/st-$1.pid"; }
st_up() { ip netns exec "$tag$1" curl -sf -H "X-API-Key: $key" http://127.0.0.1:8384/rest/system/ping >/dev/null; }
: > "$work/st-discovery"; : > "$work/st-latency"
for run in 1 2 3 4 5; do
  st_start a; st_start b
  wait_until 30 st_up a; wait_until 30 st_up b
  t0=$(now_ms)
  wait_until 120 st_connected
  echo $(( $(now_ms) - t0 )) >> "$work/st-discovery"
  sleep 2
  echo "a small change, run $run" > "$work/st-a/folder/change-$run.txt"
  t0=$(now_ms)
  arrived() { [ -f "$work/st-b/folder/change-$run.txt" ]; }
  wait_until 120 arrived
  echo $(( $(now_ms) - t0 )) >> "$work/st-latency"
  st_stop a; st_stop b
done
st_discovery=$(median < "$work/st-discovery"); st_latency=$(median < "$work/st-latency")

printf '\n%-46s %10s %10s %10s %8s\n' "what" "haven" "target" "syncthing" "ratio"
printf '%-46s %7s ms %7s ms %7s ms %7sx\n' "both daemons up -> connected" "$discovery" 3000 "$st_discovery" \
  "$(python3 -c "print(round($st_discovery/max($discovery,1),1))")"
printf '%-46s %7s ms %7s ms %7s ms %7sx\n' "local change -> on the partner's disk" "$latency" 250 "$st_latency" \
  "$(python3 -c "print(round($st_latency/max($latency,1),1))")"
echo "syncthing discovery runs (ms): $(tr '\n' ' ' < "$work/st-discovery")"
echo "syncthing small-file runs (ms): $(tr '\n' ' ' < "$work/st-latency")"
printf '\n%-46s %10s %10s\n' "what" "haven" "target"
printf '%-46s %7s ms %7s ms\n' "both daemons up -> connected via mDNS" "$discovery" 3000
printf '%-46s %7s ms %7s ms\n' "local change -> on the partner's disk" "$latency" 250
printf '%-46s %7s ms %7s ms\n' "shared note -> on the partner's disk" "$note_latency" 250
printf '%-46s %7s ms %7s ms   (%s waiting items, whole process)\n' "haven status" "$(python3 -c "print(round($status_us/1000,1))")" 20 "$waiting"
printf '%-46s %7s ms %7s ms\n' "first sync of 1,000 agreements" "$first_sync" 1000
printf '%-46s %7s ms\n' "pairing done -> connected" "$(( linked - paired ))"
printf '%-46s %7s B\n' "bytes sent, first sync (1,000 agreements)" "$first_bytes"
printf '%-46s %7s B\n' "bytes sent, sync after a restart (1 change)" "$resume_bytes"
echo "discovery runs (ms): $(tr '\n' ' ' < "$work/discovery")"
echo "latency runs (ms): $(tr '\n' ' ' < "$work/latency")"
