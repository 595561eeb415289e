"""The filter plugins as playbooks call them: values, and errors that reach the user."""

from __future__ import annotations

import pytest

from harness import LOCAL

WG_KEY = "vSqlY5XCpaFXRHTKvLoT0Io5rG6zIQ+1i398kIBqKFI="
EXPRESSIONS = {
    "plan": "{{ {'ipv4_net': '10.186.0.0/16', 'mac_prefix': 'fe:ed:ca:fe:'} | ffmesh.gateway.address_plan(3) }}",
    "plans": "{{ {'gw1': 0, 'gw2': '1'} | ffmesh.gateway.address_plan_check({'ipv4_net': '10.186.0.0/16'}) }}",
    "slot": "{{ 1 | ffmesh.gateway.stagger('weekly', gateways=3) }}",
    "limit": "{{ 300 | ffmesh.gateway.fastd_peer_limit(3, configured_gateways=4) }}",
    "peers": "{{ {'a': '" + WG_KEY + "'} | ffmesh.gateway.wireguard_peers(endpoints={'a': '2001:db8::a'}) }}",
    "image": "{{ 'fastd' | ffmesh.gateway.container_image('docker.io/library/debian:trixie') }}",
    "run": "{{ 'fastd -c %s' | ffmesh.gateway.container_command({'runtime': 'container', 'image': 'i:1'}, check_file='/c') }}",
    "mtus": "{{ '1500' | ffmesh.gateway.fabric_mtus(underlay=6, gre=4) }}",
    "fabric": "{{ {'a': {'index': 1, 'asn': 4200000000}, 'b': {'index': 2, 'asn': 4200000001}} | ffmesh.gateway.fabric_plan('a') }}",
}


def _play(expressions: dict) -> list:
    return [{"name": "filters", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "evaluate", "ansible.builtin.set_fact": expressions}]}]


def test_filter_values(playbook):
    run = playbook(_play(EXPRESSIONS), LOCAL)
    assert run.failed == 0, run.stdout[-3000:]
    facts = run.results("evaluate")["localhost"]["ansible_facts"]
    assert facts["plan"]["gateway_ipv4"] == "10.186.1.3" and facts["plan"]["tinc_mac"] == "fe:ed:ca:fe:03:01"
    assert facts["plans"]["gw2"]["batman_ipv4"] == "10.186.0.11"
    assert facts["slot"]["on_calendar"] == "Mon,Thu *-*-* 03:00:00"
    assert int(facts["limit"]) == 120
    assert facts["peers"] == f"# a\n[Peer]\nPublicKey = {WG_KEY}\nEndpoint = [2001:db8::a]:51820\n"
    # The role's own Containerfile, read from the installed collection.
    assert "apt-get install" in facts["image"]["containerfile"] and " fastd " in facts["image"]["containerfile"]
    assert facts["image"]["ref"].startswith("localhost/ffmesh-fastd:")
    assert facts["run"].startswith("/usr/bin/podman run --rm --network none") and facts["run"].endswith("i:1 fastd -c /c")
    assert facts["mtus"] == {"wireguard": 1420, "gre": 1396}
    assert facts["fabric"]["peers"] == [{"index": 2, "asn": 4200000001, "name": "b", "interface": "gre-b", "link_local": "fe80::2"}]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("{{ {'gw1': 0, 'gw2': 0} | ffmesh.gateway.address_plan_check({'ipv4_net': '10.186.0.0/16'}) }}",
         "address_plan_check: host gw2: freifunk_group_index = 0: it is already the index of host gw1"),
        ("{{ {'ipv4_net': '10.186.0.0/16'} | ffmesh.gateway.address_plan(10) }}", "address_plan: index 10 does not fit"),
        ("{{ 'gw1' | ffmesh.gateway.address_plan_check({'ipv4_net': '10.186.0.0/16'}, hostvars=hostvars) }}",
         "address_plan_check: with hostvars, the input is a list of host names"),
        ("{{ 30 | ffmesh.gateway.stagger('weekly') }}", "stagger: gateway number 30 has no slot of its own"),
        ("{{ 3 | ffmesh.gateway.fastd_peer_limit(0) }}", "fastd_peer_limit: active_gateways = 0"),
        ("{{ {'a': 'nokey'} | ffmesh.gateway.wireguard_peers }}", "wireguard_peers: peer a: not a wireguard public key"),
        ("{{ 'nosuchrole' | ffmesh.gateway.container_image('debian:trixie') }}",
         "container_image: role 'nosuchrole' ships no Containerfile"),
        ("{{ 'd' | ffmesh.gateway.container_command({'runtime': 'container', 'engine': 'lxc', 'image': 'i'}) }}",
         "container_command: engine 'lxc' must be one of podman, docker"),
        ("{{ 1400 | ffmesh.gateway.fabric_mtus(underlay=6, gre=6) }}",
         "fabric_mtus: an underlay MTU of 1400 leaves 1268 for the GRE tunnels (1400 - 80 WireGuard over IPv6 - 52 GRE over IPv6)"),
        ("{{ {'a': {'index': 1}} | ffmesh.gateway.fabric_plan('a', ['r']) }}", "fabric_plan: reflectors r are not nodes of the fabric"),
        ("{{ {'a': {'index': 1}} | ffmesh.gateway.fabric_plan('a', announce=['192.0.2.1/32']) }}",
         "fabric_plan: a announces 192.0.2.1/32, which lies in no gathered prefix"),
    ],
)
def test_filter_errors_reach_the_user(playbook, expression, message):
    run = playbook(_play({"value": expression}), LOCAL)
    assert run.failed == 1
    assert message in run.stdout, run.stdout[-3000:]


def test_address_plan_check_reads_a_groups_indexes_from_hostvars(playbook):
    expression = "{{ ['localhost'] | ffmesh.gateway.address_plan_check({'ipv4_net': '10.186.0.0/16'}, hostvars=hostvars) }}"
    indexed = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "freifunk_group_index": 2}}}}
    run = playbook(_play({"plans": expression}), indexed)
    assert run.failed == 0, run.stdout[-3000:]
    assert run.results("evaluate")["localhost"]["ansible_facts"]["plans"]["localhost"]["index"] == 2
    # A host of the group without an index is named.
    run = playbook(_play({"plans": expression}), LOCAL)
    assert run.failed == 1
    assert "address_plan_check: host localhost: freifunk_group_index" in run.stdout, run.stdout[-3000:]
