from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._address_plan import (
    AddressPlanError,
    address_plan,
    check_inventory,
)

HENNEF = {"ipv4_net": "10.186.0.0/16", "mac_prefix": "fe:ed:ca:fe:"}


def test_seed_000_plan_for_index_0_and_3():
    assert address_plan(HENNEF, 0) == {
        "index": 0,
        "ipv4_net": "10.186.0.0/16",
        "ipv4_prefixlen": 16,
        "batman_ipv4": "10.186.0.10",
        "gateway_ipv4": "10.186.1.0",
        "recursor_ipv4": "10.186.1.10",
        "dhcp_block": "10.186.0.0/20",
        "dhcp_range": {"start": "10.186.2.0", "end": "10.186.15.255"},
        "bridge_mac": "fe:ed:ca:fe:00:00",
        "tinc_mac": "fe:ed:ca:fe:00:01",
        "fastd_macs": ["fe:ed:ca:fe:00:10"],
    }
    plan = address_plan(HENNEF, "3")
    assert (plan["batman_ipv4"], plan["gateway_ipv4"], plan["recursor_ipv4"]) == ("10.186.0.13", "10.186.1.3", "10.186.1.13")
    assert plan["dhcp_range"] == {"start": "10.186.50.0", "end": "10.186.63.255"}


def test_seed_expressions_agree_for_every_index():
    """The seed's inventory: net | ipaddr(10 + index), ipaddr(256 + index), ipaddr(256 + 10 + index)."""
    net = ipaddress.ip_network(HENNEF["ipv4_net"])
    for index in range(10):
        plan = address_plan(HENNEF, index)
        assert plan["batman_ipv4"] == str(net[10 + index])
        assert plan["gateway_ipv4"] == str(net[256 + index])
        assert plan["recursor_ipv4"] == str(net[256 + 10 + index])
        assert plan["tinc_mac"] == f"fe:ed:ca:fe:0{index}:01"  # the seed's own template, valid below 10


def test_macs_stay_valid_beyond_index_9():
    mesh = dict(HENNEF, ipv4_net="10.0.0.0/8", recursor_offset=300, fastd_instances=3)
    plan = address_plan(mesh, 10)
    assert plan["tinc_mac"] == "fe:ed:ca:fe:0a:01"
    assert plan["fastd_macs"] == ["fe:ed:ca:fe:0a:10", "fe:ed:ca:fe:0a:11", "fe:ed:ca:fe:0a:12"]


def test_last_block_excludes_the_broadcast_address():
    mesh = {"ipv4_net": "10.186.0.0/16", "gateway_offset": 100, "recursor_offset": 200}
    plan = address_plan(mesh, 15)
    assert plan["dhcp_range"]["end"] == "10.186.255.254"


def test_ipv6_counterparts():
    plan = address_plan(dict(HENNEF, ipv6_net="fd00:186::/64"), 2)
    assert (plan["batman_ipv6"], plan["gateway_ipv6"], plan["recursor_ipv6"]) == ("fd00:186::c", "fd00:186::102", "fd00:186::10c")


@pytest.mark.parametrize(
    ("mesh", "index", "message"),
    [
        ({"ipv4_net": "10.186.0.0/33"}, 0, "ipv4_net = '10.186.0.0/33' is not an IPv4 network"),
        ({"ipv4_net": "fd00::/64"}, 0, "IPv4 expected"),
        ({"ipv4_net": "10.186.0.1/16"}, 0, "did you mean 10.186.0.0/16"),
        ({"ipv4_net": "10.186.0.0/16", "ipv6_net": "10.0.0.0/8"}, 0, "IPv6 expected"),
        ({"ipv4_net": "10.186.0.0/16", "mac_prefix": "fe:ed:ca"}, 0, "four hex octets"),
        ({"ipv4_net": "10.186.0.0/16", "mac_prefix": "ff:ed:ca:fe"}, 0, "multicast"),
        ({"ipv4_net": "10.186.0.0/16", "mac_prefix": "fe:ed: a:-0"}, 0, "four hex octets"),
        ({"ipv4_net": "10.186.0.0/16", "batman_offset": 10.9}, 0, "batman_offset = 10.9 must be an integer"),
        ({"ipv4_net": "10.186.0.0/16", "mac_prefix": "00:11:22:33"}, 0, "not locally administered"),
        ({"ipv4_net": "10.186.0.0/16", "dhcp_block_size": 1000}, 0, "power of two"),
        ({"ipv4_net": "10.186.0.0/16", "gateway_ofset": 3}, 0, "unknown mesh keys ['gateway_ofset']"),
        ({"ipv4_net": "10.186.0.0/16"}, 10, "index 10 does not fit: this mesh holds indexes 0 to 9 (gateway_offset 256 and recursor_offset 266"),
        ({"ipv4_net": "10.186.0.0/16"}, -1, "non-negative"),
        ({"ipv4_net": "10.186.0.0/16"}, "two", "non-negative"),
        ({"ipv4_net": "10.186.0.0/22"}, 0, "holds no gateway at all: 10.186.0.0/22 holds 0 DHCP blocks"),
        ({"ipv4_net": "10.186.0.0/16", "dhcp_pool_offset": 260}, 0, "dhcp_pool_offset 260 leave room for 0"),
        ({"ipv4_net": "10.186.0.0/16", "batman_offset": 0}, 0, "batman_offset 0 is the network address"),
    ],
)
def test_bad_input_names_variable_and_value(mesh, index, message):
    with pytest.raises(AddressPlanError) as error:
        address_plan(mesh, index)
    assert message in str(error.value)


def test_inventory_check_names_host_variable_and_value():
    with pytest.raises(AddressPlanError, match=r"host gw2: freifunk_group_index = 1: it is already the index of host gw1"):
        check_inventory(HENNEF, {"gw1": 1, "gw2": 1, "gw3": 2})
    with pytest.raises(AddressPlanError, match=r"host gw3: my_index = 12: index 12 does not fit"):
        check_inventory(HENNEF, {"gw1": 1, "gw3": 12}, index_var="my_index")
    with pytest.raises(AddressPlanError, match=r"host gw1: freifunk_group_index = 'x'"):
        check_inventory(HENNEF, {"gw1": "x"})
    with pytest.raises(AddressPlanError, match="ipv4_net"):
        check_inventory({"ipv4_net": "nonsense"}, {"gw1": 0})


OFFSETS = st.fixed_dictionaries(
    {
        "ipv4_net": st.sampled_from(["10.0.0.0/8", "10.186.0.0/16", "172.16.0.0/12", "192.168.0.0/18"]),
        "batman_offset": st.integers(0, 600),
        "gateway_offset": st.integers(0, 600),
        "recursor_offset": st.integers(0, 600),
        "dhcp_block_size": st.sampled_from([256, 512, 1024, 4096, 8192]),
        "dhcp_pool_offset": st.integers(0, 1000),
    }
)


@given(mesh=OFFSETS, data=st.data())
def test_accepted_plans_never_collide(mesh, data):
    """Whatever offsets are accepted, no address is used twice and no pool touches another address."""
    try:
        address_plan(mesh, 0)
    except AddressPlanError:
        return  # offsets without room for a single gateway are refused, as tested above
    count = data.draw(st.integers(1, 40))
    indexes = {}
    for index in range(count):
        try:
            address_plan(mesh, index)
        except AddressPlanError:
            break
        indexes[f"gw{index}"] = index
    plans = check_inventory(mesh, indexes)
    fixed = [ipaddress.ip_address(p[f"{k}_ipv4"]) for p in plans.values() for k in ("batman", "gateway", "recursor")]
    assert len(fixed) == len(set(fixed))
    net = ipaddress.ip_network(mesh["ipv4_net"])
    pools = sorted((ipaddress.ip_address(p["dhcp_range"]["start"]), ipaddress.ip_address(p["dhcp_range"]["end"])) for p in plans.values())
    for (start, end), following in zip(pools, pools[1:]):
        assert end < following[0]
    for start, end in pools:
        assert net.network_address < start <= end < net.broadcast_address
        assert not any(start <= address <= end for address in fixed)
    assert all(net.network_address < address < net.broadcast_address for address in fixed)
