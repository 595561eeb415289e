# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: firewall_plan
short_description: A gateway's nftables filter (table inet ffmesh_filter), checked, as the firewall role writes it
version_added: 0.1.0
description:
  - Checks the firewall role's settings, with messages that name the variable and the value, and
    returns the named sets and the rules of the C(input) and C(forward) chains, each with the
    reason it is there, and the rules that let the mesh pass Docker's C(DOCKER-USER) chain.
  - Inbound, SSH from anywhere comes first, before connection tracking; then replies, ICMP and
    ICMPv6, fastd (the public port and every instance's port) from anywhere, tinc only from
    O(tinc_peers), GRE only from the tunnels' endpoints, BGP only on the tunnels, DHCP and DNS
    only on the mesh bridge, then O(extra_input_rules); everything else is dropped and counted.
  - Forwarded are replies, the mesh to the tunnels, frames between the mesh bridge's ports
    (br_netfilter), image builds on the container engine's bridge to anywhere but the mesh, and
    O(extra_forward_rules); nothing from the internet or the tunnels opens a connection into the mesh.
  - Ports are whole numbers from 1 to 65535, names are interface names (up to 15 characters),
    addresses are IPv4 or IPv6 addresses, and extra rules are single lines whose braces balance.
options:
  _input:
    description:
      - The GRE tunnels to the backbone, dicts with C(name) (the interface) and C(endpoint) (or
        seed 000's C(tunnel_endpoint)); other keys are ignored, so the C(tunnels) of
        P(ffmesh.gateway.uplink_plan#filter) fit as they are. An empty list opens neither GRE nor BGP.
    type: list
    elements: dict
    required: true
  ssh_ports:
    description: The ports sshd listens on; never empty.
    type: list
    elements: int
    default: [22]
  fastd_port:
    description: fastd's public port (C(freifunk_fastd_port)).
    type: int
    default: 10000
  fastd_first_instance_port:
    description: The port of fastd instance 0 (C(freifunk_fastd_first_instance_port)); instance k listens on this plus k.
    type: int
    default: 10001
  fastd_instances:
    description: The number of fastd instances (C(freifunk_fastd_instances)).
    type: int
    default: 1
  tinc_port:
    description: The port tincd listens on, TCP and UDP (C(freifunk_tinc_port)).
    type: int
    default: 655
  tinc_peers:
    description:
      - The addresses the other gateways' tinc connects from. Empty strings (a gateway without an
        address, see P(ffmesh.gateway.tinc_addresses#filter)) add nothing.
    type: list
    elements: str
    default: []
  mesh_bridge:
    description: The mesh bridge (C(freifunk_mesh_bridge)).
    type: str
    default: br-mesh
  mesh_peers:
    description: The other gateways' mesh addresses, the only sources that reach O(mesh_peer_ports) on the mesh bridge.
    type: list
    elements: str
    default: []
  mesh_peer_ports:
    description: TCP ports of the gateways' own services on the mesh (the fastd peer limit's), open to O(mesh_peers) only.
    type: list
    elements: int
    default: []
  monitoring_sources:
    description:
      - The monitoring's IPv4 addresses or networks (a Prometheus server in the mesh), the only
        sources that reach O(monitoring_ports) on the mesh bridge. A network's host bits must be 0;
        overlapping ones are merged. IPv6 is refused, the exporters listen on IPv4 only.
    type: list
    elements: str
    default: []
  monitoring_ports:
    description: TCP ports of the exporters on the mesh, open to O(monitoring_sources) only.
    type: list
    elements: int
    default: []
  extra_input_rules:
    description: nft rules appended to the input chain before its final drop, one rule per entry.
    type: list
    elements: str
    default: []
  extra_forward_rules:
    description: nft rules appended to the forward chain before its final drop, one rule per entry.
    type: list
    elements: str
    default: []
  runtime:
    description: C(freifunk_runtime); under C(container) the engine's bridge may forward to the internet.
    type: str
    choices: [native, container]
    default: native
  container_engine:
    description: C(freifunk_container_engine).
    type: str
    choices: [podman, docker]
    default: podman
  sshd_settings:
    description:
      - What C(sshd -T) prints. When given, every port sshd listens on (its C(port) and
        C(listenaddress) lines) must be in O(ssh_ports), or the filter fails instead of locking Ansible out.
    type: str
"""

EXAMPLES = r"""
- name: The ruleset of a gateway with one tunnel and two fastd instances
  ansible.builtin.set_fact:
    firewall: >-
      {{ [{'name': 'a_ak_ber', 'endpoint': '185.66.195.0'}]
         | ffmesh.gateway.firewall_plan(ssh_ports=[22], fastd_port=10000, fastd_first_instance_port=10001,
                                        fastd_instances=2, tinc_peers=['192.0.2.10', '192.0.2.20'],
                                        extra_input_rules=['tcp dport 9100 ip saddr 192.0.2.53 accept']) }}

- name: The tunnels from the uplink plan of gateway_ipv4
  ansible.builtin.debug:
    msg: "{{ (freifunk_uplink.tunnels | ffmesh.gateway.firewall_plan(tinc_peers=['192.0.2.10'])).input | map(attribute='rule') }}"
"""

RETURN = r"""
_value:
  description: The ruleset as the firewall role's templates read it.
  type: dict
  contains:
    ssh_ports:
      description: The SSH ports, sorted.
      type: list
      elements: int
    fastd_ports:
      description: fastd's public port and its instances' ports, sorted.
      type: list
      elements: int
      sample: [10000, 10001, 10002]
    tinc_port:
      description: tinc's port.
      type: int
    tinc_peers:
      description: The tinc peers' addresses, IPv4 first, sorted.
      type: list
      elements: str
    tunnels:
      description: The tunnels' interface names, in the given order.
      type: list
      elements: str
    endpoints:
      description: The tunnels' endpoints, IPv4 first, sorted.
      type: list
      elements: str
    mesh_bridge:
      description: The mesh bridge.
      type: str
    engine_bridges:
      description: The container engine's bridges under the C(container) runtime, else empty.
      type: list
      elements: str
    sets:
      description:
        - The named sets of the table, each with C(name), C(type) (nft's type), C(elements)
          (written as nft takes them; may be empty), C(why), and C(flags) where the set holds
          networks (C(interval)).
      type: list
      elements: dict
    counters:
      description: The named counters of the table (C(dropped_input), C(dropped_forward)).
      type: list
      elements: str
    input:
      description: The input chain's rules in order, each with C(rule) (nft syntax) and C(why).
      type: list
      elements: dict
    forward:
      description: The forward chain's rules in order, each with C(rule) and C(why).
      type: list
      elements: dict
    docker_chain:
      description: The iptables chain of the rules for Docker, which C(DOCKER-USER) jumps to.
      type: str
      sample: FFMESH-FORWARD
    docker_user:
      description: That chain's rules in iptables-restore syntax; they name only interfaces, so they fit iptables and ip6tables.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _firewall


def firewall_plan(tunnels, ssh_ports=(22,), fastd_port=10000, fastd_first_instance_port=10001, fastd_instances=1,
                  tinc_port=655, tinc_peers=None, mesh_bridge="br-mesh", mesh_peers=None, mesh_peer_ports=None,
                  monitoring_sources=None, monitoring_ports=None, extra_input_rules=None, extra_forward_rules=None, runtime="native", container_engine="podman",
                  sshd_settings=None):
    try:
        return _firewall.firewall_plan(
            tunnels, ssh_ports=ssh_ports, fastd_port=fastd_port, fastd_first_instance_port=fastd_first_instance_port,
            fastd_instances=fastd_instances, tinc_port=tinc_port, tinc_peers=tinc_peers, mesh_bridge=mesh_bridge,
            mesh_peers=mesh_peers, mesh_peer_ports=mesh_peer_ports,
            monitoring_sources=monitoring_sources, monitoring_ports=monitoring_ports, extra_input_rules=extra_input_rules,
            extra_forward_rules=extra_forward_rules, runtime=runtime, container_engine=container_engine, sshd_settings=sshd_settings)
    except _firewall.FirewallError as exc:
        raise AnsibleFilterError(f"firewall_plan: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"firewall_plan": firewall_plan}
