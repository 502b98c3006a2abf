#!/usr/bin/env bash
# Whole-process benchmark of Haven against the DESIGN.md targets, beside jrnl 4.6 on the
# same 10,000 entries (encrypted), in one run. Prints a table of medians and ratios.
#
#   bash bench/run.sh            # as root (network namespace); HAVEN_BENCH_ENTRIES=N to change the size
#
# Every daemon runs inside a network namespace this script creates (`unshare --net`), so
# nothing reaches the host's interfaces. Only processes this script started are stopped,
# by pid.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${HAVEN_BENCH_ENTRIES:-10000}

if [ -z "${HAVEN_BENCH_IN_NETNS:-}" ]; then
  if ! command -v hyperfine >/dev/null || [ ! -x /usr/bin/time ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine time >/dev/null
  fi
  venv="$root/target/bench-venv"
  if [ ! -x "$venv/bin/jrnl" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q jrnl==4.6
  fi
  if [ -z "${HAVEN_BENCH_BIN:-}" ]; then
    (cd "$root" && cargo build --release -q -p haven-cli -p haven-daemon -p haven-bench)
  fi
  exec unshare --net env HAVEN_BENCH_IN_NETNS=1 JRNL="$venv/bin/jrnl" bash "$0" "$@"
fi

work=$(mktemp -d /tmp/haven-bench.XXXXXX)
# HAVEN_BENCH_BIN=DIR: time the binaries in DIR (another build, for a before/after).
bin="${HAVEN_BENCH_BIN:-$root/target/release}"
export PATH="$bin:$PATH" HAVEN_HOME="$work/home" HAVEN_PASSPHRASE_FILE="$work/pass"
cleanup() {
  if [ -f "$work/home/havend.pid" ]; then kill "$(cat "$work/home/havend.pid")" 2>/dev/null || true; sleep 0.3; fi
  rm -rf "$work"
}
trap cleanup EXIT
echo "a passphrase for the benchmark" > "$work/pass"
hf() { hyperfine -N --style none --export-json "$work/$1.json" "${@:2}" >/dev/null 2>&1 || hyperfine --style none --export-json "$work/$1.json" "${@:2}" >/dev/null; }

echo "generating a ${N}-entry journal..." >&2
plain=$(gen-journal "$work/home" "$work/pass" "$N" "$work/jrnl.txt" | awk '{print $3}')
haven daemon start >/dev/null 2>&1

echo "haven: unlock, write, list, search, show..." >&2
hf unlock --runs 5 --prepare "haven lock" "haven unlock"
scrypt_ms=$(grep -o 'scrypt_ms=[0-9]*' "$work/home/havend.log" | tail -1 | cut -d= -f2)
load_ms=$(grep -o 'load_ms=[0-9]*' "$work/home/havend.log" | sort -t= -k2 -n | awk -F= '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
hf write --warmup 3 --runs 40 "haven journal write 'a short entry written by the benchmark'"
hf list --warmup 3 --runs 40 "haven journal list -n 10"
hf search --warmup 3 --runs 40 "haven journal list --search lighthouse"
hf searchall --warmup 3 --runs 20 "haven journal list --search 'river anxious reassurance'"
id=$(haven journal list -n 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
hf show --warmup 3 --runs 40 "haven journal show $id"
hf export --warmup 3 --runs 40 "haven export $id"
hf insights --warmup 3 --runs 40 "haven insights --since 1y"
hf insights_all --warmup 3 --runs 20 "haven insights --since 11y --json"
hf look_back --warmup 3 --runs 40 "haven look-back"
hf brief_summary --warmup 2 --runs 10 "haven export --weeks 8 --summary -o $work/summary.md"
for f in md txt html pdf json; do
  hf "brief_$f" --warmup 2 --runs 10 "haven export --since 3m --format $f -o $work/brief.$f"
done
brief_entries=$(haven export --since 3m --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')
mem=$(haven status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["memory_bytes"])')
haven journal purge >/dev/null 2>&1
haven daemon stop >/dev/null 2>&1
disk=$(du -cb "$work"/home/haven.db* | tail -1 | cut -f1)

echo "jrnl 4.6: import, write, list, search (encrypted)..." >&2
cat > "$work/jrnl.yaml" <<YAML
colors: {body: none, date: none, tags: none, title: none}
default_hour: 9
default_minute: 0
editor: ''
encrypt: true
highlight: false
indent_character: '|'
journals:
  default:
    journal: $work/jrnl-journal.txt
    encrypt: true
linewrap: 79
tagsymbols: '#@'
template: false
timeformat: '%Y-%m-%d %H:%M'
version: v4.6
YAML
export PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring
printf 'pw\npw\nn\n' > "$work/jrnl-new"; printf 'pw\n' > "$work/jrnl-pw"
j="setsid -w $JRNL --config-file $work/jrnl.yaml"
$j --import --file "$work/jrnl.txt" < "$work/jrnl-new" >/dev/null 2>&1
hf jwrite --runs 5 --input "$work/jrnl-pw" "$j 'a short entry written by the benchmark'" 2>/dev/null || hf jwrite --runs 5 "$j 'a short entry written by the benchmark' < $work/jrnl-pw"
hf jlist --runs 5 "$j -n 10 < $work/jrnl-pw"
hf jsearch --runs 5 "$j -contains lighthouse < $work/jrnl-pw"
hf jsearchall --runs 5 "$j -contains 'river anxious reassurance' < $work/jrnl-pw"

echo "haven: import jrnl's JSON export of the same ${N} entries into a fresh home..." >&2
$j --format json < "$work/jrnl-pw" > "$work/jrnl-export.json" 2>/dev/null
export HAVEN_HOME="$work/imported"
haven init --name Maya >/dev/null 2>&1
haven unlock >/dev/null 2>&1
start=$(date +%s%N)
/usr/bin/time -f "%M" -o "$work/import-cli-kb" haven import --from jrnl "$work/jrnl-export.json" >/dev/null 2>&1
import_ms=$(( ($(date +%s%N) - start) / 1000000 ))
import_cli_kb=$(cat "$work/import-cli-kb")
import_daemon=$(haven status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["memory_bytes"])')
imported=$(haven status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
haven daemon stop >/dev/null 2>&1

python3 - "$work" "$N" "$plain" "$disk" "$mem" "${scrypt_ms:-0}" "${load_ms:-0}" "$brief_entries" "$import_ms" "$import_cli_kb" "$import_daemon" "$imported" <<'PY'
import json, sys
work, n, plain, disk, mem, scrypt, load, brief = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
import_ms, import_cli_kb, import_daemon, imported = int(sys.argv[9]), int(sys.argv[10]), int(sys.argv[11]), int(sys.argv[12])
def med(name):
    return json.load(open(f"{work}/{name}.json"))["results"][0]["median"] * 1000
rows = [
    ("journal write (whole process)", med("write"), 15, med("jwrite")),
    ("journal list -n 10", med("list"), 20, med("jlist")),
    ("journal list --search (40 matches)", med("search"), 20, med("jsearch")),
    ("--search matching most entries", med("searchall"), 20, med("jsearchall")),
    ("journal show ID", med("show"), 20, None),
    ("export ID (markdown)", med("export"), 20, None),
    ("insights over the last year", med("insights"), 20, None),
    ("insights --json over all 10 years", med("insights_all"), 20, None),
    ("look-back (a week, a month, a year)", med("look_back"), 20, None),
    ("brief --weeks 8 --summary (first page)", med("brief_summary"), 100, None),
    ("unlock (scrypt logN 18 + load)", med("unlock"), 1000, None),
]
print(f"\nHaven vs targets and jrnl 4.6 on {n:,} entries of ~800 characters (medians)\n")
print(f"{'what':36} {'haven':>10} {'target':>9}  met  {'jrnl 4.6':>10} {'jrnl/haven':>10}")
for what, h, target, j in rows:
    jt = f"{j:8.1f} ms" if j else "         -"
    ratio = f"{j / h:9.0f}x" if j else "         -"
    print(f"{what:36} {h:7.1f} ms {target:6d} ms  {'yes' if h < target else 'NO ':3}  {jt} {ratio}")
print(f"{'daemon load after unlock (no scrypt)':36} {load:7d} ms {300:6d} ms  {'yes' if load < 300 else 'NO '}   (scrypt {scrypt} ms)")
print(f"{'daemon resident memory':36} {mem/2**20:7.1f} MB {100:6d} MB  {'yes' if mem < 100*2**20 else 'NO '}")
print(f"\n3-month session brief ({brief} entries), written with -o:")
for f in ["md", "txt", "html", "pdf", "json"]:
    print(f"  {f:5} {med('brief_' + f):7.1f} ms")
print(f"\nimport of jrnl's JSON export ({imported:,} entries): {import_ms} ms, "
      f"CLI peak memory {import_cli_kb / 1024:.1f} MB, daemon memory after {import_daemon / 2**20:.1f} MB")
print(f"{'disk after compaction / plaintext':36} {disk/plain:9.2f}x {2:8d}x  {'yes' if disk <= 2*plain else 'NO '}   ({disk/2**20:.1f} MiB for {plain/2**20:.1f} MiB)")
PY
