# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ffmesh-fabric-exporter: a fabric node's peers, tunnels and BGP/BFD sessions for Prometheus,
on the node's fabric loopback only.

At every scrape of ``/metrics`` it asks FRR (through the host's vtysh, which enters the FRR
machine), WireGuard and the kernel, all at once with a time limit each, and answers in
Prometheus' text format. The rules are the collection's ``_fabric_metrics``, installed beside
this file with ``_metrics`` and ``_metrics_http``. Nothing is kept between scrapes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _daemon  # noqa: E402  pylint: disable=wrong-import-position
import _fabric_metrics  # noqa: E402  pylint: disable=wrong-import-position
import _metrics  # noqa: E402  pylint: disable=wrong-import-position
import _metrics_http  # noqa: E402  pylint: disable=wrong-import-position

REQUIRED = ("listen", "port", "node", "loopback", "peers", "public_keys", "bfd", "vtysh", "wireguard_interface")
# Within Prometheus' default scrape timeout (10 s): a hanging FRR shows as ffmesh_fabric_frr_up 0,
# not as a lost scrape. Entering the machine and vtysh's answer took over 4 s on a busy emulated VM.
SOURCE_TIMEOUT = 8


def load_config(path: str) -> dict[str, t.Any]:
    config = _daemon.read_config(path, REQUIRED)
    for peer in config["peers"]:
        if not all(isinstance(peer.get(key), str) and peer[key] for key in ("name", "interface")):
            raise ValueError(f"{path}: a peer needs a name and an interface: {peer!r}")
        if peer["name"] not in config["public_keys"]:
            raise ValueError(f"{path}: no WireGuard public key for the peer {peer['name']}")
    return config


def output_of(*command: str) -> str | None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=SOURCE_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def interface_flags() -> dict[str, int]:
    flags = {}
    for name in os.listdir("/sys/class/net"):
        try:
            with open(f"/sys/class/net/{name}/flags", encoding="ascii") as handle:
                flags[name] = int(handle.read(), 16)
        except (OSError, ValueError):
            continue
    return flags


def collect(config: dict[str, t.Any]) -> str:
    peers, wireguard = config["peers"], config["wireguard_interface"]
    # One vtysh for FRR's answers: each run enters the machine anew (machinectl, nsenter).
    commands = ["show bgp neighbors json"] + (["show bfd peers json"] if config["bfd"] else [])
    with ThreadPoolExecutor(max_workers=3) as pool:
        frr = pool.submit(output_of, config["vtysh"], *[word for command in commands for word in ("-c", command)])
        handshakes = pool.submit(output_of, "wg", "show", wireguard, "latest-handshakes")
        transfer = pool.submit(output_of, "wg", "show", wireguard, "transfer")
    answers = _fabric_metrics.json_documents(frr.result(), len(commands)) or [None] * len(commands)
    bgp = _fabric_metrics.bgp_samples(config["node"], peers, answers[0])
    samples = (_fabric_metrics.node_samples(config["node"], config["loopback"], bgp) + bgp
               + (_fabric_metrics.bfd_samples(peers, answers[1]) if config["bfd"] else [])
               + _fabric_metrics.tunnel_samples(peers, interface_flags())
               + _fabric_metrics.wireguard_samples(config["public_keys"], handshakes.result() or "", transfer.result() or ""))
    return _metrics.render(samples, _fabric_metrics.METRICS)


def run(config: dict[str, t.Any]) -> None:
    pages = {"/metrics": lambda: (collect(config), _metrics_http.METRICS_TYPE)}
    _metrics_http.serve(config["listen"], config["port"], pages).serve_forever()


if __name__ == "__main__":
    sys.exit(_daemon.main(sys.argv, load_config, run))
