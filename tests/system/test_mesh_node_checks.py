"""freifunk_node's checks before it changes anything: the batman gateway bandwidth, and
batman-adv in check mode without loading a module. Only --check runs and failing checks run
here, so the host running the tests is never changed."""

from __future__ import annotations

import pathlib

from harness import LOCAL, ROOT

NOT_FOUND = "modprobe: FATAL: Module batman-adv not found in directory /lib/modules/test"


def _node_play(stubs: pathlib.Path, bandwidth: str) -> list:
    return [{
        "name": "node",
        "hosts": "localhost",
        "gather_facts": False,
        # The stub modprobe first: it records its arguments and finds no batman-adv.
        "environment": {"PATH": f"{stubs}:/usr/sbin:/usr/bin:/sbin:/bin"},
        "tasks": [{
            "name": "freifunk_node",
            "ansible.builtin.include_role": {"name": "ffmesh.gateway.freifunk_node"},
            "vars": {
                "freifunk_mesh": {"ipv4_net": "10.186.0.0/16"},
                "freifunk_group_index": 0,
                "freifunk_mesh_mode": "batman",
                "freifunk_batman_gw_bandwidth": bandwidth,
            },
        }],
    }]


def _stub_modprobe(tmp_path: pathlib.Path) -> tuple:
    stubs, calls = tmp_path / "stubs", tmp_path / "modprobe.calls"
    stubs.mkdir()
    stub = stubs / "modprobe"
    stub.write_text(f'#!/bin/sh\necho "$*" >> {calls}\necho "{NOT_FOUND}" >&2\nexit 1\n')
    stub.chmod(0o755)
    return stubs, calls


def _failure(run) -> tuple:
    for play in run.output["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("localhost", {})
            if result.get("failed"):
                return task["task"]["name"], result.get("msg", "")
    raise AssertionError(f"nothing failed: {run.stdout[-2000:]}")


def test_check_mode_asks_modprobe_without_loading(playbook, tmp_path):
    stubs, calls = _stub_modprobe(tmp_path)
    run = playbook(_node_play(stubs, "100mbit/100mbit"), LOCAL, "--check")
    assert run.failed == 1
    name, message = _failure(run)
    assert name == "ffmesh.gateway.freifunk_node : Stop when batman-adv is missing"
    assert message.startswith("localhost: the kernel has no batman-adv module")
    assert f"(modprobe --dry-run batman-adv: {NOT_FOUND})" in message
    assert "set freifunk_mesh_mode: bridge" in message
    assert calls.read_text().splitlines() == ["--dry-run batman-adv"]


def test_bandwidth_batctl_would_refuse_stops_the_role_first(playbook, tmp_path):
    stubs, calls = _stub_modprobe(tmp_path)
    run = playbook(_node_play(stubs, "100mbit-100mbit"), LOCAL, "--check")
    assert run.failed == 1
    name, message = _failure(run)
    assert name == "ffmesh.gateway.freifunk_node : Check freifunk_batman_gw_bandwidth"
    assert "batman_gw_bandwidth: '100mbit-100mbit' is not a batman-adv gateway bandwidth" in message
    assert "for example 100mbit/100mbit" in message
    assert not calls.exists()


def _render_batman_netdev(playbook, tmp_path, bandwidth: str, **variables) -> str:
    role = ROOT / "roles" / "freifunk_node"
    play = [{
        "name": "render",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": [str(role / "defaults" / "main.yml"), str(role / "vars" / "main.yml")],
        "tasks": [{
            "name": "netdev",
            "ansible.builtin.template": {"src": str(role / "templates" / "batman.netdev.j2"), "dest": str(tmp_path / "batman.netdev"), "mode": "0644"},
            "vars": {"freifunk_batman_gw_bandwidth": bandwidth, **variables},
        }],
    }]
    run = playbook(play, LOCAL)
    assert run.failed == 0, run.stdout[-2000:]
    return (tmp_path / "batman.netdev").read_text()


def test_networkd_gets_bits_per_second(playbook, tmp_path):
    # systemd-networkd reads K as 1000 bits per second; batctl reads a bare number as kbit.
    netdev = _render_batman_netdev(playbook, tmp_path, "100mbit/20mbit")
    assert "GatewayBandwidthDown=100000K\nGatewayBandwidthUp=20000K\n" in netdev
    netdev = _render_batman_netdev(playbook, tmp_path, "10000")
    assert "GatewayBandwidthDown=10000K\nGatewayBandwidthUp=2000K\n" in netdev


def test_batman_runs_the_sites_routing_algorithm(playbook, tmp_path):
    # networkd's own default is batman-v; Gluon routers and seed 000's gateways run BATMAN_IV,
    # and a router with another algorithm than the gateway's never meshes with it.
    assert "RoutingAlgorithm=batman-iv\n" in _render_batman_netdev(playbook, tmp_path, "10000")
    netdev = _render_batman_netdev(playbook, tmp_path, "10000", freifunk_batman_routing_algorithm="BATMAN_V")
    assert "RoutingAlgorithm=batman-v\n" in netdev
