# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: address_plan
short_description: Everything a gateway's group index derives in a Freifunk mesh
version_added: 0.1.0
description:
  - Returns the mesh addresses, DHCP pool and MAC addresses of the gateway with group index
    O(index). The defaults reproduce Freifunk Hennef's plan (seed 000) for 10.186.0.0/16;
    batman at net[10 + index], the gateway's mesh address at net[256 + index], the recursor at
    net[266 + index], and a DHCP pool in the block of 4096 addresses at net[4096 * index].
  - Fails with a message naming the variable and value for a malformed net, MAC prefix or
    offset, and for an index the mesh cannot hold (with the defaults and a /16, 0 to 9).
positional: index
options:
  _input:
    description:
      - The mesh, a dict with C(ipv4_net) and optional C(ipv6_net), C(mac_prefix) (four octets,
        locally administered, for example C(fe:ed:ca:fe:)), C(fastd_instances) (default 1).
      - Overrides of the plan, all integers, also go here. C(batman_offset) (10),
        C(gateway_offset) (256), C(recursor_offset) (266), C(dhcp_block_size) (4096, a power
        of two) and C(dhcp_pool_offset) (512, where the pool starts inside the block).
    type: dict
    required: true
  index:
    description: The gateway's group index, 0 or more.
    type: int
    required: true
  dhcp_subnet_range:
    description:
      - Seed 000's C(freifunk_dhcpd_subnet_range), an address with a prefix length such as
        C(10.186.16.1/20). The pool then runs from that address to the second-to-last address of
        its network, as seed 000's dhcpd did, instead of the plan's.
      - Whether it collides with another gateway is for P(ffmesh.gateway.inventory_check#module) to say.
    type: str
requirements:
  - netaddr
seealso:
  - plugin: ffmesh.gateway.address_plan_check
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Hennef's plan for the gateway with index 3
  ansible.builtin.debug:
    msg: "{{ {'ipv4_net': '10.186.0.0/16', 'mac_prefix': 'fe:ed:ca:fe:'} | ffmesh.gateway.address_plan(3) }}"
  # batman_ipv4: 10.186.0.13, gateway_ipv4: 10.186.1.3, recursor_ipv4: 10.186.1.13,
  # dhcp_range: {start: 10.186.50.0, end: 10.186.63.255}, tinc_mac: fe:ed:ca:fe:03:01

- name: Seed 000's variables
  ansible.builtin.set_fact:
    freifunk_plan: >-
      {{ {'ipv4_net': freifunk_mesh_ipv4_net, 'mac_prefix': freifunk_mesh_mac_begin}
         | ffmesh.gateway.address_plan(freifunk_group_index) }}
"""

RETURN = r"""
_value:
  description:
    - C(index), C(ipv4_net), C(ipv4_prefixlen), C(batman_ipv4), C(gateway_ipv4),
      C(recursor_ipv4), C(dhcp_block) and C(dhcp_range) (C(start), C(end)).
    - With C(ipv6_net) also C(ipv6_net), C(ipv6_prefixlen), C(batman_ipv6), C(gateway_ipv6), C(recursor_ipv6).
    - With C(mac_prefix) also C(bridge_mac) (prefix:index:00), C(tinc_mac) (prefix:index:01) and
      C(fastd_macs) (prefix:index:10+k).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _address_plan, _inventory


def address_plan(mesh, index, dhcp_subnet_range=None):
    if not _address_plan.HAS_NETADDR:
        raise AnsibleFilterError(missing_required_lib("netaddr"))
    try:
        plan = _address_plan.address_plan(mesh, index)
        if dhcp_subnet_range:
            plan["dhcp_range"] = _inventory.seed_dhcp_range(dhcp_subnet_range)
    except (_address_plan.AddressPlanError, _inventory.InventoryError) as exc:
        raise AnsibleFilterError(f"address_plan: {exc}") from exc
    return plan


class FilterModule:
    def filters(self):
        return {"address_plan": address_plan}
