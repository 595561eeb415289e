# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The short name ``ipaddr`` that seed 000's inventory writes (its Ansible 2.2 had it built in).

Ansible loads filters from a ``filter_plugins`` folder beside the playbook, for a checkout's
playbooks and for ``ansible-playbook ffmesh.gateway.setup`` alike, so an inventory with
``freifunk_mesh_ipv4_net | ipaddr(10 + index) | ipaddr('ip')`` works as written. The filter is
ansible.utils.ipaddr itself.
"""

from __future__ import annotations

from ansible_collections.ansible.utils.plugins.filter.ipaddr import FilterModule as _AnsibleUtilsFilters


class FilterModule:
    def filters(self):
        return {"ipaddr": _AnsibleUtilsFilters().filters()["ipaddr"]}
