#!/usr/bin/python
# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: inventory_check
short_description: Check a whole inventory of gateways on the controller before any gateway is touched
version_added: 0.1.0
description:
  - The preflight of C(setup.yml) and C(start.yml). Reads the inventory variables of every
    gateway (not the play's or a role's) and fails with one message that names host,
    variable and value, or returns what it derived.
  - Group indexes. Either every gateway states C(freifunk_group_index), or none does; then they
    are numbered as seed 000's C(freifunk_facts) did, position in O(seed_order) plus 1, and a
    warning says so. The address plan of every gateway is checked (see
    P(ffmesh.gateway.address_plan_check#filter)).
  - Every C(freifunk_*) variable must be an option of one of this collection's roles, a variable
    of its playbooks, or one of seed 000's. A misspelt or unsupported variable stops the run.
  - Seed 000's variables. Honoured with the same effect C(freifunk_container_data_dir),
    C(freifunk_fastd_public_port), C(freifunk_tinc_name), C(freifunk_*_data_dir),
    C(freifunk_dhcpd_subnet_range) (the gateway's DHCP pool), C(freifunk_image_tag) only as
    C(latest). Compared with the address plan, and the run stops if they disagree,
    C(freifunk_batman_address_ipv4), C(freifunk_tinc_interface_mac),
    C(freifunk_recursor_mesh_address_ipv4), C(freifunk_dhcpd_routers),
    C(freifunk_dhcpd_domain_name_servers) and C(freifunk_gateway.mesh_address_ipv4).
    C(freifunk_batman_adv_version) and C(freifunk_batctl_version) are checked on the host by
    the freifunk_node role as least versions.
  - Seed 000's upstream variables (C(freifunk_gateways_peering_*), C(freifunk_gateway.gre_tunnels),
    C(freifunk_gateway.bgp_neighbors)) are checked as a whole with P(ffmesh.gateway.uplink_plan#filter).
    A gateway that has them gets its way out from the gateway_ipv4 role, unless
    C(freifunk_gateway_ipv4_enabled) is false, which a warning then reports.
  - DHCP pools must lie in the mesh, hold no gateway's fixed address and not overlap.
  - tinc node names (C(freifunk_tinc_name), or the short host name with other characters than
    letters, digits and C(_) made C(_)) must differ between gateways.
author:
  - ffmesh.gateway maintainers (@ffmesh)
attributes:
  action:
    support: full
    description: Runs on the controller; needs no connection.
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: It changes nothing, so it has no diff.
  idempotent:
    support: full
    description: Reads only.
options:
  hosts:
    description: The gateways, usually C(groups['gateways']).
    type: list
    elements: str
    required: true
  mesh:
    description: The mesh, as P(ffmesh.gateway.address_plan#filter) takes it.
    type: dict
    required: true
  seed_order:
    description:
      - The hosts in the order that numbers them when no gateway states C(freifunk_group_index);
        seed 000 used its group C(Freifunk). Without it, the order of O(hosts).
    type: list
    elements: str
requirements:
  - netaddr
seealso:
  - plugin: ffmesh.gateway.address_plan_check
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check the whole inventory
  ffmesh.gateway.inventory_check:
    hosts: "{{ groups['gateways'] }}"
    mesh: {ipv4_net: "{{ freifunk_mesh_ipv4_net }}"}
    seed_order: "{{ groups['Freifunk'] | default(omit) }}"
  run_once: true
  register: preflight
# A stated address that the plan does not give fails so:
# preflight: host gw1: freifunk_batman_address_ipv4 = 10.186.0.12 but freifunk_group_index = 1 gives 10.186.0.11
"""

RETURN = r"""
hosts:
  description: Per gateway, what the preflight derived.
  returned: success
  type: dict
  contains:
    group_index:
      description: The stated or derived group index.
      type: int
    tinc_name:
      description: The tinc node name.
      type: str
    dhcp_range:
      description: The DHCP pool, C(start) and C(end).
      type: dict
    gateway_ipv4:
      description: The gateway's mesh address.
      type: str
    uplink:
      description: Whether setup.yml builds this gateway's way out (GRE, BGP, NAT) with the gateway_ipv4 role.
      type: bool
  sample: {gw1: {group_index: 1, tinc_name: gw1, dhcp_range: {start: 10.186.16.1, end: 10.186.31.254}, gateway_ipv4: 10.186.1.1, uplink: true}}
notes:
  description: What the admin should know; also given as warnings.
  returned: success
  type: list
  elements: str
"""
