from __future__ import annotations

from ansible_collections.ffmesh.gateway.plugins.module_utils._forwarding import (
    lost_routes_message,
    routes_lost_to_forwarding,
)

# As `ip -j -6 route show default` prints them.
RA_ROUTE = {"dst": "default", "gateway": "fe80::1", "dev": "eth0", "protocol": "ra", "metric": 1024, "flags": [], "pref": "medium"}
STATIC_ROUTE = {"dst": "default", "gateway": "2001:db8::1", "dev": "eth1", "metric": 1024, "flags": [], "pref": "medium"}


def test_a_route_from_advertisements_goes_unless_accept_ra_is_2():
    assert routes_lost_to_forwarding([RA_ROUTE, STATIC_ROUTE], 0, {"eth0": 1, "eth1": 0}) == [
        {"dev": "eth0", "gateway": "fe80::1", "accept_ra": 1}]
    assert routes_lost_to_forwarding([RA_ROUTE], 0, {"eth0": 0}) != []
    assert routes_lost_to_forwarding([RA_ROUTE], 0, {"eth0": 2}) == []


def test_a_forwarding_host_or_one_without_advertised_routes_loses_nothing():
    assert routes_lost_to_forwarding([RA_ROUTE], 1, {"eth0": 1}) == []
    assert routes_lost_to_forwarding([STATIC_ROUTE], 0, {"eth1": 1}) == []
    assert routes_lost_to_forwarding([], 0, {}) == []


def test_the_message_names_the_route_and_the_setting_that_keeps_it():
    message = lost_routes_message([{"dev": "eth0", "gateway": "fe80::1", "accept_ra": 1}])
    assert "via fe80::1 dev eth0 (accept_ra 1)" in message
    assert "net.ipv6.conf.eth0.accept_ra = 2" in message
    assert "Nothing has been changed" in message
