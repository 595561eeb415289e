# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The way out of the mesh: a gateway's GRE tunnels, BGP sessions and NAT address.

Input is seed 000's host_vars ``freifunk_gateway`` as it is (``peering_public_address_ipv4``,
``gre_tunnels``, ``bgp_neighbors``), optionally with IPv6 transfer addresses, and the group's
``freifunk_gateways_peering_*`` settings. :func:`uplink_plan` checks it as a whole (every BGP
session runs over one of the tunnels, from that tunnel's own address; names make valid
interface and BIRD protocol names; nothing overlaps the mesh) and returns what the templates
look up: the tunnels, one BIRD protocol per session and address family, the MSS to clamp to,
the routing table of the tunnels and the rules that send the mesh's traffic there.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._schedule import rank_among

# Seed 000's names of the group settings.
LOCAL_AS_VAR = "freifunk_gateways_peering_local_as"
MTU_VAR = "freifunk_gateways_peering_gre_tunnel_mtu"
MSS_VAR = "freifunk_gateways_peering_gre_tunnel_mss_clamp"
PREFIX_IPV6_VAR = "freifunk_gateways_peering_prefix_ipv6"
# The inventory variable of each setting of uplink_plan(); unset ones take its defaults.
SETTING_VARS = {"local_as": LOCAL_AS_VAR, "mtu": MTU_VAR, "mss_clamp": MSS_VAR, "prefix_ipv6": PREFIX_IPV6_VAR,
                "table": "freifunk_gateway_ipv4_table", "rule_priority": "freifunk_gateway_ipv4_rule_priority",
                "import_limit": "freifunk_gateway_ipv4_import_limit"}
GATEWAY_VAR = "freifunk_gateway"
TUNNEL_KEYS = frozenset(("name", "tunnel_endpoint", "tunnel_address_ipv4", "tunnel_peer_ipv4"))
TUNNEL_IPV6_KEYS = frozenset(("tunnel_address_ipv6", "tunnel_peer_ipv6"))
NEIGHBOR_KEYS = frozenset(("name", "as"))
NEIGHBOR_IPV4_KEYS = frozenset(("address_ipv4", "source_ipv4"))
NEIGHBOR_IPV6_KEYS = frozenset(("address_ipv6", "source_ipv6"))
# IPv4 header 20 + TCP 20; IPv6 40 + 20.
_TCP_IP_HEADERS = {4: 40, 6: 60}
# GRE over IPv4 on a 1500-byte underlay: 20 + 4 bytes of headers.
MAX_GRE_MTU = 1476
# IPv6 needs 1280 on every link.
MIN_MTU = 1280
# RFC 4191's default router preferences, best first.
ROUTER_PREFERENCES = ("high", "medium", "low")
_INTERFACE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$")


class UplinkError(ValueError):
    """A gateway's uplink settings that would not carry traffic; the message names the variable."""


def _address(variable: str, value: t.Any, version: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError as exc:
        raise UplinkError(f"{variable} = {value!r} is not an IPv{version} address") from exc
    if address.version != version:
        raise UplinkError(f"{variable} = {value!r} is not an IPv{version} address")
    return address


def _transfer(variable: str, own: t.Any, peer: t.Any, version: int) -> tuple[str, str]:
    """The tunnel's own address with the transfer net's length, and the peer's address."""
    own_text = str(own).strip()
    if "/" in own_text:
        try:
            interface = ipaddress.ip_interface(own_text)
        except ValueError as exc:
            raise UplinkError(f"{variable}.tunnel_address_ipv{version} = {own!r} is not an address with a prefix length") from exc
    else:
        # FFRL's transfer nets: a /31 for IPv4, a /64 for IPv6.
        interface = ipaddress.ip_interface(f"{_address(variable + f'.tunnel_address_ipv{version}', own_text, version)}/"
                                           f"{31 if version == 4 else 64}")
    if interface.version != version:
        raise UplinkError(f"{variable}.tunnel_address_ipv{version} = {own!r} is not an IPv{version} address")
    peer_address = _address(f"{variable}.tunnel_peer_ipv{version}", peer, version)
    if peer_address not in interface.network or peer_address == interface.ip:
        raise UplinkError(
            f"{variable}: tunnel_peer_ipv{version} = {peer} is not the other end of tunnel_address_ipv{version} = "
            f"{own} (transfer net {interface.network}); give the address with its prefix length if the net is not a "
            f"/{31 if version == 4 else 64}"
        )
    return str(interface), str(peer_address)


def _network(variable: str, value: t.Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(value).strip())
    except ValueError as exc:
        raise UplinkError(f"{variable} = {value!r} is not a network (address/length, host bits zero)") from exc


def _asn(variable: str, value: t.Any) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 0 < int(text) < 2**32 or int(text) == 23456:
        raise UplinkError(f"{variable} = {value!r} is not an AS number (1 to 4294967295, not 23456)")
    return int(text)


def _keys(variable: str, entry: t.Any, required: frozenset[str], optional: frozenset[str]) -> t.Mapping[str, t.Any]:
    if not isinstance(entry, t.Mapping):
        raise UplinkError(f"{variable} = {entry!r} must be a dict")
    unknown = sorted(set(entry) - required - optional)
    missing = sorted(required - set(entry))
    if unknown:
        raise UplinkError(f"{variable}: unknown keys {unknown}; it takes {sorted(required | optional)}")
    if missing:
        raise UplinkError(f"{variable}: missing keys {missing}")
    return entry


def _pair(variable: str, entry: t.Mapping[str, t.Any], keys: frozenset[str]) -> bool:
    given = keys & set(entry)
    if given and given != keys:
        raise UplinkError(f"{variable}: {sorted(given)[0]} needs {sorted(keys - given)[0]} too")
    return bool(given)


def _protocol_name(family: str, name: str) -> str:
    return f"{family}_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def uplink_plan(
    gateway: t.Mapping[str, t.Any],
    *,
    mesh_ipv4_net: t.Any,
    local_as: t.Any = None,
    mtu: t.Any = 1400,
    mss_clamp: t.Any = None,
    mesh_ipv6_net: t.Any = None,
    prefix_ipv6: t.Any = None,
    table: t.Any = 61,
    rule_priority: t.Any = 41,
    import_limit: t.Any = 10,
    group_index: t.Any = 0,
    group_indices: t.Any = None,
) -> dict[str, t.Any]:
    """Checks seed 000's ``freifunk_gateway`` of one gateway and returns its uplink.

    ``local_as``, ``mtu`` and ``mss_clamp`` are the group's ``freifunk_gateways_peering_*``
    settings (``mss_clamp`` defaults to what the tunnel MTU leaves for TCP: MTU - 40, IPv6
    MTU - 60). ``prefix_ipv6`` is the community's IPv6 prefix that the gateways announce.
    ``table`` is the routing table of the tunnels; the mesh's traffic looks it up with rules from
    ``rule_priority`` on. ``import_limit`` caps the routes a session may send. ``group_index`` and
    ``group_indices`` (every gateway's) rank the gateways as IPv6 exits (:func:`ipv6_exit`).
    """
    if not isinstance(gateway, t.Mapping):
        raise UplinkError(f"{GATEWAY_VAR} = {gateway!r} must be a dict (seed 000's host_vars)")
    mesh4 = _network("freifunk_mesh_ipv4_net", mesh_ipv4_net)
    mesh6 = _network("freifunk_mesh_ipv6_net", mesh_ipv6_net) if mesh_ipv6_net else None
    if "peering_public_address_ipv4" not in gateway:
        raise UplinkError(f"{GATEWAY_VAR}.peering_public_address_ipv4 is missing: the address the mesh is NATed to")
    public = _address(f"{GATEWAY_VAR}.peering_public_address_ipv4", gateway["peering_public_address_ipv4"], 4)
    if public in mesh4:
        raise UplinkError(f"{GATEWAY_VAR}.peering_public_address_ipv4 = {public} is inside the mesh {mesh4}")
    if local_as in (None, ""):
        raise UplinkError(f"{LOCAL_AS_VAR} is missing: the gateways' AS, which the BGP sessions need")
    own_as = _asn(LOCAL_AS_VAR, local_as)
    mtu_text = str(mtu).strip()
    if not mtu_text.isdigit() or not MIN_MTU <= int(mtu_text) <= MAX_GRE_MTU:
        raise UplinkError(f"{MTU_VAR} = {mtu!r} must be from {MIN_MTU} to {MAX_GRE_MTU} (GRE over a 1500-byte link)")
    tunnel_mtu = int(mtu_text)
    mss = {version: tunnel_mtu - headers for version, headers in _TCP_IP_HEADERS.items()}
    warnings = []
    if mss_clamp not in (None, ""):
        clamp = str(mss_clamp).strip()
        # 1460: a 1500-byte link's; more is never right.
        if not clamp.isdigit() or not 536 <= int(clamp) <= 1460:
            raise UplinkError(f"{MSS_VAR} = {mss_clamp!r} must be from 536 to 1460")
        if int(clamp) > mss[4]:
            # Seed 000 derived it from the fastd MTU (1406 - 40): honoured as given, but said.
            warnings.append(
                f"{MSS_VAR} = {clamp} is more than the tunnel MTU {tunnel_mtu} leaves for TCP ({mss[4]}): full-size "
                f"segments need path MTU discovery to pass the tunnels; {mss[4]} or less avoids that"
            )
        mss = {4: int(clamp), 6: int(clamp) - 20}
    prefix6 = _network(PREFIX_IPV6_VAR, prefix_ipv6) if prefix_ipv6 else None
    if prefix6 is not None and prefix6.version != 6:
        raise UplinkError(f"{PREFIX_IPV6_VAR} = {prefix_ipv6} is not an IPv6 prefix")
    if prefix6 is not None and mesh6 is not None and not mesh6.subnet_of(prefix6):  # type: ignore[arg-type]
        raise UplinkError(f"freifunk_mesh_ipv6_net = {mesh6} is not inside {PREFIX_IPV6_VAR} = {prefix6}")
    for variable, value, low, high in (("freifunk_gateway_ipv4_table", table, 1, 252),
                                       ("freifunk_gateway_ipv4_rule_priority", rule_priority, 1, 32765),
                                       ("freifunk_gateway_ipv4_import_limit", import_limit, 1, 100000)):
        if not str(value).strip().isdigit() or not low <= int(str(value)) <= high:
            raise UplinkError(f"{variable} = {value!r} must be from {low} to {high}")

    tunnels_in = gateway.get("gre_tunnels") or []
    if not isinstance(tunnels_in, list):
        raise UplinkError(f"{GATEWAY_VAR}.gre_tunnels = {tunnels_in!r} must be a list")
    tunnels: list[dict[str, t.Any]] = []
    by_peer: dict[str, dict[str, t.Any]] = {}
    for position, entry in enumerate(tunnels_in):
        variable = f"{GATEWAY_VAR}.gre_tunnels[{position}]"
        entry = _keys(variable, entry, TUNNEL_KEYS, TUNNEL_IPV6_KEYS)
        name = str(entry["name"])
        variable = f"{GATEWAY_VAR}.gre_tunnels {name}"
        if not _INTERFACE.match(name):
            raise UplinkError(f"{variable}: the name is the tunnel's interface name: 1 to 15 letters, digits, '_', '.' or '-'")
        if any(tunnel["name"] == name for tunnel in tunnels):
            raise UplinkError(f"{variable}: two tunnels have this name")
        endpoint = _address(f"{variable}.tunnel_endpoint", entry["tunnel_endpoint"], 4)
        if any(tunnel["endpoint"] == str(endpoint) for tunnel in tunnels):
            raise UplinkError(f"{variable}: tunnel_endpoint {endpoint} has a tunnel already (one GRE tunnel per endpoint)")
        tunnel = {"name": name, "endpoint": str(endpoint)}
        tunnel["address_ipv4"], tunnel["peer_ipv4"] = _transfer(variable, entry["tunnel_address_ipv4"], entry["tunnel_peer_ipv4"], 4)
        if _pair(variable, entry, TUNNEL_IPV6_KEYS):
            tunnel["address_ipv6"], tunnel["peer_ipv6"] = _transfer(variable, entry["tunnel_address_ipv6"], entry["tunnel_peer_ipv6"], 6)
        for key in ("address_ipv4", "address_ipv6"):
            if key in tunnel:
                net = ipaddress.ip_interface(tunnel[key]).network
                for mesh in (mesh4, mesh6):
                    if mesh is not None and net.version == mesh.version and net.overlaps(mesh):  # type: ignore[arg-type]
                        raise UplinkError(f"{variable}: tunnel_{key} = {tunnel[key]} overlaps the mesh {mesh}")
        for other in tunnels:
            for key in ("address_ipv4", "address_ipv6"):
                if key in tunnel and key in other and \
                        ipaddress.ip_interface(tunnel[key]).network.overlaps(ipaddress.ip_interface(other[key]).network):
                    raise UplinkError(f"{variable}: tunnel_{key} = {tunnel[key]} overlaps tunnel {other['name']}'s {other[key]}")
        tunnels.append(tunnel)
        for key in ("peer_ipv4", "peer_ipv6"):
            if key in tunnel:
                by_peer[tunnel[key]] = tunnel

    neighbors_in = gateway.get("bgp_neighbors") or []
    if not isinstance(neighbors_in, list):
        raise UplinkError(f"{GATEWAY_VAR}.bgp_neighbors = {neighbors_in!r} must be a list")
    sessions: list[dict[str, t.Any]] = []
    for position, entry in enumerate(neighbors_in):
        variable = f"{GATEWAY_VAR}.bgp_neighbors[{position}]"
        entry = _keys(variable, entry, NEIGHBOR_KEYS, NEIGHBOR_IPV4_KEYS | NEIGHBOR_IPV6_KEYS)
        name = str(entry["name"])
        variable = f"{GATEWAY_VAR}.bgp_neighbors {name}"
        peer_as = _asn(f"{variable}.as", entry["as"])
        if peer_as == own_as:
            raise UplinkError(f"{variable}: as = {peer_as} is {LOCAL_AS_VAR}; the backbone is an external neighbour")
        families = [version for version, keys in ((4, NEIGHBOR_IPV4_KEYS), (6, NEIGHBOR_IPV6_KEYS))
                    if _pair(variable, entry, keys)]
        if not families:
            raise UplinkError(f"{variable}: needs address_ipv4 and source_ipv4, or address_ipv6 and source_ipv6")
        for version in families:
            address = _address(f"{variable}.address_ipv{version}", entry[f"address_ipv{version}"], version)
            source = _address(f"{variable}.source_ipv{version}", entry[f"source_ipv{version}"], version)
            tunnel = by_peer.get(str(address))
            if tunnel is None:
                raise UplinkError(
                    f"{variable}: address_ipv{version} = {address} is no tunnel's tunnel_peer_ipv{version}; "
                    "every session runs over one of gre_tunnels"
                )
            if str(source) != str(ipaddress.ip_interface(tunnel[f"address_ipv{version}"]).ip):
                raise UplinkError(
                    f"{variable}: source_ipv{version} = {source} but tunnel {tunnel['name']}'s own address is "
                    f"{ipaddress.ip_interface(tunnel[f'address_ipv{version}']).ip}"
                )
            protocol = _protocol_name(f"up{version}", name)
            if any(session["protocol"] == protocol for session in sessions):
                raise UplinkError(f"{variable}: a second session as {protocol} (names must differ in letters or digits)")
            if any(session["address"] == str(address) for session in sessions):
                raise UplinkError(f"{variable}: a second session with {address}")
            sessions.append({"name": name, "protocol": protocol, "family": f"ipv{version}", "as": peer_as,
                             "address": str(address), "source": str(source), "interface": tunnel["name"]})
    if sessions and not any(session["family"] == "ipv4" for session in sessions):
        raise UplinkError(f"{GATEWAY_VAR}.bgp_neighbors: no IPv4 session: the mesh's NAT address would not be announced")
    if any(session["family"] == "ipv6" for session in sessions) and (prefix6 is None or mesh6 is None):
        raise UplinkError(
            f"{GATEWAY_VAR}.bgp_neighbors has IPv6 sessions: set freifunk_gateways_peering_prefix_ipv6 (the community's "
            "prefix to announce) and freifunk_mesh_ipv6_net (the mesh's net inside it)"
        )
    return {
        "public_ipv4": str(public),
        "local_as": own_as,
        "mtu": tunnel_mtu,
        "mss_ipv4": mss[4],
        "mss_ipv6": mss[6],
        "mesh_ipv4_net": str(mesh4),
        "mesh_ipv6_net": str(mesh6) if mesh6 is not None else None,
        "prefix_ipv6": str(prefix6) if prefix6 is not None else None,
        "table": int(str(table)),
        "rule_priority": int(str(rule_priority)),
        "import_limit": int(str(import_limit)),
        "tunnels": tunnels,
        "sessions": sessions,
        "ipv6": any(session["family"] == "ipv6" for session in sessions),
        "ipv6_exit": ipv6_exit(group_index, group_indices or []),
        "endpoints": sorted({tunnel["endpoint"] for tunnel in tunnels}, key=ipaddress.ip_address),
        "warnings": warnings,
    }


def ipv6_exit(group_index: t.Any, group_indices: t.Any) -> dict[str, t.Any]:
    """How a gateway ranks as the mesh's IPv6 exit among all gateways (their group indices, its own
    among them or not).

    The community's IPv6 prefix is one for all gateways and is not NATed, so a connection's
    replies come back through whichever gateway the backbone picks. Each gateway's firewall
    passes only replies to connections it has seen go out: both directions must use the same
    gateway. The lowest index is the first exit: its router advertisements have the best default
    router preference (RFC 4191: clients use the best router that offers a default route), and
    the others prepend their AS to the prefix as often as their rank, so the backbone prefers the
    same gateway. A gateway whose uplink check fails withdraws both. RFC 4191 has three
    preferences: from the third gateway on, the ranks tie ("low", two prepends), and clients and
    backbone agree only while one of the first two gateways works.
    """
    try:
        place = rank_among(int(str(group_index)), [int(str(index)) for index in group_indices])[0]
    except (TypeError, ValueError) as exc:
        raise UplinkError(f"freifunk_group_index: {group_index!r} among {group_indices!r} must be whole numbers") from exc
    rank = min(place, len(ROUTER_PREFERENCES) - 1)
    return {"rank": rank, "router_preference": ROUTER_PREFERENCES[rank], "prepend": rank}
