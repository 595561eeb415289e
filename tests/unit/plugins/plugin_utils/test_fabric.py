from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._fabric import (
    PRIVATE_ASN_FIRST,
    PRIVATE_ASN_LAST,
    GATHERING_TABLE_BASE,
    FabricError,
    allocate,
    gathering_plan,
    link_local,
    mtus,
    node_numbers,
    node_plan,
    peers,
    read_record,
    tunnel_interface,
)

SETTINGS = {"loopback_ipv4": "10.255.0.0/24", "wireguard_ipv4": "10.254.0.0/24", "loopback_ipv6": "fd00:ff::/64"}
names = st.lists(st.from_regex(r"\A[a-z][a-z0-9-]{0,10}\Z"), unique=True, max_size=12)


def _all_indices(record) -> list[int]:
    return list(record["nodes"].values()) + list(record["retired"].values())


def test_a_new_fabric_numbers_its_nodes_in_the_order_of_their_names():
    assert allocate(["kvm3", "kvm1", "kvm2"]) == {"nodes": {"kvm1": 1, "kvm2": 2, "kvm3": 3}, "retired": {}}


def test_a_node_keeps_its_index_and_a_new_one_takes_the_lowest_free():
    record = {"nodes": {"a": 1, "c": 3}, "retired": {}}
    assert allocate(["c", "a", "b", "d"], record) == {"nodes": {"a": 1, "b": 2, "c": 3, "d": 4}, "retired": {}}


def test_a_node_that_leaves_keeps_its_index_until_it_is_released():
    record = allocate(["a", "b", "c"])
    left = allocate(["a", "c"], record)
    assert left == {"nodes": {"a": 1, "c": 3}, "retired": {"b": 2}}
    assert allocate(["a", "c", "d"], left)["nodes"]["d"] == 4
    released = allocate(["a", "c", "d"], left, release=["b"])
    assert released == {"nodes": {"a": 1, "c": 3, "d": 2}, "retired": {}}
    # A retired node that comes back gets its own index again.
    assert allocate(["a", "b", "c"], left) == record


def test_release_is_refused_for_a_node_in_the_inventory_or_one_the_record_lacks():
    record = allocate(["a", "b"])
    with pytest.raises(FabricError, match="cannot release a: still in the inventory"):
        allocate(["a"], record, release=["a"])
    with pytest.raises(FabricError, match="cannot release z: the record holds no index"):
        allocate(["a"], record, release=["z"])


@pytest.mark.parametrize("record, message", [
    ({"nodes": {"a": 1, "b": 1}}, "indices held twice in the record: 1 by a, b"),
    ({"nodes": {"a": 1}, "retired": {"b": 1}}, "1 by a, b"),
    ({"nodes": {"a": 1}, "retired": {"a": 2}}, "a both in the record's nodes and retired"),
    ({"nodes": {"a": 0}}, "gives 'a' the index 0"),
    ({"nodes": {"a": True}}, "gives 'a' the index True"),
    ({"nodes": ["a"]}, "must map host names to indices"),
    ({"hosts": {}}, "unknown keys hosts"),
    ({"nodes": {"a b": 1}}, "host name 'a b'"),
    ("a: 1", "must be a mapping"),
])
def test_a_broken_record_is_refused_by_what_is_wrong(record, message):
    with pytest.raises(FabricError, match=message):
        read_record(record)


def test_hosts_named_twice_are_refused():
    with pytest.raises(FabricError, match="hosts named twice: a"):
        allocate(["a", "b", "a"])


@given(names, names, st.randoms(use_true_random=False))
def test_allocation_never_shares_an_index_and_never_moves_a_node(first, second, random):
    record = allocate(first)
    shuffled = list(second)
    random.shuffle(shuffled)
    after = allocate(shuffled, record)
    indices = _all_indices(after)
    assert len(indices) == len(set(indices))
    assert set(after["nodes"]) == set(second)
    assert set(after["retired"]) == set(first) - set(second)
    for name, index in {**record["nodes"]}.items():
        assert {**after["nodes"], **after["retired"]}[name] == index
    # The same inventory in another order gives the same record.
    assert allocate(sorted(second), record) == after
    assert allocate(shuffled, after) == after


@given(st.lists(st.integers(min_value=1, max_value=254), unique=True, max_size=40))
def test_distinct_indices_give_distinct_addresses_and_asns(indices):
    numbers = [node_numbers(index, SETTINGS) for index in indices]
    for key in ("asn", "loopback_ipv4", "wireguard_ipv4", "loopback_ipv6"):
        assert len({number[key] for number in numbers}) == len(indices)
    for number in numbers:
        assert PRIVATE_ASN_FIRST <= number["asn"] <= PRIVATE_ASN_LAST
        assert ipaddress.ip_address(number["loopback_ipv4"]) in ipaddress.ip_network(SETTINGS["loopback_ipv4"])
        assert ipaddress.ip_address(number["loopback_ipv6"]) in ipaddress.ip_network(SETTINGS["loopback_ipv6"])


def test_a_nodes_numbers():
    assert node_numbers(3, {**SETTINGS, "asn_first": 4_200_000_100}) == {
        "index": 3, "asn": 4_200_000_102, "loopback_ipv4": "10.255.0.3", "wireguard_ipv4": "10.254.0.3", "loopback_ipv6": "fd00:ff::3"}


@pytest.mark.parametrize("index, settings, message", [
    (255, SETTINGS, "loopback_ipv4 10.255.0.0/24 has room for 254 nodes; index 255 does not fit"),
    (1, {**SETTINGS, "loopback_ipv4": "10.255.0.1/24"}, "not a network such as"),
    (1, {**SETTINGS, "asn_first": 65001}, "must be a private 4-byte AS number"),
    (100, {**SETTINGS, "asn_first": PRIVATE_ASN_LAST}, "past the private range's end"),
])
def test_numbers_that_do_not_fit_are_refused(index, settings, message):
    with pytest.raises(FabricError, match=message):
        node_numbers(index, settings)


@pytest.mark.parametrize("underlay_mtu, underlay, gre, expected", [
    (1500, 6, 4, {"wireguard": 1420, "gre": 1396}),
    (1500, 4, 4, {"wireguard": 1440, "gre": 1416}),
    (1500, 6, 6, {"wireguard": 1420, "gre": 1368}),
    (9000, 6, 6, {"wireguard": 8920, "gre": 8868}),
])
def test_the_mtus_are_the_underlays_less_each_header(underlay_mtu, underlay, gre, expected):
    assert mtus(underlay_mtu, underlay, gre) == expected


def test_an_underlay_too_small_for_ipv6_on_the_tunnels_is_refused_with_the_arithmetic():
    with pytest.raises(FabricError, match=r"1400 leaves 1268 .*1400 - 80 WireGuard over IPv6 - 52 GRE over IPv6.*1280"):
        mtus(1400, 6, 6)


def test_a_tunnel_is_named_after_its_peer_and_shortened_with_the_peers_index():
    assert tunnel_interface("kvm2", 2) == "gre-kvm2"
    assert tunnel_interface("berlin-dc1", 7) == "gre-berlin-dc1"
    assert tunnel_interface("gw1.example.org", 12) == "gre12-gw1.examp"


@given(st.lists(st.from_regex(r"\A[a-z0-9][a-z0-9.-]{0,30}\Z"), unique=True, min_size=1, max_size=30))
def test_tunnel_names_fit_linux_are_unique_and_do_not_depend_on_the_other_nodes(hosts):
    record = allocate(hosts)
    names = [tunnel_interface(host, index) for host, index in record["nodes"].items()]
    assert all(len(name) <= 15 for name in names)
    assert len(set(names)) == len(names)
    # One more node renames no tunnel.
    grown = allocate(hosts + ["zz-a-node-with-a-long-name"], record)
    assert [tunnel_interface(host, grown["nodes"][host]) for host in record["nodes"]] == names


def test_link_local_addresses_carry_the_index():
    assert link_local(1) == "fe80::1"
    assert link_local(300) == "fe80::12c"


def test_a_full_mesh_peers_with_every_other_node():
    assert peers("b", ["a", "b", "c"]) == ["a", "c"]


def test_with_reflectors_a_node_peers_with_them_and_they_with_everyone():
    nodes = ["a", "b", "c", "d"]
    assert peers("c", nodes, ["a", "b"]) == ["a", "b"]
    assert peers("a", nodes, ["a", "b"]) == ["b", "c", "d"]


@given(st.lists(st.from_regex(r"\A[a-z][a-z0-9]{0,6}\Z"), unique=True, min_size=2, max_size=20), st.data())
def test_peering_is_mutual_and_every_node_reaches_every_other_in_two_hops_at_most(nodes, data):
    reflectors = data.draw(st.lists(st.sampled_from(nodes), unique=True, max_size=3))
    table = {node: set(peers(node, nodes, reflectors)) for node in nodes}
    for node, theirs in table.items():
        assert node not in theirs
        assert all(node in table[peer] for peer in theirs)
        reached = theirs | {far for peer in theirs for far in table[peer]}
        assert reached | {node} == set(nodes)


def test_peers_are_refused_for_unknown_nodes_or_reflectors():
    with pytest.raises(FabricError, match="x is not a node"):
        peers("x", ["a"])
    with pytest.raises(FabricError, match="reflectors r are not nodes"):
        peers("a", ["a", "b"], ["r"])


def test_a_nodes_plan_holds_its_numbers_and_each_peers_tunnel():
    numbers = {name: node_numbers(index, SETTINGS) for name, index in allocate(["kvm1", "kvm2", "kvm3"])["nodes"].items()}
    plan = node_plan("kvm2", numbers)
    assert plan["loopback_ipv4"] == "10.255.0.2"
    assert plan["link_local"] == "fe80::2"
    assert plan["reflector"] is False
    assert [(peer["name"], peer["interface"], peer["link_local"], peer["wireguard_ipv4"], peer["asn"]) for peer in plan["peers"]] == [
        ("kvm1", "gre-kvm1", "fe80::1", "10.254.0.1", PRIVATE_ASN_FIRST),
        ("kvm3", "gre-kvm3", "fe80::3", "10.254.0.3", PRIVATE_ASN_FIRST + 2),
    ]


def _numbers(hosts=("kvm1", "kvm2", "kvm3"), settings=None):
    return {name: node_numbers(index, settings or SETTINGS) for name, index in allocate(hosts)["nodes"].items()}


GATHERING = [{"prefix": "192.0.2.0/28", "node": "kvm3"}, {"prefix": "2001:db8:ff::/64", "node": "kvm3"}]


def test_gathering_sends_other_nodes_traffic_to_the_gathering_node_over_its_tunnel():
    plan = gathering_plan("kvm1", _numbers(), gathering=GATHERING, announce=["192.0.2.1/32", "2001:db8:ff::1/128"])
    assert plan["rules"] == [
        {"prefix": "192.0.2.0/28", "version": 4, "node": "kvm3", "interface": "gre-kvm3", "table": GATHERING_TABLE_BASE + 3},
        {"prefix": "2001:db8:ff::/64", "version": 6, "node": "kvm3", "interface": "gre-kvm3", "table": GATHERING_TABLE_BASE + 3},
    ]
    assert plan["announce"] == [{"prefix": "192.0.2.1/32", "version": 4}, {"prefix": "2001:db8:ff::1/128", "version": 6}]
    assert [prefix["prefix"] for prefix in plan["prefixes"]] == ["192.0.2.0/28", "2001:db8:ff::/64"]
    # The gathering node itself routes by its main table; its plan carries the prefixes for BGP.
    assert gathering_plan("kvm3", _numbers(), gathering=GATHERING)["rules"] == []
    assert node_plan("kvm2", _numbers(), gathering=GATHERING)["gathering"]["rules"][0]["interface"] == "gre-kvm3"
    # With reflectors, at a reflector: every node has a tunnel to it.
    assert len(gathering_plan("kvm1", _numbers(), ["kvm3"], GATHERING)["rules"]) == 2


@pytest.mark.parametrize(("node", "reflectors", "gathering", "announce", "message"), [
    ("kvm1", (), [{"prefix": "192.0.2.0/28", "node": "kvm9"}], [], "not a node of the fabric"),
    ("kvm1", (), [{"prefix": "192.0.2.0/33", "node": "kvm3"}], [], "not a network"),
    ("kvm1", (), [{"prefix": "192.0.2.1/28", "node": "kvm3"}], [], "not a network"),
    ("kvm1", (), [{"prefix": "192.0.2.0/28"}], [], "is {prefix, node}"),
    ("kvm1", (), [{"prefix": "192.0.2.0/24", "node": "kvm3"}, {"prefix": "192.0.2.16/28", "node": "kvm2"}], [], "overlaps 192.0.2.0/24"),
    ("kvm1", ["kvm2"], [{"prefix": "192.0.2.0/28", "node": "kvm3"}], [], "kvm1 has no tunnel to it"),
    ("kvm1", (), [{"prefix": "192.0.2.0/28", "node": "kvm3"}], ["192.0.2.16/32"], "lies in no gathered prefix"),
    ("kvm1", (), [], ["10.255.0.1/32"], "lies in no gathered prefix"),
])
def test_gathering_that_cannot_work_is_refused_by_name(node, reflectors, gathering, announce, message):
    with pytest.raises(FabricError, match=message):
        gathering_plan(node, _numbers(), reflectors, gathering, announce)


def test_gathering_ipv6_needs_the_fabrics_ipv6():
    numbers = _numbers(settings={key: value for key, value in SETTINGS.items() if key != "loopback_ipv6"})
    with pytest.raises(FabricError, match="fabric_loopback_ipv6"):
        gathering_plan("kvm1", numbers, gathering=GATHERING[1:])
