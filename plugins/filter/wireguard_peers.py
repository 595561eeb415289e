# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_peers
short_description: WireGuard [Peer] sections from the recorded public keys
version_added: 0.1.0
description:
  - Renders the C([Peer]) sections of a wg(8) or wg-quick configuration for every host of a
    mesh, from the keys that P(ffmesh.gateway.public_key_store#module) returns.
  - Endpoints with IPv6 addresses get brackets. Keys and networks are checked.
positional: endpoints
options:
  _input:
    description: Host name to WireGuard public key.
    type: dict
    required: true
  endpoints:
    description: Host name to the address the host is reached at; hosts without one only accept connections.
    type: dict
    default: {}
  port:
    description: The port all peers listen on.
    type: int
    default: 51820
  allowed_ips:
    description: Host name to a network or list of networks routed to it.
    type: dict
    default: {}
  exclude:
    description: Leave this host out, normally C(inventory_hostname).
    type: str
  persistent_keepalive:
    description: Seconds between keepalives; 0 for none.
    type: int
    default: 0
  section:
    description: The sections' name - C(Peer) for wg(8) and wg-quick, C(WireGuardPeer) for a systemd-networkd C(.netdev).
    type: str
    choices: [Peer, WireGuardPeer]
    default: Peer
"""

EXAMPLES = r"""
- name: Peers of the fabric
  ansible.builtin.copy:
    dest: /etc/wireguard/peers.conf
    mode: "0600"
    content: >-
      {{ wg_keys.peers | ffmesh.gateway.wireguard_peers(
           endpoints=dict(groups['fabric'] | zip(groups['fabric'] | map('extract', hostvars, 'underlay_ipv6'))),
           exclude=inventory_hostname) }}
"""

RETURN = r"""
_value:
  description: The sections, one per peer, sorted by host name.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.module_utils import _peers


def wireguard_peers(public_keys, endpoints=None, port=51820, allowed_ips=None, exclude=None, persistent_keepalive=0, section="Peer"):
    try:
        table = _peers.peer_table(public_keys, endpoints, int(port))
        return _peers.wireguard_peers(table, allowed_ips, exclude, int(persistent_keepalive), str(section))
    except (_peers.PeerError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"wireguard_peers: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"wireguard_peers": wireguard_peers}
