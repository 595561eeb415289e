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


SEED_MESH_ADDRESS = "{{ freifunk_mesh_ipv4_net | ansible.utils.ipaddr(256 + freifunk_group_index | int) | ansible.utils.ipaddr('address') }}"


def test_stated_mesh_address_must_match_the_plan(playbook, tmp_path):
    inventory = _inventory(tmp_path, {"gw1": 0})
    inventory["gateways"]["hosts"]["gw1"]["freifunk_gateway"] = {"mesh_address_ipv4": "10.186.1.5"}
    run = playbook(ROOT / "playbooks" / "setup.yml", inventory)
    assert "host gw1: freifunk_gateway.mesh_address_ipv4 = 10.186.1.5 but freifunk_group_index = 0 gives 10.186.1.0" in run.stdout
    assert not (tmp_path / "gw1").exists()


def test_seed_host_vars_pass_the_preflight(playbook, tmp_path):
    inventory = _inventory(tmp_path, {"gw1": 0, "gw2": 1})
    for host in ("gw1", "gw2"):
        inventory["gateways"]["hosts"][host]["freifunk_gateway"] = {"mesh_address_ipv4": SEED_MESH_ADDRESS}
    run = playbook(ROOT / "playbooks" / "preflight.yml", inventory)
    assert run.failed == 0, run.stdout[-3000:]
