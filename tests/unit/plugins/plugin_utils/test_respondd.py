from __future__ import annotations

import json
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._respondd import (
    RespondError,
    count_local_clients,
    location,
    decode_answer,
    encode_answer,
    neighbours,
    node_id,
    nodeinfo,
    parse_batman_statistics,
    parse_meminfo,
    parse_originators,
    parse_request,
    statistics,
)

CONFIG = {"hostname": "gw1", "site_code": "ffmz", "release": "ffmesh.gateway 0.1.0"}

# batctl 2025.0 (BATMAN_IV) on a gateway with one tinc and one fastd link; the second
# originator is reached through the first, so it is no neighbour.
ORIGINATORS_IV = """\
 * fe:ed:ca:fe:01:01    0.420s   (255) fe:ed:ca:fe:01:01 [ tinc-mesh]
   fe:ed:ca:fe:01:01    1.020s   (201) 02:aa:bb:cc:dd:01 [mesh-vpn-0]
 * 02:aa:bb:cc:dd:01    0.900s   (224) 02:aa:bb:cc:dd:01 [mesh-vpn-0]
 * 02:aa:bb:cc:dd:02    2.100s   (180) 02:aa:bb:cc:dd:01 [mesh-vpn-0]
"""
ORIGINATORS_V = " * fe:ed:ca:fe:01:01    0.120s (  9.8) fe:ed:ca:fe:01:01 [ tinc-mesh]\n"


def test_get_asks_for_several_providers_and_is_answered_compressed():
    assert parse_request(b"GET nodeinfo statistics neighbours") == (["nodeinfo", "statistics", "neighbours"], True)
    # Repeated and unknown providers (Gluon's wireless ones) are left out.
    assert parse_request(b"GET nodeinfo wifi nodeinfo\n") == (["nodeinfo"], True)


def test_a_bare_name_is_the_older_uncompressed_request():
    assert parse_request(b"nodeinfo") == (["nodeinfo"], False)
    answer = encode_answer({"nodeinfo": {"hostname": "gw1"}}, ["nodeinfo"], False)
    assert json.loads(answer) == {"hostname": "gw1"}


@pytest.mark.parametrize("data", [b"", b"GET", b"GET wifi", b"statistics neighbours", b"\xff\xfe", b"get nodeinfo"])
def test_what_is_not_a_request_for_our_providers_is_refused(data):
    with pytest.raises(RespondError):
        parse_request(data)


def test_the_compressed_answer_is_raw_deflate_of_one_object_keyed_by_provider():
    answers = {"nodeinfo": {"hostname": "gw1"}, "statistics": {"uptime": 1.5}}
    data = encode_answer(answers, ["statistics", "nodeinfo"], True)
    # Raw deflate: no zlib header, so a plain zlib.decompress fails, as yanic expects.
    with pytest.raises(zlib.error):
        zlib.decompress(data)
    assert decode_answer(data) == answers


@given(st.dictionaries(st.sampled_from(["nodeinfo", "statistics", "neighbours"]),
                       st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=20), max_size=5), min_size=1))
def test_any_answer_decodes_to_what_was_encoded(answers):
    assert decode_answer(encode_answer(answers, list(answers), True)) == answers


def test_node_id_is_the_mac_without_colons():
    assert node_id("FE:ED:CA:FE:00:01\n") == "feedcafe0001"
    with pytest.raises(RespondError):
        node_id("fe:ed:ca:fe:00")


def test_neighbours_are_originators_that_are_their_own_best_next_hop():
    found = parse_originators(ORIGINATORS_IV)
    assert [(n["mac"], n["interface"], n["metric"], n["lastseen"]) for n in found] == [
        ("fe:ed:ca:fe:01:01", "tinc-mesh", 255.0, 0.42),
        ("02:aa:bb:cc:dd:01", "mesh-vpn-0", 224.0, 0.9),
    ]
    answer = neighbours("fe:ed:ca:fe:00:01", found, {"tinc-mesh": "fe:ed:ca:fe:00:02", "mesh-vpn-0": "fe:ed:ca:fe:00:10"})
    assert answer == {
        "node_id": "feedcafe0001",
        "batadv": {
            "fe:ed:ca:fe:00:02": {"neighbours": {"fe:ed:ca:fe:01:01": {"tq": 255.0, "lastseen": 0.42}}},
            "fe:ed:ca:fe:00:10": {"neighbours": {"02:aa:bb:cc:dd:01": {"tq": 224.0, "lastseen": 0.9}}},
        },
    }


def test_batman_v_reports_throughput():
    answer = neighbours("fe:ed:ca:fe:00:01", parse_originators(ORIGINATORS_V), {"tinc-mesh": "fe:ed:ca:fe:00:02"}, "BATMAN_V")
    assert answer["batadv"]["fe:ed:ca:fe:00:02"]["neighbours"]["fe:ed:ca:fe:01:01"] == {"throughput": 9.8, "lastseen": 0.12}
    with pytest.raises(RespondError):
        neighbours("fe:ed:ca:fe:00:01", [], {}, "BATMAN_VI")


def test_a_neighbour_on_an_interface_that_is_gone_is_left_out():
    assert neighbours("fe:ed:ca:fe:00:01", parse_originators(ORIGINATORS_IV), {})["batadv"] == {}


def test_statistics_from_proc_and_batctl():
    meminfo = "MemTotal:        1000 kB\nMemFree:          400 kB\nMemAvailable:     600 kB\nBuffers:  10 kB\nCached: 100 kB\nHugePages_Total: 0\n"
    traffic = parse_batman_statistics("\ttx: 12\n\ttx_bytes: 3400\n\ttx_dropped: 1\n\trx: 7\n\trx_bytes: 900\n\tforward: 3\n"
                                      "\tforward_bytes: 300\n\tmgmt_tx: 40\n\tmgmt_tx_bytes: 2000\n\tmgmt_rx: 41\n\tmgmt_rx_bytes: 2100\n")
    stats = statistics("fe:ed:ca:fe:00:01", "3600.50 7000.25\n", "0.42 0.30 0.20 3/181 4242\n", meminfo, traffic, 2, 17)
    assert stats == {
        "node_id": "feedcafe0001",
        "uptime": 3600.5,
        "idletime": 7000.25,
        "loadavg": 0.42,
        "memory": {"total": 1000, "free": 400, "buffers": 10, "cached": 100, "available": 600},
        "processes": {"total": 181, "running": 3},
        "traffic": {
            "tx": {"packets": 12, "bytes": 3400, "dropped": 1},
            "rx": {"packets": 7, "bytes": 900},
            "forward": {"packets": 3, "bytes": 300},
            "mgmt_tx": {"packets": 40, "bytes": 2000},
            "mgmt_rx": {"packets": 41, "bytes": 2100},
        },
        "clients": {"total": 2},
        "mesh_vpn": {"fastd": {"routers": 17}},
    }
    assert parse_meminfo("MemTotal: 5 kB\n") == {"total": 5}


def test_clients_are_the_local_translation_table_without_the_gateways_own_interfaces_and_groups():
    # batctl 2025.0 on batman-adv 2024.2: the node's own MAC and its multicast groups are there too.
    table = ("01:00:5e:00:00:01   -1 [.P....]   0.000   (0x450b03a4)\n"
             "fe:ed:ca:fe:00:01   -1 [.P....]   0.000   (0x450b03a4)\n"
             "33:33:ff:fe:00:01   -1 [.P....]   0.000   (0x450b03a4)\n"
             "02:11:22:33:44:55   -1 [......]   0.120   (0x1234abcd)\n"
             " * 02:11:22:33:44:66   -1 [......]   3.400 (0x1234abcd)\n")
    assert count_local_clients(table, ["FE:ED:CA:FE:00:01"]) == 2
    assert count_local_clients("", []) == 0


def test_nodeinfo_names_the_gateway_its_site_and_its_links():
    info = nodeinfo(dict(CONFIG, domain_code="mz", contact="noc@example.org", location={"latitude": "50.0", "longitude": 8.27}),
                    "FE:ED:CA:FE:00:01", ["fe80::1", "2001:db8::1"], {"bat0": ["fe:ed:ca:fe:00:10", "fe:ed:ca:fe:00:02"]},
                    "Debian GNU/Linux 13 (trixie)", 4, "2025.0")
    assert info["node_id"] == "feedcafe0001"
    assert info["hostname"] == "gw1" and info["vpn"] is True
    assert info["system"] == {"site_code": "ffmz", "domain_code": "mz"}
    assert info["network"] == {
        "mac": "fe:ed:ca:fe:00:01",
        "addresses": ["2001:db8::1", "fe80::1"],
        "mesh": {"bat0": {"interfaces": {"tunnel": ["fe:ed:ca:fe:00:02", "fe:ed:ca:fe:00:10"]}}},
    }
    assert info["software"]["firmware"] == {"base": "Debian GNU/Linux 13 (trixie)", "release": "ffmesh.gateway 0.1.0"}
    assert info["software"]["batman-adv"] == {"version": "2025.0"}
    assert info["owner"] == {"contact": "noc@example.org"}
    assert info["location"] == {"latitude": 50.0, "longitude": 8.27}
    bare = nodeinfo(CONFIG, "fe:ed:ca:fe:00:01", [], {}, "Debian", 1, None)
    assert "batman-adv" not in bare["software"] and "owner" not in bare and "location" not in bare


@pytest.mark.parametrize("value", [{"latitude": 50}, {"latitude": "north", "longitude": 8}, {"latitude": 91, "longitude": 8}, "50,8"])
def test_a_location_is_latitude_and_longitude_on_earth(value):
    with pytest.raises(RespondError):
        location(value)
