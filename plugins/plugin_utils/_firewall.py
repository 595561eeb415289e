# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A gateway's packet filter: what may reach the host, and what it forwards.

:func:`firewall_plan` checks the firewall role's settings (ports, addresses, interface names,
the administrator's extra rules) and returns what its templates look up: named sets, the rules
of the ``input`` and ``forward`` chains of ``table inet ffmesh_filter``, each with the reason it
is there, and the rules that let the mesh's traffic pass Docker's ``DOCKER-USER`` chain.

Inbound, the host takes SSH from anywhere (first, so that nothing after it can lock Ansible
out), replies, ICMP, fastd from anywhere, tinc only from the other gateways, GRE only from the
tunnel endpoints, BGP only on the tunnels, DHCP, DNS and respondd only on the mesh bridge, and the
exporters only on the mesh bridge and only from the monitoring's addresses. It forwards
only the mesh to the tunnels, and replies back: nothing from the internet opens a connection into
the mesh.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

SSH_PORTS_VAR = "freifunk_firewall_ssh_ports"
TINC_PEERS_VAR = "freifunk_firewall_tinc_peers"
MESH_PEERS_VAR = "freifunk_firewall_mesh_peers"
MESH_PEER_PORTS_VAR = "freifunk_firewall_mesh_peer_ports"
MONITORING_SOURCES_VAR = "freifunk_firewall_monitoring_sources"
MONITORING_PORTS_VAR = "freifunk_firewall_monitoring_ports"
TUNNELS_VAR = "freifunk_firewall_tunnels"
EXTRA_INPUT_VAR = "freifunk_firewall_extra_input_rules"
EXTRA_FORWARD_VAR = "freifunk_firewall_extra_forward_rules"
FASTD_PORT_VAR = "freifunk_fastd_port"
FASTD_FIRST_VAR = "freifunk_fastd_first_instance_port"
FASTD_INSTANCES_VAR = "freifunk_fastd_instances"
TINC_PORT_VAR = "freifunk_tinc_port"
MESH_BRIDGE_VAR = "freifunk_mesh_bridge"
RUNTIME_VAR = "freifunk_runtime"
ENGINE_VAR = "freifunk_container_engine"

# Where the engines' builds run their RUN steps: their default bridge (netavark's podman0, CNI's
# cni-podman0, Docker's docker0), whose traffic the host forwards to the internet.
ENGINE_BRIDGES = {"podman": ("podman0", "cni-podman0"), "docker": ("docker0",)}
# Kea (dhcpd role), the recursor (recursor role) and respondd (respondd role) serve the mesh.
DHCP_PORT = 67
DNS_PORT = 53
RESPONDD_PORT = 1001
BGP_PORT = 179
# fastd runs one instance per core: more than this is a typo, not a machine.
MAX_FASTD_INSTANCES = 1024
# The chain of ours that Docker's DOCKER-USER jumps to.
DOCKER_CHAIN = "FFMESH-FORWARD"
# What the kernel and systemd-networkd take as an interface name (uplink_plan checks tunnel names so).
_INTERFACE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$")
# Seed 000's key for a tunnel's endpoint (freifunk_gateway.gre_tunnels); uplink_plan's is "endpoint".
_ENDPOINT_KEYS = ("endpoint", "tunnel_endpoint")


class FirewallError(ValueError):
    """Firewall settings that would make a ruleset other than the one meant; the message names the variable."""


def _port(variable: str, value: t.Any) -> int:
    # bool is an int in Python; true is no port.
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise FirewallError(f"{variable} = {value!r} is not a port (a whole number from 1 to 65535)")
    return int(text)


def _list(variable: str, value: t.Any) -> list[t.Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, t.Mapping)) or not isinstance(value, t.Iterable):
        raise FirewallError(f"{variable} = {value!r} must be a list")
    return list(value)


def _interface(variable: str, value: t.Any) -> str:
    name = str(value) if isinstance(value, str) else ""
    if not _INTERFACE.match(name):
        raise FirewallError(f"{variable} = {value!r} is not an interface name: 1 to 15 letters, digits, '_', '.' or '-'")
    return name


def _address(variable: str, value: t.Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError as exc:
        raise FirewallError(f"{variable} = {value!r} is not an IP address") from exc


def _network(variable: str, value: t.Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    # strict: 10.0.0.5/24 is a typo for an address or for 10.0.0.0/24, and either guess opens the wrong hosts.
    try:
        return ipaddress.ip_network(str(value).strip())
    except ValueError as exc:
        raise FirewallError(f"{variable} = {value!r} is not an IP address or network (a network's host bits must be 0)") from exc


def _rules(variable: str, value: t.Any) -> list[str]:
    rules = []
    for position, rule in enumerate(_list(variable, value)):
        where = f"{variable}[{position}]"
        if not isinstance(rule, str) or not rule.strip():
            raise FirewallError(f"{where} = {rule!r} must be an nft rule, a non-empty string")
        if "\n" in rule or "\r" in rule:
            raise FirewallError(f"{where} = {rule!r} spans lines; give one rule per list entry")
        # A brace that closes the chain would let the rule end it and write elsewhere in the table.
        depth = 0
        for character in rule:
            depth += {"{": 1, "}": -1}.get(character, 0)
            if depth < 0:
                break
        if depth != 0:
            raise FirewallError(f"{where} = {rule!r} has unbalanced braces; a rule may use sets {{ ... }} but not end its chain")
        rules.append(rule.strip())
    return rules


def _sshd_ports(settings: str) -> set[int]:
    """The ports in ``sshd -T``'s output: its ``port`` lines and the ports of ``listenaddress``."""
    ports = set()
    for line in settings.splitlines():
        key, _space, value = line.strip().partition(" ")
        if key == "port" and value.strip().isdigit():
            ports.add(int(value))
        elif key == "listenaddress" and ":" in value:
            port = value.split()[0].rsplit(":", 1)[1]
            if port.isdigit():
                ports.add(int(port))
    return ports


def _elements(values: t.Iterable[t.Any], quoted: bool = False) -> list[str]:
    # Interface names are strings in nft's syntax; ports and addresses are not.
    return [f'"{value}"' if quoted else str(value) for value in values]


def _family(addresses: t.Iterable[t.Any], version: int) -> list[str]:
    return [str(address) for address in sorted(a for a in addresses if a.version == version)]


def _merged(networks: t.Iterable[t.Any], version: int) -> list[str]:
    # nft refuses an interval set whose elements overlap ("conflicting intervals specified").
    return [str(network) for network in ipaddress.collapse_addresses(sorted(n for n in networks if n.version == version))]


def firewall_plan(
    tunnels: t.Any = None,
    *,
    ssh_ports: t.Any = (22,),
    fastd_port: t.Any = 10000,
    fastd_first_instance_port: t.Any = 10001,
    fastd_instances: t.Any = 1,
    tinc_port: t.Any = 655,
    tinc_peers: t.Any = None,
    mesh_bridge: t.Any = "br-mesh",
    mesh_peers: t.Any = None,
    mesh_peer_ports: t.Any = None,
    monitoring_sources: t.Any = None,
    monitoring_ports: t.Any = None,
    extra_input_rules: t.Any = None,
    extra_forward_rules: t.Any = None,
    runtime: t.Any = "native",
    container_engine: t.Any = "podman",
    sshd_settings: t.Any = None,
) -> dict[str, t.Any]:
    """Checks the firewall role's settings and returns its ruleset as the templates read it.

    ``tunnels`` are the GRE tunnels to the backbone, dicts with ``name`` (the interface) and
    ``endpoint`` (or seed 000's ``tunnel_endpoint``); other keys are ignored, so uplink_plan's
    ``tunnels`` fit as they are. ``tinc_peers`` are the other gateways' tinc addresses; empty
    strings (a gateway that has none, see tinc_addresses) add nothing. ``mesh_peers`` are the
    other gateways' mesh addresses, the only ones that reach ``mesh_peer_ports`` (TCP, on the
    mesh bridge: the gateways' own services, such as the fastd peer limit). ``monitoring_sources``
    (addresses or networks) are the only ones that reach ``monitoring_ports`` (TCP, on the mesh
    bridge: the exporters). ``sshd_settings`` is what
    ``sshd -T`` prints, or None: when given, every port sshd listens on must be in ``ssh_ports``.
    """
    ssh = sorted({_port(f"{SSH_PORTS_VAR}[{i}]", port) for i, port in enumerate(_list(SSH_PORTS_VAR, ssh_ports))})
    if not ssh:
        raise FirewallError(f"{SSH_PORTS_VAR} is empty: the ruleset would lock Ansible and everyone else out of SSH")
    if sshd_settings:
        missing = sorted(_sshd_ports(str(sshd_settings)) - set(ssh))
        if missing:
            raise FirewallError(
                f"sshd listens on port {', '.join(map(str, missing))} (sshd -T), which {SSH_PORTS_VAR} = {ssh} does not "
                "open: the ruleset would lock Ansible out; add the port"
            )

    public = _port(FASTD_PORT_VAR, fastd_port)
    first = _port(FASTD_FIRST_VAR, fastd_first_instance_port)
    count_text = str(fastd_instances).strip() if not isinstance(fastd_instances, bool) else ""
    if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_FASTD_INSTANCES:
        raise FirewallError(f"{FASTD_INSTANCES_VAR} = {fastd_instances!r} must be a whole number from 1 to {MAX_FASTD_INSTANCES}")
    if first + int(count_text) - 1 > 65535:
        raise FirewallError(f"{FASTD_FIRST_VAR} = {first} with {FASTD_INSTANCES_VAR} = {count_text}: the last instance's port is past 65535")
    # The balancer redirects the public port to the instances in prerouting, so input sees the
    # instance ports; the public port stays open for a moment without the balancer (boot).
    fastd = sorted({public, *range(first, first + int(count_text))})
    tinc = _port(TINC_PORT_VAR, tinc_port)

    peers = {_address(f"{TINC_PEERS_VAR}[{i}]", peer) for i, peer in enumerate(_list(TINC_PEERS_VAR, tinc_peers))
             if not (isinstance(peer, str) and not peer.strip())}

    bridge = _interface(MESH_BRIDGE_VAR, mesh_bridge)
    gateways = {_address(f"{MESH_PEERS_VAR}[{i}]", peer) for i, peer in enumerate(_list(MESH_PEERS_VAR, mesh_peers))}
    gateway_ports = sorted({_port(f"{MESH_PEER_PORTS_VAR}[{i}]", port)
                            for i, port in enumerate(_list(MESH_PEER_PORTS_VAR, mesh_peer_ports))})
    monitors = {_network(f"{MONITORING_SOURCES_VAR}[{i}]", source)
                for i, source in enumerate(_list(MONITORING_SOURCES_VAR, monitoring_sources))}
    ipv6_monitors = sorted(str(network) for network in monitors if network.version == 6)
    if ipv6_monitors:
        raise FirewallError(f"{MONITORING_SOURCES_VAR} has {ipv6_monitors[0]}: the exporters listen on the gateway's IPv4 mesh "
                            "address only; give the monitoring's IPv4 address or network")
    monitored_ports = sorted({_port(f"{MONITORING_PORTS_VAR}[{i}]", port)
                              for i, port in enumerate(_list(MONITORING_PORTS_VAR, monitoring_ports))})
    names: list[str] = []
    endpoints = set()
    for position, entry in enumerate(_list(TUNNELS_VAR, tunnels)):
        variable = f"{TUNNELS_VAR}[{position}]"
        if not isinstance(entry, t.Mapping):
            raise FirewallError(f"{variable} = {entry!r} must be a dict with name and endpoint")
        if "name" not in entry:
            raise FirewallError(f"{variable} has no name (the tunnel's interface)")
        name = _interface(f"{variable}.name", entry["name"])
        if name == bridge:
            raise FirewallError(f"{variable}.name = {name!r} is the mesh bridge ({MESH_BRIDGE_VAR})")
        if name in names:
            raise FirewallError(f"{variable}.name = {name!r}: two tunnels have this name")
        key = next((key for key in _ENDPOINT_KEYS if key in entry), None)
        if key is None:
            raise FirewallError(f"{variable} ({name}) has no endpoint (the backbone's end of the tunnel)")
        endpoints.add(_address(f"{variable}.{key}", entry[key]))
        names.append(name)

    if runtime not in ("native", "container"):
        raise FirewallError(f"{RUNTIME_VAR} = {runtime!r} must be native or container")
    if container_engine not in ENGINE_BRIDGES:
        raise FirewallError(f"{ENGINE_VAR} = {container_engine!r} must be podman or docker")
    engine_bridges = list(ENGINE_BRIDGES[container_engine]) if runtime == "container" else []
    extra_input = _rules(EXTRA_INPUT_VAR, extra_input_rules)
    extra_forward = _rules(EXTRA_FORWARD_VAR, extra_forward_rules)

    mesh = f'"{bridge}"'
    sets = [
        {"name": "ssh_ports", "type": "inet_service", "elements": _elements(ssh),
         "why": "SSH, accepted before anything else"},
        {"name": "fastd_ports", "type": "inet_service", "elements": _elements(fastd),
         "why": "fastd's public port and its instances' ports, open to every router"},
        {"name": "tinc_peers_ipv4", "type": "ipv4_addr", "elements": _family(peers, 4),
         "why": "The other gateways, the only ones tinc takes (IPv4)"},
        {"name": "tinc_peers_ipv6", "type": "ipv6_addr", "elements": _family(peers, 6),
         "why": "The other gateways (IPv6)"},
        {"name": "mesh_peers_ipv4", "type": "ipv4_addr", "elements": _family(gateways, 4),
         "why": "The other gateways' mesh addresses, the only ones that reach the gateways' own services (IPv4)"},
        {"name": "mesh_peers_ipv6", "type": "ipv6_addr", "elements": _family(gateways, 6),
         "why": "The other gateways' mesh addresses (IPv6)"},
        {"name": "mesh_peer_ports", "type": "inet_service", "elements": _elements(gateway_ports),
         "why": "The gateways' own services on the mesh (TCP)"},
        {"name": "monitoring_ipv4", "type": "ipv4_addr", "flags": "interval", "elements": _merged(monitors, 4),
         "why": "The monitoring's addresses, the only ones that reach the exporters (IPv4)"},
        {"name": "monitoring_ports", "type": "inet_service", "elements": _elements(monitored_ports),
         "why": "The exporters on the mesh (TCP)"},
        {"name": "gre_endpoints_ipv4", "type": "ipv4_addr", "elements": _family(endpoints, 4),
         "why": "The backbone's tunnel endpoints, the only sources of GRE (IPv4)"},
        {"name": "gre_endpoints_ipv6", "type": "ipv6_addr", "elements": _family(endpoints, 6),
         "why": "The backbone's tunnel endpoints (IPv6)"},
        {"name": "tunnels", "type": "ifname", "elements": _elements(names, quoted=True),
         "why": "The GRE tunnels: BGP runs over them, and the mesh leaves through them"},
        {"name": "engine_bridges", "type": "ifname", "elements": _elements(engine_bridges, quoted=True),
         "why": "The container engine's bridge, where image builds run"},
    ]
    input_rules = [
        {"rule": "tcp dport @ssh_ports accept",
         "why": "SSH first: no later rule and no connection state can lock Ansible out."},
        {"rule": "ct state established,related accept", "why": "Replies to what the host sent."},
        {"rule": "ct state invalid drop", "why": "Packets that belong to no connection."},
        {"rule": 'iif "lo" accept', "why": "The host's own traffic to itself."},
        {"rule": "meta l4proto { icmp, ipv6-icmp } accept",
         "why": "Ping and path MTU discovery; IPv6 needs ICMPv6 for neighbour discovery and router solicitations."},
        {"rule": "udp dport @fastd_ports accept", "why": "fastd: routers connect from anywhere."},
        {"rule": f"ip saddr @tinc_peers_ipv4 meta l4proto {{ tcp, udp }} th dport {tinc} accept",
         "why": "tinc: only the other gateways."},
        {"rule": f"ip6 saddr @tinc_peers_ipv6 meta l4proto {{ tcp, udp }} th dport {tinc} accept",
         "why": "tinc over IPv6."},
        {"rule": "ip saddr @gre_endpoints_ipv4 meta l4proto gre accept", "why": "GRE: only the tunnels' endpoints."},
        {"rule": "ip6 saddr @gre_endpoints_ipv6 meta l4proto gre accept", "why": "GRE over IPv6."},
        {"rule": f"iifname @tunnels tcp dport {BGP_PORT} accept", "why": "BGP: only from inside the tunnels."},
        {"rule": f"iifname {mesh} udp dport {DHCP_PORT} accept",
         "why": "DHCP (Kea) for the mesh; batman-adv itself is layer 2 and never reaches this hook."},
        {"rule": f"iifname {mesh} meta l4proto {{ tcp, udp }} th dport {DNS_PORT} accept",
         "why": "DNS (the recursor) for the mesh."},
        {"rule": f"iifname {mesh} udp dport {RESPONDD_PORT} accept",
         "why": "respondd: the community's map asks every node on the mesh."},
        {"rule": f"iifname {mesh} ip saddr @mesh_peers_ipv4 tcp dport @mesh_peer_ports accept",
         "why": "The other gateways, and only they, reach the gateways' own services on the mesh."},
        {"rule": f"iifname {mesh} ip6 saddr @mesh_peers_ipv6 tcp dport @mesh_peer_ports accept",
         "why": "The same over IPv6."},
        {"rule": f"iifname {mesh} ip saddr @monitoring_ipv4 tcp dport @monitoring_ports accept",
         "why": "The monitoring, and only it, scrapes the exporters on the mesh."},
    ]
    input_rules += [{"rule": rule, "why": f"{EXTRA_INPUT_VAR}[{i}]"} for i, rule in enumerate(extra_input)]
    input_rules.append({"rule": 'counter name "dropped_input" drop', "why": "Everything else, counted."})

    forward_rules = [
        {"rule": "ct state established,related accept",
         "why": "Replies: the only way from the tunnels or the internet into the mesh."},
        {"rule": f"iifname {mesh} oifname @tunnels accept", "why": "The mesh leaves through the tunnels, and only there."},
        {"rule": f"iifname {mesh} oifname {mesh} accept",
         "why": "Frames between the mesh bridge's ports where br_netfilter (loaded by Docker) shows them here."},
        {"rule": f"iifname @engine_bridges oifname != {mesh} accept",
         "why": "Image builds reach the internet (not the mesh) from the engine's bridge."},
    ]
    forward_rules += [{"rule": rule, "why": f"{EXTRA_FORWARD_VAR}[{i}]"} for i, rule in enumerate(extra_forward)]
    forward_rules.append({"rule": 'counter name "dropped_forward" drop', "why": "Everything else, counted."})

    # iptables-restore lines for Docker's FORWARD chain, whose policy Docker sets to drop; they
    # name interfaces only, so the same file serves iptables and ip6tables.
    docker_user = [f"-A {DOCKER_CHAIN} -o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    docker_user += [f"-A {DOCKER_CHAIN} -i {bridge} -o {name} -j ACCEPT" for name in names]
    docker_user.append(f"-A {DOCKER_CHAIN} -i {bridge} -o {bridge} -j ACCEPT")

    return {
        "ssh_ports": ssh,
        "fastd_ports": fastd,
        "tinc_port": tinc,
        "tinc_peers": [str(peer) for peer in sorted(peers, key=lambda a: (a.version, a))],
        "tunnels": names,
        "endpoints": [str(endpoint) for endpoint in sorted(endpoints, key=lambda a: (a.version, a))],
        "mesh_bridge": bridge,
        "engine_bridges": engine_bridges,
        "sets": sets,
        "counters": ["dropped_input", "dropped_forward"],
        "input": input_rules,
        "forward": forward_rules,
        "docker_chain": DOCKER_CHAIN,
        "docker_user": docker_user,
    }
