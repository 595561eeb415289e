"""Prints how evenly ffmesh.gateway.fastd_balancer spreads client flows, for both backends and
several instance counts, measured with real UDP flows between two network namespaces.

Run as root after scripts/bootstrap: .venv/bin/python benchmarks/balancer_spread.py [FLOWS]
"""

from __future__ import annotations

import collections
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "system"))

from harness import BalancerLab  # noqa: E402  (the path is set just above)


def main() -> None:
    flows = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print(f"{'backend':9} {'N':>2} {'apply s':>8} {'re-run s':>8}  {'flows per instance':30} {'min/ideal':>9} {'max/ideal':>9} {'switched':>8}")
    for backend in ("iptables", "nftables"):
        for instances in (2, 4, 8):
            lab = BalancerLab()
            try:
                started = time.monotonic()
                if lab.apply(instances=instances, backend=backend).failed:
                    raise RuntimeError(f"{backend}: the module failed")
                applied = time.monotonic() - started
                started = time.monotonic()
                lab.apply(instances=instances, backend=backend)
                rerun = time.monotonic() - started
                lab.listen(instances)
                answers = lab.send(flows, 2, 30000)["answers"]
            finally:
                lab.close()
            switched = sum(len(set(flow)) != 1 for flow in answers)
            spread = collections.Counter(flow[0] for flow in answers)
            counts = [spread.get(i, 0) for i in range(instances)]
            ideal = flows / instances
            print(f"{backend:9} {instances:>2} {applied:8.2f} {rerun:8.2f}  {' '.join(map(str, counts)):30} "
                  f"{min(counts) / ideal:9.3f} {max(counts) / ideal:9.3f} {switched:>8}")


if __name__ == "__main__":
    main()
