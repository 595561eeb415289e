# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ffmesh-fastd-limit: seed 001's limit_fastd_peers_gw as a daemon on every gateway.

Every ``interval`` seconds, at this gateway's own second of it, it counts the routers connected
to this gateway's fastd instances (their status sockets), asks the other gateways for theirs
over the mesh, and applies the limit (``_peer_limit.gate``, installed beside this file from the
collection) in the packet filter: fastd itself is never restarted, so no connected router is
dropped, unless ``shed_per_run`` lets an overfull gateway hand a few routers on.

It answers the other gateways on ``listen``: ``/status`` (JSON) and ``/metrics`` (Prometheus).
Its state is in ``state_file`` for a monitor; transitions go to the journal.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _daemon  # noqa: E402  pylint: disable=wrong-import-position
import _fastd_status  # noqa: E402  pylint: disable=wrong-import-position
import _metrics_http  # noqa: E402  pylint: disable=wrong-import-position
import _peer_limit  # noqa: E402  pylint: disable=wrong-import-position

REQUIRED = ("listen", "port", "sockets", "gateways", "configured_gateways", "buffer", "ports", "table",
            "interval", "second", "state_file")


def load_config(path: str) -> dict[str, t.Any]:
    config = _daemon.read_config(path, REQUIRED)
    if not 0 <= config["second"] < config["interval"]:
        raise ValueError(f"{path}: second {config['second']} is not within the interval {config['interval']}")
    _peer_limit.gate(0, {name: None for name in config["gateways"]}, config["configured_gateways"], config["buffer"],
                     shed_per_run=config.get("shed_per_run", 0))
    _peer_limit.gate_ruleset(config["table"], config["ports"], True)
    return config


def ask(url: str, source: str) -> dict[str, t.Any] | None:
    """Another gateway's /status, asked from this gateway's own mesh address: the firewall lets
    only the gateways' mesh addresses in, and the mesh bridge's first address may be another."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=3, source_address=(source, 0))
    try:
        connection.request("GET", parts.path)
        response = connection.getresponse()
        return json.load(response) if response.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()


class Limiter:
    def __init__(self, config: dict[str, t.Any]) -> None:
        self.config = config
        self.status: dict[str, t.Any] = {"serving": False, "established": 0, "limit": None, "closed": None}
        self.closed: bool | None = None
        self.limit: int | None = None
        self.shed: dict[str, float] = {}  # address -> when it was let go
        self.lock = threading.Lock()

    def count(self) -> tuple[bool, dict[str, int], dict[str, t.Any]]:
        instances, peers = {}, {}
        for index, path in enumerate(self.config["sockets"]):
            status = _fastd_status.read_status(path)
            if status is None:
                continue
            instance_peers = status.get("peers", {})
            peers.update(instance_peers)
            instances[str(index)] = sum(1 for peer in instance_peers.values()
                                        if peer.get("connection") and peer.get("address") not in self.shed)
        return bool(instances), instances, peers

    def apply(self, closed: bool) -> None:
        script = _peer_limit.gate_ruleset(self.config["table"], self.config["ports"], closed)
        subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)
        self.closed = closed

    def let_go(self, addresses: list[str]) -> None:
        script = "".join(_peer_limit.shed_element(self.config["table"], address) + "\n" for address in addresses)
        subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)
        self.shed.update((address, time.time()) for address in addresses)

    def run_once(self) -> dict[str, t.Any]:
        now = time.time()
        serving, instances, peers = self.count()
        connected = {peer.get("address") for peer in peers.values() if peer.get("connection")}
        self.shed = {address: when for address, when in self.shed.items()
                     if address in connected and now - when < _peer_limit.SHED_SECONDS}
        own = sum(instances.values())
        others = {}
        for name, url in self.config["gateways"].items():
            answer = ask(url, self.config["listen"])
            # A gateway whose count is older than three of its runs is not deciding any more.
            fresh = answer and answer.get("serving") and now - answer.get("updated", 0) < 3 * self.config["interval"]
            others[name] = answer["established"] if fresh else None
        decision = _peer_limit.gate(own, others, self.config["configured_gateways"], self.config["buffer"],
                                    current=self.limit, min_change=self.config.get("min_change", 0),
                                    shed_per_run=self.config.get("shed_per_run", 0))
        closed = decision["closed"] and serving
        if closed != self.closed:
            self.apply(closed)
            print(f"{'closed' if closed else 'opened'} to new routers: {own} connected, limit {decision['limit']} "
                  f"({decision['active_peers']} routers on {decision['active_gateways']} of "
                  f"{self.config['configured_gateways']} gateways)", flush=True)
        self.limit = decision["limit"]
        if closed and decision["shed"]:
            addresses = _peer_limit.newest_peers(peers, decision["shed"], spared=self.shed)
            self.let_go(addresses)
            print(f"let {len(addresses)} router(s) go to the other gateways: {own} connected, limit {self.limit}", flush=True)
        status = {"serving": serving, "established": own, "instances": instances, "others": others,
                  "limit": self.limit, "closed": closed, "shed_pending": len(self.shed),
                  "active_gateways": decision["active_gateways"], "active_peers": decision["active_peers"],
                  "updated": int(now)}
        with self.lock:
            self.status = status
        write_state(self.config["state_file"], status)
        return status

    def metrics(self) -> str:
        with self.lock:
            status = dict(self.status)
        lines = ["# HELP ffmesh_fastd_routers Routers connected to a fastd instance of this gateway.",
                 "# TYPE ffmesh_fastd_routers gauge"]
        lines += [f'ffmesh_fastd_routers{{fastd_instance="{index}"}} {count}' for index, count in sorted(status.get("instances", {}).items())]
        lines += ["# HELP ffmesh_fastd_peer_limit The routers this gateway takes before it closes to new ones.",
                  "# TYPE ffmesh_fastd_peer_limit gauge",
                  f"ffmesh_fastd_peer_limit {status['limit'] if status['limit'] is not None else 'NaN'}",
                  "# HELP ffmesh_fastd_closed 1 while the gateway takes no new routers.",
                  "# TYPE ffmesh_fastd_closed gauge",
                  f"ffmesh_fastd_closed {int(bool(status['closed']))}"]
        return "\n".join(lines) + "\n"


def write_state(path: str, content: dict[str, t.Any]) -> None:
    directory = os.path.dirname(path) or "."
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, encoding="utf-8") as handle:
        json.dump(content, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, path)


def serve(limiter: Limiter) -> http.server.ThreadingHTTPServer:
    def status() -> tuple[str, str]:
        with limiter.lock:
            return json.dumps(limiter.status), _metrics_http.JSON_TYPE

    pages = {"/status": status, "/metrics": lambda: (limiter.metrics(), _metrics_http.METRICS_TYPE)}
    server = _metrics_http.serve(limiter.config["listen"], limiter.config["port"], pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(config: dict[str, t.Any]) -> None:
    limiter = Limiter(config)
    serve(limiter)
    interval, second = config["interval"], config["second"]
    while True:
        # This gateway's own second of the interval: the gateways never decide at the same time.
        time.sleep((second - time.time()) % interval or interval)
        try:
            limiter.run_once()
        except (OSError, ValueError, subprocess.CalledProcessError) as exc:
            print(f"run failed: {exc}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(_daemon.main(sys.argv, load_config, run))
