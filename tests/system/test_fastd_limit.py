"""ffmesh-fastd-limit (the fastd_limit role's daemon) between two gateways with real fastd, and
routers configured as Gluon configures them (both gateways, ``peer limit 1``), in network
namespaces: the gate closes at the limit without dropping a connected router, new routers go
to the other gateway, the gateways read each other over the mesh, and shedding hands an
overfull gateway's newest routers on."""

from __future__ import annotations

import sys


from harness import ROOT, FastdLimitLab, _in, make_netns, remove_netns, wait_for

sys.path.insert(0, str(ROOT / "plugins" / "plugin_utils"))
import _peer_limit  # noqa: E402  pylint: disable=wrong-import-position,wrong-import-order


def _counts(lab: FastdLimitLab) -> list[int]:
    return [len(routers) for routers in lab.connected().values()]


def test_the_gate_holds_the_limit_without_dropping_a_router_and_shedding_evens_the_spread(lab):
    # gw1 alone serves: all six routers connect to it.
    lab.start_fastd("gw1")
    for name in lab.gateways:
        lab.start_limit(name, buffer=1)
    for number in range(6):
        lab.add_router(number)
    wait_for("six routers on gw1", lambda: _counts(lab) == [6, 0], report=lab.report)
    first = lab.connected()["gw1"]
    state = wait_for("gw1's decision with gw2 offline", lambda: lab.state("gw1").get("established") == 6 and lab.state("gw1"), report=lab.report)
    # gw2 does not serve: gw1 is the only active gateway, with a buffer more for gw2: 6 + 2.
    assert state["limit"] == 8 and not state["closed"] and state["others"] == {"gw2": None}
    assert "ct state new" not in lab.ruleset("gw1")

    # gw2 comes back: the limit is 6 / 2 + 1 = 4, gw1 closes, and keeps every router.
    lab.start_fastd("gw2")
    wait_for("gw1 closed", lambda: lab.state("gw1").get("closed"), report=lab.report)
    assert lab.state("gw1")["limit"] == 4
    assert "ct state new counter packets" in lab.ruleset("gw1")
    assert "ct state new" not in lab.ruleset("gw2") and "table inet ffmesh_fastd_limit" in lab.ruleset("gw2")
    # What gw2 (and a Prometheus on the mesh) reads from gw1.
    metrics = lab.fetch("gw2", "gw1", "/metrics").splitlines()
    assert 'ffmesh_fastd_routers{fastd_instance="0"} 6' in metrics
    assert "ffmesh_fastd_peer_limit 4" in metrics and "ffmesh_fastd_closed 1" in metrics
    wait_for("gw2's decision that counts gw1", lambda: lab.state("gw2").get("others") == {"gw1": 6}, report=lab.report)
    assert lab.connected()["gw1"] == first, "a connected router was dropped"

    # New routers find gw1 closed and connect to gw2.
    for number in range(6, 8):
        lab.add_router(number)
    wait_for("the new routers on gw2", lambda: lab.connected()["gw2"] == ["router6", "router7"], report=lab.report)
    assert lab.connected()["gw1"] == first
    # gw1 decides on gw2's last count: before gw2's daemon has counted them, gw1 sees 6 routers
    # on 2 gateways, a limit of 4, and lets 2 go (seen in CI).
    wait_for("gw2's count of its new routers", lambda: lab.state("gw2").get("established") == 2, report=lab.report)

    # With shedding, gw1 lets its newest routers go until it holds the limit (8 / 2 + 1 = 5).
    lab.stop("limit-gw1")
    lab.start_limit("gw1", buffer=1, shed_per_run=2)
    spread = wait_for("gw1 down to its limit, the router it let go on gw2", lambda: _counts(lab) == [5, 3] and lab.connected(), timeout=240, report=lab.report)
    assert set(spread["gw1"]) < set(first) and not set(spread["gw1"]) & set(spread["gw2"])
    assert "let 1 router(s) go" in lab.log("limit-gw1")


def test_the_routers_let_go_stay_cut_off_while_the_gate_opens_and_closes(require):
    # A gateway whose count of the others goes stale opens, and closes again: the routers it let
    # go must stay cut off meanwhile, or they stay on it unseen (the daemon no longer counts them).
    require("ip", "nft")
    netns = make_netns("gate")
    try:
        def apply(script: str) -> None:
            _in(netns, "nft", "-f", "-", input=script)

        table = "ffmesh_fastd_limit"
        apply(_peer_limit.gate_ruleset(table, [10000], True))
        apply(_peer_limit.shed_element(table, "192.0.2.7:4000") + "\n")
        apply(_peer_limit.gate_ruleset(table, [10000], False))
        assert "ct state new" not in _in(netns, "nft", "list", "chain", "inet", table, "gate").stdout
        apply(_peer_limit.gate_ruleset(table, [10000, 10001], True))
        ruleset = _in(netns, "nft", "list", "table", "inet", table).stdout
        assert "192.0.2.7 . 4000" in _in(netns, "nft", "list", "set", "inet", table, "shed_ipv4").stdout
        assert ruleset.count("ct state new") == 1 and ruleset.count("@shed_ipv4 drop") == 2
        assert "udp dport { 10000, 10001 }" in ruleset
    finally:
        remove_netns(netns)
