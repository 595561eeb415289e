# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fastd peer limit of one gateway (seed 001, limit_fastd_peers_gw.py).

The limit is the average load, active VPN peers / active gateways, plus a buffer. Each gateway
that is configured but offline adds another buffer, so its routers find room elsewhere.
"""

from __future__ import annotations

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
