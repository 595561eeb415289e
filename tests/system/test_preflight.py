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


SEED000 = ROOT / "tests" / "system" / "seed000" / "hosts"


def _preflight(playbook, *args):
    return playbook(ROOT / "playbooks" / "preflight.yml", {}, "-i", str(SEED000), *args)


def test_an_uplink_switched_off_is_reported_and_not_built(playbook):
    run = _preflight(playbook, "-e", "freifunk_gateway_ipv4_enabled=false")
    assert run.failed == 0, run.stdout[-3000:]
    result = run.results("Check every gateway's variables, addresses, pools and tinc name")["server01.freifunk"]
    assert {host: derived["uplink"] for host, derived in result["hosts"].items()} == {
        "server01.freifunk": False, "server02.freifunk": False}
    assert ("host server01.freifunk: freifunk_gateway.gre_tunnels and bgp_neighbors checked (1 tunnel(s), 1 session(s)) "
            "but switched off by freifunk_gateway_ipv4_enabled: false") in " ".join(result["notes"])


def test_seed000_inventory_passes_the_preflight_as_written(playbook):
    run = _preflight(playbook)
    assert run.failed == 0, run.stdout[-3000:]
    derived = run.results("Check every gateway's variables, addresses, pools and tinc name")["server01.freifunk"]["hosts"]
    assert derived == {
        "server01.freifunk": {"group_index": 1, "tinc_name": "server01", "gateway_ipv4": "10.186.1.1",
                              "dhcp_range": {"start": "10.186.16.1", "end": "10.186.31.254"}, "uplink": True},
        "server02.freifunk": {"group_index": 2, "tinc_name": "server02", "gateway_ipv4": "10.186.1.2",
                              "dhcp_range": {"start": "10.186.32.1", "end": "10.186.47.254"}, "uplink": True},
    }
    notes = " ".join(run.results("Check every gateway's variables, addresses, pools and tinc name")["server01.freifunk"]["notes"])
    assert "numbered as seed 000 did" in notes
    assert "switched off" not in notes
    assert "freifunk_gateways_peering_gre_tunnel_mss_clamp = 1366 is more than the tunnel MTU 1400 leaves for TCP (1360)" in notes
    indexes = run.results("Number the gateways as seed 000 did")
    assert {host: result["ansible_facts"]["freifunk_group_index"] for host, result in indexes.items()} == {
        "server01.freifunk": 1, "server02.freifunk": 2}


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ("freifunk_batman_address_ipv4=10.186.0.99",
         "host server01.freifunk: freifunk_batman_address_ipv4 = 10.186.0.99 but freifunk_group_index = 1 gives 10.186.0.11"),
        ("freifunk_tinc_interface_mac=fe:ed:ca:fe:09:01",
         "host server01.freifunk: freifunk_tinc_interface_mac = fe:ed:ca:fe:09:01 but freifunk_group_index = 1 gives fe:ed:ca:fe:01:01"),
        ("freifunk_recursor_mesh_address_ipv4=10.186.1.99",
         "host server01.freifunk: freifunk_recursor_mesh_address_ipv4 = 10.186.1.99 but freifunk_group_index = 1 gives 10.186.1.11"),
        ("freifunk_dhcpd_routers=10.186.1.99",
         "host server01.freifunk: freifunk_dhcpd_routers = 10.186.1.99 but freifunk_group_index = 1 gives 10.186.1.1"),
        ("freifunk_dhcpd_domain_name_servers=10.186.1.98",
         "host server01.freifunk: freifunk_dhcpd_domain_name_servers = 10.186.1.98 but freifunk_group_index = 1 gives 10.186.1.11"),
        ("freifunk_fastd_port=10000",
         "host server01.freifunk: freifunk_fastd_public_port = 53773 (seed 000's name) but freifunk_fastd_port = 10000"),
        ("freifunk_fastd_public_port=99999", "host server01.freifunk: freifunk_fastd_public_port = '99999' is not a port number"),
        ("freifunk_image_tag=2017.1", "host server01.freifunk: freifunk_image_tag = '2017.1': seed 000's ffhef images are not used"),
        ("freifunk_batman_adv_version=new", "host server01.freifunk: freifunk_batman_adv_version = 'new' is not a version"),
        ("freifunk_tinc_name=gw", "host server02.freifunk: tinc node name 'gw' is already the name of host server01.freifunk"),
        ("freifunk_tinc_name=gw-1", "host server01.freifunk: freifunk_tinc_name = 'gw-1': tinc 1.0 takes letters, digits and _ only"),
        ("freifunk_dhcpd_subnet_range=10.186.16.1/20",
         "host server02.freifunk: the DHCP pool 10.186.16.1-10.186.31.254 overlaps host server01.freifunk's pool"),
        ("freifunk_dhcpd_subnet_range=10.186.1.0/24",
         "host server01.freifunk: the DHCP pool 10.186.1.0-10.186.1.254 holds 10.186.1.1, the gateway_ipv4 of host server01.freifunk"),
        ("freifunk_fastd_pubic_port=53773", "host server01.freifunk: freifunk_fastd_pubic_port is not a variable this collection takes"),
        ("freifunk_tinc_additional_hosts=[]", "host server01.freifunk: freifunk_tinc_additional_hosts is not a variable this collection takes"),
        ("freifunk_group_index=1", "host server02.freifunk: freifunk_group_index = 1: it is already the index of host server01.freifunk"),
        ("freifunk_gateways_peering_local_as=201701",
         "host server01.freifunk: freifunk_gateway.bgp_neighbors TUNNEL: as = 201701 is freifunk_gateways_peering_local_as"),
        ("freifunk_gateways_peering_gre_tunnel_mtu=1500",
         "host server01.freifunk: freifunk_gateways_peering_gre_tunnel_mtu = '1500' must be from 1280 to 1476"),
        ('{"freifunk_gateway": {"peering_public_address_ipv4": "192.0.2.1", "mesh_address_ipv4": "10.186.1.1", "gre_tunnels": [{"name": "TUNNEL", '
         '"tunnel_endpoint": "192.0.2.2", "tunnel_address_ipv4": "100.64.1.69", "tunnel_peer_ipv4": "100.64.1.70"}]}}',
         "host server01.freifunk: freifunk_gateway.gre_tunnels TUNNEL: tunnel_peer_ipv4 = 100.64.1.70 is not the other end"),
    ],
)
def test_seed000_variable_that_disagrees_stops_the_preflight(playbook, extra_vars, message):
    run = _preflight(playbook, "-e", extra_vars)
    assert run.failed >= 1
    assert message in run.stdout, run.stdout[-3000:]


def test_two_gateways_with_one_tinc_name_stop_the_preflight(playbook, tmp_path):
    inventory = _inventory(tmp_path, {"gw-1": 0, "gw_1": 1})
    run = playbook(ROOT / "playbooks" / "setup.yml", inventory)
    assert "host gw_1: tinc node name 'gw_1' is already the name of host gw-1" in run.stdout, run.stdout[-3000:]
    assert [play["play"]["name"] for play in run.output["plays"]] == ["Preflight"]
    assert not any((tmp_path / host).exists() for host in ("gw-1", "gw_1"))
