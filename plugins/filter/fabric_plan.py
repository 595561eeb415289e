# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric_plan
short_description: What one node of the routed fabric configures - its numbers, its peers and their tunnels
version_added: 0.1.0
description:
  - Takes the numbers of every node, as P(ffmesh.gateway.fabric_allocation#module) returns them,
    and gives one node's plan - its own numbers, its link-local address on the GRE tunnels, and one
    entry per peer with the peer's numbers, the tunnel's interface name and the peer's link-local address.
  - Without O(reflectors) every node peers with every other (a full mesh). With reflectors, a
    reflector peers with every node and the others with the reflectors alone.
  - A tunnel is named C(gre-PEER) when that fits Linux's 15 characters, otherwise C(greINDEX-) and
    the start of the peer's name, so a node joining or leaving never renames another tunnel.
  - A node's link-local address on every tunnel is C(fe80::) and its index, in hexadecimal.
positional: node, reflectors
options:
  _input:
    description: Host name to that node's numbers (the C(nodes) that fabric_allocation returns).
    type: dict
    required: true
  node:
    description: The node whose plan this is, normally C(inventory_hostname).
    type: str
    required: true
  reflectors:
    description: Host names of the reflectors; empty for a full mesh.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: This node's plan
  ansible.builtin.set_fact:
    fabric: "{{ fabric_allocation.nodes | ffmesh.gateway.fabric_plan(inventory_hostname) }}"
  # fabric.peers[0]: {name: kvm2, interface: gre-kvm2, link_local: fe80::2, asn: 4200000001, ...}
"""

RETURN = r"""
_value:
  description: The node's numbers with its peers.
  type: dict
  contains:
    index:
      description: The node's index in the fabric's record.
      type: int
    asn:
      description: The node's private AS number.
      type: int
    loopback_ipv4:
      description: The node's IPv4 loopback, its BGP router ID.
      type: str
    loopback_ipv6:
      description: The node's IPv6 loopback, if the fabric has an IPv6 loopback network.
      type: str
    wireguard_ipv4:
      description: The node's address on the WireGuard interface, where its GRE tunnels start.
      type: str
    link_local:
      description: The node's IPv6 link-local address on each of its GRE tunnels.
      type: str
    reflector:
      description: Whether the node is a reflector.
      type: bool
    peers:
      description: One entry per peer, sorted by name - the peer's numbers, C(name), C(interface) and C(link_local).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _fabric


def fabric_plan(numbers, node, reflectors=None):
    try:
        return _fabric.node_plan(str(node), numbers, [str(name) for name in reflectors or []])
    except (_fabric.FabricError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"fabric_plan: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"fabric_plan": fabric_plan}
