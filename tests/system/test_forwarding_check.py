"""ffmesh.gateway.forwarding_check against the kernel's own routes and sysctls, in a namespace
whose IPv6 default route is marked as learnt from router advertisements."""

from __future__ import annotations

import subprocess

import pytest

from harness import LOCAL, make_netns, remove_netns

CHECK = [{"hosts": "all", "gather_facts": False,
          "tasks": [{"name": "check", "ffmesh.gateway.forwarding_check": None}]}]


def _ip(netns: str, *argv: str) -> None:
    subprocess.run(["ip", "-n", netns, *argv], check=True)


def _sysctl(netns: str, setting: str) -> None:
    subprocess.run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w", setting], check=True)


@pytest.fixture(name="host")
def host_fixture(require):
    require("ip", "sysctl")
    host, router = make_netns("fwd-host"), make_netns("fwd-router")
    try:
        _ip(host, "link", "add", "uplink0", "type", "veth", "peer", "name", "lan0", "netns", router)
        _ip(host, "addr", "add", "2001:db8:9::2/64", "dev", "uplink0", "nodad")
        _ip(host, "link", "set", "uplink0", "up")
        _ip(router, "link", "set", "lan0", "up")
        yield host
    finally:
        remove_netns(host)
        remove_netns(router)


def test_a_default_route_from_router_advertisements_stops_the_run(host, playbook):
    _ip(host, "-6", "route", "add", "default", "via", "2001:db8:9::1", "dev", "uplink0", "proto", "ra")
    run = playbook(CHECK, LOCAL, "--check", netns=host)
    result = run.results("check")["localhost"]
    assert result["failed"], result
    assert result["lost_routes"] == [{"dev": "uplink0", "gateway": "2001:db8:9::1", "accept_ra": 1}]
    assert "net.ipv6.conf.uplink0.accept_ra = 2" in result["msg"]

    _sysctl(host, "net.ipv6.conf.uplink0.accept_ra=2")
    assert playbook(CHECK, LOCAL, netns=host).failed == 0


def test_a_static_default_route_or_a_forwarding_host_passes(host, playbook):
    _ip(host, "-6", "route", "add", "default", "via", "2001:db8:9::1", "dev", "uplink0")
    assert playbook(CHECK, LOCAL, netns=host).failed == 0

    _ip(host, "-6", "route", "replace", "default", "via", "2001:db8:9::1", "dev", "uplink0", "proto", "ra")
    _sysctl(host, "net.ipv6.conf.all.forwarding=1")
    run = playbook(CHECK, LOCAL, netns=host)
    assert run.failed == 0 and run.results("check")["localhost"]["forwarding"] == 1
