"""frr_nspawn's frr.conf with the real FRR daemons (Debian's zebra, bgpd and bfdd), in network
namespaces this test makes (harness.FabricLab): three fabric nodes, numbered by
ffmesh.gateway.fabric_allocation and planned by ffmesh.gateway.fabric_plan as playbooks/fabric.yml
does, each configuration checked with ``vtysh --dryrun`` before FRR runs it. Veth pairs named as
the tunnels stand in for GRE over WireGuard, which this kernel lacks; the kernel lab runs the whole
fabric. benchmarks/fabric_bfd.py measures what these tests only check: how long BFD takes.
"""

from __future__ import annotations

import subprocess

import pytest

from harness import FabricLab, wait_for


@pytest.fixture(name="fabric")
def fabric_fixture(require):
    require("ip", "nft", "vtysh", "/usr/lib/frr/bgpd", "/usr/lib/frr/bfdd")
    lab = FabricLab()
    try:
        wait_for("every BGP session Established and every BFD session up", lab.up, 60,
                 report=lambda: {name: lab.vtysh(name, "show bgp summary json") for name in lab.nodes})
        yield lab
    finally:
        lab.close()


def test_every_loopback_is_routed_over_its_own_tunnel_and_answers(fabric):
    for name in fabric.nodes:
        plan = fabric.plans[name]
        peers = {peer["name"]: peer for peer in plan["peers"]}
        bfd = fabric.vtysh(name, "show bfd peers json")
        assert {(peer["receive-interval"], peer["transmit-interval"], peer["detect-multiplier"]) for peer in bfd} == {(300, 300, 3)}
        routes4, routes6 = fabric.routes(name, 4), fabric.routes(name, 6)
        # Each loopback through the tunnel to its node, from this node's loopback; nothing else by BGP.
        assert {route["dst"]: route["dev"] for route in routes4} == {peer["loopback_ipv4"]: peer["interface"] for peer in peers.values()}
        assert {route["prefsrc"] for route in routes4} == {plan["loopback_ipv4"]}
        assert {route["dst"]: route["dev"] for route in routes6} == {peer["loopback_ipv6"]: peer["interface"] for peer in peers.values()}
        for peer in peers.values():
            for address in (peer["loopback_ipv4"], peer["loopback_ipv6"]):
                ping = subprocess.run(["ip", "netns", "exec", fabric.netns[name], "ping", "-c", "1", "-W", "2", address],
                                      capture_output=True, text=True, check=False)
                assert ping.returncode == 0, f"{name} -> {peer['name']} {address}: {ping.stdout} {ping.stderr}"


def test_a_node_that_stops_answering_is_withdrawn_by_bfd_and_comes_back(fabric):
    silent, others = fabric.nodes[-1], fabric.nodes[:-1]
    loopbacks = {fabric.plans[silent]["loopback_ipv4"], fabric.plans[silent]["loopback_ipv6"]}

    def routed(name: str) -> set[str]:
        return {route["dst"] for route in fabric.routes(name, 4) + fabric.routes(name, 6)}

    def withdrawn() -> bool:
        return all(not loopbacks & routed(name) for name in others)

    fabric.silence(silent)
    wait_for(f"{silent}'s loopbacks withdrawn on {others}", withdrawn, 30, 0.1)
    # BFD took the session down, not BGP's hold timer.
    for name in others:
        session = fabric.vtysh(name, "show bgp neighbors json")[fabric.interface(name, silent)]
        assert session["bgpState"] != "Established"
        assert session["lastNotificationReason"] == "Cease/BFD Down", session
        assert session["peerBfdInfo"]["status"] == "Down"
    # The sessions between the others held.
    assert fabric.vtysh(others[0], "show bgp neighbors json")[fabric.interface(others[0], others[1])]["connectionsEstablished"] == 1
    fabric.silence(silent, False)
    wait_for("the silent node's sessions up again", fabric.up, 60)
    wait_for(f"{silent}'s loopbacks routed again on {others}",
             lambda: all(loopbacks <= routed(name) for name in others), 30)
