#!/usr/bin/python
# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: forwarding_check
short_description: Refuse to make a host an IPv6 router when that would take its own default route
version_added: 0.1.0
description:
  - A host that forwards IPv6 ignores router advertisements, unless an interface's C(accept_ra)
    is 2. A default route it learnt from them then expires, and the host loses its own IPv6
    way out, SSH included where that is how Ansible reaches it.
  - This module reads the host's IPv6 default routes and sysctls, changes nothing, and fails
    with what to do when switching C(net.ipv6.conf.all.forwarding) on would end one of them.
  - A host that forwards already passes.
author:
  - ffmesh.gateway maintainers (@ffmesh)
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
  idempotent:
    support: full
    description: Changes nothing.
options: {}
requirements:
  - iproute2 (C(ip -j))
notes:
  - P(ffmesh.gateway.gateway_ipv4#role) runs it (its C(host_check) tasks) before C(setup.yml) changes a gateway with IPv6 sessions.
"""

EXAMPLES = r"""
- name: Check that IPv6 forwarding keeps the host's own default route
  ffmesh.gateway.forwarding_check:
"""

RETURN = r"""
forwarding:
  description: C(net.ipv6.conf.all.forwarding) now.
  returned: always
  type: int
  sample: 0
lost_routes:
  description: The default routes that forwarding would end (the module then fails).
  returned: always
  type: list
  elements: dict
  sample: [{"dev": "eth0", "gateway": "fe80::1", "accept_ra": 1}]
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ffmesh.gateway.plugins.module_utils import _forwarding

_SYSCTL = "/proc/sys/net/ipv6/conf"


def _sysctl(interface: str, name: str) -> "int | None":
    try:
        with open(os.path.join(_SYSCTL, interface, name), encoding="ascii") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return None


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    forwarding = _sysctl("all", "forwarding")
    if forwarding is None:
        module.exit_json(changed=False, forwarding=0, lost_routes=[], msg="this host has no IPv6")
    ip = module.get_bin_path("ip", required=True)
    rc, out, err = module.run_command([ip, "-j", "-6", "route", "show", "default"])
    if rc != 0:
        module.fail_json(msg=f"ip -j -6 route show default failed: {err.strip()}")
    routes = json.loads(out or "[]")
    accept_ra = {route["dev"]: _sysctl(route["dev"], "accept_ra") for route in routes if "dev" in route}
    lost = _forwarding.routes_lost_to_forwarding(routes, forwarding, accept_ra)
    if lost:
        module.fail_json(msg=_forwarding.lost_routes_message(lost), forwarding=forwarding, lost_routes=lost)
    module.exit_json(changed=False, forwarding=forwarding, lost_routes=[])


if __name__ == "__main__":
    main()
