#!/usr/bin/env bash
# Measures the kernel lab (lab/scripts/kernel-lab test): VM boot, deploy and verify, the routed
# fabric from nothing, a fourth fabric node joining and leaving, the re-run that must change
# nothing, and the failover of the client's traffic between the two gateways:
# when the client's gateway loses its tunnels (to the first datagram through the other one),
# when they come back (to the uplink check's "up"), and when that gateway stops entirely
# (the longest silence the client sees), and the routed fabric's BFD: from the stopped node's last
# answer to the route change on each other fabric node. Prints the figures; the lab's log has the rest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
state=${FFMESH_KERNEL_LAB_DIR:-$HOME/.cache/ffmesh-kernel-lab}
log=$(mktemp /tmp/kernel-lab-benchmark.XXXXXX.log)
if ! "$top/lab/scripts/kernel-lab" test > "$log" 2>&1; then
  tail -n 40 "$log"
  echo "kernel lab failed; its log: $log" >&2
  exit 1
fi
cat "$state/times"
python3 - "$state/failover.json" <<'PYTHON'
import json
import sys

figures = json.load(open(sys.argv[1], encoding="utf-8"))
cut, restore, stop = figures["cut"], figures["restore"], figures["stop"]
print(f"tunnels of {figures['gateway_cut_and_stopped']} cut: first datagram through {figures['other_gateway']} "
      f"after {cut['first_datagram_through_other_gateway_s']} s (longest silence {cut['longest_silence_s']} s)")
print(f"tunnels back: uplink check up after {restore['uplink_check_up_again_s']} s, gw_mode {restore['gw_mode_after']}, "
      f"longest silence meanwhile {restore['longest_silence_s']} s")
print(f"{figures['gateway_cut_and_stopped']} stopped: longest silence {stop['longest_silence_s']} s "
      f"(through {stop['source_before']}, then {stop['source_after']})")
print("fabric: the stopped node's route changed " + ", ".join(
    f"on {node} {seconds} s after its last answer" for node, seconds in figures["fabric_withdrawal_s"].items()))
PYTHON
echo "log: $log"
