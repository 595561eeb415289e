# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routed fabric's numbers: each node's index, kept in a record next to the inventory, what
derives from it (loopbacks, private ASN, WireGuard address), and the tunnels' MTUs.

meshover draws addresses and ASNs at random on its controller, without a collision check. Here a
node's index is the only thing allocated, and everything else is arithmetic on it:

- a node keeps the index the record holds for its host name, run after run;
- new nodes, in the order of their names, take the lowest indices that no node holds;
- a node that leaves the inventory keeps its index as *retired* until the operator releases it:
  the host may still run with those addresses, so no new node may get them before it is gone.

Pure functions on plain data, so the rules are tested without a controller.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

# RFC 6996: the private range of 4-byte AS numbers (4294967295 is reserved, RFC 7300).
PRIVATE_ASN_FIRST = 4_200_000_000
PRIVATE_ASN_LAST = 4_294_967_294
FIRST_INDEX = 1
# A host name is also part of a GRE interface's name (tunnel_interface).
_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# Bytes each encapsulation adds (RFC 8200 and WireGuard's message format):
#   WireGuard: outer IP (20 for IPv4, 40 for IPv6) + UDP 8 + WireGuard's header 16 + its tag 16.
#   GRE: outer IP (20 or 40) + GRE's 4; ip6gre adds the tunnel encapsulation limit option, 8.
WIREGUARD_OVERHEAD = {4: 20 + 8 + 16 + 16, 6: 40 + 8 + 16 + 16}
GRE_OVERHEAD = {4: 20 + 4, 6: 40 + 4 + 8}
# An IPv6 link (the GRE tunnels carry BGP over link-local IPv6) needs at least this MTU (RFC 8200).
IPV6_MIN_MTU = 1280
# Linux's interface names hold at most 15 characters (IFNAMSIZ less the terminating NUL).
INTERFACE_NAME_MAX = 15
TUNNEL_PREFIX = "gre-"
# Gathering (seed 003): the routing table that sends gathered sources to a node is this plus the
# node's index (stable while the node is), and the two policy rules' priorities: first the main
# table without its default routes, then that table.
GATHERING_TABLE_BASE = 2000
GATHERING_RULE_PRIORITY = 20000


class FabricError(ValueError):
    """Settings or a record that cannot give every node numbers of its own."""


class Record(t.TypedDict):
    nodes: dict[str, int]
    retired: dict[str, int]


def _check_name(name: t.Any) -> str:
    if not isinstance(name, str) or not _HOST_NAME.match(name):
        raise FabricError(f"host name {name!r} must start with a letter or digit and hold only letters, digits, '.', '_' or '-'")
    return name


def _indices(record: t.Mapping[str, t.Any], part: str) -> dict[str, int]:
    value = record.get(part) or {}
    if not isinstance(value, t.Mapping):
        raise FabricError(f"the record's {part} must map host names to indices, not {value!r}")
    indices = {}
    for name, index in value.items():
        if isinstance(index, bool) or not isinstance(index, int) or index < FIRST_INDEX:
            raise FabricError(f"the record's {part} gives {name!r} the index {index!r}: indices are whole numbers from {FIRST_INDEX}")
        indices[_check_name(name)] = index
    return indices


def read_record(record: t.Any) -> Record:
    """A record as stored (``{"nodes": {name: index}, "retired": {name: index}}``), checked: no
    index held twice, no name both a node and retired. An empty or missing record is a new fabric."""
    if record is None:
        record = {}
    if not isinstance(record, t.Mapping):
        raise FabricError(f"the fabric's record must be a mapping with nodes and retired, not {record!r}")
    unknown = set(record) - {"nodes", "retired"}
    if unknown:
        raise FabricError(f"the fabric's record has unknown keys {', '.join(sorted(map(str, unknown)))}; known: nodes, retired")
    nodes, retired = _indices(record, "nodes"), _indices(record, "retired")
    both = sorted(set(nodes) & set(retired))
    if both:
        raise FabricError(f"{', '.join(both)} both in the record's nodes and retired")
    holders: dict[int, list[str]] = {}
    for name, index in list(nodes.items()) + list(retired.items()):
        holders.setdefault(index, []).append(name)
    shared = {index: names for index, names in holders.items() if len(names) > 1}
    if shared:
        raise FabricError("indices held twice in the record: " + "; ".join(
            f"{index} by {', '.join(sorted(names))}" for index, names in sorted(shared.items())))
    return {"nodes": nodes, "retired": retired}


def allocate(hosts: t.Iterable[str], record: t.Any = None, release: t.Iterable[str] = ()) -> Record:
    """The record after this inventory: every host in ``hosts`` with an index of its own.

    ``release`` names retired nodes whose indices may go to new nodes (the hosts are gone);
    naming a host that is in ``hosts``, or one the record does not hold, is an error.
    """
    names = [_check_name(name) for name in hosts]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise FabricError(f"hosts named twice: {', '.join(duplicates)}")
    old = read_record(record)
    release = [_check_name(name) for name in release]
    wrong = sorted(set(release) & set(names))
    if wrong:
        raise FabricError(f"cannot release {', '.join(wrong)}: still in the inventory")
    unknown = sorted(set(release) - set(old["retired"]) - set(old["nodes"]))
    if unknown:
        raise FabricError(f"cannot release {', '.join(unknown)}: the record holds no index for it")
    held = {**old["retired"], **old["nodes"]}
    nodes = {name: held[name] for name in names if name in held}
    retired = {name: index for name, index in held.items() if name not in nodes and name not in release}
    taken = set(nodes.values()) | set(retired.values())
    free = (index for index in range(FIRST_INDEX, FIRST_INDEX + len(taken) + len(names) + 1) if index not in taken)
    for name in sorted(name for name in names if name not in nodes):
        nodes[name] = next(free)
    return {"nodes": dict(sorted(nodes.items())), "retired": dict(sorted(retired.items()))}


def _host(network: str, index: int, what: str) -> str:
    try:
        net = ipaddress.ip_network(network, strict=True)
    except ValueError as exc:
        raise FabricError(f"{what} {network!r} is not a network such as 10.255.0.0/24: {exc}") from None
    # The network's own address is never a node's (index 0); IPv4's broadcast neither.
    last = net.num_addresses - (2 if net.version == 4 and net.prefixlen < 31 else 1)
    if index > last:
        raise FabricError(f"{what} {network} has room for {last} nodes; index {index} does not fit")
    return str(net.network_address + index)


def node_numbers(index: int, settings: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """What a node with ``index`` gets: its loopbacks, its ASN and its WireGuard address.

    ``settings``: ``loopback_ipv4`` and ``wireguard_ipv4`` (IPv4 networks), ``loopback_ipv6``
    (an IPv6 network), ``asn_first`` (a private 4-byte ASN; node 1 gets it, node 2 the next).
    """
    asn_first = settings.get("asn_first", PRIVATE_ASN_FIRST)
    if isinstance(asn_first, bool) or not isinstance(asn_first, int) or not PRIVATE_ASN_FIRST <= asn_first <= PRIVATE_ASN_LAST:
        raise FabricError(f"asn_first {asn_first!r} must be a private 4-byte AS number ({PRIVATE_ASN_FIRST} to {PRIVATE_ASN_LAST})")
    asn = asn_first + index - FIRST_INDEX
    if asn > PRIVATE_ASN_LAST:
        raise FabricError(f"index {index} gives AS {asn}, past the private range's end {PRIVATE_ASN_LAST}")
    numbers = {
        "index": index,
        "asn": asn,
        "loopback_ipv4": _host(settings["loopback_ipv4"], index, "loopback_ipv4"),
        "wireguard_ipv4": _host(settings["wireguard_ipv4"], index, "wireguard_ipv4"),
    }
    if settings.get("loopback_ipv6"):
        numbers["loopback_ipv6"] = _host(settings["loopback_ipv6"], index, "loopback_ipv6")
    return numbers


def mtus(underlay_mtu: int, underlay: int = 6, gre: int = 4) -> dict[str, int]:
    """The WireGuard interface's and the GRE tunnels' MTUs on an underlay link of ``underlay_mtu``.

    ``underlay`` is the IP version of the WireGuard endpoints, ``gre`` that of the WireGuard
    addresses the GRE tunnels run between (ip6gre for 6). The GRE tunnels carry BGP over IPv6
    link-local addresses, so they need IPv6's minimum MTU.
    """
    if underlay not in WIREGUARD_OVERHEAD or gre not in GRE_OVERHEAD:
        raise FabricError(f"IP versions are 4 or 6, not {underlay!r} and {gre!r}")
    wireguard = underlay_mtu - WIREGUARD_OVERHEAD[underlay]
    tunnel = wireguard - GRE_OVERHEAD[gre]
    if tunnel < IPV6_MIN_MTU:
        raise FabricError(
            f"an underlay MTU of {underlay_mtu} leaves {tunnel} for the GRE tunnels "
            f"({underlay_mtu} - {WIREGUARD_OVERHEAD[underlay]} WireGuard over IPv{underlay} - {GRE_OVERHEAD[gre]} GRE over IPv{gre}), "
            f"below IPv6's minimum of {IPV6_MIN_MTU}")
    return {"wireguard": wireguard, "gre": tunnel}


def tunnel_interface(peer: str, index: int) -> str:
    """The name of the GRE tunnel to ``peer`` (whose index is ``index``): ``gre-PEER`` when that
    fits Linux's 15 characters, otherwise ``greINDEX-`` and the start of the peer's name.

    The index keeps a shortened name unique, and neither form depends on the other nodes, so a
    node that joins or leaves never renames another node's tunnel (which would drop its session).
    """
    name = TUNNEL_PREFIX + _check_name(peer)
    if len(name) <= INTERFACE_NAME_MAX:
        return name
    prefix = f"gre{index}-"
    if len(prefix) >= INTERFACE_NAME_MAX:
        raise FabricError(f"index {index} is too large for an interface name")
    return prefix + peer[: INTERFACE_NAME_MAX - len(prefix)]


def link_local(index: int) -> str:
    """The IPv6 link-local address a node has on each of its GRE tunnels: fe80:: and its index,
    so both ends of a tunnel differ and each is known before the tunnel exists."""
    return str(ipaddress.IPv6Address(f"fe80::{index:x}"))


def peers(node: str, nodes: t.Collection[str], reflectors: t.Collection[str] = ()) -> list[str]:
    """The nodes ``node`` has a WireGuard peer, a GRE tunnel and a BGP session with, by name.

    Without reflectors, every other node (a full mesh: n - 1 sessions per node). With
    reflectors, a reflector peers with every other node and any other node with the reflectors
    alone, so a node has as many sessions as there are reflectors and the routes between two
    nodes that do not peer pass through a reflector (eBGP passes them on).
    """
    names = set(nodes)
    if node not in names:
        raise FabricError(f"{node} is not a node of the fabric")
    unknown = sorted(set(reflectors) - names)
    if unknown:
        raise FabricError(f"reflectors {', '.join(unknown)} are not nodes of the fabric")
    if reflectors and node not in reflectors:
        return sorted(set(reflectors))
    return sorted(names - {node})


def _network(value: t.Any, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(value))
    except ValueError as exc:
        raise FabricError(f"{what} {value!r} is not a network such as 192.0.2.0/28: {exc}") from None


def gathering_plan(node: str, numbers: t.Mapping[str, t.Mapping[str, t.Any]], reflectors: t.Collection[str] = (),
                   gathering: t.Sequence[t.Mapping[str, t.Any]] = (), announce: t.Sequence[str] = ()) -> dict[str, t.Any]:
    """Seed 003's gathering: traffic from an address in a gathered prefix leaves the fabric through
    one chosen node, whichever node the address lives on (a public range routed to one site,
    say). ``gathering`` lists ``{prefix, node}``; ``announce`` the prefixes this node originates in
    BGP (the addresses it holds), each inside a gathered prefix, so answers find their way back.

    On every other node, two policy rules for each prefix: the main table without its default
    routes (the fabric's and local routes still win), then a table whose default route is the
    tunnel to the gathering node. So that node must be a peer (a full mesh, or a reflector).
    Returns ``prefixes`` (every gathered prefix: BGP takes and gives addresses inside them),
    ``rules`` (this node's) and ``announce``.
    """
    prefixes: list[dict[str, t.Any]] = []
    for entry in gathering:
        if not isinstance(entry, t.Mapping) or set(entry) != {"prefix", "node"}:
            raise FabricError(f"a gathering entry is {{prefix, node}}, not {entry!r}")
        network = _network(entry["prefix"], "gathering prefix")
        if entry["node"] not in numbers:
            raise FabricError(f"gathering {network} at {entry['node']!r}: not a node of the fabric")
        overlapping = [other["prefix"] for other in prefixes if network.version == other["version"] and network.overlaps(other["network"])]
        if overlapping:
            raise FabricError(f"gathering prefix {network} overlaps {', '.join(map(str, overlapping))}")
        prefixes.append({"prefix": str(network), "version": network.version, "node": entry["node"], "network": network})
    own_peers = peers(node, numbers, reflectors)
    rules = []
    for prefix in prefixes:
        target = prefix["node"]
        if target == node:
            continue
        if target not in own_peers:
            raise FabricError(f"gathering {prefix['prefix']} at {target}: {node} has no tunnel to it; with reflectors, gather at a reflector")
        index = numbers[target]["index"]
        rules.append({"prefix": prefix["prefix"], "version": prefix["version"], "node": target,
                      "interface": tunnel_interface(target, index), "table": GATHERING_TABLE_BASE + index})
    if any(prefix["version"] == 6 for prefix in prefixes) and "loopback_ipv6" not in numbers[node]:
        raise FabricError("gathering IPv6 prefixes needs the fabric's IPv6 (fabric_loopback_ipv6): BGP carries IPv6 only with it")
    announced = []
    for value in announce:
        network = _network(value, "announced prefix")
        if not any(network.version == prefix["version"] and network.subnet_of(prefix["network"]) for prefix in prefixes):
            raise FabricError(f"{node} announces {network}, which lies in no gathered prefix: BGP takes only loopbacks and gathered addresses")
        announced.append({"prefix": str(network), "version": network.version})
    return {"prefixes": [{key: value for key, value in prefix.items() if key != "network"} for prefix in prefixes],
            "rules": rules, "announce": announced, "rule_priority": GATHERING_RULE_PRIORITY}


def node_plan(node: str, numbers: t.Mapping[str, t.Mapping[str, t.Any]], reflectors: t.Collection[str] = (),
              gathering: t.Sequence[t.Mapping[str, t.Any]] = (), announce: t.Sequence[str] = ()) -> dict[str, t.Any]:
    """What ``node`` configures: its own numbers (``node_numbers``), under ``peers`` one entry per
    peer with the peer's numbers, the tunnel's interface and both ends' link-local addresses, and
    under ``gathering`` its part of the gathered prefixes (:func:`gathering_plan`).

    ``numbers`` maps every node's host name to its ``node_numbers``.
    """
    names = peers(node, numbers, reflectors)
    own = dict(numbers[node])
    own["reflector"] = node in reflectors
    own["link_local"] = link_local(own["index"])
    own["peers"] = [
        dict(numbers[name], name=name, interface=tunnel_interface(name, numbers[name]["index"]),
             link_local=link_local(numbers[name]["index"]))
        for name in names
    ]
    own["gathering"] = gathering_plan(node, numbers, reflectors, gathering, announce)
    return own
