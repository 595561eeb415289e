# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tinc_sources
short_description: The addresses the other gateways' tinc may connect from
version_added: 0.2.0
description:
  - For each gateway but O(this), the address the others reach it at over tinc
    (P(ffmesh.gateway.tinc_addresses#filter)) and its default IPv4 and IPv6 addresses from its
    facts (C(default_ipv4), C(default_ipv6)); one list, without repeats.
  - A gateway's connection to another leaves from the address of its route there, the default
    route's for a peer on the internet, which need not be the address it is reached at; the
    firewall role opens tinc's port to all of them. A gateway that reaches the others another
    way (a second NIC) needs C(freifunk_tinc_address) set to that NIC's address.
  - Facts of a gateway that were not gathered add nothing; its tinc address still counts.
positional: hostvars
options:
  _input:
    description: The inventory host names of the gateways.
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars), to read each gateway's variables and facts.
    type: dict
    required: true
  this:
    description: The gateway the list is for; its own addresses are left out.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Open tinc to the other gateways only
  ansible.builtin.include_role:
    name: ffmesh.gateway.firewall
  vars:
    freifunk_firewall_tinc_peers: "{{ groups['gateways'] | ffmesh.gateway.tinc_sources(hostvars, this=inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: The addresses, IPv4 and IPv6, in the order of the gateways.
  type: list
  elements: str
"""

from ansible_collections.ffmesh.gateway.plugins.filter.tinc_addresses import tinc_addresses
from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _inventory


def tinc_sources(hosts, hostvars, this):
    others = [str(host) for host in hosts if str(host) != str(this)]
    addresses = tinc_addresses(others, hostvars)
    sources = [_inventory.tinc_sources(addresses[host], hostvars[host].get("ansible_facts", {}) or {}) for host in others]
    return list(dict.fromkeys(address for found in sources for address in found))


class FilterModule:
    def filters(self):
        return {"tinc_sources": tinc_sources}
