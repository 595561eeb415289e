# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tinc_addresses
short_description: Where the other gateways reach each gateway over tinc
version_added: 0.2.0
description:
  - A gateway's C(freifunk_tinc_address) if the inventory sets it.
  - Else, as in seed 000, its C(freifunk_gateway.peering_public_address_ipv4) - unless the gateway
    builds its uplink (C(freifunk_gateway.gre_tunnels), gateway_ipv4), where that address is the
    NAT address behind the backbone, and tinc, which carries batman-adv between the gateways,
    must not fail with the backbone. The gateway's own default IPv4 address (its facts) is
    taken instead.
  - Else its default IPv4 address, or an empty string when it has none (tinc then only dials out).
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
"""

EXAMPLES = r"""
- name: Show where the gateways reach each other over tinc
  ansible.builtin.debug:
    msg: "{{ groups['gateways'] | ffmesh.gateway.tinc_addresses(hostvars) }}"
  # {"gw1.example.org": "192.0.2.10", "gw2.example.org": "192.0.2.20"}
"""

RETURN = r"""
_value:
  description: Inventory host name to address.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _inventory

_READ = (_inventory.TINC_ADDRESS_VAR, _inventory.GATEWAY_VAR, _inventory.UPLINK_SWITCH)


def tinc_addresses(hosts, hostvars):
    addresses = {}
    try:
        for host in (str(host) for host in hosts):
            variables = {name: hostvars[host][name] for name in _READ if name in hostvars[host]}
            facts = hostvars[host].get("ansible_facts", {}) or {}
            addresses[host] = _inventory.tinc_address(host, variables, (facts.get("default_ipv4") or {}).get("address"))
    except _inventory.InventoryError as exc:
        raise AnsibleFilterError(f"tinc_addresses: {exc}") from exc
    return addresses


class FilterModule:
    def filters(self):
        return {"tinc_addresses": tinc_addresses}
