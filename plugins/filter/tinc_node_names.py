# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tinc_node_names
short_description: The tinc node name of every gateway, refusing two gateways with one name
version_added: 0.1.0
description:
  - A gateway's tinc node name is its C(freifunk_tinc_name) if the inventory sets it (seed 000
    set it to C({{ inventory_hostname_short }})), else its short host name with every character
    other than letters, digits and C(_) made C(_).
  - Two gateways that map to one name (C(gw-1) and C(gw_1), or one short name in two domains)
    fail with a message naming both; so does a stated name tinc 1.0 would refuse.
positional: hostvars
options:
  _input:
    description: The inventory host names of the gateways.
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars), to read each gateway's C(freifunk_tinc_name).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the gateways' tinc names
  ansible.builtin.debug:
    msg: "{{ groups['gateways'] | ffmesh.gateway.tinc_node_names(hostvars) }}"
  # {"gw1.example.org": "gw1", "gw-2.example.org": "gw_2"}
"""

RETURN = r"""
_value:
  description: Inventory host name to tinc node name.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _inventory


def tinc_node_names(hosts, hostvars):
    hosts = [str(host) for host in hosts]
    try:
        return _inventory.tinc_names(
            hosts,
            {host: hostvars[host][_inventory.TINC_NAME_VAR] for host in hosts if _inventory.TINC_NAME_VAR in hostvars[host]},
            {host: host.split(".")[0] for host in hosts},
        )
    except _inventory.InventoryError as exc:
        raise AnsibleFilterError(f"tinc_node_names: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"tinc_node_names": tinc_node_names}
