from __future__ import annotations

import copy

import pytest

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._uplink import UplinkError, ipv6_exit, uplink_plan

# Seed 000's host_vars of container01.freifunk-hennef.de, with the sessions its BIRD ran.
SEED_GATEWAY = {
    "peering_public_address_ipv4": "185.66.193.86",
    "mesh_address_ipv4": "10.186.1.0",
    "gre_tunnels": [
        {"name": "a_ak_ber", "tunnel_endpoint": "185.66.195.0", "tunnel_address_ipv4": "100.64.1.69", "tunnel_peer_ipv4": "100.64.1.68"},
        {"name": "a_ix_dus", "tunnel_endpoint": "185.66.193.0", "tunnel_address_ipv4": "100.64.1.71", "tunnel_peer_ipv4": "100.64.1.70"},
    ],
    "bgp_neighbors": [
        {"name": "a_ak_ber", "as": 201701, "address_ipv4": "100.64.1.68", "source_ipv4": "100.64.1.69"},
        {"name": "a_ix_dus", "as": "201701", "address_ipv4": "100.64.1.70", "source_ipv4": "100.64.1.71"},
    ],
}
MESH = "10.186.0.0/16"


def plan(gateway=None, **settings):
    return uplink_plan(SEED_GATEWAY if gateway is None else gateway, **{"local_as": 65186, "mesh_ipv4_net": MESH, **settings})


def changed(path, value):
    gateway = copy.deepcopy(SEED_GATEWAY)
    target = gateway
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return gateway


def test_the_seeds_gateway_gives_one_session_per_tunnel_over_that_tunnel():
    uplink = plan()
    assert uplink["public_ipv4"] == "185.66.193.86" and uplink["local_as"] == 65186
    assert [tunnel["name"] for tunnel in uplink["tunnels"]] == ["a_ak_ber", "a_ix_dus"]
    assert uplink["tunnels"][0] == {"name": "a_ak_ber", "endpoint": "185.66.195.0",
                                    "address_ipv4": "100.64.1.69/31", "peer_ipv4": "100.64.1.68"}
    assert uplink["sessions"] == [
        {"name": "a_ak_ber", "protocol": "up4_a_ak_ber", "family": "ipv4", "as": 201701,
         "address": "100.64.1.68", "source": "100.64.1.69", "interface": "a_ak_ber"},
        {"name": "a_ix_dus", "protocol": "up4_a_ix_dus", "family": "ipv4", "as": 201701,
         "address": "100.64.1.70", "source": "100.64.1.71", "interface": "a_ix_dus"},
    ]
    assert uplink["endpoints"] == ["185.66.193.0", "185.66.195.0"]
    assert uplink["ipv6"] is False and uplink["prefix_ipv6"] is None


def test_mss_follows_the_tunnel_mtu_unless_the_seeds_clamp_is_given():
    assert (plan()["mss_ipv4"], plan()["mss_ipv6"]) == (1360, 1340)
    assert (plan(mtu=1280)["mss_ipv4"], plan(mtu=1280)["mss_ipv6"]) == (1240, 1220)
    assert (plan(mss_clamp=1300)["mss_ipv4"], plan(mss_clamp="1300")["mss_ipv6"]) == (1300, 1280)
    assert plan(mss_clamp="")["mss_ipv4"] == 1360
    assert plan()["warnings"] == []


def test_a_clamp_above_what_the_tunnel_carries_is_honoured_with_a_warning():
    # Seed 000's inventory: freifunk_fastd_mtu - 40 = 1366 over tunnels of MTU 1400.
    uplink = plan(mss_clamp=1366)
    assert uplink["mss_ipv4"] == 1366
    assert uplink["warnings"] == ["freifunk_gateways_peering_gre_tunnel_mss_clamp = 1366 is more than the tunnel MTU 1400 "
                                  "leaves for TCP (1360): full-size segments need path MTU discovery to pass the tunnels; "
                                  "1360 or less avoids that"]


def test_ipv6_sessions_run_over_the_same_tunnels_and_need_the_prefix():
    gateway = copy.deepcopy(SEED_GATEWAY)
    gateway["gre_tunnels"][0].update(tunnel_address_ipv6="2a03:2260:0:3d0::2", tunnel_peer_ipv6="2a03:2260:0:3d0::1")
    gateway["bgp_neighbors"][0].update(address_ipv6="2a03:2260:0:3d0::1", source_ipv6="2a03:2260:0:3d0::2")
    uplink = plan(gateway, mesh_ipv6_net="2a03:2260:11a:1::/64", prefix_ipv6="2a03:2260:11a::/48")
    assert uplink["tunnels"][0]["address_ipv6"] == "2a03:2260:0:3d0::2/64"
    assert [(s["protocol"], s["family"], s["interface"]) for s in uplink["sessions"]] == [
        ("up4_a_ak_ber", "ipv4", "a_ak_ber"), ("up6_a_ak_ber", "ipv6", "a_ak_ber"), ("up4_a_ix_dus", "ipv4", "a_ix_dus")]
    assert uplink["ipv6"] is True and uplink["prefix_ipv6"] == "2a03:2260:11a::/48"
    with pytest.raises(UplinkError, match="set freifunk_gateways_peering_prefix_ipv6"):
        plan(gateway)
    with pytest.raises(UplinkError, match="2a03:2260:12a:1::/64 is not inside"):
        plan(gateway, mesh_ipv6_net="2a03:2260:12a:1::/64", prefix_ipv6="2a03:2260:11a::/48")


@pytest.mark.parametrize(("index", "indices", "expected"), [
    # Ranked by index, not by the order the inventory lists the gateways in.
    (3, [7, 3, 5], (0, "high", 0)),
    (5, [7, 3, 5], (1, "medium", 1)),
    (7, [7, 3, 5], (2, "low", 2)),
    # RFC 4191 has three preferences: from the third exit on, the ranks tie.
    (9, [7, 3, 5, 9], (2, "low", 2)),
    # A gateway alone, or one missing from the list it is given, ranks among what it knows.
    (4, [], (0, "high", 0)),
    (4, [1], (1, "medium", 1)),
    ("2", ["0", "2"], (1, "medium", 1)),
])
def test_the_lowest_index_is_the_first_ipv6_exit_for_clients_and_backbone_alike(index, indices, expected):
    exit6 = ipv6_exit(index, indices)
    assert (exit6["rank"], exit6["router_preference"], exit6["prepend"]) == expected


def test_every_gateway_has_one_ipv6_exit_rank_and_no_two_of_the_first_three_share_one():
    indices = [12, 0, 4, 8, 2]
    ranks = [ipv6_exit(index, indices)["rank"] for index in sorted(indices)]
    assert ranks == [0, 1, 2, 2, 2]


def test_a_group_index_that_is_no_number_is_refused():
    with pytest.raises(UplinkError, match="must be whole numbers"):
        ipv6_exit("gw1", [0, 1])
    with pytest.raises(UplinkError, match="must be whole numbers"):
        ipv6_exit(0, [None])


def test_the_plan_carries_the_gateways_ipv6_exit_rank():
    assert plan(group_index=1, group_indices=[0, 1])["ipv6_exit"] == {"rank": 1, "router_preference": "medium", "prepend": 1}
    assert plan()["ipv6_exit"]["rank"] == 0


def test_a_transfer_net_other_than_31_is_given_with_its_length():
    gateway = changed(("gre_tunnels", 0, "tunnel_address_ipv4"), "100.64.1.66/30")
    gateway["gre_tunnels"][0]["tunnel_peer_ipv4"] = "100.64.1.65"
    gateway["bgp_neighbors"][0].update(address_ipv4="100.64.1.65", source_ipv4="100.64.1.66")
    assert plan(gateway)["tunnels"][0]["address_ipv4"] == "100.64.1.66/30"


def test_a_gateway_without_tunnels_has_no_sessions():
    uplink = plan({"peering_public_address_ipv4": "198.51.100.1"})
    assert uplink["tunnels"] == [] and uplink["sessions"] == []


@pytest.mark.parametrize(
    ("gateway", "settings", "message"),
    [
        ("not a dict", {}, "freifunk_gateway = 'not a dict' must be a dict"),
        (changed(("peering_public_address_ipv4",), None), {}, "peering_public_address_ipv4 is missing"),
        (changed(("peering_public_address_ipv4",), "10.186.9.9"), {}, "is inside the mesh 10.186.0.0/16"),
        (changed(("peering_public_address_ipv4",), "2001:db8::1"), {}, "'2001:db8::1' is not an IPv4 address"),
        (None, {"local_as": "AS65186"}, "freifunk_gateways_peering_local_as = 'AS65186' is not an AS number"),
        (None, {"mtu": 1500}, "freifunk_gateways_peering_gre_tunnel_mtu = 1500 must be from 1280 to 1476"),
        (None, {"mss_clamp": 1461}, "freifunk_gateways_peering_gre_tunnel_mss_clamp = 1461 must be from 536 to 1460"),
        (None, {"local_as": None}, "freifunk_gateways_peering_local_as is missing"),
        (None, {"table": 254}, "freifunk_gateway_ipv4_table = 254 must be from 1 to 252"),
        (changed(("gre_tunnels", 1, "name"), "a_ak_ber"), {}, "gre_tunnels a_ak_ber: two tunnels have this name"),
        (changed(("gre_tunnels", 1, "name"), "a_very_long_tunnel"), {}, "the name is the tunnel's interface name"),
        (changed(("gre_tunnels", 1, "tunnel_endpoint"), "185.66.195.0"), {}, "has a tunnel already"),
        (changed(("gre_tunnels", 1, "mtu"), 1400), {}, "unknown keys ['mtu']"),
        (changed(("gre_tunnels", 1, "tunnel_peer_ipv4"), None), {}, "missing keys ['tunnel_peer_ipv4']"),
        (changed(("gre_tunnels", 1, "tunnel_peer_ipv4"), "100.64.1.72"), {},
         "tunnel_peer_ipv4 = 100.64.1.72 is not the other end of tunnel_address_ipv4 = 100.64.1.71 (transfer net 100.64.1.70/31)"),
        (changed(("gre_tunnels", 1, "tunnel_address_ipv6"), "2a03::2"), {}, "tunnel_address_ipv6 needs tunnel_peer_ipv6 too"),
        (None, {"mesh_ipv4_net": "100.64.0.0/10"}, "tunnel_address_ipv4 = 100.64.1.69/31 overlaps the mesh 100.64.0.0/10"),
        (changed(("gre_tunnels", 1, "tunnel_address_ipv4"), "100.64.1.69/30"), {}, "overlaps tunnel a_ak_ber's 100.64.1.69/31"),
        (changed(("bgp_neighbors", 1, "as"), 65186), {}, "as = 65186 is freifunk_gateways_peering_local_as"),
        (changed(("bgp_neighbors", 1, "address_ipv4"), "100.64.1.80"), {},
         "bgp_neighbors a_ix_dus: address_ipv4 = 100.64.1.80 is no tunnel's tunnel_peer_ipv4"),
        (changed(("bgp_neighbors", 1, "source_ipv4"), "100.64.1.69"), {},
         "source_ipv4 = 100.64.1.69 but tunnel a_ix_dus's own address is 100.64.1.71"),
        (changed(("bgp_neighbors", 1, "source_ipv4"), None), {}, "address_ipv4 needs source_ipv4 too"),
        (changed(("bgp_neighbors", 1, "name"), "a_ak_ber"), {}, "a second session as up4_a_ak_ber"),
        (changed(("bgp_neighbors", 1, "name"), "a-ak-ber"), {}, "a second session as up4_a_ak_ber"),
        (changed(("bgp_neighbors", 1, "address_ipv4"), "100.64.1.68"), {}, "source_ipv4 = 100.64.1.71 but tunnel a_ak_ber"),
        (changed(("gre_tunnels",), "a_ak_ber"), {}, "gre_tunnels = 'a_ak_ber' must be a list"),
    ],
)
def test_bad_uplinks_are_refused_naming_the_variable(gateway, settings, message):
    with pytest.raises(UplinkError) as error:
        plan(gateway, **settings)
    assert message in str(error.value)


def test_sessions_without_an_ipv4_one_are_refused():
    gateway = copy.deepcopy(SEED_GATEWAY)
    gateway["gre_tunnels"] = gateway["gre_tunnels"][:1]
    gateway["gre_tunnels"][0].update(tunnel_address_ipv6="2a03:2260:0:3d0::2", tunnel_peer_ipv6="2a03:2260:0:3d0::1")
    gateway["bgp_neighbors"] = [{"name": "v6only", "as": 201701, "address_ipv6": "2a03:2260:0:3d0::1", "source_ipv6": "2a03:2260:0:3d0::2"}]
    with pytest.raises(UplinkError, match="no IPv4 session"):
        plan(gateway, mesh_ipv6_net="2a03:2260:11a:1::/64", prefix_ipv6="2a03:2260:11a::/48")
