# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fastd peer limit of one gateway (seed 001, limit_fastd_peers_gw.py).

The limit is the average load, active VPN peers / active gateways, plus a buffer. Each gateway
that is configured but offline adds another buffer, so its routers find room elsewhere.
"""

from __future__ import annotations

import ipaddress
import typing as t


class PeerLimitError(ValueError):
    """Counts that cannot give a limit."""


def _count(name: str, value: t.Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PeerLimitError(f"{name} = {value!r} must be an integer of at least {minimum}")
    return value


def peer_limit(
    active_peers: int,
    active_gateways: int,
    configured_gateways: t.Optional[int] = None,
    buffer: int = 10,
    current: t.Optional[int] = None,
    min_change: int = 0,
) -> int:
    """The peer limit for ``peer limit`` in fastd.conf.

    ``active_gateways`` counts this gateway too, so it is at least 1. With ``current`` and
    ``min_change``, a new limit closer than ``min_change`` to the current one is not worth a
    fastd restart, and ``current`` is returned.
    """
    _count("active_peers", active_peers, 0)
    _count("active_gateways", active_gateways, 1)
    _count("buffer", buffer, 0)
    _count("min_change", min_change, 0)
    configured = active_gateways if configured_gateways is None else _count("configured_gateways", configured_gateways, 1)
    if configured < active_gateways:
        raise PeerLimitError(f"configured_gateways = {configured} is less than active_gateways = {active_gateways}")
    offline = configured - active_gateways
    limit = -(-active_peers // active_gateways) + buffer * (1 + offline)
    if current is not None and abs(limit - _count("current", current, 0)) < min_change:
        return current
    return limit


def gate(
    own: int,
    others: t.Mapping[str, t.Optional[int]],
    configured_gateways: int,
    buffer: int = 10,
    current: t.Optional[int] = None,
    min_change: int = 0,
    shed_per_run: int = 0,
) -> t.Dict[str, t.Any]:
    """What a gateway with ``own`` connected routers does about new ones.

    ``others`` maps every other gateway to its connected routers, or None where it did not
    answer or serves no routers (offline). The limit is :func:`peer_limit` over the gateways
    that answered. fastd reads its ``peer limit`` only at start, and a restart would drop every
    router, so the limit is kept in the packet filter instead: at or above it, the gateway
    ``closed`` its fastd ports to new flows, and routers already connected stay. A router that
    lists every gateway (Gluon, ``peer limit 1``) then connects to another one. ``shed``: how many
    connected routers to let go this run (at most ``shed_per_run``, never below the limit), so a
    gateway that came back fills up before routers reconnect of their own accord.
    """
    _count("own", own, 0)
    _count("shed_per_run", shed_per_run, 0)
    answered = {name: _count(f"others[{name}]", count, 0) for name, count in others.items() if count is not None}
    active_gateways = 1 + len(answered)
    active_peers = own + sum(answered.values())
    limit = peer_limit(active_peers, active_gateways, configured_gateways, buffer, current, min_change)
    return {
        "limit": limit,
        "closed": own >= limit,
        "shed": min(shed_per_run, max(0, own - limit)),
        "active_gateways": active_gateways,
        "active_peers": active_peers,
    }


SHED_SECONDS = 300  # past fastd's 90 s without a packet, on both ends


def gate_ruleset(table: str, ports: t.Sequence[int], closed: bool) -> str:
    """The nftables script that makes table ``table``: closed, it drops new flows to ``ports``.

    It replaces the table's chains in one transaction and keeps its sets: the routers let go
    (:func:`shed_element`) are cut off both ways until both fastd ends have given up on each
    other, however often the gate opens and closes meanwhile. The gate sits after conntrack
    (priority -200), so a flow's state is known, and before the balancer's redirection (-100),
    so the public port is still the destination; a closed gate turns the routers let go away.
    """
    if not ports:
        raise PeerLimitError("no fastd ports to gate")
    elements = ", ".join(str(_count("port", port, 1)) for port in sorted(set(ports)))
    drop = [f"    udp dport {{ {elements} }} ct state new counter drop"] if closed else []
    return "\n".join([
        f"table inet {table} {{",
        "  set shed_ipv4 { type ipv4_addr . inet_service; flags timeout; }",
        "  set shed_ipv6 { type ipv6_addr . inet_service; flags timeout; }",
        "  chain gate { type filter hook prerouting priority -150; policy accept; }",
        "  chain shed { type filter hook output priority 0; policy accept; }",
        "}",
        f"flush chain inet {table} gate",
        f"flush chain inet {table} shed",
        f"table inet {table} {{",
        "  chain gate {",
        f"    udp dport {{ {elements} }} ip saddr . udp sport @shed_ipv4 drop",
        f"    udp dport {{ {elements} }} ip6 saddr . udp sport @shed_ipv6 drop",
        *drop,
        "  }",
        "  chain shed {",
        "    ip daddr . udp dport @shed_ipv4 drop",
        "    ip6 daddr . udp dport @shed_ipv6 drop",
        "  }",
        "}",
        "",
    ])


def shed_element(table: str, address: str) -> str:
    """The nft command that cuts off the router at fastd's ``address`` (``192.0.2.1:4000`` or
    ``[2001:db8::1]:4000``) for :data:`SHED_SECONDS`."""
    host, separator, port = address.rpartition(":")
    host = host.strip("[]")
    try:
        version = ipaddress.ip_address(host).version
    except ValueError as exc:
        raise PeerLimitError(f"{address!r} is not a router's address and port") from exc
    if not separator or not port.isdigit() or not 0 < int(port) < 65536:
        raise PeerLimitError(f"{address!r} is not a router's address and port")
    return f"add element inet {table} shed_ipv{version} {{ {host} . {port} timeout {SHED_SECONDS}s }}"


def newest_peers(peers: t.Mapping[str, t.Mapping[str, t.Any]], count: int, spared: t.Collection[str] = ()) -> t.List[str]:
    """The addresses of the ``count`` routers that connected last, from fastd's status ``peers``.

    Routers that connected last lose least when they move. ``spared`` addresses are left alone
    (already let go, and fastd has not noticed yet).
    """
    connected = [
        (peer["connection"].get("established", 0), peer["address"])
        for peer in peers.values()
        if peer.get("connection") and peer.get("address") and peer["address"] not in spared
    ]
    return [address for dummy, address in sorted(connected)[:count]]
