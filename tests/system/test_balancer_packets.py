"""ffmesh.gateway.fastd_balancer with real packets: a client namespace sends UDP flows to the
public port of a gateway namespace, whose N listeners stand in for fastd instances."""

from __future__ import annotations

import collections
import subprocess

import pytest

FLOWS, ROUNDS = 120, 3


def _assert_spread(result: dict, instances: int, public: str) -> None:
    answers = result["answers"]
    assert all(None not in flow for flow in answers), "some packets got no answer"
    assert all(len(set(flow)) == 1 for flow in answers), "a flow changed its instance"
    spread = collections.Counter(flow[0] for flow in answers)
    assert set(spread) == set(range(instances))
    for count in spread.values():
        assert 0.75 * FLOWS / instances <= count <= 1.25 * FLOWS / instances, spread
    assert result["reply_sources"] == [public], "replies must come from the public port"


@pytest.mark.parametrize("backend", ["iptables", "nftables"])
def test_flows_spread_evenly_and_stick(balancer_lab, backend):
    lab = balancer_lab
    public = f"{lab.GATEWAY}:{lab.PUBLIC_PORT}"
    first = lab.apply(instances=4, backend=backend)
    assert first.failed == 0 and first.changed == 1, first.stdout[-3000:]
    again = lab.apply("--check", "--diff", instances=4, backend=backend)
    assert again.changed == 0, again.results("balancer")

    lab.listen(4)
    _assert_spread(lab.send(FLOWS, ROUNDS, 30000), 4, public)
    assert lab.apply(instances=3, backend=backend).changed == 1
    # New flows (new source ports) only reach the three remaining instances.
    _assert_spread(lab.send(FLOWS, ROUNDS, 31000), 3, public)

    assert lab.apply(backend=backend, state="absent").changed == 1
    listing = subprocess.run(["ip", "netns", "exec", lab.gateway, "nft", "list", "ruleset"], capture_output=True, text=True, check=True).stdout
    assert "ffmesh_fastd" not in listing.lower()


def test_rerun_never_duplicates_rules(balancer_lab):
    for attempt in range(3):
        assert balancer_lab.apply(instances=2).failed == 0, attempt
    rules = subprocess.run(["ip", "netns", "exec", balancer_lab.gateway, "iptables", "-t", "nat", "-S"],
                           capture_output=True, text=True, check=True).stdout
    assert rules.count("-j FFMESH_FASTD") == 1
    assert rules.count("REDIRECT") == 2


@pytest.mark.parametrize("backend", ["iptables", "nftables"])
def test_restore_file_makes_the_balancer_again_after_a_reboot(balancer_lab, backend):
    lab = balancer_lab
    restore_file = lab.workdir / "fastd-balancer.sh"
    first = lab.apply(instances=3, backend=backend, restore_file=str(restore_file))
    assert first.failed == 0 and first.results("balancer")["localhost"]["restore_file_changed"], first.stdout[-3000:]
    assert lab.apply("--check", instances=3, backend=backend, restore_file=str(restore_file)).changed == 0

    # A reboot: the namespace's packet filter is empty again; the boot unit runs the script (twice here).
    reset = ["nft", "flush", "ruleset"]
    subprocess.run(["ip", "netns", "exec", lab.gateway, *reset], check=True)
    for dummy in range(2):
        subprocess.run(["ip", "netns", "exec", lab.gateway, "sh", str(restore_file)], check=True)
    again = lab.apply("--check", instances=3, backend=backend, restore_file=str(restore_file))
    assert again.failed == 0 and again.changed == 0, again.results("balancer")
    lab.listen(3)
    _assert_spread(lab.send(FLOWS, ROUNDS, 32000), 3, f"{lab.GATEWAY}:{lab.PUBLIC_PORT}")

    removed = lab.apply(backend=backend, state="absent", restore_file=str(restore_file))
    assert removed.changed == 1 and not restore_file.exists()
