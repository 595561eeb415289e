from __future__ import annotations

import pytest

from ansible_collections.ffmesh.gateway.plugins.module_utils._balancer import (
    BalancerError,
    BalancerSpec,
    iptables_chain_rules,
    iptables_jump_rule,
    nft_table,
    plan_iptables,
    plan_nftables,
    restore_script,
)


def test_nth_rules_take_one_nth_each():
    spec = BalancerSpec(port=10000, instances=4)
    assert iptables_chain_rules(spec) == [
        "-N FFMESH_FASTD",
        "-A FFMESH_FASTD -p udp -m statistic --mode nth --every 4 --packet 0 -j REDIRECT --to-ports 10001",
        "-A FFMESH_FASTD -p udp -m statistic --mode nth --every 3 --packet 0 -j REDIRECT --to-ports 10002",
        "-A FFMESH_FASTD -p udp -m statistic --mode nth --every 2 --packet 0 -j REDIRECT --to-ports 10003",
        "-A FFMESH_FASTD -p udp -j REDIRECT --to-ports 10004",
    ]


def test_converged_state_plans_nothing():
    spec = BalancerSpec(port=10000, instances=3, in_interface="eth0")
    prerouting = ["-P PREROUTING ACCEPT", iptables_jump_rule(spec)]
    assert plan_iptables(spec, "ipv4", True, iptables_chain_rules(spec), prerouting) == []
    assert plan_nftables(spec, True, nft_table(spec) + "\n") == []


def test_duplicate_and_stale_jumps_are_removed():
    spec = BalancerSpec(port=10000, instances=2)
    stale = "-A PREROUTING -p udp -m udp --dport 9999 -j FFMESH_FASTD"
    prerouting = [iptables_jump_rule(spec), iptables_jump_rule(spec), stale, "-A PREROUTING -j OTHER"]
    commands = plan_iptables(spec, "ipv4", True, iptables_chain_rules(spec), prerouting)
    assert [argv for argv, dummy in commands] == [
        ["iptables", "-t", "nat", "-D", "PREROUTING", "-p", "udp", "-m", "udp", "--dport", "10000", "-j", "FFMESH_FASTD"],
        ["iptables", "-t", "nat", "-D", "PREROUTING", "-p", "udp", "-m", "udp", "--dport", "9999", "-j", "FFMESH_FASTD"],
    ]


def test_shrinking_replaces_the_chain_in_one_restore():
    old = BalancerSpec(port=10000, instances=4)
    new = BalancerSpec(port=10000, instances=2)
    commands = plan_iptables(new, "ipv6", True, iptables_chain_rules(old), [iptables_jump_rule(new)])
    assert len(commands) == 1
    argv, payload = commands[0]
    assert argv == ["ip6tables-restore", "--noflush"]
    assert payload.splitlines() == [
        "*nat",
        ":FFMESH_FASTD - [0:0]",
        "-A FFMESH_FASTD -p udp -m statistic --mode nth --every 2 --packet 0 -j REDIRECT --to-ports 10001",
        "-A FFMESH_FASTD -p udp -j REDIRECT --to-ports 10002",
        "COMMIT",
    ]


def test_absent_removes_jumps_then_chain():
    spec = BalancerSpec(port=10000, instances=1)
    commands = plan_iptables(spec, "ipv4", False, iptables_chain_rules(spec), [iptables_jump_rule(spec)])
    assert [argv[3] for argv, dummy in commands] == ["-D", "-F", "-X"]
    assert plan_iptables(spec, "ipv4", False, None, []) == []
    assert plan_nftables(spec, False, None) == []


def test_nft_table_uses_one_numgen_map():
    spec = BalancerSpec(port=10000, instances=3, families=["ipv6"])
    assert "meta nfproto ipv6 udp dport 10000 redirect to :numgen inc mod 3 map { 0 : 10001, 1 : 10002, 2 : 10003 }" in nft_table(spec)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": 0, "instances": 1}, "not a UDP port"),
        ({"port": 10000, "instances": 0}, "at least one"),
        ({"port": 65535, "instances": 1}, r"the default first_instance_port \(port\+1=65536\) with instances=1 gives ports beyond"),
        ({"port": 10000, "instances": 1, "first_instance_port": 0}, "first_instance_port=0 is not a UDP port"),
        ({"port": 10000, "instances": 1, "name": "Bad-Name"}, "lower case"),
        ({"port": 10000, "instances": 1, "in_interface": "eth0; drop"}, "not an interface"),
        ({"port": 10000, "instances": 1, "families": ["ipv5"]}, "choose from"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(BalancerError, match=message):
        BalancerSpec(**kwargs)


def test_restore_script_makes_each_family_and_adds_a_missing_jump_only():
    spec = BalancerSpec(port=10000, instances=2, families=["ipv6"], in_interface="eth0")
    lines = restore_script(spec, "iptables").splitlines()
    assert lines[:3] == ["#!/bin/sh", lines[1], "set -e"]
    assert lines[3:] == [
        "ip6tables-restore --noflush <<'EOF'",
        "*nat",
        ":FFMESH_FASTD - [0:0]",
        "-A FFMESH_FASTD -p udp -m statistic --mode nth --every 2 --packet 0 -j REDIRECT --to-ports 10001",
        "-A FFMESH_FASTD -p udp -j REDIRECT --to-ports 10002",
        "COMMIT",
        "EOF",
        "ip6tables -t nat -C PREROUTING -i eth0 -p udp -m udp --dport 10000 -j FFMESH_FASTD 2>/dev/null"
        " || ip6tables -t nat -I PREROUTING 1 -i eth0 -p udp -m udp --dport 10000 -j FFMESH_FASTD",
    ]


def test_restore_script_replaces_the_nftables_table_in_one_transaction():
    spec = BalancerSpec(port=10000, instances=3)
    script = restore_script(spec, "nftables")
    assert script.endswith(f"nft -f - <<'EOF'\ntable inet ffmesh_fastd\ndelete table inet ffmesh_fastd\n{nft_table(spec)}\nEOF\n")


def test_restore_script_refuses_an_unknown_backend():
    with pytest.raises(BalancerError, match="backend='pf'"):
        restore_script(BalancerSpec(port=10000, instances=1), "pf")
