from __future__ import annotations

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _fabric_metrics, _metrics

PEERS = [{"name": "kvm2", "interface": "gre-kvm2", "loopback_ipv4": "10.255.0.2"},
         {"name": "kvm3", "interface": "gre-kvm3", "loopback_ipv4": "10.255.0.3"}]
# The fields the exporter reads of FRR 10.3's `show bgp neighbors json` on kvm1 of the kernel lab,
# with the session to kvm3 made one that is not established.
NEIGHBORS = {
    "gre-kvm2": {"bgpNeighborAddr": "fe80::2", "remoteAs": 4200000002, "nbrDesc": "kvm2", "bgpState": "Established",
                 "bgpTimerUpMsec": 93000, "connectionsEstablished": 1,
                 "addressFamilyInfo": {"ipv4Unicast": {"acceptedPrefixCounter": 1}, "ipv6Unicast": {"acceptedPrefixCounter": 1}}},
    "gre-kvm3": {"bgpNeighborAddr": "fe80::3", "remoteAs": 4200000003, "nbrDesc": "kvm3", "bgpState": "Active",
                 "connectionsEstablished": 0, "addressFamilyInfo": {"ipv4Unicast": {}, "ipv6Unicast": {}}},
}
# `show bfd peers json`: a list, one entry per session (fewer fields than FRR gives).
BFD = [{"multihop": False, "peer": "fe80::2", "interface": "gre-kvm2", "status": "up", "uptime": 90},
       {"multihop": False, "peer": "fe80::3", "interface": "gre-kvm3", "status": "down", "downtime": 12}]
KEYS = {"kvm2": "A" * 43 + "=", "kvm3": "B" * 43 + "="}


def _value(samples, name, **labels):
    return [value for sample_name, sample_labels, value in samples if sample_name == name and labels.items() <= sample_labels.items()]


def test_each_peers_bgp_session_and_its_edge_as_both_ends_name_it():
    samples = _fabric_metrics.bgp_samples("kvm1", PEERS, NEIGHBORS)
    assert _value(samples, "ffmesh_fabric_frr_up") == [1]
    assert _value(samples, "ffmesh_fabric_bgp_session_up", peer="kvm2", interface="gre-kvm2") == [1]
    assert _value(samples, "ffmesh_fabric_bgp_session_up", peer="kvm3") == [0]
    assert _value(samples, "ffmesh_fabric_bgp_session_uptime_seconds", peer="kvm2") == [93.0]
    assert _value(samples, "ffmesh_fabric_bgp_session_uptime_seconds", peer="kvm3") == []
    assert _value(samples, "ffmesh_fabric_bgp_prefixes_received", peer="kvm2", family="ipv6") == [1.0]
    assert ("ffmesh_fabric_edge", {"id": "kvm1--kvm2", "source": "kvm1", "target": "kvm2"}, 1) in samples
    # kvm3 names the same session alike.
    seen_from_kvm3 = _fabric_metrics.bgp_samples("kvm3", [{"name": "kvm1", "interface": "gre-kvm1"}], {})
    assert ("ffmesh_fabric_edge", {"id": "kvm1--kvm3", "source": "kvm1", "target": "kvm3"}, 0) in seen_from_kvm3


def test_frr_silent_reports_every_peer_down_not_missing():
    samples = _fabric_metrics.bgp_samples("kvm1", PEERS, None)
    assert _value(samples, "ffmesh_fabric_frr_up") == [0]
    assert _value(samples, "ffmesh_fabric_bgp_session_up") == [0, 0]
    assert _value(samples, "ffmesh_fabric_edge") == [0, 0]
    assert _fabric_metrics.node_samples("kvm1", "10.255.0.1", samples) == [
        ("ffmesh_fabric_node", {"id": "kvm1", "title": "kvm1", "subtitle": "10.255.0.1"}, 0)]


def test_the_node_counts_its_established_sessions():
    bgp = _fabric_metrics.bgp_samples("kvm1", PEERS, {**NEIGHBORS, "gre-kvm3": {**NEIGHBORS["gre-kvm2"]}})
    assert _value(_fabric_metrics.node_samples("kvm1", "10.255.0.1", bgp), "ffmesh_fabric_node") == [2]


def test_bfd_sessions_by_interface():
    samples = _fabric_metrics.bfd_samples(PEERS, BFD)
    assert samples == [("ffmesh_fabric_bfd_session_up", {"peer": "kvm2", "interface": "gre-kvm2"}, 1),
                       ("ffmesh_fabric_bfd_session_up", {"peer": "kvm3", "interface": "gre-kvm3"}, 0)]
    assert _value(_fabric_metrics.bfd_samples(PEERS, None), "ffmesh_fabric_bfd_session_up") == [0, 0]


def test_tunnels_up_by_their_flags():
    samples = _fabric_metrics.tunnel_samples(PEERS, {"gre-kvm2": 0x91, "gre-kvm3": 0x90, "eth0": 0x1003})
    assert [value for _name, _labels, value in samples] == [1, 0]
    assert _value(_fabric_metrics.tunnel_samples(PEERS, {}), "ffmesh_fabric_tunnel_up") == [0, 0]


def test_wireguard_handshakes_and_traffic_per_peer_by_public_key():
    handshakes = f"{KEYS['kvm2']}\t1765090000\n{KEYS['kvm3']}\t0\n{'C' * 43}=\t1765090001\n"
    transfer = f"{KEYS['kvm2']}\t1200\t3400\n{KEYS['kvm3']}\t0\t148\n"
    samples = _fabric_metrics.wireguard_samples(KEYS, handshakes, transfer)
    assert _value(samples, "ffmesh_fabric_wireguard_last_handshake_seconds", peer="kvm2") == [1765090000]
    assert _value(samples, "ffmesh_fabric_wireguard_last_handshake_seconds", peer="kvm3") == [0]
    assert _value(samples, "ffmesh_fabric_wireguard_bytes_total", peer="kvm2", direction="rx") == [1200]
    assert _value(samples, "ffmesh_fabric_wireguard_bytes_total", peer="kvm2", direction="tx") == [3400]
    # A key not of a peer (the interface has one more) is not reported; wg's silence is no handshake.
    assert {labels["peer"] for _name, labels, _value in samples} == {"kvm2", "kvm3"}
    assert _value(_fabric_metrics.wireguard_samples(KEYS, "", ""), "ffmesh_fabric_wireguard_last_handshake_seconds") == [0, 0]


def test_rendered_with_the_fabric_metrics_table():
    text = _metrics.render(_fabric_metrics.bfd_samples(PEERS, BFD), _fabric_metrics.METRICS)
    assert text.splitlines() == [
        "# HELP ffmesh_fabric_bfd_session_up 1 while the BFD session with the peer is up.",
        "# TYPE ffmesh_fabric_bfd_session_up gauge",
        'ffmesh_fabric_bfd_session_up{interface="gre-kvm2",peer="kvm2"} 1',
        'ffmesh_fabric_bfd_session_up{interface="gre-kvm3",peer="kvm3"} 0',
    ]


def test_one_vtysh_run_answers_each_command_in_turn():
    answer = '{\n  "gre-kvm2": {"bgpState": "Established"}\n}\n[\n  {"interface": "gre-kvm2", "status": "up"}\n]\n'
    assert _fabric_metrics.json_documents(answer, 2) == [{"gre-kvm2": {"bgpState": "Established"}}, [{"interface": "gre-kvm2", "status": "up"}]]
    assert _fabric_metrics.json_documents("{}\n", 1) == [{}]
    # Silence, an error line, a document short or one too many: none of it is FRR's answer.
    for broken in (None, "% Unknown command\n", "{}\n", '{}\n[]\n{"x": 1}\n'):
        assert _fabric_metrics.json_documents(broken, 2) is None
