# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole inventory, checked on the controller before any gateway is touched.

A community that ran seed 000's gateways (Freifunk Hennef's ansible-container) points this
collection at its inventory as it is. Every ``freifunk_*`` variable is then either one the roles
take, one of seed 000's that is honoured with the same effect, one whose derived value is
compared with the address plan, or refused by name with what to use instead. None is ignored.
"""

from __future__ import annotations

import re
import typing as t

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:
    HAS_NETADDR = False

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _address_plan, _uplink

PREFIX = "freifunk_"
INDEX_VAR = "freifunk_group_index"
# Seed 000's freifunk_facts numbered the hosts of this group from 1, in inventory order.
SEED_GROUP = "Freifunk"

# Seed 000's variables that the roles take under another name, with the same effect.
ALIASES: t.Dict[str, str] = {
    "freifunk_container_data_dir": "freifunk_state_dir",
    "freifunk_fastd_public_port": "freifunk_fastd_port",
}
# Seed 000's variables whose value the address plan derives: they must agree with it.
COMPARED: t.Dict[str, str] = {
    "freifunk_batman_address_ipv4": "batman_ipv4",
    "freifunk_tinc_interface_mac": "tinc_mac",
    "freifunk_recursor_mesh_address_ipv4": "recursor_ipv4",
    "freifunk_dhcpd_routers": "gateway_ipv4",
    "freifunk_dhcpd_domain_name_servers": "recursor_ipv4",
}
GATEWAY_VAR = "freifunk_gateway"
GATEWAY_COMPARED = {"mesh_address_ipv4": "gateway_ipv4"}
# Taken by the tinc role (where the other gateways reach this one) and gateway_ipv4 (the NAT
# address, the tunnels and the sessions to the backbone, checked as a whole by _uplink).
GATEWAY_HONOURED = frozenset(("peering_public_address_ipv4",))
GATEWAY_UPLINK = frozenset(("gre_tunnels", "bgp_neighbors"))
# false: setup.yml leaves the uplink of this gateway alone (a lab whose kernel has no GRE).
UPLINK_SWITCH = "freifunk_gateway_ipv4_enabled"
# Seed 000 pulled its images (ffhef/*) at this tag; the container runtime builds its images on
# the gateway from the current recipes, which is what "latest" asked for.
IMAGE_TAG_VAR = "freifunk_image_tag"
IMAGE_TAG_HONOURED = "latest"
# Seed 000 built these batman-adv/batctl versions with DKMS; freifunk_node takes them as the
# least version the host's kernel module and batctl must have.
MINIMUM_VERSIONS = ("freifunk_batman_adv_version", "freifunk_batctl_version")
DHCP_RANGE_VAR = "freifunk_dhcpd_subnet_range"
TINC_NAME_VAR = "freifunk_tinc_name"
# Variables of seed 000 that the roles take under the same name (listed for the report only).
SEED_HONOURED = ("freifunk_name", "freifunk_shortname", "freifunk_mesh_ipv4_net", "freifunk_mesh_mac_begin",
                 "freifunk_tinc_name", "freifunk_tinc_data_dir", "freifunk_fastd_data_dir", "freifunk_dhcpd_data_dir",
                 "freifunk_fastd_instances", "freifunk_fastd_mtu", DHCP_RANGE_VAR, IMAGE_TAG_VAR,
                 _uplink.LOCAL_AS_VAR, _uplink.MTU_VAR, _uplink.MSS_VAR) + MINIMUM_VERSIONS
# Variables of this collection's playbooks, beyond the roles' options.
PLAYBOOK_VARIABLES = ("freifunk_mesh_ipv6_net", "freifunk_mesh_plan", INDEX_VAR, GATEWAY_VAR)
# tinc 1.0 accepts node names of letters, digits and _ only.
_TINC_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*$")


class InventoryError(ValueError):
    """An inventory that must not reach a gateway; the message names host, variable and value."""


def known_variables(role_options: t.Iterable[str]) -> t.FrozenSet[str]:
    """Every variable name a gateway's inventory may set: the roles' options, the playbooks' and seed 000's."""
    return frozenset(role_options) | frozenset(PLAYBOOK_VARIABLES) | frozenset(ALIASES) | frozenset(COMPARED) \
        | frozenset(SEED_HONOURED)


def tinc_name_of(short_name: str) -> str:
    """The tinc node name of a host that states none: its short name, other characters than tinc takes made _."""
    return re.sub(r"[^A-Za-z0-9_]", "_", short_name)


def group_indexes(
    hosts: t.Sequence[str], stated: t.Mapping[str, t.Any], seed_order: t.Optional[t.Sequence[str]] = None
) -> t.Tuple[t.Dict[str, int], t.List[str]]:
    """Every gateway's group index, and notes for the admin.

    Either every gateway states ``freifunk_group_index`` or none does. With none, the indexes are
    seed 000's: the position in group Freifunk (or the gateways' group) plus 1.
    """
    missing = [host for host in hosts if host not in stated]
    if not missing:
        indexes = {}
        for host in hosts:
            try:
                indexes[host] = _address_plan.parse_index(stated[host])
            except _address_plan.AddressPlanError as exc:
                raise InventoryError(f"host {host}: {INDEX_VAR} = {stated[host]!r}: {exc}") from exc
        return indexes, []
    if len(missing) < len(hosts):
        raise InventoryError(
            f"host {missing[0]}: {INDEX_VAR} is not set, but host {next(h for h in hosts if h in stated)} states one; "
            "give every gateway its own index, or none to number them as seed 000 did (inventory order, from 1)"
        )
    order = list(seed_order) if seed_order and all(host in seed_order for host in hosts) else list(hosts)
    indexes = {host: order.index(host) + 1 for host in hosts}
    listing = ", ".join(f"{host}={index}" for host, index in indexes.items())
    return indexes, [
        f"{INDEX_VAR} is not set: numbered as seed 000 did, position in group "
        f"{SEED_GROUP if order is not hosts and seed_order else 'gateways'} from 1 ({listing}). "
        "Reordering the hosts file would renumber the gateways and change their addresses: "
        "state each index (freifunk_group_index=N) to pin it."
    ]


def tinc_names(hosts: t.Sequence[str], stated: t.Mapping[str, t.Any], short_names: t.Mapping[str, str]) -> t.Dict[str, str]:
    """The tinc node name of every gateway; two gateways with one name stop the run."""
    names: t.Dict[str, str] = {}
    owner: t.Dict[str, str] = {}
    for host in hosts:
        if host in stated:
            name = str(stated[host])
            if not _TINC_NAME.match(name):
                raise InventoryError(
                    f"host {host}: {TINC_NAME_VAR} = {name!r}: tinc 1.0 takes letters, digits and _ only; "
                    f"use {tinc_name_of(name)!r}"
                )
        else:
            name = tinc_name_of(short_names[host])
        if name in owner:
            raise InventoryError(
                f"host {host}: tinc node name {name!r} is already the name of host {owner[name]}; "
                f"set {TINC_NAME_VAR} on one of them to a name of its own"
            )
        owner[name] = host
        names[host] = name
    return names


def seed_dhcp_range(value: t.Any) -> t.Dict[str, str]:
    """Seed 000's pool: from the address of ``a.b.c.d/len`` to the second-to-last of its network."""
    _require_netaddr()
    try:
        network = netaddr.IPNetwork(str(value))
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise InventoryError(f"{DHCP_RANGE_VAR} = {value!r} is not an address with a prefix length: {exc}") from exc
    if network.version != 4 or "/" not in str(value):
        raise InventoryError(f"{DHCP_RANGE_VAR} = {value!r} must be an IPv4 address with a prefix length, as seed 000 wrote it")
    end = netaddr.IPAddress(network.last - 1)
    if network.ip >= end:
        raise InventoryError(f"{DHCP_RANGE_VAR} = {value!r} leaves no pool: it starts at the end of its network")
    return {"start": str(network.ip), "end": str(end)}


def _same_address(stated: t.Any, planned: str, key: str) -> bool:
    text = str(stated).strip()
    if key.endswith("_mac"):
        return text.lower() == planned
    try:
        return netaddr.IPAddress(text.split("/", maxsplit=1)[0]) == netaddr.IPAddress(planned)
    except (netaddr.AddrFormatError, ValueError):
        return False


def _check_gateway(host: str, variables: t.Mapping[str, t.Any], plan: t.Mapping[str, t.Any], notes: t.List[str]) -> None:
    gateway = variables[GATEWAY_VAR]
    if not isinstance(gateway, t.Mapping):
        raise InventoryError(f"host {host}: {GATEWAY_VAR} = {gateway!r} must be a dict (seed 000's host_vars)")
    known = set(GATEWAY_COMPARED) | GATEWAY_HONOURED | GATEWAY_UPLINK
    unknown = sorted(set(gateway) - known)
    if unknown:
        raise InventoryError(
            f"host {host}: {GATEWAY_VAR}.{unknown[0]} is not a key this collection takes; it takes {sorted(known)}"
        )
    for key, plan_key in GATEWAY_COMPARED.items():
        if key in gateway and not _same_address(gateway[key], plan[plan_key], plan_key):
            raise InventoryError(
                f"host {host}: {GATEWAY_VAR}.{key} = {gateway[key]} but {INDEX_VAR} = {plan['index']} gives {plan[plan_key]}"
            )
    if "peering_public_address_ipv4" in gateway:
        _check_address(host, f"{GATEWAY_VAR}.peering_public_address_ipv4", gateway["peering_public_address_ipv4"])
    if set(gateway) & GATEWAY_UPLINK:
        try:
            settings = {key: variables[name] for key, name in _uplink.SETTING_VARS.items() if name in variables}
            uplink = _uplink.uplink_plan(gateway, mesh_ipv4_net=plan["ipv4_net"], mesh_ipv6_net=plan.get("ipv6_net"), **settings)
        except _uplink.UplinkError as exc:
            raise InventoryError(f"host {host}: {exc}") from exc
        notes.extend(f"host {host}: {warning}" for warning in uplink["warnings"])
        if not uplink_in_effect(host, variables):
            notes.append(
                f"host {host}: {GATEWAY_VAR}.gre_tunnels and bgp_neighbors checked ({len(uplink['tunnels'])} tunnel(s), "
                f"{len(uplink['sessions'])} session(s)) but switched off by {UPLINK_SWITCH}: false, so this gateway "
                "builds no GRE tunnel, BGP session or NAT, and clients that lease from it have no way out"
            )


TINC_ADDRESS_VAR = "freifunk_tinc_address"


def tinc_address(host: str, variables: t.Mapping[str, t.Any], host_address: t.Optional[str]) -> str:
    """Where the other gateways reach ``host`` over tinc.

    ``freifunk_tinc_address`` if set. Else, as in seed 000, ``peering_public_address_ipv4``,
    unless this gateway builds its uplink: then that is the NAT address behind the backbone, and
    tinc, which carries batman-adv between the gateways, must not fail with the backbone (a
    gateway that lost its uplink hands its clients to the others over tinc). It then takes
    ``host_address``, the host's own address (its default IPv4 address).
    """
    if TINC_ADDRESS_VAR in variables:
        _check_address(host, TINC_ADDRESS_VAR, variables[TINC_ADDRESS_VAR])
        return str(variables[TINC_ADDRESS_VAR])
    gateway = variables.get(GATEWAY_VAR)
    public = gateway.get("peering_public_address_ipv4") if isinstance(gateway, t.Mapping) else None
    if public is not None and not uplink_in_effect(host, variables):
        return str(public)
    if public is not None and not host_address:
        raise InventoryError(
            f"host {host}: {GATEWAY_VAR}.peering_public_address_ipv4 is the NAT address behind the backbone and the host "
            f"has no default IPv4 address to reach it by over tinc; set {TINC_ADDRESS_VAR}"
        )
    return str(host_address or "")


def tinc_sources(address: str, facts: t.Mapping[str, t.Any]) -> t.List[str]:
    """The addresses a gateway's tinc may connect from: the one it is reached at and its default ones.

    A connection leaves from the address of the route to the peer, the default route's for a
    peer on the internet, which need not be the address the peer dials back (seed 000's
    peering_public_address_ipv4 is often not the host's first address). The host's other
    addresses are left out: setup.yml makes some of them (the mesh's, the NAT address), so they
    would change the firewall between the first run and the next.
    """
    sources = [address] if address else []
    for key in ("default_ipv4", "default_ipv6"):
        found = str((facts.get(key) or {}).get("address") or "")
        if found and not found.lower().startswith("fe80:"):
            sources.append(found)
    return list(dict.fromkeys(sources))


def uplink_in_effect(host: str, variables: t.Mapping[str, t.Any]) -> bool:
    """Whether setup.yml builds this gateway's way out (gateway_ipv4): it has one and it is not switched off."""
    try:
        switch = boolean(variables.get(UPLINK_SWITCH, True), strict=True)
    except TypeError as exc:
        raise InventoryError(f"host {host}: {UPLINK_SWITCH} = {variables[UPLINK_SWITCH]!r} must be true or false") from exc
    gateway = variables.get(GATEWAY_VAR)
    return switch and isinstance(gateway, t.Mapping) and bool(set(gateway) & GATEWAY_UPLINK)


def _check_address(host: str, variable: str, value: t.Any) -> None:
    try:
        netaddr.IPAddress(str(value))
    except (netaddr.AddrFormatError, ValueError) as exc:
        raise InventoryError(f"host {host}: {variable} = {value!r} is not an address: {exc}") from exc


def _check_port(host: str, variable: str, value: t.Any) -> None:
    if not str(value).isdigit() or not 0 < int(str(value)) < 65536:
        raise InventoryError(f"host {host}: {variable} = {value!r} is not a port number")


def check_host(
    host: str,
    variables: t.Mapping[str, t.Any],
    plan: t.Mapping[str, t.Any],
    known: t.Collection[str],
    mesh_mode: str = "batman",
) -> t.List[str]:
    """Checks one gateway's ``freifunk_*`` variables (already templated); returns notes for the admin."""
    notes: t.List[str] = []
    for name in sorted(variables):
        if name.startswith(PREFIX) and name not in known:
            raise InventoryError(
                f"host {host}: {name} is not a variable this collection takes, nor one of seed 000's; "
                "remove it, or see `ansible-doc -t role ffmesh.gateway.<role>` for the variables each role takes"
            )
    for seed_name, name in ALIASES.items():
        if seed_name in variables and name in variables and str(variables[seed_name]) != str(variables[name]):
            raise InventoryError(
                f"host {host}: {seed_name} = {variables[seed_name]} (seed 000's name) but {name} = {variables[name]}; "
                f"set only {name}"
            )
    for name, plan_key in COMPARED.items():
        if name not in variables:
            continue
        if plan_key not in plan:
            raise InventoryError(f"host {host}: {name} = {variables[name]} but the plan has no {plan_key} (set freifunk_mesh_mac_begin)")
        if not _same_address(variables[name], plan[plan_key], plan_key):
            raise InventoryError(
                f"host {host}: {name} = {variables[name]} but {INDEX_VAR} = {plan['index']} gives {plan[plan_key]}"
            )
    for name in ("freifunk_fastd_public_port", "freifunk_fastd_port"):
        if name in variables:
            _check_port(host, name, variables[name])
    if IMAGE_TAG_VAR in variables and str(variables[IMAGE_TAG_VAR]) != IMAGE_TAG_HONOURED:
        raise InventoryError(
            f"host {host}: {IMAGE_TAG_VAR} = {variables[IMAGE_TAG_VAR]!r}: seed 000's ffhef images are not used; the "
            "container runtime builds its images on the gateway from the roles' recipes (the seed's 'latest'). "
            "Remove it, and pin the base image with freifunk_container_base_image if you need a fixed one"
        )
    for name in MINIMUM_VERSIONS:
        if name in variables:
            if not _VERSION.match(str(variables[name])):
                raise InventoryError(f"host {host}: {name} = {variables[name]!r} is not a version such as 2017.0.1")
            if mesh_mode != "batman":
                notes.append(f"host {host}: {name} has no effect with freifunk_mesh_mode: {mesh_mode} (no batman-adv)")
    if TINC_ADDRESS_VAR in variables:
        _check_address(host, TINC_ADDRESS_VAR, variables[TINC_ADDRESS_VAR])
    if GATEWAY_VAR in variables:
        _check_gateway(host, variables, plan, notes)
    return notes


def check_dhcp_ranges(plans: t.Mapping[str, t.Mapping[str, t.Any]]) -> None:
    """Pools must lie in the mesh, hold no gateway's fixed address and not overlap each other."""
    _require_netaddr()
    fixed = {}
    for host, plan in plans.items():
        for name in _address_plan.FIXED_ADDRESSES:
            fixed[netaddr.IPAddress(plan[f"{name}_ipv4"])] = f"{name}_ipv4 of host {host}"
    ranges = []
    for host, plan in sorted(plans.items()):
        pool = netaddr.IPRange(plan["dhcp_range"]["start"], plan["dhcp_range"]["end"])
        net = netaddr.IPNetwork(plan["ipv4_net"])
        if pool.first <= net.first or pool.last >= net.last:
            raise InventoryError(f"host {host}: the DHCP pool {pool} is not inside the mesh {net} (without its first and last address)")
        for address, owner in fixed.items():
            if address in pool:
                raise InventoryError(f"host {host}: the DHCP pool {pool} holds {address}, the {owner}")
        for other_host, other in ranges:
            if pool.first <= other.last and other.first <= pool.last:
                raise InventoryError(f"host {host}: the DHCP pool {pool} overlaps host {other_host}'s pool {other}")
        ranges.append((host, pool))


def _require_netaddr() -> None:
    if not HAS_NETADDR:
        raise ImportError("the Python library netaddr is required (pip install netaddr)")
