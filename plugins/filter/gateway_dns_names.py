# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: gateway_dns_names
short_description: The gateways' names in the mesh's DNS, with their mesh addresses
version_added: 0.1.0
description:
  - A gateway's name is its inventory name up to the first dot, in the mesh's domain, for
    example C(container01.freifunk-hennef.de) as C(container01.ffhef).
  - Fails when two gateways would get the same name (C(gw1.a.example) and C(gw1.b.example)),
    naming both, instead of answering for only one of them.
positional: domain
options:
  _input:
    description: Inventory name to address plan, as P(ffmesh.gateway.address_plan_check#filter) returns it.
    type: dict
    required: true
  domain:
    description: The mesh's domain, for example the community's short name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The recursor's host list
  ansible.builtin.debug:
    msg: "{{ plans | ffmesh.gateway.gateway_dns_names('ffhef') }}"
  vars:
    plans:
      container01.freifunk-hennef.de: {gateway_ipv4: 10.186.1.1}
      container02.freifunk-hennef.de: {gateway_ipv4: 10.186.1.2}
  # {"container01.ffhef": "10.186.1.1", "container02.ffhef": "10.186.1.2"}
"""

RETURN = r"""
_value:
  description: Name in the mesh's DNS to the gateway's mesh address.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _dns_names


def gateway_dns_names(plans, domain):
    try:
        return _dns_names.gateway_dns_names(plans, domain)
    except _dns_names.DnsNameError as exc:
        raise AnsibleFilterError(f"gateway_dns_names: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"gateway_dns_names": gateway_dns_names}
