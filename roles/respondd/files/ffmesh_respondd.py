# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ffmesh-respondd: the gateway on the community's map, as ffnord's mesh-announce puts servers there.

It listens on UDP port 1001 of the mesh bridge only, in the groups ff02::2:1001 and
ff05::2:1001, and answers nodeinfo, statistics and neighbours from what the kernel and batctl
report at the time of the request. The protocol and the answers' shape are in _respondd.py,
installed beside this file.

ffmesh-respondd CONFIG.json         serve
ffmesh-respondd --check CONFIG.json check the settings
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import typing as t

import _daemon  # pylint: disable=import-error
import _respondd  # pylint: disable=import-error

REQUIRED = ("hostname", "site_code", "release", "bridge", "mesh_interface", "batman", "routing_algorithm", "port")


def load_config(path: str) -> dict[str, t.Any]:
    config = _daemon.read_config(path, REQUIRED)
    if not isinstance(config["port"], int) or not 0 < config["port"] < 65536:
        raise ValueError(f"{path}: port {config['port']!r} is not a UDP port")
    if not config["hostname"] or not config["site_code"]:
        raise ValueError(f"{path}: the map needs a hostname and a site code")
    if config.get("location"):
        try:
            _respondd.location(config["location"])
        except _respondd.RespondError as exc:
            raise ValueError(f"{path}: {exc}") from exc
    return config


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def mac_of(interface: str) -> str:
    return read(f"/sys/class/net/{interface}/address").strip()


def lower_interfaces(config: dict[str, t.Any]) -> list[str]:
    """The links under the mesh interface: batman-adv's hard interfaces, or the bridge's ports."""
    if config["batman"]:
        prefix = "lower_"
        entries = os.listdir(f"/sys/class/net/{config['mesh_interface']}")
        return sorted(entry[len(prefix):] for entry in entries if entry.startswith(prefix))
    return sorted(os.listdir(f"/sys/class/net/{config['bridge']}/brif"))


def bridge_addresses(bridge: str) -> list[str]:
    """The IPv6 addresses of the mesh bridge, from /proc/net/if_inet6."""
    addresses = []
    for line in read("/proc/net/if_inet6").splitlines():
        fields = line.split()
        if len(fields) == 6 and fields[5] == bridge:
            addresses.append(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(fields[0])))
    return addresses


def batctl(config: dict[str, t.Any], *command: str) -> str:
    done = subprocess.run(["batctl", "meshif", config["mesh_interface"], *command],
                          capture_output=True, text=True, check=True, timeout=10)
    return done.stdout


def os_release() -> str:
    fields = dict(line.split("=", 1) for line in read("/etc/os-release").splitlines() if "=" in line)
    return fields.get("PRETTY_NAME", "Linux").strip('"')


def fastd_routers(config: dict[str, t.Any]) -> int | None:
    """The routers connected to this gateway, as the fastd peer limit last counted them."""
    if not config.get("fastd_limit_state"):
        return None
    try:
        return int(json.loads(read(config["fastd_limit_state"]))["established"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def provide(config: dict[str, t.Any], name: str) -> dict[str, t.Any]:
    # The bridge's MAC is the node's id: the address plan's (unique per gateway, kept across a
    # reinstall) where the mesh has a MAC prefix; bat0's comes from the machine id.
    mac = mac_of(config["bridge"])
    links = lower_interfaces(config)
    if name == "nodeinfo":
        batman_version = read("/sys/module/batman_adv/version").strip() if config["batman"] else None
        return _respondd.nodeinfo(config, mac, bridge_addresses(config["bridge"]),
                                  {config["mesh_interface"]: [mac_of(link) for link in links]},
                                  os_release(), os.cpu_count() or 1, batman_version)
    if name == "statistics":
        if config["batman"]:
            traffic = _respondd.parse_batman_statistics(batctl(config, "statistics"))
            clients = _respondd.count_local_clients(batctl(config, "translocal", "-H"),
                                                    [mac, mac_of(config["mesh_interface"])] + [mac_of(link) for link in links])
        else:
            counters = {key: int(read(f"/sys/class/net/{config['bridge']}/statistics/{key}"))
                        for key in ("rx_bytes", "rx_packets", "tx_bytes", "tx_packets")}
            traffic = {kind: {"bytes": counters[f"{kind}_bytes"], "packets": counters[f"{kind}_packets"]} for kind in ("rx", "tx")}
            clients = None
        return _respondd.statistics(mac, read("/proc/uptime"), read("/proc/loadavg"), read("/proc/meminfo"),
                                    traffic, clients, fastd_routers(config))
    originators = _respondd.parse_originators(batctl(config, "originators", "-H")) if config["batman"] else []
    return _respondd.neighbours(mac, originators, {link: mac_of(link) for link in links}, config["routing_algorithm"])


def listen(config: dict[str, t.Any]) -> socket.socket:
    """A socket on the mesh bridge only, in respondd's groups."""
    bridge = config["bridge"]
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, bridge.encode())
    sock.bind(("::", config["port"]))
    index = socket.if_nametoindex(bridge)
    for group in _respondd.GROUPS:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", index))
    return sock


def serve(config: dict[str, t.Any]) -> None:
    sock = listen(config)
    print(f"answering respondd on {config['bridge']} port {config['port']}", flush=True)
    while True:
        data, sender = sock.recvfrom(1500)
        try:
            names, compressed = _respondd.parse_request(data)
        except _respondd.RespondError as exc:
            print(f"{sender[0]}: {exc}", file=sys.stderr, flush=True)
            continue
        # A provider that cannot be read is left out: the map still gets the others.
        answers = {}
        for name in names:
            try:
                answers[name] = provide(config, name)
            except (OSError, ValueError, subprocess.SubprocessError) as exc:
                print(f"{sender[0]}: no {name}: {exc}", file=sys.stderr, flush=True)
        names = [name for name in names if name in answers]
        if names and (compressed or len(names) == 1):
            try:
                sock.sendto(_respondd.encode_answer(answers, names, compressed), sender)
            except OSError as exc:
                print(f"{sender[0]}: answer not sent: {exc}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(_daemon.main(sys.argv, load_config, serve))
