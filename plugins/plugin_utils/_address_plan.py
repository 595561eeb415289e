# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address plan of a Freifunk mesh: what each gateway's group index derives.

The defaults reproduce seed 000 (Freifunk Hennef): batman at net[10 + i], the gateway's mesh
address at net[256 + i], the recursor at net[266 + i], and a DHCP pool inside the block of
``dhcp_block_size`` addresses that starts at net[dhcp_block_size * i].
"""

from __future__ import annotations

import re
import typing as t

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:
    HAS_NETADDR = False

DEFAULTS: t.Dict[str, int] = {
    "batman_offset": 10,
    "gateway_offset": 256,
    "recursor_offset": 266,
    "dhcp_block_size": 4096,
    "dhcp_pool_offset": 512,
}
FIXED_ADDRESSES = ("batman", "gateway", "recursor")
MESH_KEYS = frozenset(("ipv4_net", "ipv6_net", "mac_prefix", "fastd_instances")) | frozenset(DEFAULTS)
# Last MAC octet: interface role on the gateway; fastd instance k gets FASTD_MAC_BASE + k.
BRIDGE_MAC_SUFFIX = 0x00
TINC_MAC_SUFFIX = 0x01
FASTD_MAC_BASE = 0x10
MAX_FASTD_INSTANCES = 0x100 - FASTD_MAC_BASE


_HEX_OCTET = re.compile(r"^[0-9a-fA-F]{2}$")


class AddressPlanError(ValueError):
    """Input that cannot give a valid address plan; the message names the variable and value."""


def _network(value: t.Any, key: str, version: int) -> "netaddr.IPNetwork":
    try:
        net = netaddr.IPNetwork(str(value))
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise AddressPlanError(f"{key} = {value!r} is not an IPv{version} network: {exc}") from exc
    if net.version != version:
        raise AddressPlanError(f"{key} = {value!r} is an IPv{net.version} network, IPv{version} expected")
    if net.ip != net.network:
        raise AddressPlanError(f"{key} = {value!r} has host bits set; did you mean {net.cidr}?")
    return net


def _mac_prefix(value: t.Any) -> t.List[int]:
    parts = str(value).strip().rstrip(":").split(":")
    if len(parts) != 4 or not all(_HEX_OCTET.match(part) for part in parts):
        raise AddressPlanError(f"mac_prefix = {value!r} must be four hex octets such as 'fe:ed:ca:fe:'")
    octets = [int(part, 16) for part in parts]
    if octets[0] & 0x01:
        raise AddressPlanError(f"mac_prefix = {value!r} is a multicast prefix (lowest bit of the first octet set)")
    if not octets[0] & 0x02:
        raise AddressPlanError(
            f"mac_prefix = {value!r} is not locally administered (second-lowest bit of the first octet clear); "
            "it could collide with real hardware"
        )
    return octets


def _mac(prefix: t.Sequence[int], index: int, suffix: int) -> str:
    return ":".join(f"{octet:02x}" for octet in (*prefix, index, suffix))


def _int_option(mesh: t.Mapping[str, t.Any], key: str, default: int, minimum: int) -> int:
    value = mesh.get(key, default)
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise AddressPlanError(f"{key} = {value!r} must be an integer")
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise AddressPlanError(f"{key} = {value!r} must be an integer") from exc
    if number < minimum:
        raise AddressPlanError(f"{key} = {value!r} must be at least {minimum}")
    return number


def parse_index(value: t.Any) -> int:
    """A group index: a non-negative integer (YAML may hand it over as a string)."""
    if isinstance(value, bool):
        raise AddressPlanError(f"index {value!r} must be a non-negative integer")
    try:
        index = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise AddressPlanError(f"index {value!r} must be a non-negative integer") from exc
    if index < 0:
        raise AddressPlanError(f"index {value!r} must be a non-negative integer")
    return index


class MeshLayout:
    """The validated mesh: networks, offsets and the largest index they can hold."""

    def __init__(self, mesh: t.Mapping[str, t.Any]) -> None:
        if not isinstance(mesh, t.Mapping):
            raise AddressPlanError(f"mesh must be a dict, got {type(mesh).__name__}")
        unknown = sorted(set(mesh) - MESH_KEYS)
        if unknown:
            raise AddressPlanError(f"unknown mesh keys {unknown}; known keys are {sorted(MESH_KEYS)}")
        if "ipv4_net" not in mesh:
            raise AddressPlanError("mesh has no ipv4_net")
        self.ipv4_net = _network(mesh["ipv4_net"], "ipv4_net", 4)
        self.ipv6_net = _network(mesh["ipv6_net"], "ipv6_net", 6) if mesh.get("ipv6_net") else None
        self.mac_prefix = _mac_prefix(mesh["mac_prefix"]) if mesh.get("mac_prefix") else None
        self.fastd_instances = _int_option(mesh, "fastd_instances", 1, 0)
        if self.fastd_instances > MAX_FASTD_INSTANCES:
            raise AddressPlanError(f"fastd_instances = {self.fastd_instances} exceeds {MAX_FASTD_INSTANCES}")
        self.offsets = {key: _int_option(mesh, key, default, 0) for key, default in DEFAULTS.items()}
        block = self.offsets["dhcp_block_size"]
        if block < 4 or block & (block - 1):
            raise AddressPlanError(f"dhcp_block_size = {block} must be a power of two of at least 4")
        if self.offsets["dhcp_pool_offset"] >= block - 1:
            raise AddressPlanError(
                f"dhcp_pool_offset = {self.offsets['dhcp_pool_offset']} leaves no pool in a block of {block}"
            )
        self.capacity, self.limited_by = self._capacity()

    def _capacity(self) -> t.Tuple[int, str]:
        """How many gateways fit, and what limits them.

        Within that count no two gateways share a fixed address, every fixed address lies below
        the pool of index 0, and every DHCP block lies inside the net: plans of distinct indexes
        below the capacity can never overlap, so an index check is the whole inventory check.
        """
        offset = {name: self.offsets[f"{name}_offset"] for name in FIXED_ADDRESSES}
        ordered = sorted(FIXED_ADDRESSES, key=offset.__getitem__)
        limits = [(self.ipv4_net.size // self.offsets["dhcp_block_size"],
                   f"{self.ipv4_net} holds {self.ipv4_net.size // self.offsets['dhcp_block_size']} "
                   f"DHCP blocks of {self.offsets['dhcp_block_size']} addresses")]
        if offset[ordered[0]] == 0:
            limits.append((0, f"{ordered[0]}_offset 0 is the network address"))
        for low, high in zip(ordered, ordered[1:]):
            limits.append((offset[high] - offset[low],
                           f"{low}_offset {offset[low]} and {high}_offset {offset[high]} leave room for "
                           f"{offset[high] - offset[low]} gateways"))
        pool_room = self.offsets["dhcp_pool_offset"] - offset[ordered[-1]]
        limits.append((pool_room, f"{ordered[-1]}_offset {offset[ordered[-1]]} and dhcp_pool_offset "
                                  f"{self.offsets['dhcp_pool_offset']} leave room for {max(pool_room, 0)} gateways"))
        if self.mac_prefix is not None:
            limits.append((256, "a MAC address has one octet for the index"))
        if self.ipv6_net is not None:
            room = self.ipv6_net.size - offset[ordered[-1]]
            limits.append((room, f"{self.ipv6_net} leaves room for {max(room, 0)} gateways"))
        count, reason = min(limits, key=lambda limit: limit[0])
        return max(count, 0), reason

    def plan(self, index: int) -> t.Dict[str, t.Any]:
        if index >= self.capacity:
            if not self.capacity:
                raise AddressPlanError(f"this mesh holds no gateway at all: {self.limited_by}")
            raise AddressPlanError(
                f"index {index} does not fit: this mesh holds indexes 0 to {self.capacity - 1} ({self.limited_by})"
            )
        net = self.ipv4_net
        block_size = self.offsets["dhcp_block_size"]
        block = netaddr.IPNetwork(f"{net[block_size * index]}/{32 - block_size.bit_length() + 1}")
        last = block.last if block.last < net.last else net.last - 1
        plan: t.Dict[str, t.Any] = {
            "index": index,
            "ipv4_net": str(net.cidr),
            "ipv4_prefixlen": net.prefixlen,
            "dhcp_block": str(block.cidr),
            "dhcp_range": {
                "start": str(netaddr.IPAddress(block.first + self.offsets["dhcp_pool_offset"])),
                "end": str(netaddr.IPAddress(last)),
            },
        }
        for name in FIXED_ADDRESSES:
            plan[f"{name}_ipv4"] = str(net[self.offsets[f"{name}_offset"] + index])
        if self.ipv6_net is not None:
            plan["ipv6_net"] = str(self.ipv6_net.cidr)
            plan["ipv6_prefixlen"] = self.ipv6_net.prefixlen
            for name in FIXED_ADDRESSES:
                plan[f"{name}_ipv6"] = str(self.ipv6_net[self.offsets[f"{name}_offset"] + index])
        if self.mac_prefix is not None:
            plan["bridge_mac"] = _mac(self.mac_prefix, index, BRIDGE_MAC_SUFFIX)
            plan["tinc_mac"] = _mac(self.mac_prefix, index, TINC_MAC_SUFFIX)
            plan["fastd_macs"] = [_mac(self.mac_prefix, index, FASTD_MAC_BASE + k) for k in range(self.fastd_instances)]
        return plan


def _require_netaddr() -> None:
    if not HAS_NETADDR:
        raise ImportError("the Python library netaddr is required for address plans (pip install netaddr)")


def address_plan(mesh: t.Mapping[str, t.Any], index: t.Any) -> t.Dict[str, t.Any]:
    """Everything derived for the gateway with this group index."""
    _require_netaddr()
    return MeshLayout(mesh).plan(parse_index(index))


def check_inventory(
    mesh: t.Mapping[str, t.Any],
    indexes: t.Mapping[str, t.Any],
    index_var: str = "freifunk_group_index",
) -> t.Dict[str, t.Dict[str, t.Any]]:
    """Plans of all hosts, after checking them against each other.

    ``indexes`` maps inventory host names to their group index. Raises AddressPlanError naming
    host, variable and value for a malformed mesh, an invalid, duplicate or too large index.
    Overlapping pools or fixed addresses need two equal indexes or one beyond the capacity
    (see MeshLayout._capacity), so these checks cover them.
    """
    _require_netaddr()
    if not isinstance(indexes, t.Mapping) or not indexes:
        raise AddressPlanError("no hosts to check: expected a dict of host name to group index")
    layout = MeshLayout(mesh)
    plans: t.Dict[str, t.Dict[str, t.Any]] = {}
    owner_of_index: t.Dict[int, str] = {}
    for host in sorted(indexes):
        try:
            index = parse_index(indexes[host])
            if index in owner_of_index:
                raise AddressPlanError(
                    f"it is already the index of host {owner_of_index[index]}; every gateway needs its own index"
                )
            plans[host] = layout.plan(index)
        except AddressPlanError as exc:
            raise AddressPlanError(f"host {host}: {index_var} = {indexes[host]!r}: {exc}") from exc
        owner_of_index[index] = host
    return plans
