"""The firewall role's ruleset with real nftables and real packets, in network namespaces this test makes.

The role's own tasks render the ruleset (checked by `nft --check` as the role checks it) and its
units; the gateway namespace loads the ruleset with the unit's ExecStart. Around it:
- ``inet``, the internet on the gateway's public interface ``eth0``: a listed tinc peer, a
  stranger, and the tunnel endpoint (GRE's source);
- ``mesh``, a client behind the mesh bridge (a veth named ``br-mesh``);
- ``bb``, the backbone behind a veth named as the tunnel (this kernel has no GRE).
Every namespace runs listeners on every port that is probed, so a probe that gets no answer
after the ruleset is loaded got one before it: the firewall made the difference. Then the
Docker answer: iptables' FORWARD policy drop and a DOCKER-USER chain as Docker makes them, and
the Docker unit's commands. This file is also the listeners' and probes' script (``serve``,
``probe``), run in the namespaces.
"""

from __future__ import annotations

import concurrent.futures
import json
import pathlib
import re
import selectors
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import typing as t

import pytest
import yaml

from harness import LOCAL, ROOT, make_netns, remove_netns, run_playbook

ROLE = ROOT / "roles" / "firewall"

GW_PUBLIC, PEER, STRANGER, ENDPOINT = "203.0.113.1", "203.0.113.10", "203.0.113.20", "192.0.2.10"
GW_TUNNEL, BB_TUNNEL, SERVER = "198.51.100.1", "198.51.100.0", "198.51.100.80"
GW_MESH, CLIENT = "10.186.1.1", "10.186.2.5"
TUNNEL = "a_ak_ber"
SETTINGS = {
    "freifunk_firewall_ssh_ports": [22],
    "freifunk_fastd_port": 10000,
    "freifunk_fastd_first_instance_port": 10001,
    "freifunk_fastd_instances": 2,
    "freifunk_tinc_port": 655,
    # As tinc_addresses gives them: one gateway without an address.
    "freifunk_firewall_tinc_peers": [PEER, ""],
    "freifunk_firewall_tunnels": [{"name": TUNNEL, "endpoint": ENDPOINT}],
    "freifunk_firewall_extra_input_rules": ["tcp dport 8443 accept"],
    "freifunk_firewall_extra_forward_rules": [f'iifname "eth0" ip daddr {CLIENT} tcp dport 8081 accept'],
    "freifunk_runtime": "container",
    "freifunk_container_engine": "docker",
}
# The role's tasks that write files; units go to the work directory instead of /etc/systemd.
RENDER_TASKS = ("Create the firewall's directory", "Write the ruleset and the unit that applies it",
                "Write the mesh's rules for Docker's FORWARD chain and the unit that applies them whenever Docker starts")
WRITE_RULESET = RENDER_TASKS[1]
LISTEN = {
    "gw": {"tcp": [22, 53, 179, 655, 8443], "udp": [53, 67, 655, 10000, 10001, 10002, 10003], "gre": True},
    "inet": {"tcp": [8080]},
    "mesh": {"tcp": [8080, 8081]},
    "bb": {"tcp": [8080]},
}
TIMEOUT = 1.5


class Probe(t.NamedTuple):
    name: str
    origin: str  # the namespace it starts in
    source: t.Optional[str]
    protocol: str
    destination: str
    port: int
    expected: str  # with the ruleset loaded


PROBES = [Probe(*entry) for entry in [
    ("ssh from the internet", "inet", STRANGER, "tcp", GW_PUBLIC, 22, "open"),
    ("ssh from the mesh", "mesh", None, "tcp", GW_MESH, 22, "open"),
    ("ping from the internet", "inet", STRANGER, "ping", GW_PUBLIC, 0, "answered"),
    ("fastd public port", "inet", STRANGER, "udp", GW_PUBLIC, 10000, "answered"),
    ("fastd instance 0", "inet", STRANGER, "udp", GW_PUBLIC, 10001, "answered"),
    ("fastd instance 1", "inet", STRANGER, "udp", GW_PUBLIC, 10002, "answered"),
    ("no fastd instance 2", "inet", STRANGER, "udp", GW_PUBLIC, 10003, "silent"),
    ("tinc tcp from the peer", "inet", PEER, "tcp", GW_PUBLIC, 655, "open"),
    ("tinc udp from the peer", "inet", PEER, "udp", GW_PUBLIC, 655, "answered"),
    ("tinc tcp from a stranger", "inet", STRANGER, "tcp", GW_PUBLIC, 655, "timeout"),
    ("tinc udp from a stranger", "inet", STRANGER, "udp", GW_PUBLIC, 655, "silent"),
    ("gre from the endpoint", "inet", ENDPOINT, "gre", GW_PUBLIC, 0, "received"),
    ("gre from a stranger", "inet", STRANGER, "gre", GW_PUBLIC, 0, "lost"),
    ("bgp in the tunnel", "bb", None, "tcp", GW_TUNNEL, 179, "open"),
    ("bgp on the public address", "inet", STRANGER, "tcp", GW_PUBLIC, 179, "timeout"),
    ("bgp to the tunnel address from the public side", "inet", STRANGER, "tcp", GW_TUNNEL, 179, "timeout"),
    ("dns udp from the mesh", "mesh", None, "udp", GW_MESH, 53, "answered"),
    ("dns tcp from the mesh", "mesh", None, "tcp", GW_MESH, 53, "open"),
    ("dhcp from the mesh", "mesh", None, "udp", GW_MESH, 67, "answered"),
    ("dns udp from the internet", "inet", STRANGER, "udp", GW_PUBLIC, 53, "silent"),
    ("dns tcp from the internet", "inet", STRANGER, "tcp", GW_PUBLIC, 53, "timeout"),
    ("dhcp from the internet", "inet", STRANGER, "udp", GW_PUBLIC, 67, "silent"),
    ("extra input rule", "inet", STRANGER, "tcp", GW_PUBLIC, 8443, "open"),
    ("mesh to the tunnel, and the replies back", "mesh", None, "tcp", SERVER, 8080, "open"),
    ("mesh to the internet, not a tunnel", "mesh", None, "tcp", PEER, 8080, "timeout"),
    ("internet into the mesh", "inet", STRANGER, "tcp", CLIENT, 8080, "timeout"),
    ("tunnel into the mesh", "bb", None, "tcp", CLIENT, 8080, "timeout"),
    ("extra forward rule into the mesh", "inet", STRANGER, "tcp", CLIENT, 8081, "open"),
]]
# Without a ruleset every probe gets through.
OPEN = {"tcp": "open", "udp": "answered", "ping": "answered", "gre": "received"}


# --- run in the namespaces -------------------------------------------------------------------

def serve(spec: dict, gre_log: str) -> None:
    """Accept TCP and close, echo UDP, log the sources of GRE packets; print ready."""
    selector = selectors.DefaultSelector()
    for port in spec.get("tcp", []):
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("0.0.0.0", port))
        server.listen(64)
        selector.register(server, selectors.EVENT_READ, "tcp")
    for port in spec.get("udp", []):
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("0.0.0.0", port))
        selector.register(server, selectors.EVENT_READ, "udp")
    if spec.get("gre"):
        selector.register(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE), selectors.EVENT_READ, "gre")
    print("ready", flush=True)
    with open(gre_log, "a", encoding="utf-8") as log:
        while True:
            for key, _mask in selector.select():
                if key.data == "tcp":
                    connection, _address = key.fileobj.accept()
                    connection.close()
                elif key.data == "udp":
                    data, peer = key.fileobj.recvfrom(2048)
                    key.fileobj.sendto(data, peer)
                else:
                    _packet, peer = key.fileobj.recvfrom(2048)
                    log.write(peer[0] + "\n")
                    log.flush()


def _probe(source: str | None, protocol: str, destination: str, port: int) -> str:
    if protocol == "ping":
        argv = ["ping", "-n", "-q", "-c", "1", "-W", "1", *(["-I", source] if source else []), destination]
        return "answered" if subprocess.run(argv, capture_output=True, check=False).returncode == 0 else "silent"
    kind = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM, "gre": socket.SOCK_RAW}[protocol]
    with socket.socket(socket.AF_INET, kind, socket.IPPROTO_GRE if protocol == "gre" else 0) as sock:
        sock.settimeout(TIMEOUT)
        if source:
            sock.bind((source, 0))
        try:
            if protocol == "gre":
                # GRE version 0 carrying IPv4, with no payload worth decoding.
                sock.sendto(b"\x00\x00\x08\x00" + bytes(20), (destination, 0))
                return "sent"
            if protocol == "tcp":
                sock.connect((destination, port))
                return "open"
            sock.sendto(b"probe", (destination, port))
            sock.recvfrom(2048)
            return "answered"
        except socket.timeout:
            return "timeout" if protocol == "tcp" else "silent"
        except ConnectionRefusedError:
            return "refused"
        except OSError as exc:
            return type(exc).__name__


def probe(probes: list) -> dict:
    """Runs the probes at once; name -> result."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(probes)) as pool:
        futures = {name: pool.submit(_probe, *args) for name, *args in probes}
        return {name: future.result() for name, future in futures.items()}


# --- the test ---------------------------------------------------------------------------------

def sh(*argv: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    if netns:
        argv = ("ip", "netns", "exec", netns, *argv)
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=60)


def unit_commands(unit: pathlib.Path, key: str) -> list[list[str]]:
    """A unit's ExecStart= (or other) command lines, without systemd's '-' prefix."""
    lines = [line.split("=", 1)[1] for line in unit.read_text().splitlines() if line.startswith(key + "=")]
    return [shlex.split(line.lstrip("-")) for line in lines]


class FirewallLab:
    def __init__(self) -> None:
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="ffmesh-firewall-"))
        self.ns = {role: make_netns(role) for role in LISTEN}
        self.servers: list[subprocess.Popen] = []
        gw, inet, mesh, bb = (self.ns[role] for role in ("gw", "inet", "mesh", "bb"))
        for gw_device, peer_device, peer, gw_address, peer_addresses in (
            ("eth0", "eth0", inet, f"{GW_PUBLIC}/24", [f"{PEER}/24", f"{STRANGER}/24", f"{ENDPOINT}/32"]),
            ("br-mesh", "eth0", mesh, f"{GW_MESH}/16", [f"{CLIENT}/16"]),
            (TUNNEL, "gw_a", bb, f"{GW_TUNNEL}/31", [f"{BB_TUNNEL}/31"]),
        ):
            sh("ip", "link", "add", gw_device, "netns", gw, "type", "veth", "peer", "name", peer_device, "netns", peer)
            sh("ip", "-n", gw, "addr", "add", gw_address, "dev", gw_device)
            for address in peer_addresses:
                sh("ip", "-n", peer, "addr", "add", address, "dev", peer_device)
            sh("ip", "-n", gw, "link", "set", gw_device, "up")
            sh("ip", "-n", peer, "link", "set", peer_device, "up")
        sh("ip", "-n", bb, "addr", "add", f"{SERVER}/32", "dev", "lo")
        sh("ip", "-n", gw, "route", "add", f"{SERVER}/32", "via", BB_TUNNEL)
        sh("ip", "-n", mesh, "route", "add", "default", "via", GW_MESH)
        sh("ip", "-n", bb, "route", "add", "10.186.0.0/16", "via", GW_TUNNEL)
        # The internet tries the mesh and the tunnel's address through the gateway's public side.
        sh("ip", "-n", inet, "route", "add", "10.186.0.0/16", "via", GW_PUBLIC)
        sh("ip", "-n", inet, "route", "add", "198.51.100.0/24", "via", GW_PUBLIC)
        sh("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", netns=gw)
        self.gre_log = self.workdir / "gre.log"
        self.gre_log.touch()
        for role, spec in LISTEN.items():
            server = subprocess.Popen(["ip", "netns", "exec", self.ns[role], sys.executable, __file__, "serve", json.dumps(spec),
                                       str(self.gre_log)], stdout=subprocess.PIPE, text=True)
            self.servers.append(server)
            assert server.stdout.readline().strip() == "ready", f"listeners in {role} did not start"

    def probe(self, names: list[str] | None = None) -> dict:
        """Each probe's result, all at once, from the namespaces they start in."""
        chosen = [entry for entry in PROBES if names is None or entry.name in names]
        self.gre_log.write_text("")
        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(LISTEN)) as pool:
            runs = [pool.submit(sh, sys.executable, __file__, "probe",
                                json.dumps([[entry.name, entry.source, entry.protocol, entry.destination, entry.port]
                                            for entry in chosen if entry.origin == origin]),
                                netns=self.ns[origin])
                    for origin in {entry.origin for entry in chosen}]
            for run in runs:
                results.update(json.loads(run.result().stdout))
        time.sleep(0.3)
        received = set(self.gre_log.read_text().split())
        for entry in chosen:
            if entry.protocol == "gre":
                results[entry.name] = "received" if entry.source in received else "lost"
        return results

    def render(self, **changes) -> tuple:
        """The role's tasks that write files, run by ansible-playbook; (run, output directory)."""
        out = self.workdir / "state"
        tasks = [task for task in yaml.safe_load((ROLE / "tasks" / "main.yml").read_text()) if task["name"] in RENDER_TASKS]
        assert [task["name"] for task in tasks] == list(RENDER_TASKS)
        for task in tasks:
            for key in ("notify", "register"):
                task.pop(key, None)
            for spec in task.get("ffmesh.gateway.config_files", {}).get("files", []):
                # Outside the role the lookup finds its templates by their whole path.
                spec["content"] = re.sub(r"lookup\('ansible.builtin.template', '([^']+)'\)",
                                         lambda found: f"lookup('ansible.builtin.template', '{ROLE / 'templates' / found[1]}')",
                                         spec["content"])
                if spec["path"].startswith("/etc/systemd/system/"):
                    spec["path"] = str(self.workdir / pathlib.Path(spec["path"]).name)
        settings = self.workdir / "settings.yml"
        settings.write_text(yaml.safe_dump({**SETTINGS, "freifunk_state_dir": str(out), **changes}))
        # Later vars_files win: the settings above the role's defaults.
        play = [{"name": "render", "hosts": "localhost", "gather_facts": False,
                 "vars_files": [str(ROLE / "defaults" / "main.yml"), str(settings), str(ROLE / "vars" / "main.yml")],
                 "tasks": tasks}]
        return run_playbook(play, LOCAL, self.workdir), out / "firewall"

    def ruleset(self) -> str:
        return sh("nft", "list", "table", "inet", "ffmesh_filter", netns=self.ns["gw"]).stdout

    def close(self) -> None:
        for server in self.servers:
            server.terminate()
            server.wait(timeout=10)
        for name in self.ns.values():
            remove_netns(name)


@pytest.fixture
def firewall_lab(require):
    require("ip", "nft", "iptables", "ping")
    lab = FirewallLab()
    yield lab
    lab.close()


def test_the_ruleset_lets_in_and_through_only_what_the_gateway_serves(firewall_lab):
    lab = firewall_lab
    gw = lab.ns["gw"]
    before = lab.probe()
    assert before == {entry.name: OPEN[entry.protocol] for entry in PROBES}, before

    run, rendered = lab.render()
    assert run.failed == 0, run.stdout[-3000:]
    nft_file = rendered / "firewall.nft"
    statements = [line for line in nft_file.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert statements[:3] == ["table inet ffmesh_filter", "delete table inet ffmesh_filter", "table inet ffmesh_filter {"]
    for argv in unit_commands(lab.workdir / "ffmesh-firewall.service", "ExecStart"):
        sh(*argv, netns=gw)

    after = lab.probe()
    assert after == {entry.name: entry.expected for entry in PROBES}, after
    # SSH is the input chain's first rule; what is dropped is counted.
    chain = json.loads(sh("nft", "-j", "list", "chain", "inet", "ffmesh_filter", "input", netns=gw).stdout)["nftables"]
    first = next(item["rule"]["expr"] for item in chain if "rule" in item)
    assert first[0]["match"]["left"]["payload"] == {"protocol": "tcp", "field": "dport"} and first[0]["match"]["right"] == "@ssh_ports"
    assert first[-1] == {"accept": None}, first
    counter = json.loads(sh("nft", "-j", "list", "counter", "inet", "ffmesh_filter", "dropped_input", netns=gw).stdout)["nftables"]
    assert next(item["counter"]["packets"] for item in counter if "counter" in item) > 0

    # A syntax error in an extra rule: nft --check refuses it, the file and the loaded ruleset stay.
    loaded, written = lab.ruleset(), nft_file.read_bytes()
    broken, _rendered = lab.render(freifunk_firewall_extra_input_rules=["tcp dport 8443 acept"])
    assert broken.failed == 1
    failure = broken.results(WRITE_RULESET)["localhost"]
    assert failure.get("failed") and "failed its check (nft --check" in failure["msg"], failure
    assert nft_file.read_bytes() == written
    assert lab.ruleset() == loaded
    # What the plan refuses stops the task as well, naming the variable.
    refused, _rendered = lab.render(freifunk_firewall_extra_input_rules=["tcp dport 8443 accept\ntcp dport 8444 accept"])
    assert "freifunk_firewall_extra_input_rules[0]" in refused.results(WRITE_RULESET)["localhost"]["msg"]
    assert nft_file.read_bytes() == written
    assert lab.probe(["ssh from the internet", "tinc tcp from a stranger", "extra input rule"]) == {
        "ssh from the internet": "open", "tinc tcp from a stranger": "timeout", "extra input rule": "open"}

    # Docker: FORWARD's policy drop and DOCKER-USER first, as Docker leaves them, drop the way out.
    for argv in (["-N", "DOCKER-USER"], ["-A", "DOCKER-USER", "-j", "RETURN"], ["-A", "FORWARD", "-j", "DOCKER-USER"],
                 ["-P", "FORWARD", "DROP"]):
        sh("iptables", *argv, netns=gw)
    way_out = ["mesh to the tunnel, and the replies back", "internet into the mesh", "mesh to the internet, not a tunnel"]
    assert lab.probe(way_out) == {way_out[0]: "timeout", way_out[1]: "timeout", way_out[2]: "timeout"}
    # The Docker unit's start, twice (Docker restarted): the way out again, nothing more, one jump.
    for _restart in range(2):
        for argv in unit_commands(lab.workdir / "ffmesh-firewall-docker.service", "ExecStart"):
            sh(*argv, netns=gw)
    assert lab.probe(way_out) == {way_out[0]: "open", way_out[1]: "timeout", way_out[2]: "timeout"}
    assert sh("iptables", "-S", "DOCKER-USER", netns=gw).stdout.count("-j FFMESH-FORWARD") == 1
    # Its stop takes the jump out again.
    for argv in unit_commands(lab.workdir / "ffmesh-firewall-docker.service", "ExecStop"):
        sh(*argv, netns=gw, check=False)
    assert "FFMESH-FORWARD" not in sh("iptables", "-S", "DOCKER-USER", netns=gw).stdout


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(json.loads(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "probe":
        print(json.dumps(probe(json.loads(sys.argv[2]))))
