# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: podman_network_definition
short_description: Podman's definition of a network on an existing bridge, such as the mesh bridge
version_added: 0.1.0
description:
  - Returns the network definition that Podman reads from C(/etc/containers/networks/NAME.json),
    a bridge network in mode C(unmanaged) on the existing bridge O(interface). Podman then
    attaches containers to that bridge with a veth and their own addresses, and changes neither
    the bridge, nor sysctls, nor the firewall.
  - C(podman network create) refuses such a network because the bridge already has an address in
    the subnet (containers/common issue 2322); writing the definition is the way around that.
  - The network gives out only the addresses in each subnet's O(subnets[].iprange); the rest of
    the subnet belongs to the mesh. The keys of O(subnets) are those of Docker's C(ipam_config)
    (M(community.docker.docker_network)), so one list can describe the network to both engines.
  - Needs netavark 1.14 or newer (Podman 5.4, Debian trixie).
options:
  _input:
    description: The network's name, for example C(freifunk-net).
    type: str
    required: true
  interface:
    description: The existing bridge, for example C(br-mesh).
    type: str
    required: true
  subnets:
    description: One entry per address family.
    type: list
    elements: dict
    required: true
    suboptions:
      subnet:
        description: The network, for example the mesh's C(10.186.0.0/16).
        type: str
        required: true
      gateway:
        description: The host's address on the bridge, the containers' default route.
        type: str
        required: true
      iprange:
        description: The addresses given to containers, as a network, for example C(10.186.1.10/32).
        type: str
        required: true
  labels:
    description: Labels of the network, for example who manages it.
    type: dict
"""

EXAMPLES = r"""
- name: Put the engine's network freifunk-net on the mesh bridge
  ansible.builtin.copy:
    dest: /etc/containers/networks/freifunk-net.json
    content: >-
      {{ 'freifunk-net' | ffmesh.gateway.podman_network_definition(interface='br-mesh',
         subnets=[{'subnet': '10.186.0.0/16', 'gateway': '10.186.1.0', 'iprange': '10.186.1.10/32'}])
         | to_nice_json }}
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The definition, as Podman's C(podman network inspect) shows it.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _container


def podman_network_definition(name, interface, subnets, labels=None):
    if not isinstance(name, str) or not isinstance(subnets, list):
        raise AnsibleFilterError("podman_network_definition: expects a network name and a list of subnets")
    try:
        return _container.podman_network(name, interface, subnets, labels)
    except _container.ContainerSpecError as exc:
        raise AnsibleFilterError(f"podman_network_definition: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"podman_network_definition": podman_network_definition}
