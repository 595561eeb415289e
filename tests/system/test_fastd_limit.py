"""ffmesh-fastd-limit (the fastd_limit role's daemon) between two gateways with real fastd, and
routers configured as Gluon configures them (both gateways, ``peer limit 1``), in network
namespaces: the gate closes at the limit without dropping a connected router, new routers go
to the other gateway, the gateways read each other over the mesh, and shedding hands an
overfull gateway's newest routers on."""

from __future__ import annotations

import pytest

from harness import FastdLimitLab, wait_for


@pytest.fixture(name="lab")
def lab_fixture(require, tmp_path):
    require("ip", "fastd", "nft")
    lab = FastdLimitLab(2, tmp_path)
    try:
        yield lab
    finally:
        lab.close()


def _counts(lab: FastdLimitLab) -> list[int]:
    return [len(routers) for routers in lab.connected().values()]


def test_the_gate_holds_the_limit_without_dropping_a_router_and_shedding_evens_the_spread(lab):
    # gw1 alone serves: all six routers connect to it.
    lab.start_fastd("gw1")
    for name in lab.gateways:
        lab.start_limit(name, buffer=1)
    for number in range(6):
        lab.add_router(number)
    wait_for("six routers on gw1", lambda: _counts(lab) == [6, 0])
    first = lab.connected()["gw1"]
    state = wait_for("gw1's decision with gw2 offline", lambda: lab.state("gw1").get("established") == 6 and lab.state("gw1"))
    # gw2 does not serve: gw1 is the only active gateway, with a buffer more for gw2: 6 + 2.
    assert state["limit"] == 8 and not state["closed"] and state["others"] == {"gw2": None}
    assert "ct state new" not in lab.ruleset("gw1")

    # gw2 comes back: the limit is 6 / 2 + 1 = 4, gw1 closes, and keeps every router.
    lab.start_fastd("gw2")
    wait_for("gw1 closed", lambda: lab.state("gw1").get("closed"))
    assert lab.state("gw1")["limit"] == 4
    assert "ct state new counter packets" in lab.ruleset("gw1")
    assert "ct state new" not in lab.ruleset("gw2") and "table inet ffmesh_fastd_limit" in lab.ruleset("gw2")
    # What gw2 (and a Prometheus on the mesh) reads from gw1.
    metrics = lab.fetch("gw2", "gw1", "/metrics").splitlines()
    assert 'ffmesh_fastd_routers{instance="0"} 6' in metrics
    assert "ffmesh_fastd_peer_limit 4" in metrics and "ffmesh_fastd_closed 1" in metrics
    wait_for("gw2's decision that counts gw1", lambda: lab.state("gw2").get("others") == {"gw1": 6})
    assert lab.connected()["gw1"] == first, "a connected router was dropped"

    # New routers find gw1 closed and connect to gw2.
    for number in range(6, 8):
        lab.add_router(number)
    wait_for("the new routers on gw2", lambda: lab.connected()["gw2"] == ["router6", "router7"])
    assert lab.connected()["gw1"] == first

    # With shedding, gw1 lets its newest routers go until it holds the limit (8 / 2 + 1 = 5).
    lab.stop("limit-gw1")
    lab.start_limit("gw1", buffer=1, shed_per_run=2)
    spread = wait_for("gw1 down to its limit, the router it let go on gw2", lambda: _counts(lab) == [5, 3] and lab.connected(), timeout=240)
    assert set(spread["gw1"]) < set(first) and not set(spread["gw1"]) & set(spread["gw2"])
    assert "let 1 router(s) go" in lab.log("limit-gw1")
