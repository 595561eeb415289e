"""The inventory check's rules: group indexes, tinc names, seed 000's pools and variables."""

from __future__ import annotations

import re

import pytest

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _address_plan
from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _inventory

MESH = {"ipv4_net": "10.186.0.0/16", "mac_prefix": "fe:ed:ca:fe:"}
KNOWN = _inventory.known_variables(["freifunk_fastd_port", "freifunk_state_dir", "freifunk_mesh_mode"])


def test_stated_indexes_are_kept():
    assert _inventory.group_indexes(["a", "b"], {"a": "3", "b": 0}) == ({"a": 3, "b": 0}, [])


def test_without_indexes_the_seed_numbers_from_one_in_its_groups_order():
    indexes, notes = _inventory.group_indexes(["b", "a"], {}, ["x", "a", "b"])
    assert indexes == {"a": 2, "b": 3}
    assert "position in group Freifunk from 1 (b=3, a=2)" in notes[0]


def test_without_the_seed_group_the_gateways_order_numbers_them():
    assert _inventory.group_indexes(["b", "a"], {})[0] == {"b": 1, "a": 2}


def test_some_indexes_stated_and_some_not_is_refused():
    with pytest.raises(_inventory.InventoryError, match="host b: freifunk_group_index is not set, but host a states one"):
        _inventory.group_indexes(["a", "b"], {"a": 1})


def test_a_bad_index_names_its_host():
    with pytest.raises(_inventory.InventoryError, match="host a: freifunk_group_index = 'x'"):
        _inventory.group_indexes(["a"], {"a": "x"})


@pytest.mark.parametrize(
    ("hosts", "stated", "message"),
    [
        (["gw-1.x", "gw_1.x"], {}, "host gw_1.x: tinc node name 'gw_1' is already the name of host gw-1.x"),
        (["gw1.a.org", "gw1.b.org"], {}, "host gw1.b.org: tinc node name 'gw1' is already the name of host gw1.a.org"),
        (["a", "b"], {"b": "a"}, "host b: tinc node name 'a' is already the name of host a"),
        (["a"], {"a": "a.b"}, "host a: freifunk_tinc_name = 'a.b': tinc 1.0 takes letters, digits and _ only; use 'a_b'"),
    ],
)
def test_tinc_names_that_collide_or_tinc_refuses(hosts, stated, message):
    with pytest.raises(_inventory.InventoryError, match=message.replace(".", r"\.")):
        _inventory.tinc_names(hosts, stated, {host: host.split(".")[0] for host in hosts})


def test_tinc_names_clean_the_short_name_or_take_the_stated_one():
    hosts = ["gw-1.example.org", "gw2.example.org"]
    assert _inventory.tinc_names(hosts, {"gw2.example.org": "two"}, {host: host.split(".", maxsplit=1)[0] for host in hosts}) == {
        "gw-1.example.org": "gw_1", "gw2.example.org": "two"}


@pytest.mark.parametrize(
    ("subnet_range", "pool"),
    [
        ("10.186.16.1/20", {"start": "10.186.16.1", "end": "10.186.31.254"}),
        ("10.186.32.1/20", {"start": "10.186.32.1", "end": "10.186.47.254"}),
        ("10.186.2.0/23", {"start": "10.186.2.0", "end": "10.186.3.254"}),
    ],
)
def test_seed_pool_runs_from_the_address_to_the_second_to_last_of_its_network(subnet_range, pool):
    assert _inventory.seed_dhcp_range(subnet_range) == pool


@pytest.mark.parametrize("value", ["10.186.16.1", "fd00::1/64", "nonsense/20", "10.186.31.255/20"])
def test_seed_pool_that_is_no_pool_is_refused(value):
    with pytest.raises(_inventory.InventoryError, match="freifunk_dhcpd_subnet_range"):
        _inventory.seed_dhcp_range(value)


def _plans(ranges):
    plans = _address_plan.check_inventory(MESH, {host: index for host, (index, dummy) in ranges.items()})
    for host, (dummy, subnet_range) in ranges.items():
        if subnet_range:
            plans[host]["dhcp_range"] = _inventory.seed_dhcp_range(subnet_range)
    return plans


def test_seed_pools_of_gateways_numbered_from_one_pass():
    _inventory.check_dhcp_ranges(_plans({"a": (1, "10.186.16.1/20"), "b": (2, "10.186.32.1/20"), "c": (0, None)}))


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"a": (1, "10.186.16.1/20"), "b": (2, "10.186.20.1/22")}, "host b: the DHCP pool 10.186.20.1-10.186.23.254 overlaps host a's pool"),
        ({"a": (1, "10.186.0.1/20")}, "host a: the DHCP pool 10.186.0.1-10.186.15.254 holds 10.186.0.11, the batman_ipv4 of host a"),
        ({"a": (1, "10.186.0.1/23"), "b": (2, None)}, "holds 10.186.0.11, the batman_ipv4 of host a"),
        ({"a": (1, "10.186.0.0/17")}, "host a: the DHCP pool 10.186.0.0-10.186.127.254 is not inside the mesh"),
        ({"a": (1, "10.187.0.1/24")}, "is not inside the mesh 10.186.0.0/16"),
    ],
)
def test_seed_pools_that_collide_are_refused(ranges, message):
    with pytest.raises(_inventory.InventoryError, match=message.replace(".", r"\.")):
        _inventory.check_dhcp_ranges(_plans(ranges))


def _plan(index=1):
    return _address_plan.address_plan(MESH, index)


def test_seed_variables_that_agree_with_the_plan_pass_with_notes():
    notes = _inventory.check_host("gw", {
        "freifunk_batman_address_ipv4": "10.186.0.11", "freifunk_tinc_interface_mac": "FE:ED:CA:FE:01:01",
        "freifunk_recursor_mesh_address_ipv4": "10.186.1.11", "freifunk_dhcpd_routers": "10.186.1.1",
        "freifunk_dhcpd_domain_name_servers": "10.186.1.11", "freifunk_image_tag": "latest",
        "freifunk_fastd_public_port": "53773", "freifunk_gateways_peering_local_as": 12345,
        "freifunk_batman_adv_version": "2017.0.1",
        "freifunk_gateway": {"mesh_address_ipv4": "10.186.1.1", "peering_public_address_ipv4": "192.0.2.1"},
    }, _plan(), KNOWN, "bridge")
    assert notes == [
        "host gw: freifunk_batman_adv_version has no effect with freifunk_mesh_mode: bridge (no batman-adv)",
    ]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"freifunk_typo": 1}, "host gw: freifunk_typo is not a variable this collection takes"),
        ({"freifunk_tinc_interface_mac": "fe:ed:ca:fe:010:01"},
         "freifunk_tinc_interface_mac = fe:ed:ca:fe:010:01 but freifunk_group_index = 1 gives fe:ed:ca:fe:01:01"),
        ({"freifunk_container_data_dir": "/a", "freifunk_state_dir": "/b"}, "freifunk_container_data_dir = /a (seed 000's name) but freifunk_state_dir = /b"),
        ({"freifunk_gateway": {"mesh_address_ipv4": "10.186.1.2"}},
         "freifunk_gateway.mesh_address_ipv4 = 10.186.1.2 but freifunk_group_index = 1 gives 10.186.1.1"),
        ({"freifunk_gateway": {"mesh_adress_ipv4": "10.186.1.1"}}, "freifunk_gateway.mesh_adress_ipv4 is not a key this collection takes"),
        ({"freifunk_gateways_peering_local_as": 65186,
          "freifunk_gateway": {"peering_public_address_ipv4": "192.0.2.1", "gre_tunnels": [{"name": "a"}]}},
         "host gw: freifunk_gateway.gre_tunnels[0]: missing keys ['tunnel_address_ipv4', 'tunnel_endpoint', 'tunnel_peer_ipv4']"),
        ({"freifunk_gateways_peering_local_as": 65186,
          "freifunk_gateway": {"peering_public_address_ipv4": "192.0.2.1", "bgp_neighbors": "x"}},
         "host gw: freifunk_gateway.bgp_neighbors = 'x' must be a list"),
        ({"freifunk_gateway": {"peering_public_address_ipv4": "192.0.2.1", "gre_tunnels": []}},
         "host gw: freifunk_gateways_peering_local_as is missing"),
        ({"freifunk_gateway": {"peering_public_address_ipv4": "gw.example"}}, "peering_public_address_ipv4 = 'gw.example' is not an address"),
    ],
)
def test_seed_variables_that_disagree_are_refused_by_name(variables, message):
    with pytest.raises(_inventory.InventoryError, match=re.escape(message)):
        _inventory.check_host("gw", variables, _plan(), KNOWN)


def test_every_seed_variable_has_a_treatment():
    seed_inventory = {
        "freifunk_image_tag", "freifunk_name", "freifunk_shortname", "freifunk_mesh_ipv4_net", "freifunk_mesh_mac_begin",
        "freifunk_container_data_dir", "freifunk_batman_adv_version", "freifunk_batctl_version",
        "freifunk_batman_address_ipv4", "freifunk_tinc_name", "freifunk_tinc_interface_mac", "freifunk_tinc_data_dir",
        "freifunk_fastd_data_dir", "freifunk_fastd_instances", "freifunk_fastd_public_port", "freifunk_fastd_mtu",
        "freifunk_gateways_peering_local_as", "freifunk_gateways_peering_gre_tunnel_mtu",
        "freifunk_gateways_peering_gre_tunnel_mss_clamp", "freifunk_dhcpd_data_dir", "freifunk_dhcpd_subnet_range",
        "freifunk_dhcpd_routers", "freifunk_dhcpd_domain_name_servers", "freifunk_recursor_mesh_address_ipv4",
        "freifunk_gateway",
    }
    assert seed_inventory <= _inventory.known_variables([])


_UPLINK = {"peering_public_address_ipv4": "198.51.100.86", "gre_tunnels": [{"name": "a"}], "bgp_neighbors": [{"name": "a"}]}


@pytest.mark.parametrize(
    ("variables", "host_address", "expected"),
    [
        # Seed 000 without an uplink built here: its public address, as the seed had it.
        ({"freifunk_gateway": {"peering_public_address_ipv4": "198.51.100.86"}}, "192.0.2.10", "198.51.100.86"),
        # The uplink is built: that address sits behind the backbone; tinc takes the host's own.
        ({"freifunk_gateway": _UPLINK}, "192.0.2.10", "192.0.2.10"),
        ({"freifunk_gateway": _UPLINK, "freifunk_gateway_ipv4_enabled": False}, "192.0.2.10", "198.51.100.86"),
        ({"freifunk_gateway": _UPLINK, "freifunk_tinc_address": "192.0.2.99"}, "192.0.2.10", "192.0.2.99"),
        ({}, "192.0.2.10", "192.0.2.10"),
        ({}, None, ""),
    ],
)
def test_tinc_address(variables, host_address, expected):
    assert _inventory.tinc_address("gw1", variables, host_address) == expected


def test_tinc_address_refuses_an_uplink_host_without_an_address_of_its_own():
    with pytest.raises(_inventory.InventoryError, match="set freifunk_tinc_address"):
        _inventory.tinc_address("gw1", {"freifunk_gateway": _UPLINK}, None)
    with pytest.raises(_inventory.InventoryError, match="freifunk_tinc_address = 'gw2' is not an address"):
        _inventory.tinc_address("gw1", {"freifunk_tinc_address": "gw2"}, "192.0.2.10")


@pytest.mark.parametrize("switch, expected", [(True, True), ("false", False), ("yes", True), (False, False)])
def test_uplink_in_effect(switch, expected):
    assert _inventory.uplink_in_effect("gw1", {"freifunk_gateway": _UPLINK, "freifunk_gateway_ipv4_enabled": switch}) is expected
    assert _inventory.uplink_in_effect("gw1", {"freifunk_gateway": {"peering_public_address_ipv4": "198.51.100.86"}}) is False
    with pytest.raises(_inventory.InventoryError, match="must be true or false"):
        _inventory.uplink_in_effect("gw1", {"freifunk_gateway": _UPLINK, "freifunk_gateway_ipv4_enabled": "maybe"})


def test_tinc_sources_adds_the_default_addresses_once():
    facts = {
        "default_ipv4": {"address": "192.0.2.10"},
        "default_ipv6": {"address": "2001:db8::10"},
        "all_ipv4_addresses": ["192.0.2.10", "10.186.0.1", "198.51.100.86"],
    }
    assert _inventory.tinc_sources("198.51.100.86", facts) == ["198.51.100.86", "192.0.2.10", "2001:db8::10"]
    assert _inventory.tinc_sources("192.0.2.10", facts) == ["192.0.2.10", "2001:db8::10"]
    assert _inventory.tinc_sources("", {"default_ipv4": {}, "default_ipv6": {"address": "fe80::1"}}) == []
    assert _inventory.tinc_sources("", {}) == []
