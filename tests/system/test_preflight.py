"""setup.yml's preflight: a bad inventory ends the run with a message naming host, variable and
value, before any gateway is touched."""

from __future__ import annotations

import pytest

from harness import ROOT


def _inventory(base, indexes: dict) -> dict:
    hosts = {}
    for host, index in indexes.items():
        hosts[host] = {"ansible_connection": "local", "freifunk_container_data_dir": str(base / host)}
        if index is not None:
            hosts[host]["freifunk_group_index"] = index
    return {"gateways": {"hosts": hosts, "vars": {"freifunk_mesh_ipv4_net": "10.186.0.0/16", "freifunk_shortname": "ffhef"}}}


@pytest.mark.parametrize(
    ("indexes", "message"),
    [
        ({"gw1": 0, "gw2": 0}, "host gw2: freifunk_group_index = 0: it is already the index of host gw1; every gateway needs its own index"),
        ({"gw1": 0, "gw2": 12}, "host gw2: freifunk_group_index = 12: index 12 does not fit"),
        ({"gw1": 0, "gw2": None}, "host gw2: freifunk_group_index is not set"),
        ({"gw1": "x"}, "host gw1: freifunk_group_index = 'x'"),
    ],
)
def test_bad_inventory_stops_before_any_gateway(playbook, tmp_path, indexes, message):
    run = playbook(ROOT / "playbooks" / "setup.yml", _inventory(tmp_path, indexes))
    assert run.failed >= 1
    assert message in run.stdout, run.stdout[-3000:]
    assert [play["play"]["name"] for play in run.output["plays"]] == ["Preflight"]
    assert not any((tmp_path / host).exists() for host in indexes)
