# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric_mtus
short_description: The routed fabric's WireGuard and GRE MTUs from the underlay's MTU
version_added: 0.1.0
description:
  - The fabric runs GRE tunnels over WireGuard over the underlay. Each layer takes its headers
    from the MTU of the one below - WireGuard 60 bytes over IPv4 endpoints and 80 over IPv6 (outer
    IP 20 or 40, UDP 8, WireGuard's header 16 and tag 16), GRE 24 over IPv4 WireGuard addresses
    (IP 20, GRE 4) and ip6gre 52 over IPv6 ones (IP 40, GRE 4, the encapsulation limit option 8).
  - So on a 1500-byte underlay with IPv6 endpoints, WireGuard gets 1420 and GRE over IPv4 1396.
  - The GRE tunnels carry BGP over IPv6 link-local addresses, so an underlay whose arithmetic
    leaves them less than IPv6's minimum of 1280 is an error that shows the arithmetic.
options:
  _input:
    description: The underlay's MTU, for example C(1500).
    type: int
    required: true
  underlay:
    description: IP version of the WireGuard endpoints.
    type: int
    choices: [4, 6]
    default: 6
  gre:
    description: IP version of the WireGuard addresses the GRE tunnels run between (6 for ip6gre).
    type: int
    choices: [4, 6]
    default: 4
"""

EXAMPLES = r"""
- name: The MTUs on a 1500-byte underlay with IPv6 endpoints
  ansible.builtin.debug:
    msg: "{{ 1500 | ffmesh.gateway.fabric_mtus(underlay=6, gre=4) }}"
  # {"wireguard": 1420, "gre": 1396}
"""

RETURN = r"""
_value:
  description: The MTUs.
  type: dict
  contains:
    wireguard:
      description: The WireGuard interface's MTU.
      type: int
      sample: 1420
    gre:
      description: Each GRE tunnel's MTU.
      type: int
      sample: 1396
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _fabric


def fabric_mtus(underlay_mtu, underlay=6, gre=4):
    try:
        return _fabric.mtus(int(underlay_mtu), int(underlay), int(gre))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"fabric_mtus: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"fabric_mtus": fabric_mtus}
