#!/usr/bin/env bash
# Whole-process benchmark of sync apart (DESIGN.md / issue 12 targets): a small internet
# of network namespaces (a relay host, two homes each behind its own nftables NAT router,
# a LAN where the laptops pair), release binaries. Prints the proposal-to-partner's-disk
# latency on the LAN, relayed (strict NATs: a random port per destination) and direct
# (easy NATs: hole punching gets through), and the time from leaving the LAN to synced
# again through the relay; then Syncthing (Debian) between the same NATed laptops through
# its own relay (strelaysrv, Debian), with a 1 s watcher delay, and the ratio.
#
#   sudo bash bench/apart.sh        # needs root for `ip netns` and nft
#
# Nothing here touches the host's interfaces; the namespaces and the processes this
# script started (by pid) are removed on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in nft:nftables syncthing:syncthing strelaysrv:syncthing-relaysrv; do
  command -v "${tool%%:*}" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool##*:}" >/dev/null; }
done
(cd "$root" && cargo build --release -q -p haven-cli -p haven-daemon)
bin="$root/target/release"
work=$(mktemp -d /tmp/haven-apart-bench.XXXXXX)
tag="hva$$"
nss=()
relay_pid=""
extra_pids=()
teardown() {
  for pid in "${extra_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  extra_pids=()
  for n in a b; do
    if [ -f "$work/$n/havend.pid" ]; then kill "$(cat "$work/$n/havend.pid")" 2>/dev/null || true; fi
  done
  if [ -n "$relay_pid" ]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; relay_pid=""; fi
  sleep 0.3
  for ns in "${nss[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  nss=()
  rm -rf "${work:?}/a" "${work:?}/b" "${work:?}/relay" "${work:?}"/st-* "${work:?}/strelay"
}
trap 'teardown; rm -rf "$work"' EXIT

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
echo "a passphrase for the benchmark" > "$work/pass"
path_is() { on "$1" partner --json | grep -q "\"path\": \"$2\""; }
relay_ok() { on "$1" doctor --json 2>/dev/null | python3 -c 'import json,sys; c=[x for x in json.load(sys.stdin) if x["name"]=="relay"]; sys.exit(0 if c and c[0]["ok"] else 1)'; }

veth() { # veth NS_A IF_A NS_B IF_B
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
  ip -n "$1" link set "$2" up; ip -n "$3" link set "$4" up
}

setup() { # setup easy|strict
  local random=""; [ "$1" = strict ] && random=" random"
  for ns in a b lan inet relay rta rtb; do ip netns add "${tag}$ns"; nss+=("${tag}$ns"); ip -n "${tag}$ns" link set lo up; done
  for br in lan inet; do ip -n "${tag}$br" link add br0 type bridge; ip -n "${tag}$br" link set br0 up; done
  veth "${tag}a" eth0 "${tag}lan" pa; veth "${tag}b" eth0 "${tag}lan" pb
  ip -n "${tag}lan" link set pa master br0; ip -n "${tag}lan" link set pb master br0
  ip -n "${tag}a" addr add 10.88.0.1/24 dev eth0; ip -n "${tag}b" addr add 10.88.0.2/24 dev eth0
  veth "${tag}relay" eth0 "${tag}inet" r; ip -n "${tag}inet" link set r master br0
  ip -n "${tag}relay" addr add 203.0.113.10/24 dev eth0
  local i=1
  for n in a b; do
    veth "${tag}rt$n" wan "${tag}inet" "w$n"; ip -n "${tag}inet" link set "w$n" master br0
    ip -n "${tag}rt$n" addr add "203.0.113.$i/24" dev wan
    veth "${tag}rt$n" lan0 "${tag}$n" home0
    ip -n "${tag}rt$n" addr add "10.$i.0.1/24" dev lan0
    ip -n "${tag}$n" addr add "10.$i.0.2/24" dev home0
    ip -n "${tag}$n" route add default via "10.$i.0.1"
    ip netns exec "${tag}rt$n" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "${tag}rt$n" nft -f - <<EOF
table ip nat {
  chain lab_post { type nat hook postrouting priority 100; oifname "wan" masquerade$random; }
}
table inet filter {
  chain lab_forward { type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan0" oifname "wan" accept; }
  chain lab_input { type filter hook input priority 0; policy drop;
    ct state established,related accept
    iifname "lan0" accept; }
}
EOF
    i=$((i + 1))
  done
  mkdir -p "$work/relay"
  ip netns exec "${tag}relay" "$bin/havend" relay --listen 203.0.113.10:7443 --home "$work/relay" \
    > "$work/relay.out" 2> "$work/relay.log" &
  relay_pid=$!
  wait_until 10 grep -q "relay URL: " "$work/relay.out"
  url=$(grep -o "relay URL: .*" "$work/relay.out" | cut -d' ' -f3)
  on a init --name Maya >/dev/null; on b init --name Sam >/dev/null
  on a unlock >/dev/null; on b unlock >/dev/null
  pair_laptops
  wait_until 30 path_is a lan
  on a partner relay "$url" >/dev/null; on b partner relay "$url" >/dev/null
  wait_until 60 relay_ok a; wait_until 60 relay_ok b
}

latency() { proposal_latency "$1" 10 30; } # latency LABEL: median of 10 proposals, in ms

echo "strict NATs: the LAN, then apart through the relay..." >&2
setup strict
lan=$(latency LAN)
t0=$(now_ms)
ip -n "${tag}lan" link set pa down; ip -n "${tag}lan" link set pb down
id=$(on a agree propose "Switch" --text "Made the moment the laptops left the LAN")
switched() { on b agree show "$id" >/dev/null 2>&1; }
wait_until 120 switched
switch=$(( $(now_ms) - t0 ))
wait_until 60 path_is a relayed
relayed=$(latency Relayed)
path_is a relayed || { echo "the strict pair left the relay" >&2; exit 1; }

echo "syncthing through strelaysrv, the same strict NATs..." >&2
mkdir -p "$work/strelay"
ip netns exec "${tag}relay" strelaysrv -keys "$work/strelay" -listen 203.0.113.10:22067 \
  -pools="" -status-srv="" > "$work/strelay.log" 2>&1 &
extra_pids+=($!)
wait_until 30 grep -q "relay://" "$work/strelay.log"
relay_uri=$(grep -o "relay://[^ ]*" "$work/strelay.log" | head -1)
relay_uri=${relay_uri/0.0.0.0/203.0.113.10}
syncthing_homes "$relay_uri"
for n in a b; do
  ip netns exec "${tag}$n" env HOME="$work/st-$n" STNOUPGRADE=1 syncthing serve --home "$work/st-$n" \
    --no-browser --no-restart >"$work/st-$n.log" 2>&1 &
  extra_pids+=($!)
done
wait_until 180 st_connected
sleep 2
: > "$work/syncthing-latency"
for run in 1 2 3 4 5; do
  echo "a small change, run $run" > "$work/st-a/folder/change-$run.txt"
  t0=$(now_ms)
  arrived() { [ -f "$work/st-b/folder/change-$run.txt" ]; }
  wait_until 120 arrived
  echo $(( $(now_ms) - t0 )) >> "$work/syncthing-latency"
done
st_relayed=$(median < "$work/syncthing-latency")
teardown

echo "easy NATs: apart, hole punched..." >&2
setup easy
ip -n "${tag}lan" link set pa down; ip -n "${tag}lan" link set pb down
wait_until 120 path_is a direct
direct=$(latency Direct)

cat <<EOF
proposal -> partner's disk, LAN:        ${lan} ms
proposal -> partner's disk, relayed:    ${relayed} ms   (target < 300 ms)
proposal -> partner's disk, direct:     ${direct} ms   (target < 100 ms)
left the LAN -> a proposal synced:      ${switch} ms
syncthing through strelaysrv, a small file: ${st_relayed} ms   ($(python3 -c "print(round($st_relayed/max($relayed,1),1))")x Haven relayed)
syncthing relayed runs (ms): $(tr '\n' ' ' < "$work/syncthing-latency")
EOF
