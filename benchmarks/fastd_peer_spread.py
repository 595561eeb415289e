"""Prints how evenly routers spread over the gateways, without and with the fastd_limit role's
peer limit, and how long the spread takes to even out after a gateway went away and came back.

Real fastd on each gateway and the role's daemon, in network namespaces; routers configured as
Gluon configures them (every gateway listed, ``peer limit 1``). A router that loses its gateway
notices after fastd's 90 s without a packet, so the phases with a gateway gone take minutes.

Run as root after scripts/bootstrap: .venv/bin/python benchmarks/fastd_peer_spread.py [ROUTERS] [GATEWAYS] [BUFFER]
"""

from __future__ import annotations

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "system"))

from harness import FastdLimitLab, wait_for  # noqa: E402  (the path is set just above)

INTERVAL = 2  # the daemon's run every 2 s here; the role's default is 10 s


def counts(lab: FastdLimitLab) -> list[int]:
    return [len(routers) for routers in lab.connected().values()]


def ratio(spread: list[int]) -> str:
    return f"{max(spread) / min(spread):.2f}" if min(spread) else "inf"


def row(phase: str, spread: list[int], seconds: float, note: str = "") -> None:
    print(f"{phase:44} {' '.join(f'{count:3}' for count in spread):>{4 * len(spread)}} {ratio(spread):>6} {seconds:8.1f}  {note}", flush=True)


def restart_gateways(lab: FastdLimitLab, limit: dict | None) -> None:
    """Fresh fastd on every gateway (no router left over) and, with settings, the daemons."""
    for key in [key for key in lab.processes if key.startswith(("router", "fastd-", "limit-"))]:
        lab.stop(key)
    for gateway in lab.gateways:
        lab.start_fastd(gateway)
    if limit is not None:
        for gateway in lab.gateways:
            lab.start_limit(gateway, interval=INTERVAL, **limit)
        time.sleep(INTERVAL + 1)


def start_routers(lab: FastdLimitLab, routers: list[str], pause: float) -> float:
    started = time.monotonic()
    for name in routers:
        lab.start_router(name)
        time.sleep(pause)
    wait_for("every router connected", lambda: sum(counts(lab)) == len(routers), timeout=300)
    return time.monotonic() - started


def main() -> None:
    routers, gateways, buffer = (int(arg) for arg in (sys.argv[1:] + ["40", "3", "2"][len(sys.argv) - 1:])[:3])
    lab = FastdLimitLab(gateways)
    try:
        names = [lab.add_router(number, start=False) for number in range(routers)]
        even = -(-routers // gateways) + buffer
        print(f"{routers} routers, {gateways} gateways, buffer {buffer} (limit {even} with every gateway up), "
              f"the daemon every {INTERVAL} s")
        print(f"{'phase':44} {'routers per gateway':>{4 * gateways}} {'max/min':>6} {'seconds':>8}")
        restart_gateways(lab, None)
        seconds = start_routers(lab, names, 0)
        row("no limit, all routers at once", counts(lab), seconds, "until all connected")

        restart_gateways(lab, {"buffer": buffer})
        seconds = start_routers(lab, names, 0)
        time.sleep(2 * INTERVAL)
        row("limit, all routers at once", counts(lab), seconds, "a refused router tries again after 20 s (fastd)")

        restart_gateways(lab, {"buffer": buffer})
        seconds = start_routers(lab, names, 0.5)
        row("limit, a router every 0.5 s", counts(lab), seconds)

        # The last gateway goes away: its routers find the others when fastd gives up on it.
        gone = lab.gateways[-1]
        lab.stop(f"fastd-{gone}")
        started = time.monotonic()
        wait_for("its routers on the others", lambda: sum(counts(lab)) == routers, timeout=300, step=1)
        row(f"{gone} gone", counts(lab)[:-1] + [0], time.monotonic() - started, "until every router is connected again")

        lab.start_fastd(gone)
        started = time.monotonic()
        time.sleep(60)
        row(f"{gone} back, no shedding", counts(lab), time.monotonic() - started, "connected routers stay where they are")

        for gateway in lab.gateways:
            lab.stop(f"limit-{gateway}")
            lab.start_limit(gateway, buffer=buffer, shed_per_run=2, interval=INTERVAL)
        started = time.monotonic()
        wait_for("every gateway at or below the limit", lambda: max(counts(lab)) <= even and sum(counts(lab)) == routers,
                 timeout=600, step=1)
        row(f"{gone} back, shedding 2 per run", counts(lab), time.monotonic() - started, "until every gateway holds at most the limit")
    finally:
        lab.close()


if __name__ == "__main__":
    main()
