# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of a host's IPv6 default routes would go when IPv6 forwarding is switched on.

A router ignores router advertisements: with ``net.ipv6.conf.all.forwarding = 1`` the kernel
stops taking them on every interface whose ``accept_ra`` is 1 (the default), and
systemd-networkd stops by default too. A default route learnt from them (protocol ``ra``) then
expires, and the host loses its own IPv6 way out. Only ``accept_ra = 2`` keeps the kernel
listening while it forwards.

A host that forwards already has kept what it has: nothing is at risk there.
"""

from __future__ import annotations

import typing as t

RA_PROTOCOL = "ra"
ACCEPT_RA_WHILE_FORWARDING = 2


def routes_lost_to_forwarding(
    default_routes: t.Sequence[t.Mapping[str, t.Any]],
    forwarding: int,
    accept_ra: t.Mapping[str, int | None],
) -> list[dict[str, t.Any]]:
    """The default routes (as ``ip -j -6 route show default`` gives them) that forwarding ends.

    ``forwarding`` is ``net.ipv6.conf.all.forwarding`` now; ``accept_ra`` maps an interface to
    its ``net.ipv6.conf.<interface>.accept_ra``.
    """
    if forwarding:
        return []
    return [
        {"dev": route.get("dev"), "gateway": route.get("gateway"), "accept_ra": accept_ra.get(route.get("dev", ""))}
        for route in default_routes
        if route.get("protocol") == RA_PROTOCOL and accept_ra.get(route.get("dev", "")) != ACCEPT_RA_WHILE_FORWARDING
    ]


def lost_routes_message(lost: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    """What an admin reads before anything on the host changed, and what to do about it."""
    routes = ", ".join(f"via {route['gateway']} dev {route['dev']} (accept_ra {route['accept_ra']})" for route in lost)
    devices = sorted({str(route["dev"]) for route in lost})
    return (
        f"this gateway's IPv6 default route comes from router advertisements ({routes}), and the "
        "IPv6 uplink needs net.ipv6.conf.all.forwarding = 1, which makes the host ignore them: the "
        "route would expire and the host lose its own IPv6 way out. Nothing has been changed. "
        "Either give the host a static IPv6 default route, or keep taking advertisements while "
        "forwarding: " + ", ".join(f"net.ipv6.conf.{dev}.accept_ra = 2" for dev in devices) + " in "
        "/etc/sysctl.d (ifupdown: 'accept_ra 2'; systemd-networkd: 'IPv6AcceptRA=yes' in the "
        "interface's .network file), then switch forwarding on yourself and run again."
    )
