# Helpers the whole-process benchmarks share (sync.sh, apart.sh, soak.sh): source it after
# setting `tag` (the namespace prefix), `work` (the scratch folder, holding `pass`) and
# `bin` (the folder of the release binaries).

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wait_until() { # wait_until SECONDS CMD...: poll until CMD succeeds
  local limit=$(( $(now_ms) + $1 * 1000 )); shift
  until "$@"; do
    [ "$(now_ms)" -lt "$limit" ] || { echo "timed out: $*" >&2; exit 1; }
    sleep 0.005
  done
}
on() { # on a|b CMD...: run haven on laptop a or b (with the caller's environment)
  local n=$1; shift
  ip netns exec "${tag}$n" env HAVEN_HOME="$work/$n" HAVEN_PASSPHRASE_FILE="$work/pass" \
    HAVEN_MDNS_INTERFACE=eth0 "$bin/haven" "$@"
}
pair_laptops() { # Maya's laptop (a) shows a code, Sam's (b) types it
  on a pair > "$work/pair.out" 2>&1 &
  local pair_pid=$!
  wait_until 10 grep -q "haven pair " "$work/pair.out"
  on b pair "$(grep -o "haven pair [0-9a-z-]*" "$work/pair.out" | awk '{print $3}')" >/dev/null
  wait "$pair_pid"
}
proposal_latency() { # proposal_latency LABEL COUNT TIMEOUT: median ms, Maya -> Sam's disk
  : > "$work/latency"
  local i id t0
  for i in $(seq 1 "$2"); do
    id=$(on a agree propose "$1 $i" --text "Made to measure latency, number $i")
    t0=$(now_ms)
    until on b agree show "$id" >/dev/null 2>&1; do
      [ $(( $(now_ms) - t0 )) -lt $(( $3 * 1000 )) ] || { echo "timed out: $1 $i" >&2; exit 1; }
      sleep 0.005
    done
    echo $(( $(now_ms) - t0 )) >> "$work/latency"
  done
  median < "$work/latency"
}
