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

# Syncthing beside Haven: two homes, st-a and st-b, sharing one folder with a 1 s watcher
# delay, the REST API on 127.0.0.1:8384 in each namespace. With a relay URI the devices
# reach each other only through it; without, by local discovery on the LAN.
syncthing_homes() { # syncthing_homes [RELAY_URI]: sets key, id_a and id_b
  local relay=${1:-} n other
  key=haven-bench-key
  for n in a b; do
    syncthing generate --home "$work/st-$n" --no-default-folder --skip-port-probing >/dev/null 2>&1
    mkdir -p "$work/st-$n/folder"
  done
  id_a=$(syncthing serve --home "$work/st-a" --device-id); id_b=$(syncthing serve --home "$work/st-b" --device-id)
  for n in a b; do
    if [ $n = a ]; then other=$id_b; else other=$id_a; fi
    python3 - "$work/st-$n/config.xml" "$id_a" "$id_b" "$other" "$work/st-$n/folder" "$key" "$relay" <<'PY'
import sys, xml.etree.ElementTree as ET
path, id_a, id_b, other, folder, key, relay = sys.argv[1:]
tree = ET.parse(path); root = tree.getroot()
for f in root.findall("folder"): root.remove(f)
fo = ET.SubElement(root, "folder", id="bench", label="bench", path=folder, type="sendreceive",
                   rescanIntervalS="3600", fsWatcherEnabled="true", fsWatcherDelayS="1")
for d in (id_a, id_b): ET.SubElement(fo, "device", id=d)
dev = ET.SubElement(root, "device", id=other, name="partner", compression="metadata")
ET.SubElement(dev, "address").text = relay or "dynamic"
gui = root.find("gui"); gui.set("tls", "false"); gui.set("enabled", "true")
gui.find("address").text = "127.0.0.1:8384"
(gui.find("apikey") if gui.find("apikey") is not None else ET.SubElement(gui, "apikey")).text = key
o = root.find("options")
for k, v in {"globalAnnounceEnabled": "false", "localAnnounceEnabled": "false" if relay else "true",
             "relaysEnabled": "true" if relay else "false",
             "natEnabled": "false", "urAccepted": "-1", "startBrowser": "false",
             "crashReportingEnabled": "false", "autoUpgradeIntervalH": "0"}.items():
    (o.find(k) if o.find(k) is not None else ET.SubElement(o, k)).text = v
o.find("listenAddress").text = relay or "tcp://0.0.0.0:22000"
tree.write(path)
PY
  done
}
st_connected() { # Syncthing on laptop a is connected to b
  ip netns exec "${tag}a" curl -s -H "X-API-Key: $key" http://127.0.0.1:8384/rest/system/connections \
    | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["connections"].get(sys.argv[1],{}).get("connected") else 1)' "$id_b"
}
