"""ffmesh-fastd-limit (the fastd_limit role's daemon) between two gateways with real fastd, and
routers configured as Gluon configures them (both gateways, ``peer limit 1``), in network
namespaces: the gate closes at the limit without dropping a connected router, new routers go
to the other gateway, and shedding hands an overfull gateway's newest routers on."""

from __future__ import annotations

import json
import pathlib
import shutil
import socket
import subprocess
import time

import pytest

from harness import ROOT, make_netns, remove_netns

DAEMON = ROOT / "roles" / "fastd_limit" / "files" / "ffmesh_fastd_limit.py"
RULE = ROOT / "plugins" / "plugin_utils" / "_peer_limit.py"
GATEWAYS = {"gw1": "10.77.1.1", "gw2": "10.77.2.1"}  # as the routers reach them
MESH = {"gw1": "10.77.0.1", "gw2": "10.77.0.2"}  # where the gateways ask each other
FASTD_PORT, LIMIT_PORT = 10000, 9471
MTU = 1406


def _run(*argv: str, netns: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run([*prefix, *argv], check=True, text=True, capture_output=True, **kwargs)


def _keypair() -> tuple[str, str]:
    secret = _run("fastd", "--generate-key", "--machine-readable").stdout.strip()
    public = _run("fastd", "--machine-readable", "--show-key", "--config", "-", input=f'secret "{secret}";').stdout.strip()
    return secret, public


def _connected(status_socket: pathlib.Path) -> list[str]:
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(status_socket))
            status = json.loads(sock.makefile().read())
    except OSError:
        return []
    return sorted(peer["name"] for peer in status["peers"].values() if peer.get("connection"))


def _wait(what, condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s")


class Lab:
    """Two gateways and a router namespace; each gateway runs one fastd and the daemon."""

    def __init__(self, workdir: pathlib.Path) -> None:
        self.workdir = workdir
        self.netns = {name: make_netns(f"lim-{name}") for name in ("gw1", "gw2", "routers")}
        self.processes: dict[str, subprocess.Popen] = {}
        self.keys = {name: _keypair() for name in GATEWAYS}
        self.router_keys: dict[str, tuple[str, str]] = {}
        routers, gw1, gw2 = self.netns["routers"], self.netns["gw1"], self.netns["gw2"]
        for name, address in GATEWAYS.items():
            _run("ip", "-n", routers, "link", "add", f"to-{name}", "type", "veth", "peer", "name", "routers", "netns", self.netns[name])
            _run("ip", "-n", routers, "addr", "add", address.rsplit(".", 1)[0] + ".2/24", "dev", f"to-{name}")
            _run("ip", "-n", routers, "link", "set", f"to-{name}", "up")
            _run("ip", "-n", self.netns[name], "addr", "add", f"{address}/24", "dev", "routers")
            _run("ip", "-n", self.netns[name], "link", "set", "routers", "up")
        _run("ip", "-n", gw1, "link", "add", "mesh", "type", "veth", "peer", "name", "mesh", "netns", gw2)
        for name in GATEWAYS:
            _run("ip", "-n", self.netns[name], "addr", "add", f"{MESH[name]}/24", "dev", "mesh")
            _run("ip", "-n", self.netns[name], "link", "set", "mesh", "up")
            (workdir / name / "peers").mkdir(parents=True)
        shutil.copy(DAEMON, workdir)
        shutil.copy(RULE, workdir)

    def start(self, key: str, argv: list[str], netns: str) -> None:
        log = open(self.workdir / f"{key}.log", "w", encoding="utf-8")  # pylint: disable=consider-using-with
        self.processes[key] = subprocess.Popen(["ip", "netns", "exec", netns, *argv], stdout=log, stderr=subprocess.STDOUT)

    def stop(self, key: str) -> None:
        process = self.processes.pop(key)
        process.terminate()
        process.wait(timeout=10)

    def status_socket(self, name: str) -> pathlib.Path:
        return self.workdir / name / "status.sock"

    def start_gateway_fastd(self, name: str) -> None:
        config = self.workdir / name / "fastd.conf"
        config.write_text(
            f'log to stderr level warn;\ninterface "fastd-{name}";\nmode tap;\nmethod "salsa2012+umac";\nmtu {MTU};\n'
            f'bind {GATEWAYS[name]}:{FASTD_PORT};\nsecret "{self.keys[name][0]}";\n'
            f'status socket "{self.status_socket(name)}";\ninclude peers from "{self.workdir / name / "peers"}";\n')
        self.start(f"fastd-{name}", ["fastd", "--config", str(config)], self.netns[name])
        _wait(f"{name}'s fastd status socket", self.status_socket(name).exists)

    def start_limit(self, name: str, buffer: int, shed_per_run: int = 0) -> None:
        other = next(gateway for gateway in GATEWAYS if gateway != name)
        config = {
            "listen": MESH[name], "port": LIMIT_PORT, "sockets": [str(self.status_socket(name))],
            "gateways": {other: f"http://{MESH[other]}:{LIMIT_PORT}/status"}, "configured_gateways": 2,
            "buffer": buffer, "min_change": 0, "shed_per_run": shed_per_run, "ports": [FASTD_PORT],
            "table": "ffmesh_fastd_limit", "interval": 2, "second": 0 if name == "gw1" else 1,
            "state_file": str(self.workdir / name / "state.json"),
        }
        path = self.workdir / name / "limit.json"
        path.write_text(json.dumps(config))
        _run("python3", str(self.workdir / DAEMON.name), "--check", str(path))
        self.start(f"limit-{name}", ["python3", str(self.workdir / DAEMON.name), str(path)], self.netns[name])

    def start_router(self, number: int) -> None:
        name = f"router{number}"
        self.router_keys[name] = _keypair()
        for gateway in GATEWAYS:
            (self.workdir / gateway / "peers" / name).write_text(f'key "{self.router_keys[name][1]}";\n')
        for gateway in GATEWAYS:
            key = f"fastd-{gateway}"
            if key in self.processes:
                self.processes[key].send_signal(1)  # SIGHUP: fastd reads the new peer
        peers = "".join(f'peer "{gateway}" {{ key "{self.keys[gateway][1]}"; remote {address}:{FASTD_PORT}; }}\n'
                        for gateway, address in GATEWAYS.items())
        config = self.workdir / f"{name}.conf"
        config.write_text(
            f'log to stderr level warn;\ninterface "{name}";\nmode tap;\nmethod "salsa2012+umac";\nmtu {MTU};\n'
            f'secret "{self.router_keys[name][0]}";\npeer limit 1;\n{peers}')
        self.start(name, ["fastd", "--config", str(config)], self.netns["routers"])

    def connected(self) -> dict[str, list[str]]:
        return {gateway: _connected(self.status_socket(gateway)) for gateway in GATEWAYS}

    def gate(self, name: str) -> str:
        return _run("nft", "list", "ruleset", netns=self.netns[name]).stdout

    def state(self, name: str) -> dict:
        try:
            return json.loads((self.workdir / name / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    def close(self) -> None:
        for key in list(self.processes):
            self.stop(key)
        for netns in self.netns.values():
            remove_netns(netns)


@pytest.fixture(name="lab")
def lab_fixture(require, tmp_path):
    require("ip", "fastd", "nft")
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.close()


def test_the_gate_holds_the_limit_without_dropping_a_router_and_shedding_evens_the_spread(lab):
    # gw1 alone serves: all six routers connect to it.
    lab.start_gateway_fastd("gw1")
    for name in GATEWAYS:
        lab.start_limit(name, buffer=1)
    for number in range(6):
        lab.start_router(number)
    _wait("six routers on gw1", lambda: len(lab.connected()["gw1"]) == 6)
    first = lab.connected()["gw1"]
    state = _wait("gw1's decision with gw2 offline", lambda: lab.state("gw1").get("established") == 6 and lab.state("gw1"))
    # gw2 does not serve: gw1 is the only active gateway, with a buffer more for gw2: 6 + 2.
    assert state["limit"] == 8 and not state["closed"] and state["others"] == {"gw2": None}

    # gw2 comes back: the limit is 6 / 2 + 1 = 4, gw1 closes, and keeps every router.
    lab.start_gateway_fastd("gw2")
    _wait("gw1 closed", lambda: lab.state("gw1").get("closed"))
    assert lab.state("gw1")["limit"] == 4
    assert "ct state new counter packets" in lab.gate("gw1")
    assert "ct state new" not in lab.gate("gw2") and "table inet ffmesh_fastd_limit" in lab.gate("gw2")
    # What gw2 (and a Prometheus on the mesh) reads from gw1.
    metrics = _run("python3", "-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())",
                   f"http://{MESH['gw1']}:{LIMIT_PORT}/metrics", netns=lab.netns["gw2"]).stdout
    assert 'ffmesh_fastd_routers{instance="0"} 6' in metrics.splitlines()
    assert "ffmesh_fastd_peer_limit 4" in metrics.splitlines() and "ffmesh_fastd_closed 1" in metrics.splitlines()
    time.sleep(10)
    assert lab.connected()["gw1"] == first, "a connected router was dropped"

    # New routers find gw1 closed and connect to gw2.
    for number in range(6, 8):
        lab.start_router(number)
    _wait("the new routers on gw2", lambda: lab.connected()["gw2"] == ["router6", "router7"])
    assert lab.connected()["gw1"] == first

    # With shedding, gw1 lets its newest routers go until it holds the limit (8 / 2 + 1 = 5).
    lab.stop("limit-gw1")
    lab.start_limit("gw1", buffer=1, shed_per_run=2)
    spread = _wait("gw1 down to its limit, the router it let go on gw2",
                   lambda: [len(routers) for routers in lab.connected().values()] == [5, 3] and lab.connected(), timeout=240)
    assert set(spread["gw1"]) < set(first) and not set(spread["gw1"]) & set(spread["gw2"])
    assert "let 1 router(s) go" in (lab.workdir / "limit-gw1.log").read_text()
