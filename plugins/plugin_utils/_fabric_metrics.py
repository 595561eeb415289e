# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a fabric node's exporter (role ``fabric_exporter``) tells Prometheus.

At every scrape the exporter asks FRR (``show bgp neighbors json``, ``show bfd peers json``),
WireGuard (``wg show INTERFACE latest-handshakes`` and ``transfer``: never ``dump``, which holds
the private key) and the kernel (each GRE tunnel's flags) and turns the answers into samples
here, per peer of the node's plan (``fabric_plan``): a peer that FRR does not know, or a tunnel
that is gone, is reported down, not left out.

Two metrics are shaped for Grafana's node graph: ``ffmesh_fabric_node`` (labels ``id``,
``title``, ``subtitle``; the value is the node's established BGP sessions) and
``ffmesh_fabric_edge`` (labels ``id``, ``source``, ``target``; 1 while the BGP session is
established). Both ends of a session name its edge alike (the two node names in order), so
``min by (id, source, target)`` gives one edge per session, down if either end sees it down.
The exporter installs this file and ``_metrics`` (its ``render``) beside itself.
"""

from __future__ import annotations

import json
import typing as t

METRICS = {
    "ffmesh_fabric_node": ("gauge", "This fabric node, for Grafana's node graph; the value is its established BGP sessions."),
    "ffmesh_fabric_edge": ("gauge", "A BGP session of the fabric, for Grafana's node graph: 1 while it is established."),
    "ffmesh_fabric_frr_up": ("gauge", "1 if FRR's vtysh answered."),
    "ffmesh_fabric_bgp_session_up": ("gauge", "1 while the BGP session with the peer is established."),
    "ffmesh_fabric_bgp_session_uptime_seconds": ("gauge", "How long the BGP session with the peer has been established."),
    "ffmesh_fabric_bgp_prefixes_received": ("gauge", "Prefixes accepted from the peer, per address family."),
    "ffmesh_fabric_bfd_session_up": ("gauge", "1 while the BFD session with the peer is up."),
    "ffmesh_fabric_tunnel_up": ("gauge", "1 while the GRE tunnel to the peer exists and is up."),
    "ffmesh_fabric_wireguard_last_handshake_seconds": ("gauge", "Unix time of the last WireGuard handshake with the peer (0: none yet)."),
    "ffmesh_fabric_wireguard_bytes_total": ("counter", "Bytes received (rx) from or sent (tx) to the peer over WireGuard."),
}
# FRR's names of the address families whose accepted prefixes are reported.
ADDRESS_FAMILIES = {"ipv4Unicast": "ipv4", "ipv6Unicast": "ipv6"}
IFF_UP = 0x1

Sample = t.Tuple[str, t.Dict[str, str], float]


class Peer(t.TypedDict):
    """What the exporter reads of a peer in the node's plan (``fabric_plan``'s ``peers``)."""

    name: str
    interface: str


def json_documents(text: str | None, count: int) -> list[t.Any] | None:
    """The ``count`` JSON documents of one vtysh run with as many ``-c`` commands (vtysh writes
    them one after the other); None when vtysh did not answer or answered otherwise."""
    if text is None:
        return None
    decoder, documents, position = json.JSONDecoder(), [], 0
    try:
        while len(documents) < count:
            while position < len(text) and text[position].isspace():
                position += 1
            document, position = decoder.raw_decode(text, position)
            documents.append(document)
    except ValueError:
        return None
    return documents if not text[position:].strip() else None


def edge_labels(node: str, peer: str) -> dict[str, str]:
    """The node graph's labels of the session between ``node`` and ``peer``, alike from both ends."""
    source, target = sorted((node, peer))
    return {"id": f"{source}--{target}", "source": source, "target": target}


def bgp_samples(node: str, peers: t.Sequence[Peer], neighbors: t.Mapping[str, t.Any] | None) -> list[Sample]:
    """Each peer's BGP session, from ``show bgp neighbors json`` (keyed by the interface for
    unnumbered peers; None when vtysh did not answer), and the node graph's node and edges."""
    samples: list[Sample] = [("ffmesh_fabric_frr_up", {}, 0 if neighbors is None else 1)]
    for peer in peers:
        labels = {"peer": peer["name"], "interface": peer["interface"]}
        neighbor = (neighbors or {}).get(peer["interface"])
        neighbor = neighbor if isinstance(neighbor, t.Mapping) else {}
        up = neighbor.get("bgpState") == "Established"
        samples.append(("ffmesh_fabric_bgp_session_up", labels, int(up)))
        samples.append(("ffmesh_fabric_edge", edge_labels(node, peer["name"]), int(up)))
        if up:
            samples.append(("ffmesh_fabric_bgp_session_uptime_seconds", labels, _number(neighbor.get("bgpTimerUpMsec")) / 1000))
        for family, name in ADDRESS_FAMILIES.items():
            info = (neighbor.get("addressFamilyInfo") or {}).get(family)
            if isinstance(info, t.Mapping) and "acceptedPrefixCounter" in info:
                samples.append(("ffmesh_fabric_bgp_prefixes_received", {**labels, "family": name}, _number(info["acceptedPrefixCounter"])))
    return samples


def node_samples(node: str, loopback: str, bgp: t.Sequence[Sample]) -> list[Sample]:
    """The node graph's node: this node, its loopback as subtitle, its established sessions."""
    established = sum(value for name, _labels, value in bgp if name == "ffmesh_fabric_bgp_session_up")
    return [("ffmesh_fabric_node", {"id": node, "title": node, "subtitle": loopback}, established)]


def bfd_samples(peers: t.Sequence[Peer], sessions: t.Sequence[t.Any] | None) -> list[Sample]:
    """Each peer's BFD session, from ``show bfd peers json`` (a list; None: no answer)."""
    up_interfaces = {session.get("interface") for session in sessions or [] if isinstance(session, t.Mapping) and session.get("status") == "up"}
    return [("ffmesh_fabric_bfd_session_up", {"peer": peer["name"], "interface": peer["interface"]}, int(peer["interface"] in up_interfaces))
            for peer in peers]


def tunnel_samples(peers: t.Sequence[Peer], flags: t.Mapping[str, int]) -> list[Sample]:
    """Each peer's GRE tunnel: ``flags`` maps the node's interfaces to their kernel flags."""
    return [("ffmesh_fabric_tunnel_up", {"peer": peer["name"], "interface": peer["interface"]},
             int(bool(flags.get(peer["interface"], 0) & IFF_UP))) for peer in peers]


def wireguard_samples(public_keys: t.Mapping[str, str], handshakes: str, transfer: str) -> list[Sample]:
    """Each peer's WireGuard handshake and traffic (``public_keys``: peer name -> public key), from
    ``wg show IF latest-handshakes`` and ``wg show IF transfer`` (tab-separated, one line per
    public key; empty when wg failed)."""
    by_key = {key: name for name, key in public_keys.items()}
    last = {fields[0]: _number(fields[1]) for fields in _fields(handshakes, 2)}
    moved = {fields[0]: (_number(fields[1]), _number(fields[2])) for fields in _fields(transfer, 3)}
    samples: list[Sample] = []
    for key, name in by_key.items():
        samples.append(("ffmesh_fabric_wireguard_last_handshake_seconds", {"peer": name}, last.get(key, 0)))
        if key in moved:
            samples += [("ffmesh_fabric_wireguard_bytes_total", {"peer": name, "direction": direction}, value)
                        for direction, value in zip(("rx", "tx"), moved[key])]
    return samples


def _fields(text: str, count: int) -> list[list[str]]:
    return [fields for fields in (line.split("\t") for line in text.splitlines()) if len(fields) == count]


def _number(value: t.Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
