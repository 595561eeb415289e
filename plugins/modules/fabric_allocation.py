#!/usr/bin/python
# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: fabric_allocation
short_description: Give every node of a routed fabric its index, loopbacks, ASN and WireGuard address, kept on the controller
version_added: 0.1.0
description:
  - The routed fabric's numbers per host name, allocated on the controller and kept in a YAML
    record per fabric, C(STORE/FABRIC.yml), next to the inventory (like the record of
    M(ffmesh.gateway.public_key_store)).
  - Only an index per node is allocated. A node keeps the index the record holds for it; new
    nodes, in the order of their names, take the lowest indices that no node holds. So adding a
    node never renumbers the others, and the same inventory always gives the same numbers.
  - A node that leaves O(hosts) keeps its index as retired, because the host may still run with
    its addresses; list it in O(release) once it is gone, and its index may go to a new node.
  - From the index - the loopback IPv4 (and IPv6) address, the WireGuard address, and a private
    4-byte AS number (RFC 6996), each the index-th of its range. A record that holds an index
    twice, or a range too small for the fabric, is an error that names it; nothing is written.
  - Runs on the controller and needs no connection. Run it with C(run_once), with all nodes of
    the fabric in the inventory in O(hosts) (not the play's hosts, which C(--limit) shortens).
author:
  - ffmesh.gateway maintainers (@ffmesh)
attributes:
  action:
    support: full
    description: Runs on the controller.
  check_mode:
    support: full
    description: The record is not written; the numbers returned are those a run would keep.
  diff_mode:
    support: full
    description: The diff shows the record file before and after.
  idempotent:
    support: full
    description: The record is only written when a node was added, retired or released.
options:
  store:
    description: Directory on the controller for the records, for example C({{ inventory_dir }}/fabric).
    type: path
    required: true
  fabric:
    description: Name of the fabric; the record is C(STORE/FABRIC.yml).
    type: str
    required: true
  hosts:
    description: Every node of the fabric in the inventory, for example C(groups['fabric']).
    type: list
    elements: str
    required: true
  release:
    description: Retired nodes whose hosts are gone; their indices may go to new nodes.
    type: list
    elements: str
    default: []
  loopback_ipv4:
    description: IPv4 network of the nodes' loopback addresses; node N gets its N-th address.
    type: str
    required: true
  loopback_ipv6:
    description: IPv6 network of the nodes' loopback addresses, if the fabric carries IPv6.
    type: str
  wireguard_ipv4:
    description: IPv4 network of the nodes' WireGuard addresses, between which the GRE tunnels run.
    type: str
    required: true
  asn_first:
    description: The AS number of node 1; node N gets O(asn_first) + N - 1. Private 4-byte ASNs only.
    type: int
    default: 4200000000
seealso:
  - module: ffmesh.gateway.public_key_store
"""

EXAMPLES = r"""
- name: Number the fabric's nodes
  ffmesh.gateway.fabric_allocation:
    store: "{{ inventory_dir }}/fabric"
    fabric: backbone
    hosts: "{{ groups['fabric'] }}"
    loopback_ipv4: 10.255.0.0/24
    loopback_ipv6: fd00:ff::/64
    wireguard_ipv4: 10.254.0.0/24
  run_once: true
  register: fabric

- name: Show this node's numbers
  ansible.builtin.debug:
    msg: "{{ fabric.nodes[inventory_hostname] }}"
"""

RETURN = r"""
nodes:
  description: Host name to its numbers, for every node in O(hosts).
  returned: success
  type: dict
  sample: {kvm1: {index: 1, asn: 4200000000, loopback_ipv4: 10.255.0.1, loopback_ipv6: "fd00:ff::1", wireguard_ipv4: 10.254.0.1}}
record:
  description: Path of the record file on the controller.
  returned: success
  type: str
  sample: /srv/inventory/fabric/backbone.yml
added:
  description: Nodes that got an index in this run.
  returned: success
  type: list
  elements: str
retired:
  description: Nodes of the record that are no longer in O(hosts) and keep their index until released.
  returned: success
  type: list
  elements: str
released:
  description: Retired nodes whose index this run freed.
  returned: success
  type: list
  elements: str
"""
