# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: podman_network_definition
short_description: Podman's definition of a network on an existing bridge, such as the mesh bridge
version_added: 0.1.0
description:
  - Returns the definition of a bridge network on the existing bridge O(interface) that Podman
    reads from its networks directory, in the format of Podman's network O(backend). Podman then
    attaches containers to that bridge with a veth and their own addresses, and changes neither
    the bridge, nor sysctls, nor the firewall.
  - With O(backend=netavark) (Podman 5, Debian 13), the content of
    C(/etc/containers/networks/NAME.json), in bridge mode C(unmanaged).
  - With O(backend=cni) (Podman 4, Debian 12), the content of C(/etc/cni/net.d/NAME.conflist),
    the CNI bridge plugin alone, with C(isGateway) and C(ipMasq) off.
  - C(podman network create) refuses such a network because the bridge already has an address in
    the subnet (containers/common issue 2322); writing the definition is the way around that.
  - The network gives out only the addresses in each subnet's O(subnets[].iprange); the rest of
    the subnet belongs to the mesh. The keys of O(subnets) are those of Docker's C(ipam_config)
    (M(community.docker.docker_network)), so one list can describe the network to both engines.
  - The netavark format needs netavark 1.14 or newer (Podman 5.4, Debian trixie); with
    O(podman_version) below 5.4 and O(backend=netavark) the filter fails and says what to use.
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
  backend:
    description: Podman's network backend, as C(podman info --format '{{.Host.NetworkBackend}}') reports it.
    type: str
    choices: [netavark, cni]
    default: netavark
  podman_version:
    description: Podman's version, as C(podman info --format '{{.Version.Version}}') reports it; checked against O(backend).
    type: str
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

- name: The same network for Podman 4 with CNI (Debian 12)
  ansible.builtin.copy:
    dest: /etc/cni/net.d/freifunk-net.conflist
    content: >-
      {{ 'freifunk-net' | ffmesh.gateway.podman_network_definition(interface='br-mesh', backend='cni',
         podman_version='4.3.1',
         subnets=[{'subnet': '10.186.0.0/16', 'gateway': '10.186.1.0', 'iprange': '10.186.1.10/32'}])
         | to_nice_json }}
    mode: "0644"
"""

RETURN = r"""
_value:
  description: >-
    The definition: for netavark as C(podman network inspect) shows it, for CNI a CNI
    configuration list.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _container


def podman_network_definition(name, interface, subnets, labels=None, backend="netavark", podman_version=None):
    if not isinstance(name, str) or not isinstance(subnets, list):
        raise AnsibleFilterError("podman_network_definition: expects a network name and a list of subnets")
    try:
        return _container.podman_network(name, interface, subnets, labels, backend=backend,
                                         podman_version=None if podman_version is None else str(podman_version))
    except _container.ContainerSpecError as exc:
        raise AnsibleFilterError(f"podman_network_definition: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"podman_network_definition": podman_network_definition}
