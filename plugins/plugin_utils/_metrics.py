# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a gateway's exporter (role ``exporter``) tells Prometheus, from what its daemons report.

The exporter reads the fastd instances' status sockets, Kea's lease file and the uplink check's
state at every scrape and turns them into samples here; :func:`render` writes Prometheus' text
format. The recursor's own metrics (its web server, on loopback) pass through :func:`relayed`.
Pure functions, so the rules are tested without a gateway; the exporter installs this
file beside itself, as ``fastd_limit`` does with ``_peer_limit``.
"""

from __future__ import annotations

import csv
import ipaddress
import math
import typing as t

# name -> (type, help)
METRICS = {
    "ffmesh_fastd_up": ("gauge", "1 if the fastd instance answers on its status socket."),
    "ffmesh_fastd_connected_routers": ("gauge", "Routers with an established connection to the fastd instance."),
    "ffmesh_fastd_bytes_total": ("counter", "Bytes the fastd instance received (rx) or sent (tx) since it started."),
    "ffmesh_fastd_packets_total": ("counter", "Packets the fastd instance received (rx) or sent (tx) since it started."),
    "ffmesh_dhcp_leases_in_use": ("gauge", "Leases of the gateway's DHCP pool that have not expired."),
    "ffmesh_dhcp_pool_size": ("gauge", "Addresses in the gateway's DHCP pool."),
    "ffmesh_uplink_up": ("gauge", "1 while the uplink check finds the way out of the mesh."),
    "ffmesh_recursor_up": ("gauge", "1 if the DNS recursor's web server answered with its metrics."),
}
# The recursor names its metrics so (PowerDNS Recursor 4.3 and later).
RECURSOR_PREFIX = "pdns_recursor_"

Sample = t.Tuple[str, t.Dict[str, str], float]


def fastd_samples(instance: str, status: t.Mapping[str, t.Any] | None) -> list[Sample]:
    """One fastd instance: whether it answers, its connected routers and its traffic.

    ``status`` is what its status socket returned (JSON), or None when it did not answer: then
    only ``ffmesh_fastd_up 0``, so an alert can tell a dead instance from one without routers.
    """
    labels = {"fastd_instance": instance}
    if status is None:
        return [("ffmesh_fastd_up", labels, 0)]
    peers = status.get("peers") or {}
    connected = sum(1 for peer in peers.values() if isinstance(peer, t.Mapping) and peer.get("connection"))
    samples: list[Sample] = [("ffmesh_fastd_up", labels, 1), ("ffmesh_fastd_connected_routers", labels, connected)]
    statistics = status.get("statistics") or {}
    for direction in ("rx", "tx"):
        counts = statistics.get(direction) or {}
        for key, name in (("bytes", "ffmesh_fastd_bytes_total"), ("packets", "ffmesh_fastd_packets_total")):
            if isinstance(counts.get(key), (int, float)) and not isinstance(counts.get(key), bool):
                samples.append((name, {**labels, "direction": direction}, counts[key]))
    return samples


def pool_size(start: str, end: str) -> int:
    """Addresses from ``start`` to ``end``, both included (Kea's ``"start - end"`` pool)."""
    first, last = ipaddress.ip_address(start), ipaddress.ip_address(end)
    if first.version != last.version or last < first:
        raise ValueError(f"pool {start} - {end} is not a range of addresses")
    return int(last) - int(first) + 1


def lease_files(base: str, exists: t.Callable[[str], bool]) -> list[str]:
    """The files that hold Kea's leases, oldest first, as Kea itself loads them at start.

    Kea appends to ``base``. Its cleanup (kea-lfc) renames ``base`` to ``.1`` and starts a new
    ``base``, merges ``.2`` (the previous cleanup's result) and ``.1`` into ``.completed``, then
    renames that to ``.2`` and removes ``.1``. So: ``.completed`` if it is there, otherwise ``.2``
    and ``.1``; and ``base`` last.
    """
    older = [f"{base}.completed"] if exists(f"{base}.completed") else [f"{base}.2", f"{base}.1"]
    return [path for path in older if exists(path)] + [base]


def leases_in_use(lease_files: t.Iterable[t.Iterable[str]], now: float) -> int:
    """Addresses with a lease that has not expired, from Kea's memfile CSV files (oldest first,
    see :func:`lease_files`): an address's last record decides. A released or expired lease has
    an ``expire`` in the past; a declined one has state 1.
    """
    last: dict[str, dict[str, str]] = {}
    for lines in lease_files:
        for record in csv.DictReader(lines):
            if record.get("address"):
                last[record["address"]] = record
    in_use = 0
    for record in last.values():
        try:
            expire, lifetime = int(record.get("expire") or 0), int(record.get("valid_lifetime") or 0)
        except ValueError:
            continue
        if lifetime > 0 and expire > now and (record.get("state") or "0") == "0":
            in_use += 1
    return in_use


def dhcp_samples(in_use: int, size: int) -> list[Sample]:
    return [("ffmesh_dhcp_leases_in_use", {}, in_use), ("ffmesh_dhcp_pool_size", {}, size)]


def uplink_samples(state: t.Mapping[str, t.Any] | None) -> list[Sample]:
    """The uplink check's verdict (its state file); none on a gateway without an uplink."""
    if state is None:
        return []
    return [("ffmesh_uplink_up", {}, 1 if state.get("uplink") == "up" else 0)]


def recursor_samples(metrics: str | None) -> list[Sample]:
    """Whether the recursor answered its ``/metrics`` (``metrics`` is None when it did not)."""
    return [("ffmesh_recursor_up", {}, 0 if metrics is None else 1)]


def relayed(text: str, prefix: str = RECURSOR_PREFIX) -> str:
    """Another daemon's ``/metrics`` to append to the exporter's: its samples, HELP and TYPE lines
    whose metric names start with ``prefix``, nothing else. So the exporter cannot repeat one of
    its own metrics, and a page that is no metrics at all (an error page) adds nothing.
    """
    kept = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "#" and words[1] in ("HELP", "TYPE"):
            name = words[2]
        elif words and not line.startswith("#"):
            name = words[0].split("{", 1)[0]
        else:
            continue
        if name.startswith(prefix):
            kept.append(line)
    return "\n".join(kept) + "\n" if kept else ""


def _value(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _escape(value: t.Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: t.Mapping[str, str]) -> str:
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in sorted(labels.items())) + "}" if labels else ""


def render(samples: t.Iterable[Sample], metrics: t.Mapping[str, tuple[str, str]] | None = None) -> str:
    """Prometheus' text format (0.0.4): each metric's HELP and TYPE once, then its samples.
    ``metrics`` is the exporter's table of metrics (name -> type, help), in the order to write;
    the gateway's (:data:`METRICS`) unless given.
    """
    metrics = METRICS if metrics is None else metrics
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        if sample[0] not in metrics:
            raise ValueError(f"{sample[0]} is not one of the exporter's metrics")
        by_name.setdefault(sample[0], []).append(sample)
    lines = []
    for name in metrics:
        if name not in by_name:
            continue
        kind, text = metrics[name]
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{_labels(labels)} {_value(value)}" for _name, labels, value in by_name[name]]
    return "\n".join(lines) + "\n" if lines else ""
