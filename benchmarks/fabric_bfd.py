"""Prints how fast the routed fabric's BGP comes up and how fast BFD withdraws a node that stops
answering, with frr_nspawn's frr.conf and the real FRR daemons (Debian's) in network namespaces
(tests/system's FabricLab: veth pairs stand in for the tunnels), without the kernel lab's emulation.

Each round silences one node (nftables drops all it sends and receives, its links stay up, as for
a killed machine); the kernel lab's probe on every other node pings the silent node's loopback
every 20 ms and watches the routing table: the figure is from the last answer to the route's
deletion. Timers: the collection's default (300 ms x 3) and the kernel lab's (1000 ms x 5).

Run as root after scripts/bootstrap: .venv/bin/python benchmarks/fabric_bfd.py [ROUNDS PER NODE]
"""

from __future__ import annotations

import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "system"))

from harness import FabricLab, wait_for  # noqa: E402  (the path is set just above)

PROBE = ROOT / "lab" / "playbooks" / "files" / "probe.py"


def withdrawal(lab: FabricLab, silent: str) -> dict[str, float | None]:
    """Per other node, seconds from the silent node's last answer to its route's deletion."""
    address = lab.plans[silent]["loopback_ipv4"]
    marks = pathlib.Path(tempfile.mkdtemp(prefix="ffmesh-bfd-"))
    watches = {name: subprocess.Popen(["ip", "netns", "exec", lab.netns[name], sys.executable, str(PROBE), "withdrawal", address, "15",
                                       str(marks / name)], stdout=subprocess.PIPE, text=True)
               for name in lab.nodes if name != silent}
    wait_for("every watch running", lambda: all((marks / name).exists() for name in watches), 60, 0.1)
    time.sleep(1)
    lab.silence(silent)
    figures = {name: json.loads(watch.communicate(timeout=60)[0]).get("detection_s") for name, watch in watches.items()}
    lab.silence(silent, False)
    wait_for("every session up again", lab.up, 60)
    return figures


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    print(f"{'BFD':12} {'up s':>5}  {'withdrawals':>11} {'min s':>6} {'median s':>8} {'max s':>6}  per round (observer: s)")
    for interval, multiplier in ((300, 3), (1000, 5)):
        started = time.monotonic()
        lab = FabricLab(fabric_bfd_receive_interval=interval, fabric_bfd_transmit_interval=interval, fabric_bfd_detect_multiplier=multiplier)
        try:
            wait_for("every session up", lab.up, 60)
            converged = time.monotonic() - started
            results = [(silent, withdrawal(lab, silent)) for dummy in range(rounds) for silent in lab.nodes]
        finally:
            lab.close()
        figures = [figure for dummy, observed in results for figure in observed.values()]
        measured = [figure for figure in figures if figure is not None]
        rounds_text = "; ".join(f"{silent} silent: " + ", ".join(f"{name} {figure}" for name, figure in observed.items()) for silent, observed in results)
        print(f"{interval} ms x {multiplier:<2} {converged:5.1f}  {len(measured):>5} of {len(figures):<3} {min(measured):6.3f} "
              f"{statistics.median(measured):8.3f} {max(measured):6.3f}  {rounds_text}")


if __name__ == "__main__":
    main()
