#!/usr/bin/env bash
# Measures the lab: the first converge of a new lab (containers already created, so the
# figure is the deployment itself) and the re-run that must change nothing. Prints the times
# and the number of changed tasks. Run as root after scripts/bootstrap; FFMESH_LAB_RUNTIME=container
# measures the container runtime.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
eval "$("$top/scripts/bootstrap")"
cd "$top"
inventory=lab/inventories/lab
ansible-playbook -i "$inventory" lab/playbooks/lab_down.yml > /dev/null
rm -rf "$HOME/.cache/ffmesh-lab/ffmesh-lab-public-keys"
ansible-playbook -i "$inventory" lab/playbooks/lab_up.yml > /dev/null

run() {
  local label=$1 started output changed
  shift
  started=$(date +%s%N)
  output=$(ansible-playbook -i "$inventory" lab/playbooks/lab_deploy.yml "$@")
  changed=$(grep -oE 'changed=[0-9]+' <<< "$output" | awk -F= '{sum += $2} END {print sum}')
  printf '%-22s %6d s   changed tasks: %s\n' "$label" $((($(date +%s%N) - started) / 1000000000)) "$changed"
}
hosts=$(ansible-inventory -i "$inventory" --list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["_meta"]["hostvars"]))')
echo "lab: $hosts containers ($inventory), runtime ${FFMESH_LAB_RUNTIME:-native}"
run "first converge"
run "re-run (no change)"
run "check mode (--check)" --check
