# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Peer configuration built from public keys: tinc host files, fastd peer files, WireGuard peers,
and the controller-side record of every host's public keys."""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.ffmesh.gateway.plugins.module_utils import _keys

PEER_FORMATS = ("tinc", "fastd")
_TINC_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")
HEADER = "# Managed by ffmesh.gateway: changes here are overwritten.\n"


class PeerError(ValueError):
    """A peer that cannot be written; the message names it."""


def _address_kind(address: str) -> int:
    """4 or 6 for an IP address, 0 for a host name; PeerError otherwise."""
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        if _HOST_NAME.match(address) and len(address) <= 253:
            return 0
    raise PeerError(f"{address!r} is neither an IP address nor a host name")


def endpoint(address: str, port: int) -> str:
    """``host:port`` with brackets around IPv6 addresses."""
    return f"[{address}]:{port}" if _address_kind(address) == 6 else f"{address}:{port}"


def _port(name: str, peer: t.Mapping[str, t.Any], default: t.Optional[int]) -> t.Optional[int]:
    port = peer.get("port", default)
    if port is None:
        return None
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise PeerError(f"peer {name}: port {port!r} is not a port number")
    return port


def _addresses(name: str, peer: t.Mapping[str, t.Any]) -> t.List[str]:
    value = peer.get("address") or []
    addresses = [value] if isinstance(value, str) else list(value)
    for address in addresses:
        try:
            _address_kind(address)
        except PeerError as exc:
            raise PeerError(f"peer {name}: {exc}") from exc
    return addresses


def _public_key(key_type: str, name: str, peer: t.Mapping[str, t.Any]) -> str:
    try:
        return _keys.validate_public_key(key_type, peer.get("public_key"))
    except _keys.KeyFormatError as exc:
        raise PeerError(f"peer {name}: {exc}") from exc


def tinc_host_file(name: str, peer: t.Mapping[str, t.Any]) -> str:
    """A tinc 1.0 ``hosts/NAME`` file: addresses to connect to, port, RSA public key."""
    if not _TINC_NAME.match(name):
        raise PeerError(f"tinc node name {name!r} may only hold letters, digits and _; use inventory_hostname_short")
    key = _public_key("tinc", name, peer)
    port = _port(name, peer, 655)
    lines = [HEADER]
    lines += [f"Address = {address} {port}\n" for address in _addresses(name, peer)]
    lines += [f"Port = {port}\n", "\n", key]
    return "".join(lines)


def fastd_peer_file(name: str, peer: t.Mapping[str, t.Any]) -> str:
    """A fastd peer file: the key, and where to reach the peer if it is known."""
    key = _public_key("fastd", name, peer)
    port = _port(name, peer, None)
    lines = [HEADER, f'key "{key}";\n']
    for address in _addresses(name, peer):
        if port is None:
            raise PeerError(f"peer {name}: an address needs a port")
        if _address_kind(address):
            lines.append(f"remote {endpoint(address, port)};\n")
        else:
            lines.append(f'remote "{address}" port {port};\n')
    return "".join(lines)


def peer_file_name(name: str) -> str:
    if not _FILE_NAME.match(name):
        raise PeerError(f"peer name {name!r} is not a safe file name (letters, digits, _ . -)")
    return name


def peer_table(
    public_keys: t.Mapping[str, t.Any],
    addresses: t.Optional[t.Mapping[str, t.Any]] = None,
    port: t.Optional[int] = None,
) -> t.Dict[str, t.Dict[str, t.Any]]:
    """Peer name -> {public_key, address, port}, from the key record and per-peer addresses.

    Addresses of names without a key are not used: in check mode a new host has no key yet.
    """
    addresses = addresses or {}
    table: t.Dict[str, t.Dict[str, t.Any]] = {}
    for name in sorted(public_keys):
        table[name] = {"public_key": public_keys[name], "address": addresses.get(name)}
        if port is not None:
            table[name]["port"] = port
    return table


def render(peer_format: str, peers: t.Mapping[str, t.Mapping[str, t.Any]]) -> t.Dict[str, str]:
    """File name -> content for every peer of a ``peer_table``."""
    renderer = {"tinc": tinc_host_file, "fastd": fastd_peer_file}[peer_format]
    return {peer_file_name(name): renderer(name, peers[name]) for name in sorted(peers)}


def wireguard_peers(
    peers: t.Mapping[str, t.Mapping[str, t.Any]],
    allowed_ips: t.Optional[t.Mapping[str, t.Any]] = None,
    exclude: t.Optional[str] = None,
    persistent_keepalive: int = 0,
    section: str = "Peer",
) -> str:
    """``[Peer]`` sections of a ``peer_table`` for wg(8) / wg-quick configuration, sorted by name;
    with ``section="WireGuardPeer"``, for a systemd-networkd ``.netdev`` (the same keys)."""
    if section not in ("Peer", "WireGuardPeer"):
        raise PeerError(f"section {section!r} is Peer (wg, wg-quick) or WireGuardPeer (systemd-networkd)")
    allowed_ips = allowed_ips or {}
    sections = []
    for name in sorted(peers):
        if name == exclude:
            continue
        peer = dict(peers[name], allowed_ips=allowed_ips.get(name), persistent_keepalive=persistent_keepalive)
        lines = [f"# {name}", f"[{section}]", f"PublicKey = {_public_key('wireguard', name, peer)}"]
        allowed = peer.get("allowed_ips") or []
        for network in [allowed] if isinstance(allowed, str) else allowed:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise PeerError(f"peer {name}: allowed_ips {network!r}: {exc}") from exc
        if allowed:
            lines.append(f"AllowedIPs = {', '.join([allowed] if isinstance(allowed, str) else allowed)}")
        addresses = _addresses(name, peer)
        if len(addresses) > 1:
            raise PeerError(f"peer {name}: WireGuard takes one endpoint address, got {addresses}")
        if addresses:
            port = _port(name, peer, 51820)
            lines.append(f"Endpoint = {endpoint(addresses[0], port)}")
        keepalive = peer.get("persistent_keepalive") or 0
        if isinstance(keepalive, bool) or not isinstance(keepalive, int) or not 0 <= keepalive <= 65535:
            raise PeerError(f"persistent_keepalive {keepalive!r} must be 0 to 65535 seconds")
        if keepalive:
            lines.append(f"PersistentKeepalive = {keepalive}")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def merge_key_record(
    key_type: str,
    record: t.Mapping[str, str],
    reported: t.Mapping[str, t.Any],
    members: t.Sequence[str],
    check_mode: bool = False,
) -> t.Tuple[t.Dict[str, str], t.List[str]]:
    """The new record of public keys of a mesh, and the hosts whose key is not known yet.

    ``record`` is what the controller kept from earlier runs, ``reported`` what the hosts of this
    run reported, ``members`` every host of the mesh in the inventory. Hosts that left the
    inventory are dropped; members outside this run (``--limit``) keep their recorded key.
    In check mode a host that has no key yet reports None: it keeps its recorded key if it has
    one and is left out otherwise; either way it is named as pending.
    """
    unknown = sorted(set(reported) - set(members))
    if unknown:
        raise PeerError(f"hosts {unknown} reported {key_type} keys but are not members of the mesh")
    merged: t.Dict[str, str] = {}
    pending: t.List[str] = []
    for host in members:
        source = reported if host in reported else record
        if source is reported and reported[host] is None:
            if not check_mode:
                raise PeerError(f"host {host} reported no {key_type} public key")
            pending.append(host)
            source = record
            if host not in record:
                continue
        if host in source:
            try:
                merged[host] = _keys.validate_public_key(key_type, source[host])
            except _keys.KeyFormatError as exc:
                origin = "as reported" if source is reported else "in the record"
                raise PeerError(f"host {host}: {origin}: {exc}") from exc
        else:
            raise PeerError(
                f"host {host} is a member of the mesh but its {key_type} public key is not on record; "
                f"run the play once with {host} included (it is outside --limit or unreachable)"
            )
    return dict(sorted(merged.items())), pending
