from __future__ import annotations

import pytest

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._firewall import FirewallError, firewall_plan
from ansible_collections.ffmesh.gateway.plugins.plugin_utils._uplink import uplink_plan

# Seed 000's tunnels of container01.freifunk-hennef.de, as uplink_plan returns them.
TUNNELS = [
    {"name": "a_ak_ber", "endpoint": "185.66.195.0", "address_ipv4": "100.64.1.69/31", "peer_ipv4": "100.64.1.68"},
    {"name": "a_ix_dus", "endpoint": "185.66.193.0", "address_ipv4": "100.64.1.71/31", "peer_ipv4": "100.64.1.70"},
]


def plan(tunnels=None, **settings):
    return firewall_plan(TUNNELS if tunnels is None else tunnels, **settings)


def rules(chain):
    return [entry["rule"] for entry in chain]


def elements(result, name):
    return next(entry["elements"] for entry in result["sets"] if entry["name"] == name)


def test_ssh_comes_first_and_everything_else_is_counted_and_dropped():
    result = plan(tinc_peers=["192.0.2.10"])
    assert rules(result["input"])[0] == "tcp dport @ssh_ports accept"
    assert rules(result["input"])[1] == "ct state established,related accept"
    assert rules(result["input"])[-1] == 'counter name "dropped_input" drop'
    assert rules(result["forward"])[-1] == 'counter name "dropped_forward" drop'
    assert result["counters"] == ["dropped_input", "dropped_forward"]
    assert elements(result, "ssh_ports") == ["22"]
    assert all(entry["why"] for entry in result["input"] + result["forward"] + result["sets"])


def test_input_takes_each_service_only_from_where_it_belongs():
    result = plan(tinc_peers=["192.0.2.10", "2001:db8::10"])
    assert rules(result["input"]) == [
        "tcp dport @ssh_ports accept",
        "ct state established,related accept",
        "ct state invalid drop",
        'iif "lo" accept',
        "meta l4proto { icmp, ipv6-icmp } accept",
        "udp dport @fastd_ports accept",
        "ip saddr @tinc_peers_ipv4 meta l4proto { tcp, udp } th dport 655 accept",
        "ip6 saddr @tinc_peers_ipv6 meta l4proto { tcp, udp } th dport 655 accept",
        "ip saddr @gre_endpoints_ipv4 meta l4proto gre accept",
        "ip6 saddr @gre_endpoints_ipv6 meta l4proto gre accept",
        "iifname @tunnels tcp dport 179 accept",
        'iifname "br-mesh" udp dport 67 accept',
        'iifname "br-mesh" meta l4proto { tcp, udp } th dport 53 accept',
        'iifname "br-mesh" udp dport 1001 accept',
        'iifname "br-mesh" ip saddr @mesh_peers_ipv4 tcp dport @mesh_peer_ports accept',
        'iifname "br-mesh" ip6 saddr @mesh_peers_ipv6 tcp dport @mesh_peer_ports accept',
        'iifname "br-mesh" ip saddr @monitoring_ipv4 tcp dport @monitoring_ports accept',
        'counter name "dropped_input" drop',
    ]
    assert elements(result, "tinc_peers_ipv4") == ["192.0.2.10"]
    assert elements(result, "tinc_peers_ipv6") == ["2001:db8::10"]
    # Without gateways' services, the sets are empty and the rules match nothing.
    assert elements(result, "mesh_peers_ipv4") == [] and elements(result, "mesh_peer_ports") == []


def test_the_gateways_own_services_on_the_mesh_take_only_the_other_gateways():
    result = plan(mesh_peers=["10.186.0.12", "2001:db8:186::c"], mesh_peer_ports=["9471"])
    assert elements(result, "mesh_peers_ipv4") == ["10.186.0.12"]
    assert elements(result, "mesh_peers_ipv6") == ["2001:db8:186::c"]
    assert elements(result, "mesh_peer_ports") == ["9471"]
    with pytest.raises(FirewallError, match=r"freifunk_firewall_mesh_peers\[0\]"):
        plan(mesh_peers=["gw2"])
    with pytest.raises(FirewallError, match=r"freifunk_firewall_mesh_peer_ports\[0\] = 0 "):
        plan(mesh_peer_ports=[0])


def test_the_exporters_take_only_the_monitorings_addresses_and_networks():
    result = plan(monitoring_sources=["10.186.0.0/24", "192.0.2.7"], monitoring_ports=[9472, "9100"])
    assert elements(result, "monitoring_ipv4") == ["10.186.0.0/24", "192.0.2.7/32"]
    assert elements(result, "monitoring_ports") == ["9100", "9472"]
    # A network that holds a listed address takes its place: nft refuses overlapping intervals.
    merged = plan(monitoring_sources=["10.186.1.5", "10.186.0.0/16", "10.186.2.0/24", "10.187.0.0/16"])
    assert elements(merged, "monitoring_ipv4") == ["10.186.0.0/15"]
    # Networks and single addresses share a set: nft needs it to hold intervals.
    assert {s["name"]: s.get("flags") for s in result["sets"]}["monitoring_ipv4"] == "interval"
    assert elements(plan(), "monitoring_ipv4") == [] and elements(plan(), "monitoring_ports") == []
    with pytest.raises(FirewallError, match=r"freifunk_firewall_monitoring_sources\[0\] = '10.186.0.5/24' .*host bits"):
        plan(monitoring_sources=["10.186.0.5/24"])
    with pytest.raises(FirewallError, match=r"freifunk_firewall_monitoring_sources has 2001:db8:186::99/128: .*IPv4 mesh address only"):
        plan(monitoring_sources=["10.186.0.0/24", "2001:db8:186::99"])
    with pytest.raises(FirewallError, match=r"freifunk_firewall_monitoring_sources\[0\] = 'prometheus'"):
        plan(monitoring_sources=["prometheus"])
    with pytest.raises(FirewallError, match=r"freifunk_firewall_monitoring_ports\[1\] = 70000 "):
        plan(monitoring_ports=[9100, 70000])


def test_forward_lets_only_the_mesh_out_through_the_tunnels_and_replies_back():
    result = plan()
    assert rules(result["forward"]) == [
        "ct state established,related accept",
        'iifname "br-mesh" oifname @tunnels accept',
        'iifname "br-mesh" oifname "br-mesh" accept',
        'iifname @engine_bridges oifname != "br-mesh" accept',
        'counter name "dropped_forward" drop',
    ]
    assert elements(result, "tunnels") == ['"a_ak_ber"', '"a_ix_dus"']
    # Native: no engine bridge forwards anything.
    assert elements(result, "engine_bridges") == []


def test_the_uplink_plans_tunnels_fit_as_they_are():
    uplink = uplink_plan(
        {"peering_public_address_ipv4": "185.66.193.86",
         "gre_tunnels": [{"name": "a_ak_ber", "tunnel_endpoint": "185.66.195.0", "tunnel_address_ipv4": "100.64.1.69",
                          "tunnel_peer_ipv4": "100.64.1.68"}]},
        local_as=65186, mesh_ipv4_net="10.186.0.0/16")
    result = firewall_plan(uplink["tunnels"])
    assert result["tunnels"] == ["a_ak_ber"] and result["endpoints"] == ["185.66.195.0"]
    assert elements(result, "gre_endpoints_ipv4") == ["185.66.195.0"]


def test_seed_000s_tunnels_fit_too():
    result = plan([{"name": "a_ak_ber", "tunnel_endpoint": "185.66.195.0", "tunnel_address_ipv4": "100.64.1.69"},
                   {"name": "v6", "endpoint": "2001:db8::1"}])
    assert result["endpoints"] == ["185.66.195.0", "2001:db8::1"]
    assert elements(result, "gre_endpoints_ipv6") == ["2001:db8::1"]


def test_no_tunnels_and_no_peers_leave_their_sets_empty():
    result = plan([], tinc_peers=[])
    for name in ("tunnels", "gre_endpoints_ipv4", "gre_endpoints_ipv6", "tinc_peers_ipv4", "tinc_peers_ipv6"):
        assert elements(result, name) == [], name
    # The rules stay: an empty set matches nothing.
    assert "iifname @tunnels tcp dport 179 accept" in rules(result["input"])
    assert firewall_plan(None)["tunnels"] == []


def test_fastd_is_open_on_the_public_port_and_every_instance_port():
    assert plan(fastd_port=53773, fastd_first_instance_port=10001, fastd_instances=3)["fastd_ports"] == [10001, 10002, 10003, 53773]
    # Inventory values may arrive as strings.
    result = plan(fastd_port="10000", fastd_first_instance_port="10001", fastd_instances="2", ssh_ports=["22", 2222])
    assert result["fastd_ports"] == [10000, 10001, 10002]
    assert elements(result, "fastd_ports") == ["10000", "10001", "10002"]
    assert result["ssh_ports"] == [22, 2222]


def test_tinc_peers_are_deduplicated_sorted_and_empty_ones_skipped():
    result = plan(tinc_peers=["192.0.2.20", "", "192.0.2.10", "192.0.2.20", " ", "2001:db8::2"], tinc_port=6655)
    assert result["tinc_peers"] == ["192.0.2.10", "192.0.2.20", "2001:db8::2"]
    assert "ip saddr @tinc_peers_ipv4 meta l4proto { tcp, udp } th dport 6655 accept" in rules(result["input"])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ssh_ports": [22, 0]}, r"freifunk_firewall_ssh_ports\[1\] = 0 is not a port"),
        ({"ssh_ports": [65536]}, r"freifunk_firewall_ssh_ports\[0\] = 65536 is not a port"),
        ({"ssh_ports": ["ssh"]}, r"freifunk_firewall_ssh_ports\[0\] = 'ssh' is not a port"),
        ({"ssh_ports": [True]}, r"freifunk_firewall_ssh_ports\[0\] = True is not a port"),
        ({"ssh_ports": [22.5]}, r"freifunk_firewall_ssh_ports\[0\] = 22.5 is not a port"),
        ({"ssh_ports": "22"}, r"freifunk_firewall_ssh_ports = '22' must be a list"),
        ({"ssh_ports": []}, r"freifunk_firewall_ssh_ports is empty: .*lock Ansible"),
        ({"fastd_port": -1}, r"freifunk_fastd_port = -1 is not a port"),
        ({"fastd_first_instance_port": "x"}, r"freifunk_fastd_first_instance_port = 'x' is not a port"),
        ({"fastd_instances": 0}, r"freifunk_fastd_instances = 0 must be a whole number from 1"),
        ({"fastd_first_instance_port": 65535, "fastd_instances": 2}, r"past 65535"),
        ({"tinc_port": 70000}, r"freifunk_tinc_port = 70000 is not a port"),
        ({"tinc_peers": ["192.0.2.10", "gw2.example.org"]}, r"freifunk_firewall_tinc_peers\[1\] = 'gw2.example.org' is not an IP address"),
        ({"tinc_peers": "192.0.2.10"}, r"freifunk_firewall_tinc_peers = '192.0.2.10' must be a list"),
        ({"mesh_bridge": "br mesh"}, r"freifunk_mesh_bridge = 'br mesh' is not an interface name"),
        ({"runtime": "vm"}, r"freifunk_runtime = 'vm' must be native or container"),
        ({"container_engine": "lxc"}, r"freifunk_container_engine = 'lxc' must be podman or docker"),
    ],
)
def test_settings_that_are_not_what_they_claim_are_refused_by_name(settings, message):
    with pytest.raises(FirewallError, match=message):
        plan(**settings)


@pytest.mark.parametrize(
    ("tunnels", "message"),
    [
        ({"name": "a_ak_ber"}, r"freifunk_firewall_tunnels = .* must be a list"),
        (["a_ak_ber"], r"freifunk_firewall_tunnels\[0\] = 'a_ak_ber' must be a dict"),
        ([{"endpoint": "185.66.195.0"}], r"freifunk_firewall_tunnels\[0\] has no name"),
        ([{"name": "a_ak_ber_too_long", "endpoint": "185.66.195.0"}], r"freifunk_firewall_tunnels\[0\].name = 'a_ak_ber_too_long' is not an interface name"),
        ([{"name": "a/b", "endpoint": "185.66.195.0"}], r"\.name = 'a/b' is not an interface name"),
        ([{"name": "a b", "endpoint": "185.66.195.0"}], r"\.name = 'a b' is not an interface name"),
        ([{"name": 7, "endpoint": "185.66.195.0"}], r"\.name = 7 is not an interface name"),
        ([{"name": "a_ak_ber"}], r"freifunk_firewall_tunnels\[0\] \(a_ak_ber\) has no endpoint"),
        ([{"name": "a_ak_ber", "endpoint": "backbone.example.org"}], r"freifunk_firewall_tunnels\[0\].endpoint = 'backbone.example.org' is not an IP address"),
        ([{"name": "a_ak_ber", "tunnel_endpoint": "185.66.195.0/31"}], r"\.tunnel_endpoint = '185.66.195.0/31' is not an IP address"),
        ([{"name": "t1", "endpoint": "192.0.2.1"}, {"name": "t1", "endpoint": "192.0.2.2"}], r"freifunk_firewall_tunnels\[1\].name = 't1': two tunnels"),
        ([{"name": "br-mesh", "endpoint": "192.0.2.1"}], r"is the mesh bridge"),
    ],
)
def test_tunnels_need_an_interface_name_and_an_address(tunnels, message):
    with pytest.raises(FirewallError, match=message):
        firewall_plan(tunnels)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["tcp dport 8080 accept\ntcp dport 8081 accept"], r"freifunk_firewall_extra_input_rules\[0\] = .* spans lines"),
        (["tcp dport 8080 accept", "accept\r"], r"freifunk_firewall_extra_input_rules\[1\] = .* spans lines"),
        (["  "], r"freifunk_firewall_extra_input_rules\[0\] = '  ' must be an nft rule"),
        ([{"rule": "accept"}], r"freifunk_firewall_extra_input_rules\[0\] = .* must be an nft rule"),
        (["accept }"], r"unbalanced braces"),
        (["accept } chain sneaky { type filter hook input priority -1; policy accept; "], r"unbalanced braces"),
        (["tcp dport { 80, 443 accept"], r"unbalanced braces"),
        ("tcp dport 80 accept", r"freifunk_firewall_extra_input_rules = .* must be a list"),
    ],
)
def test_extra_rules_are_single_rules(extra, message):
    with pytest.raises(FirewallError, match=message):
        plan(extra_input_rules=extra)
    with pytest.raises(FirewallError, match=message.replace("input", "forward")):
        plan(extra_forward_rules=extra)


def test_extra_rules_come_in_order_just_before_the_counted_drop():
    result = plan(extra_input_rules=["ip saddr 192.0.2.53 tcp dport { 9100, 9101 } accept", " tcp dport 443 accept "],
                  extra_forward_rules=['iifname "eth0" ip daddr 10.186.2.5 tcp dport 22 accept'])
    assert rules(result["input"])[-3:] == ["ip saddr 192.0.2.53 tcp dport { 9100, 9101 } accept", "tcp dport 443 accept",
                                           'counter name "dropped_input" drop']
    assert result["input"][-2]["why"] == "freifunk_firewall_extra_input_rules[1]"
    assert rules(result["forward"])[-2:] == ['iifname "eth0" ip daddr 10.186.2.5 tcp dport 22 accept', 'counter name "dropped_forward" drop']
    # SSH stays first whatever the extra rules say.
    assert rules(plan(extra_input_rules=["drop"])["input"])[0] == "tcp dport @ssh_ports accept"


SSHD_T = """\
port 22
port 2222
addressfamily any
listenaddress [::]:2222
listenaddress 0.0.0.0:2222
listenaddress 0.0.0.0:22
usepam yes
"""


def test_the_ssh_ports_must_cover_every_port_sshd_listens_on():
    assert plan(ssh_ports=[22, 2222], sshd_settings=SSHD_T)["ssh_ports"] == [22, 2222]
    with pytest.raises(FirewallError, match=r"sshd listens on port 2222 \(sshd -T\), which freifunk_firewall_ssh_ports = \[22\] does not open"):
        plan(ssh_ports=[22], sshd_settings=SSHD_T)
    # A ListenAddress with a port of its own counts as well.
    with pytest.raises(FirewallError, match=r"port 2200 "):
        plan(sshd_settings="port 22\nlistenaddress 192.0.2.1:2200\n")
    # No sshd (the command failed): nothing to compare.
    assert plan(sshd_settings="")["ssh_ports"] == [22]
    assert plan(sshd_settings=None)["ssh_ports"] == [22]


@pytest.mark.parametrize(
    ("runtime", "engine", "bridges"),
    [("native", "podman", []), ("native", "docker", []), ("container", "podman", ["podman0", "cni-podman0"]),
     ("container", "docker", ["docker0"])],
)
def test_image_builds_may_forward_from_the_engines_bridge_only_under_the_container_runtime(runtime, engine, bridges):
    result = plan(runtime=runtime, container_engine=engine)
    assert result["engine_bridges"] == bridges
    assert elements(result, "engine_bridges") == [f'"{bridge}"' for bridge in bridges]


def test_dockers_forward_chain_lets_the_mesh_out_through_the_tunnels_and_replies_back():
    result = plan(mesh_bridge="br-ffmesh")
    assert result["docker_chain"] == "FFMESH-FORWARD"
    assert result["docker_user"] == [
        "-A FFMESH-FORWARD -o br-ffmesh -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A FFMESH-FORWARD -i br-ffmesh -o a_ak_ber -j ACCEPT",
        "-A FFMESH-FORWARD -i br-ffmesh -o a_ix_dus -j ACCEPT",
        "-A FFMESH-FORWARD -i br-ffmesh -o br-ffmesh -j ACCEPT",
    ]
    assert 'iifname "br-ffmesh" udp dport 67 accept' in rules(result["input"])
