# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gateways' names in the mesh's DNS: the inventory name up to its first dot, in the mesh's
domain, for example container01.freifunk-hennef.de as container01.ffhef."""

from __future__ import annotations

import typing as t


class DnsNameError(ValueError):
    """Names that cannot all be answered."""


def gateway_dns_names(plans: t.Mapping[str, t.Mapping[str, t.Any]], domain: str) -> t.Dict[str, str]:
    """Mesh name -> the gateway's mesh address (``gateway_ipv4`` of its address plan)."""
    if not isinstance(domain, str) or not domain.strip(".").strip():
        raise DnsNameError(f"the mesh domain {domain!r} is empty; set freifunk_recursor_domain or freifunk_shortname")
    names: t.Dict[str, str] = {}
    owners: t.Dict[str, str] = {}
    for host in sorted(plans):
        name = f"{host.split('.', 1)[0]}.{domain.strip('.')}"
        if name in owners:
            raise DnsNameError(
                f"hosts {owners[name]} and {host} would both be {name} in the mesh's DNS; "
                "give the gateways inventory names that differ before the first dot"
            )
        owners[name] = host
        names[name] = str(plans[host]["gateway_ipv4"])
    return names
