# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: batman_gw_bandwidth
short_description: batman-adv's gateway bandwidth in kbit/s, from what batctl gw_mode server takes
version_added: 0.1.0
description:
  - Reads a bandwidth as C(batctl gw_mode server) takes it, C(DOWN) or C(DOWN/UP); each is a whole
    number with the unit C(kbit) or C(mbit) in any case, C(kbit) when none is given.
  - Without C(UP), the upload is a fifth of the download, as batman-adv announces it.
  - Fails with a message that shows the value and the accepted form, for example for
    C(100mbit-100mbit), C(100 mbit) or C(fast).
options:
  _input:
    description: The bandwidth, for example C(100mbit/100mbit) or C(10000).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: systemd-networkd's lines for a gateway announcing 100 Mbit/s down, 20 Mbit/s up
  ansible.builtin.debug:
    msg:
      - "GatewayBandwidthDown={{ ('100mbit/20mbit' | ffmesh.gateway.batman_gw_bandwidth).down_kbit }}K"
      - "GatewayBandwidthUp={{ ('100mbit/20mbit' | ffmesh.gateway.batman_gw_bandwidth).up_kbit }}K"
"""

RETURN = r"""
_value:
  description: Download and upload bandwidth.
  type: dict
  contains:
    down_kbit:
      description: Download bandwidth in kbit/s.
      type: int
      sample: 100000
    up_kbit:
      description: Upload bandwidth in kbit/s.
      type: int
      sample: 20000
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _batman


def batman_gw_bandwidth(bandwidth):
    try:
        return _batman.gateway_bandwidth(bandwidth)
    except _batman.BandwidthError as exc:
        raise AnsibleFilterError(f"batman_gw_bandwidth: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"batman_gw_bandwidth": batman_gw_bandwidth}
