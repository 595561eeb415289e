# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fastd_peer_limit
short_description: A gateway's fastd peer limit from the load of the whole mesh
version_added: 0.1.0
description:
  - Active VPN peers divided by active gateways (rounded up), plus O(buffer) for this gateway
    and one more O(buffer) for every configured gateway that is offline, as Freifunk
    Mainz/Wiesbaden's C(limit_fastd_peers_gw.py) does (seed 001).
  - With O(current) and O(min_change), a limit that moved less than O(min_change) returns
    O(current), so fastd is not restarted for small changes.
positional: active_gateways
options:
  _input:
    description: Active VPN peers in the whole mesh.
    type: int
    required: true
  active_gateways:
    description: Gateways serving peers now, this one included (at least 1).
    type: int
    required: true
  configured_gateways:
    description: Gateways there should be; defaults to O(active_gateways).
    type: int
  buffer:
    description: Head room per gateway.
    type: int
    default: 10
  current:
    description: The limit fastd runs with now.
    type: int
  min_change:
    description: Smallest change worth applying.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: 300 routers, 3 of 4 gateways up
  ansible.builtin.debug:
    msg: "peer limit {{ 300 | ffmesh.gateway.fastd_peer_limit(3, configured_gateways=4, buffer=10) }};"
  # peer limit 120;
"""

RETURN = r"""
_value:
  description: The peer limit.
  type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _peer_limit


def fastd_peer_limit(active_peers, active_gateways, configured_gateways=None, buffer=10, current=None, min_change=0):
    try:
        return _peer_limit.peer_limit(active_peers, active_gateways, configured_gateways, buffer, current, min_change)
    except _peer_limit.PeerLimitError as exc:
        raise AnsibleFilterError(f"fastd_peer_limit: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"fastd_peer_limit": fastd_peer_limit}
