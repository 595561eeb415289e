"""ffmesh.gateway.fastd_balancer with real packets: a client namespace sends UDP flows to the
public port of a gateway namespace, whose N listeners stand in for fastd instances."""

from __future__ import annotations

import collections
import json
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).parent
GATEWAY, CLIENT = "198.18.0.1", "198.18.0.2"  # RFC 2544 benchmark range, only inside the test's namespaces
PUBLIC_PORT, FIRST_INSTANCE_PORT = 10000, 10001
FLOWS, ROUNDS = 120, 3
LOCAL = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}


def _balancer_play(**options) -> list:
    return [{"name": "balance", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "balancer", "ffmesh.gateway.fastd_balancer": dict(port=PUBLIC_PORT, **options)}]}]


@pytest.fixture
def lab(netns, require):
    require("iptables", "nft")
    gateway, client = netns("gw"), netns("client")
    subprocess.run(["ip", "link", "add", "veth-gw", "netns", gateway, "type", "veth", "peer", "name", "veth-cl", "netns", client], check=True)
    for namespace, device, address in ((gateway, "veth-gw", GATEWAY), (client, "veth-cl", CLIENT)):
        subprocess.run(["ip", "-n", namespace, "addr", "add", f"{address}/30", "dev", device], check=True)
        subprocess.run(["ip", "-n", namespace, "link", "set", device, "up"], check=True)
    return gateway, client


def _listen(namespace: str, instances: int) -> subprocess.Popen:
    ports = [str(FIRST_INSTANCE_PORT + i) for i in range(instances)]
    listener = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, str(HERE / "udp_flows.py"), "listen", *ports],
                                stdout=subprocess.PIPE, text=True)
    assert listener.stdout.readline().strip() == "ready"
    return listener


def _send(namespace: str, first_source_port: int) -> dict:
    sent = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, str(HERE / "udp_flows.py"), "send", GATEWAY,
         str(PUBLIC_PORT), str(FLOWS), str(ROUNDS), str(first_source_port)],
        capture_output=True, text=True, check=True, timeout=300,
    )
    return json.loads(sent.stdout)


def _assert_spread(result: dict, instances: int) -> collections.Counter:
    answers = result["answers"]
    assert all(None not in flow for flow in answers), "some packets got no answer"
    assert all(len(set(flow)) == 1 for flow in answers), "a flow changed its instance"
    spread = collections.Counter(flow[0] for flow in answers)
    assert set(spread) == set(range(instances))
    for count in spread.values():
        assert 0.75 * FLOWS / instances <= count <= 1.25 * FLOWS / instances, spread
    assert result["reply_sources"] == [f"{GATEWAY}:{PUBLIC_PORT}"], "replies must come from the public port"
    return spread


@pytest.mark.parametrize("backend", ["iptables", "nftables"])
def test_flows_spread_evenly_and_stick(playbook, lab, backend):
    gateway, client = lab
    first = playbook(_balancer_play(instances=4, backend=backend), LOCAL, netns=gateway)
    assert first.failed == 0 and first.changed == 1, first.stdout[-3000:]
    again = playbook(_balancer_play(instances=4, backend=backend), LOCAL, "--check", "--diff", netns=gateway)
    assert again.changed == 0, again.results("balancer")

    listener = _listen(gateway, 4)
    try:
        _assert_spread(_send(client, 30000), 4)
        shrunk = playbook(_balancer_play(instances=3, backend=backend), LOCAL, netns=gateway)
        assert shrunk.changed == 1
        # New flows (new source ports) only reach the three remaining instances.
        _assert_spread(_send(client, 31000), 3)
    finally:
        listener.terminate()
        listener.wait(timeout=10)

    removed = playbook(_balancer_play(backend=backend, state="absent"), LOCAL, netns=gateway)
    assert removed.changed == 1
    listing = subprocess.run(["ip", "netns", "exec", gateway, "nft", "list", "ruleset"], capture_output=True, text=True, check=True).stdout
    assert "ffmesh_fastd" not in listing.lower()


def test_rerun_never_duplicates_rules(playbook, lab):
    gateway = lab[0]
    for dummy in range(3):
        assert playbook(_balancer_play(instances=2), LOCAL, netns=gateway).failed == 0
    rules = subprocess.run(["ip", "netns", "exec", gateway, "iptables", "-t", "nat", "-S"], capture_output=True, text=True, check=True).stdout
    assert rules.count("-j FFMESH_FASTD") == 1
    assert rules.count("REDIRECT") == 2
