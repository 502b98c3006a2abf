#!/usr/bin/env bash
# Soak (not in CI): two laptops, two network namespaces joined by a veth pair, for
# SOAK_SECONDS (default 1800) while the link flaps every few seconds, either daemon is
# killed with SIGKILL now and then, and both sides propose, revise and accept. At the end
# the link stays up and both must converge: the same agreements, word for word, on both
# laptops, and every proposal a command acknowledged present on both. Prints the figures,
# including each daemon's resident memory over its life, and at the end beside a daemon
# started afresh on the same documents (more in the soaked one would be a leak).
#
#   sudo bash bench/soak.sh                         # release build, 30 minutes
#   sudo SOAK_SECONDS=600 HAVEN_BIN_DIR=target/debug bash bench/soak.sh
#
# Nothing here touches the host's interfaces; the namespaces and the processes this
# script started (by pid) are removed on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${SOAK_SECONDS:-1800}
if [ -n "${HAVEN_BIN_DIR:-}" ]; then
  bin=$(cd "$HAVEN_BIN_DIR" && pwd)
else
  (cd "$root" && cargo build --release -q -p haven-cli -p haven-daemon)
  bin="$root/target/release"
fi
work=$(mktemp -d /tmp/haven-soak.XXXXXX)
tag="hvs$$"
helpers=()
cleanup() {
  for p in "${helpers[@]}"; do kill "$p" 2>/dev/null || true; done
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
echo "a passphrase for the soak" > "$work/pass"

export HAVEN_IPC_TIMEOUT=20  # a daemon being killed and restarted answers late
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
now() { date +%s; }
pick() { # pick a|b STATUS: a random agreement id with that status ("any" for any)
  on "$1" agree list --json 2>/dev/null | python3 -c '
import json, random, sys
want = sys.argv[1]
try:
    ids = [a["id"] for a in json.load(sys.stdin) if want == "any" or a["status"] == want]
except ValueError:  # the daemon was restarting: nothing listed
    ids = []
print(random.choice(ids) if ids else "")' "$2" || true
}

on a init --name Maya >/dev/null; on b init --name Sam >/dev/null
on a unlock >/dev/null; on b unlock >/dev/null
pair_laptops
echo "paired; soaking for $seconds s..." >&2
end=$(( $(now) + seconds ))

# The link flaps: down for 1-3 s, up for 2-6 s.
( flaps=0
  while [ "$(now)" -lt "$end" ]; do
    sleep $(( 2 + RANDOM % 5 )); ip -n "${tag}a" link set eth0 down
    sleep $(( 1 + RANDOM % 3 )); ip -n "${tag}a" link set eth0 up
    flaps=$(( flaps + 1 )); echo "$flaps" > "$work/flaps"
  done ) &
helpers+=($!)

# Now and then one daemon is killed with SIGKILL and started again.
( kills=0
  while [ "$(now)" -lt "$end" ]; do
    sleep $(( 30 + RANDOM % 60 ))
    n=$([ $(( RANDOM % 2 )) -eq 0 ] && echo a || echo b)
    if [ -f "$work/$n/havend.pid" ]; then
      kill -9 "$(cat "$work/$n/havend.pid")" 2>/dev/null || true
      kills=$(( kills + 1 )); echo "$kills" > "$work/kills"
      sleep 0.5
      on "$n" unlock >/dev/null 2>&1 || true
    fi
  done ) &
helpers+=($!)

# Resident memory of each daemon, every 10 s: "side pid kB".
( while [ "$(now)" -lt "$end" ]; do
    for n in a b; do
      pid=$(cat "$work/$n/havend.pid" 2>/dev/null || true)
      rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$rss" ] && echo "$n $pid $rss" >> "$work/rss"
    done
    sleep 10
  done ) &
helpers+=($!)

# Both partners work: propose (an acknowledged id is recorded), revise, accept.
work_on() {
  local n=$1 i=0
  while [ "$(now)" -lt "$end" ]; do
    i=$(( i + 1 ))
    case $(( RANDOM % 3 )) in
      0) if id=$(on "$n" agree propose "Soak $n$i" --text "Proposed by $n, number $i" 2>/dev/null); then
           echo "$id" >> "$work/acked-$n"
         else echo x >> "$work/failed-$n"; fi ;;
      1) id=$(pick "$n" any)
         [ -n "$id" ] && { on "$n" agree revise "$id" --text "Revised by $n at step $i" >/dev/null 2>&1 \
           && echo "$id" >> "$work/revised-$n" || echo x >> "$work/failed-$n"; } ;;
      2) id=$(pick "$n" proposed)
         [ -n "$id" ] && { on "$n" agree accept "$id" >/dev/null 2>&1 \
           && echo "$id" >> "$work/accepted-$n" || echo x >> "$work/failed-$n"; } ;;
    esac
    sleep 0.$(( RANDOM % 10 ))
  done
}
work_on a & wa=$!
work_on b & wb=$!
wait "$wa" "$wb"
for p in "${helpers[@]}"; do wait "$p" 2>/dev/null || true; done
helpers=()

echo "converging..." >&2
ip -n "${tag}a" link set eth0 up
on a unlock >/dev/null 2>&1 || true; on b unlock >/dev/null 2>&1 || true
t0=$(now)
list() { on "$1" agree list --json 2>/dev/null | python3 -c 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin), key=lambda a: a["id"]), sort_keys=True))'; }
until [ "$(list a)" = "$(list b)" ]; do
  [ $(( $(now) - t0 )) -lt 300 ] || { echo "FAIL: no convergence within 300 s" >&2; exit 1; }
  sleep 1
done
converge=$(( $(now) - t0 ))
list a > "$work/final"
# A leak shows as a daemon that has run through the soak holding more than a fresh one
# holding the same documents.
rss_of() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$(cat "$work/$1/havend.pid")/status"; }
sleep 2
soaked="Maya $(rss_of a) MB, Sam $(rss_of b) MB"
for n in a b; do on "$n" daemon stop >/dev/null 2>&1; on "$n" unlock >/dev/null 2>&1; done
sleep 2
fresh="Maya $(rss_of a) MB, Sam $(rss_of b) MB"
lost=0
for n in a b; do
  while read -r id; do
    grep -q "\"$id\"" "$work/final" || { echo "lost: $id (acknowledged on $n)" >&2; lost=$(( lost + 1 )); }
  done < <(cat "$work/acked-$n" 2>/dev/null)
done
count() { if [ -f "$work/$1" ]; then wc -l < "$work/$1"; else echo 0; fi; }
total=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/final")
rss=$(python3 - "$work/rss" <<'EOF'
import sys, collections
lives = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, pid, kb = line.split()
    lives[(side, pid)].append(int(kb))
longest = {}
for (side, pid), kb in lives.items():
    if len(kb) > len(longest.get(side, [])):
        longest[side] = kb
print("; ".join(f"{s}: {len(kb)*10} s life, {kb[0]/1024:.1f} -> {kb[-1]/1024:.1f} MB (max {max(kb)/1024:.1f})"
                for s, kb in sorted(longest.items())))
EOF
)
cat <<EOF
soak of $seconds s, two laptops, link flapping
  link flaps            $(cat "$work/flaps" 2>/dev/null || echo 0)
  daemons killed (-9)   $(cat "$work/kills" 2>/dev/null || echo 0)
  proposals acked       Maya $(count acked-a), Sam $(count acked-b)
  revisions acked       Maya $(count revised-a), Sam $(count revised-b)
  accepts acked         Maya $(count accepted-a), Sam $(count accepted-b)
  commands refused      Maya $(count failed-a), Sam $(count failed-b) (daemon restarting, races)
  converged after       ${converge} s, ${total} agreements the same on both laptops
  acknowledged, lost    ${lost}
  memory, longest life  ${rss}
  memory at the end     ${soaked}; restarted on the same documents: ${fresh}
EOF
[ "$lost" -eq 0 ] || { echo "FAIL: acknowledged proposals lost" >&2; exit 1; }
