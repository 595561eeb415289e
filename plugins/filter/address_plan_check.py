# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: address_plan_check
short_description: Check the address plans of a whole inventory at once
version_added: 0.1.0
description:
  - Takes the group index of every gateway and returns every gateway's address plan, or fails
    with one message that names host, variable and value.
  - Catches a malformed mesh, an index that is not a non-negative integer, two gateways with the
    same index, and an index the mesh cannot hold. The plan is laid out so that distinct indexes
    within the mesh's capacity never share a fixed address and their DHCP pools never overlap
    each other or a fixed address; an offset or size that would allow that lowers the capacity,
    and the message says which.
  - Meant for a preflight play that runs on the controller before any host is touched.
  - Given O(hostvars), the input is a list of inventory host names (a group), and each host's
    index is its O(index_var).
positional: mesh
options:
  _input:
    description: Inventory host name to its group index; or, with O(hostvars), a list of host names.
    type: raw
    required: true
  mesh:
    description: The mesh, as for P(ffmesh.gateway.address_plan#filter).
    type: dict
    required: true
  index_var:
    description: The variable the indexes come from, named in error messages.
    type: str
    default: freifunk_group_index
  hostvars:
    description: The play's C(hostvars), to read each listed host's O(index_var) from.
    type: dict
requirements:
  - netaddr
seealso:
  - plugin: ffmesh.gateway.address_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Preflight, before any gateway is touched
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check the address plan of all gateways
      ansible.builtin.set_fact:
        freifunk_plans: >-
          {{ groups['gateways'] | ffmesh.gateway.address_plan_check({'ipv4_net': freifunk_mesh_ipv4_net}, hostvars=hostvars) }}
  # The same from a dict of host name to index:
  #   {'gw1': 0, 'gw2': 1} | ffmesh.gateway.address_plan_check({'ipv4_net': freifunk_mesh_ipv4_net})
  # A duplicate fails so:
  # address_plan_check: host gw2: freifunk_group_index = 0: it is already the index of host gw1;
  # every gateway needs its own index
"""

RETURN = r"""
_value:
  description: Host name to the host's address plan (see P(ffmesh.gateway.address_plan#filter)).
  type: dict
"""

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _address_plan


def address_plan_check(indexes, mesh, index_var="freifunk_group_index", hostvars=None):
    if not _address_plan.HAS_NETADDR:
        raise AnsibleFilterError(missing_required_lib("netaddr"))
    if hostvars is not None:
        if isinstance(indexes, (str, Mapping)) or not isinstance(indexes, Sequence):
            raise AnsibleFilterError(f"address_plan_check: with hostvars, the input is a list of host names, not {indexes!r}")
        indexes = {host: hostvars[host].get(index_var) for host in indexes}
    try:
        return _address_plan.check_inventory(mesh, indexes, index_var)
    except _address_plan.AddressPlanError as exc:
        raise AnsibleFilterError(f"address_plan_check: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"address_plan_check": address_plan_check}
