# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""respondd, the protocol of Freifunk's maps (yanic, meshviewer), for gateways.

A map's collector sends a UDP datagram to port 1001, to the multicast groups ff02::2:1001 (the
link) and ff05::2:1001 (the site), or to one node. ``GET nodeinfo statistics neighbours`` asks
for several providers at once; the answer is one JSON object with a key per provider, compressed
with raw deflate. A provider's bare name is the older form; its answer is that provider's JSON,
uncompressed.

Pure functions of what the gateway's kernel and batctl report: the daemon
(roles/respondd/files/ffmesh_respondd.py) reads them and imports this file from beside itself.
"""

from __future__ import annotations

import json
import re
import typing as t
import zlib

PORT = 1001
GROUPS = ("ff02::2:1001", "ff05::2:1001")
PROVIDERS = ("nodeinfo", "statistics", "neighbours")

_MAC = r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}"
# batctl's originator table, one originator per line (BATMAN_IV and BATMAN_V):
#  * fe:ed:ca:fe:01:01    0.420s   (255) fe:ed:ca:fe:01:01 [ tinc-mesh]
#  * fe:ed:ca:fe:01:01    0.420s (  9.8) fe:ed:ca:fe:01:01 [ tinc-mesh]
_ORIGINATOR = re.compile(
    rf"^\s*(?P<best>\*)?\s*(?P<originator>{_MAC})\s+(?P<seen>[0-9.]+)s\s+\(\s*(?P<metric>[0-9.]+)\)\s+"
    rf"(?P<nexthop>{_MAC})\s+\[\s*(?P<interface>[^\]\s]+)\s*\]"
)


class RespondError(ValueError):
    """A request or an input that respondd cannot take."""


def parse_request(data: bytes) -> t.Tuple[t.List[str], bool]:
    """The providers a request asks for, and whether the answer is compressed (``GET``).

    Unknown providers are left out; a request for none of ours raises RespondError.
    """
    try:
        words = data.decode("ascii").split()
    except UnicodeDecodeError as exc:
        raise RespondError("a request is ASCII") from exc
    if len(words) > 1 and words[0] == "GET":
        names = [name for name in dict.fromkeys(words[1:]) if name in PROVIDERS]
        if names:
            return names, True
    elif len(words) == 1 and words[0] in PROVIDERS:
        return words, False
    raise RespondError(f"not a respondd request for {', '.join(PROVIDERS)}: {data[:64]!r}")


def encode_answer(answers: t.Mapping[str, t.Any], names: t.Sequence[str], compressed: bool) -> bytes:
    """The datagram that answers a request for ``names``."""
    if compressed:
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        payload = json.dumps({name: answers[name] for name in names}, separators=(",", ":")).encode()
        return deflate.compress(payload) + deflate.flush()
    (name,) = names
    return json.dumps(answers[name], separators=(",", ":")).encode()


def decode_answer(data: bytes) -> t.Dict[str, t.Any]:
    """What a collector reads from an answer to ``GET``: the inverse of :func:`encode_answer`."""
    return json.loads(zlib.decompress(data, -15))


def node_id(mac: str) -> str:
    """A node's id on the map: its primary MAC address without colons."""
    mac = mac.strip().lower()
    if not re.fullmatch(_MAC, mac):
        raise RespondError(f"{mac!r} is not a MAC address")
    return mac.replace(":", "")


def parse_originators(text: str) -> t.List[t.Dict[str, t.Any]]:
    """The direct neighbours in ``batctl meshif IF originators -H``: originators that are their
    own next hop, on their best route (``*``), with the link's metric (TQ or throughput) and age."""
    neighbours = []
    for line in text.splitlines():
        match = _ORIGINATOR.match(line)
        if match and match["best"] and match["originator"] == match["nexthop"]:
            neighbours.append({
                "mac": match["originator"],
                "interface": match["interface"],
                "lastseen": float(match["seen"]),
                "metric": float(match["metric"]),
            })
    return neighbours


def parse_meminfo(text: str) -> t.Dict[str, int]:
    """Memory in kB, as Gluon reports it, from /proc/meminfo."""
    fields = {}
    for line in text.splitlines():
        name, dummy, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[name] = int(value.split()[0])
    wanted = {"total": "MemTotal", "free": "MemFree", "buffers": "Buffers", "cached": "Cached", "available": "MemAvailable"}
    return {key: fields[name] for key, name in wanted.items() if name in fields}


def parse_batman_statistics(text: str) -> t.Dict[str, t.Dict[str, int]]:
    """batman-adv's traffic counters (``batctl meshif IF statistics``) in respondd's shape."""
    counters = {}
    for line in text.splitlines():
        name, dummy, value = line.partition(":")
        if value.strip().isdigit():
            counters[name.strip()] = int(value)
    traffic = {}
    for kind in ("tx", "rx", "forward", "mgmt_tx", "mgmt_rx"):
        if kind in counters:
            traffic[kind] = {"packets": counters[kind], "bytes": counters.get(f"{kind}_bytes", 0)}
    if "tx_dropped" in counters and "tx" in traffic:
        traffic["tx"]["dropped"] = counters["tx_dropped"]
    return traffic


def count_local_clients(text: str, own_macs: t.Collection[str]) -> int:
    """Clients on this node's own mesh bridge, from ``batctl meshif IF translocal -H``: every
    unicast MAC batman-adv announces for this node but the node's own interfaces (the table also
    holds the multicast groups the node listens to)."""
    own = {mac.lower() for mac in own_macs}
    found = set()
    for line in text.splitlines():
        match = re.match(rf"\s*\*?\s*({_MAC})\s", line.lower())
        if match and not int(match[1][:2], 16) & 1 and match[1] not in own:
            found.add(match[1])
    return len(found)


def nodeinfo(config: t.Mapping[str, t.Any], mac: str, addresses: t.Sequence[str], mesh_interfaces: t.Mapping[str, t.Sequence[str]],
             os_release: str, cores: int, batman_version: t.Optional[str]) -> t.Dict[str, t.Any]:
    """What a map shows of the gateway: names, addresses, the mesh's interfaces, software.

    ``mesh_interfaces`` maps the mesh interface (bat0, or the bridge) to the MACs of the links
    under it (tinc, fastd): the map draws the gateway's VPN links from them.
    """
    info: t.Dict[str, t.Any] = {
        "node_id": node_id(mac),
        "hostname": config["hostname"],
        "network": {
            "mac": mac.lower(),
            "addresses": sorted(addresses),
            "mesh": {name: {"interfaces": {"tunnel": sorted(macs)}} for name, macs in mesh_interfaces.items()},
        },
        "system": {"site_code": config["site_code"]},
        "software": {
            "firmware": {"base": os_release, "release": config["release"]},
            "fastd": {"enabled": True},
        },
        "hardware": {"nproc": cores, "model": config.get("model") or "Freifunk gateway"},
        "vpn": True,
    }
    if config.get("domain_code"):
        info["system"]["domain_code"] = config["domain_code"]
    if batman_version:
        info["software"]["batman-adv"] = {"version": batman_version}
    if config.get("contact"):
        info["owner"] = {"contact": config["contact"]}
    if config.get("location"):
        info["location"] = location(config["location"])
    return info


def location(value: t.Any) -> t.Dict[str, float]:
    """A node's place on the map: latitude and longitude in degrees."""
    try:
        place = {"latitude": float(value["latitude"]), "longitude": float(value["longitude"])}
    except (TypeError, KeyError, ValueError) as exc:
        raise RespondError(f"a location is latitude and longitude in degrees, not {value!r}") from exc
    if not (-90 <= place["latitude"] <= 90 and -180 <= place["longitude"] <= 180):
        raise RespondError(f"{value!r} is not a place on Earth")
    return place


def statistics(mac: str, uptime: str, loadavg: str, meminfo: str, traffic: t.Mapping[str, t.Any],
               clients: t.Optional[int], fastd_routers: t.Optional[int] = None) -> t.Dict[str, t.Any]:
    """The gateway's figures over time: uptime, load, memory, traffic, clients and routers.

    ``uptime`` and ``loadavg`` are /proc/uptime and /proc/loadavg as read.
    """
    up, idle = (float(value) for value in uptime.split()[:2])
    load = loadavg.split()
    running, total = load[3].split("/")
    stats: t.Dict[str, t.Any] = {
        "node_id": node_id(mac),
        "uptime": up,
        "idletime": idle,
        "loadavg": float(load[0]),
        "memory": parse_meminfo(meminfo),
        "processes": {"total": int(total), "running": int(running)},
        "traffic": dict(traffic),
    }
    if clients is not None:
        stats["clients"] = {"total": clients}
    if fastd_routers is not None:
        stats["mesh_vpn"] = {"fastd": {"routers": fastd_routers}}
    return stats


def neighbours(mac: str, originators: t.Sequence[t.Mapping[str, t.Any]], interface_macs: t.Mapping[str, str],
               algorithm: str = "BATMAN_IV") -> t.Dict[str, t.Any]:
    """The gateway's batman-adv neighbours by the MAC of the interface they are seen on, as the
    map draws its links. ``interface_macs`` maps interface names to their MACs. The link's metric
    is a TQ (0-255) under BATMAN_IV and a throughput (Mbit/s) under BATMAN_V."""
    metric = {"BATMAN_IV": "tq", "BATMAN_V": "throughput"}.get(algorithm)
    if metric is None:
        raise RespondError(f"{algorithm!r} is not a batman-adv routing algorithm")
    batadv: t.Dict[str, t.Dict[str, t.Any]] = {}
    for neighbour in originators:
        interface_mac = interface_macs.get(neighbour["interface"])
        if interface_mac is None:
            continue
        links = batadv.setdefault(interface_mac.lower(), {"neighbours": {}})["neighbours"]
        links[neighbour["mac"]] = {metric: neighbour["metric"], "lastseen": neighbour["lastseen"]}
    return {"node_id": node_id(mac), "batadv": batadv}
