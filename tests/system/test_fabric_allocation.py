"""ffmesh.gateway.fabric_allocation through ansible-playbook: the record next to the inventory,
a re-run and check mode that change nothing, a node added and one retired and released, and a
broken record refused by name with nothing written."""

from __future__ import annotations

import yaml

from harness import LOCAL

SETTINGS = {"loopback_ipv4": "10.255.0.0/24", "loopback_ipv6": "fd00:ff::/64", "wireguard_ipv4": "10.254.0.0/24"}


def _allocate(playbook, tmp_path, hosts, *args, release=()):
    task = {"store": str(tmp_path / "fabric"), "fabric": "backbone", "hosts": hosts, "release": list(release), **SETTINGS}
    play = [{"name": "fabric", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "allocate", "ffmesh.gateway.fabric_allocation": task}]}]
    run = playbook(play, LOCAL, *args)
    return run, run.results("allocate")["localhost"] if run.failed == 0 else None


def test_the_record_keeps_every_nodes_numbers_across_runs(playbook, tmp_path):
    record = tmp_path / "fabric" / "backbone.yml"
    run, first = _allocate(playbook, tmp_path, ["kvm2", "kvm1", "kvm3"])
    assert run.failed == 0, run.stdout[-3000:]
    assert first["changed"] and first["added"] == ["kvm1", "kvm2", "kvm3"]
    assert first["nodes"]["kvm2"] == {"index": 2, "asn": 4200000001, "loopback_ipv4": "10.255.0.2",
                                      "loopback_ipv6": "fd00:ff::2", "wireguard_ipv4": "10.254.0.2"}
    assert yaml.safe_load(record.read_text()) == {"nodes": {"kvm1": 1, "kvm2": 2, "kvm3": 3}, "retired": {}}
    written = record.read_text()

    assert _allocate(playbook, tmp_path, ["kvm1", "kvm2", "kvm3"])[1]["changed"] is False
    checked = _allocate(playbook, tmp_path, ["kvm1", "kvm2", "kvm3", "kvm4"], "--check", "--diff")[1]
    assert checked["changed"] and checked["nodes"]["kvm4"]["index"] == 4 and record.read_text() == written
    assert checked["diff"]["before"] == written and "  kvm4: 4\n" in checked["diff"]["after"]

    # kvm2 leaves: the others keep their numbers, and a new node does not get kvm2's.
    retired = _allocate(playbook, tmp_path, ["kvm1", "kvm3", "kvm4"])[1]
    assert retired["retired"] == ["kvm2"] and retired["nodes"]["kvm4"]["index"] == 4
    assert {host: numbers["index"] for host, numbers in retired["nodes"].items()} == {"kvm1": 1, "kvm3": 3, "kvm4": 4}
    released = _allocate(playbook, tmp_path, ["kvm1", "kvm3", "kvm4", "kvm5"], release=["kvm2"])[1]
    assert released["released"] == ["kvm2"] and released["nodes"]["kvm5"]["index"] == 2
    assert yaml.safe_load(record.read_text()) == {"nodes": {"kvm1": 1, "kvm3": 3, "kvm4": 4, "kvm5": 2}, "retired": {}}


def test_a_record_that_holds_an_index_twice_is_refused_and_not_rewritten(playbook, tmp_path):
    record = tmp_path / "fabric" / "backbone.yml"
    record.parent.mkdir()
    record.write_text("nodes: {kvm1: 1, kvm2: 1}\n")
    run, dummy = _allocate(playbook, tmp_path, ["kvm1", "kvm2", "kvm3"])
    assert run.failed == 1
    assert "indices held twice in the record: 1 by kvm1, kvm2" in run.stdout
    assert record.read_text() == "nodes: {kvm1: 1, kvm2: 1}\n"


def test_a_range_too_small_for_the_fabric_is_refused_by_name(playbook, tmp_path):
    task_hosts = [f"n{number}" for number in range(3)]
    play = [{"name": "fabric", "hosts": "localhost", "gather_facts": False, "tasks": [{"name": "allocate", "ffmesh.gateway.fabric_allocation": {
        "store": str(tmp_path / "fabric"), "fabric": "small", "hosts": task_hosts,
        "loopback_ipv4": "10.255.0.0/30", "wireguard_ipv4": "10.254.0.0/24"}}]}]
    run = playbook(play, LOCAL)
    assert run.failed == 1
    assert "loopback_ipv4 10.255.0.0/30 has room for 2 nodes; index 3 does not fit" in run.stdout
    assert not (tmp_path / "fabric" / "small.yml").exists()
