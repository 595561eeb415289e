# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: uplink_plan
short_description: A gateway's GRE tunnels, BGP sessions and NAT address, checked, from seed 000's host_vars
version_added: 0.1.0
description:
  - Takes seed 000's C(freifunk_gateway) of one gateway as it is (C(peering_public_address_ipv4),
    C(gre_tunnels), C(bgp_neighbors)) and checks it as a whole, with messages that name the
    variable and the value.
  - Every BGP session runs over one of the tunnels, to its C(tunnel_peer_ipv4) from its
    C(tunnel_address_ipv4) (or the IPv6 pair); tunnel names are interface names; transfer nets do
    not overlap each other or the mesh; the backbone's AS differs from the local one.
  - A transfer address without a prefix length is a /31 (IPv4) or a /64 (IPv6), as the Freifunk
    Rheinland backbone gives them out.
options:
  _input:
    description: Seed 000's C(freifunk_gateway) of this gateway.
    type: dict
    required: true
  local_as:
    description: The gateways' AS (C(freifunk_gateways_peering_local_as)).
    type: raw
    required: true
  mesh_ipv4_net:
    description: The mesh's IPv4 net, which is NATed to the public address.
    type: str
    required: true
  mtu:
    description: The tunnels' MTU (C(freifunk_gateways_peering_gre_tunnel_mtu)), 1280 to 1476.
    type: int
    default: 1400
  mss_clamp:
    description:
      - The TCP MSS for IPv4 (C(freifunk_gateways_peering_gre_tunnel_mss_clamp)); IPv6 gets 20 less.
      - Without it, what the tunnel MTU leaves for TCP, MTU - 40 (IPv6 MTU - 60).
    type: int
  mesh_ipv6_net:
    description: The mesh's IPv6 net, needed with IPv6 sessions.
    type: str
  prefix_ipv6:
    description: The community's IPv6 prefix that the gateways announce, needed with IPv6 sessions.
    type: str
  table:
    description: The routing table of the tunnels, 1 to 252.
    type: int
    default: 61
  rule_priority:
    description: The priority of the first routing rule that sends the mesh's traffic to O(table).
    type: int
    default: 41
  import_limit:
    description: Routes a session may send before BIRD blocks it.
    type: int
    default: 10
  group_index:
    description: This gateway's C(freifunk_group_index); with O(group_indices) it ranks the gateway as an IPv6 exit.
    type: int
    default: 0
  group_indices:
    description:
      - Every gateway's C(freifunk_group_index). The lowest is the mesh's first IPv6 exit (see RV(_value.ipv6_exit)).
      - This gateway's own need not be among them; without any, it is the only gateway.
    type: list
    elements: int
"""

EXAMPLES = r"""
- name: The uplink of a gateway of Freifunk Hennef, as seed 000 describes it
  ansible.builtin.set_fact:
    uplink: >-
      {{ freifunk_gateway | ffmesh.gateway.uplink_plan(local_as=65186, mesh_ipv4_net='10.186.0.0/16',
                                                       mtu=1400, mss_clamp=1300) }}
  vars:
    freifunk_gateway:
      peering_public_address_ipv4: 185.66.193.86
      gre_tunnels:
        - {name: a_ak_ber, tunnel_endpoint: 185.66.195.0, tunnel_address_ipv4: 100.64.1.69, tunnel_peer_ipv4: 100.64.1.68}
      bgp_neighbors:
        - {name: a_ak_ber, as: 201701, address_ipv4: 100.64.1.68, source_ipv4: 100.64.1.69}
"""

RETURN = r"""
_value:
  description: The uplink as the gateway_ipv4 role's templates read it.
  type: dict
  contains:
    public_ipv4:
      description: The address the mesh is NATed to; the BGP router ID.
      type: str
      sample: 185.66.193.86
    local_as:
      description: The gateways' AS.
      type: int
    mtu:
      description: The tunnels' MTU.
      type: int
    mss_ipv4:
      description: The TCP MSS that IPv4 SYNs through the tunnels are clamped to.
      type: int
      sample: 1360
    mss_ipv6:
      description: The same for IPv6.
      type: int
      sample: 1340
    mesh_ipv4_net:
      description: The mesh's IPv4 net.
      type: str
    mesh_ipv6_net:
      description: The mesh's IPv6 net, or null.
      type: str
    prefix_ipv6:
      description: The community's IPv6 prefix, or null.
      type: str
    table:
      description: The routing table of the tunnels.
      type: int
    rule_priority:
      description: The priority of the first routing rule into O(table).
      type: int
    import_limit:
      description: The routes a session may send.
      type: int
    tunnels:
      description:
        - One per GRE tunnel, C(name) (the interface), C(endpoint), C(address_ipv4) (with its prefix
          length), C(peer_ipv4), and C(address_ipv6), C(peer_ipv6) where given.
      type: list
      elements: dict
    sessions:
      description:
        - One per BGP session and address family, C(name), C(protocol) (BIRD's name), C(family)
          (ipv4 or ipv6), C(as), C(address), C(source), C(interface) (the tunnel).
      type: list
      elements: dict
    ipv6:
      description: Whether any session is IPv6.
      type: bool
    ipv6_exit:
      description:
        - How the gateway ranks as the mesh's IPv6 exit. The prefix is not NATed, and each gateway's
          firewall passes only replies to what it sent out, so clients and backbone must pick the
          same gateway. C(rank) (0 for the lowest group index, at most 2), C(router_preference)
          (RFC 4191's in the router advertisements, V(high), V(medium) or V(low)), C(prepend) (how
          often the gateway's AS is prepended to the prefix it announces).
      type: dict
      sample: {rank: 0, router_preference: high, prepend: 0}
    endpoints:
      description: The tunnels' endpoints, sorted.
      type: list
      elements: str
    warnings:
      description: What is honoured as given but may not be what was meant (an MSS above what the tunnels carry).
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _uplink


def uplink_plan(gateway, local_as, mesh_ipv4_net, mtu=1400, mss_clamp=None, mesh_ipv6_net=None, prefix_ipv6=None,
                table=61, rule_priority=41, import_limit=10, group_index=0, group_indices=None):
    try:
        return _uplink.uplink_plan(gateway, local_as=local_as, mesh_ipv4_net=mesh_ipv4_net, mtu=mtu, mss_clamp=mss_clamp,
                                   mesh_ipv6_net=mesh_ipv6_net, prefix_ipv6=prefix_ipv6, table=table,
                                   rule_priority=rule_priority, import_limit=import_limit, group_index=group_index,
                                   group_indices=group_indices)
    except _uplink.UplinkError as exc:
        raise AnsibleFilterError(f"uplink_plan: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"uplink_plan": uplink_plan}
