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
  - With O(gathering) (seed 003), traffic from addresses in a gathered prefix leaves the fabric
    through the prefix's node, wherever the address lives - the main table without its default
    routes first, then a table (2000 and the node's index) whose default route is the tunnel to
    that node. O(announce) lists the prefixes this node originates in BGP, each inside a gathered prefix.
    Overlapping prefixes, an unknown node, a node without a tunnel to the gathering node, or an
    announcement outside every gathered prefix are refused by name.
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
  gathering:
    description: Gathered prefixes, each C({prefix, node}) - the node through which traffic from the prefix leaves the fabric.
    type: list
    elements: dict
    default: []
  announce:
    description: Prefixes this node originates in BGP (addresses it holds), each inside a gathered prefix.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: This node's plan
  ansible.builtin.set_fact:
    fabric: "{{ fabric_allocation.nodes | ffmesh.gateway.fabric_plan(inventory_hostname) }}"
  # fabric.peers[0]: {name: kvm2, interface: gre-kvm2, link_local: fe80::2, asn: 4200000001, ...}

- name: The plan with a public range whose traffic leaves through berlin1
  ansible.builtin.set_fact:
    fabric: >-
      {{ fabric_allocation.nodes | ffmesh.gateway.fabric_plan(inventory_hostname,
           gathering=[{'prefix': '192.0.2.0/28', 'node': 'berlin1'}], announce=['192.0.2.5/32']) }}
  # fabric.gathering.rules[0]: {prefix: 192.0.2.0/28, version: 4, node: berlin1, interface: gre-berlin1, table: 2001}
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
    gathering:
      description:
        - C(prefixes) (every gathered prefix with its C(version) and C(node)), C(rules) (this node's - C(prefix),
          C(version), C(node), C(interface), C(table)), C(announce) (C(prefix), C(version)) and C(rule_priority).
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _fabric


def fabric_plan(numbers, node, reflectors=None, gathering=None, announce=None):
    try:
        return _fabric.node_plan(str(node), numbers, [str(name) for name in reflectors or []],
                                 list(gathering or []), [str(prefix) for prefix in announce or []])
    except (_fabric.FabricError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"fabric_plan: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"fabric_plan": fabric_plan}
