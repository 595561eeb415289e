"""Shared by the system tests and the benchmarks: ansible-playbook runs of the collection,
network namespaces made for one test, the balancer lab (a gateway and a client namespace
joined by a veth pair), and the peer limit's lab (gateways with fastd, routers as Gluon's)."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import yaml

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = pathlib.Path(sys.executable).parent
LOCAL = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}


class PlaybookRun:
    """What ansible-playbook reported through the json callback."""

    def __init__(self, completed: subprocess.CompletedProcess) -> None:
        self.returncode = completed.returncode
        self.stderr = completed.stderr
        self.stdout = completed.stdout
        self.output = json.loads(completed.stdout) if completed.stdout.strip().startswith("{") else {}

    def results(self, task_name: str) -> dict:
        """Host name -> result of the named task (last play that has it)."""
        for play in reversed(self.output.get("plays", [])):
            for task in play["tasks"]:
                if task["task"]["name"] == task_name:
                    return task["hosts"]
        raise KeyError(f"no task {task_name!r} ran; stderr: {self.stderr[-2000:]} stdout: {self.stdout[-2000:]}")

    @property
    def changed(self) -> int:
        return sum(stats["changed"] for stats in self.output["stats"].values())

    @property
    def failed(self) -> int:
        if not self.output:
            return 1
        return sum(stats["failures"] + stats["unreachable"] for stats in self.output["stats"].values())


def run_playbook(plays: list | pathlib.Path, inventory: dict, workdir: pathlib.Path, *args: str, netns: str | None = None) -> PlaybookRun:
    """Run plays (a list, or the path of a playbook of the collection) against an inventory."""
    playbook = plays if isinstance(plays, pathlib.Path) else workdir / "playbook.yml"
    if not isinstance(plays, pathlib.Path):
        playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"))
    argv = [str(BIN / "ansible-playbook"), "-i", str(workdir / "inventory.yml"), str(playbook), *args]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    return PlaybookRun(subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False))


def make_netns(role: str) -> str:
    name = f"ffm-{role}-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    return name


def remove_netns(name: str) -> None:
    pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False).stdout.split()
    for pid in pids:
        subprocess.run(["kill", pid], check=False)
    subprocess.run(["ip", "netns", "del", name], check=False)


class BalancerLab:
    """A gateway namespace whose balancer the module programs, N UDP listeners standing in for
    fastd instances, and a client namespace that sends flows to the public port."""

    GATEWAY, CLIENT = "198.18.0.1", "198.18.0.2"  # benchmark range, only inside these namespaces
    PUBLIC_PORT, FIRST_INSTANCE_PORT = 10000, 10001

    def __init__(self) -> None:
        self.gateway, self.client = make_netns("gw"), make_netns("client")
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="ffmesh-balancer-"))
        self.listener: subprocess.Popen | None = None
        subprocess.run(["ip", "link", "add", "veth-gw", "netns", self.gateway, "type", "veth",
                        "peer", "name", "veth-cl", "netns", self.client], check=True)
        for namespace, device, address in ((self.gateway, "veth-gw", self.GATEWAY), (self.client, "veth-cl", self.CLIENT)):
            subprocess.run(["ip", "-n", namespace, "addr", "add", f"{address}/30", "dev", device], check=True)
            subprocess.run(["ip", "-n", namespace, "link", "set", device, "up"], check=True)

    def apply(self, *args: str, **options) -> PlaybookRun:
        """Run ffmesh.gateway.fastd_balancer (task name "balancer") in the gateway namespace."""
        play = [{"name": "balance", "hosts": "localhost", "gather_facts": False,
                 "tasks": [{"name": "balancer", "ffmesh.gateway.fastd_balancer": dict(port=self.PUBLIC_PORT, **options)}]}]
        return run_playbook(play, LOCAL, self.workdir, *args, netns=self.gateway)

    def listen(self, instances: int) -> None:
        self.stop_listening()
        ports = [str(self.FIRST_INSTANCE_PORT + i) for i in range(instances)]
        self.listener = subprocess.Popen(["ip", "netns", "exec", self.gateway, sys.executable, str(HERE / "udp_flows.py"), "listen", *ports],
                                         stdout=subprocess.PIPE, text=True)
        if self.listener.stdout.readline().strip() != "ready":
            raise RuntimeError("the UDP listeners did not start")

    def send(self, flows: int, rounds: int, first_source_port: int) -> dict:
        """Per flow the listener indexes that answered, and where the answers came from."""
        sent = subprocess.run(
            ["ip", "netns", "exec", self.client, sys.executable, str(HERE / "udp_flows.py"), "send", self.GATEWAY,
             str(self.PUBLIC_PORT), str(flows), str(rounds), str(first_source_port)],
            capture_output=True, text=True, check=True, timeout=600,
        )
        return json.loads(sent.stdout)

    def stop_listening(self) -> None:
        if self.listener:
            self.listener.terminate()
            self.listener.wait(timeout=10)
            self.listener = None

    def close(self) -> None:
        self.stop_listening()
        remove_netns(self.gateway)
        remove_netns(self.client)


def _in(netns: str | None, *argv: str, **kwargs) -> subprocess.CompletedProcess:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run([*prefix, *argv], check=True, text=True, capture_output=True, **kwargs)


def fastd_keypair() -> tuple[str, str]:
    secret = _in(None, "fastd", "--generate-key", "--machine-readable").stdout.strip()
    public = _in(None, "fastd", "--machine-readable", "--show-key", "--config", "-", input=f'secret "{secret}";').stdout.strip()
    return secret, public


def wait_for(what: str, condition, timeout: float = 60.0, step: float = 0.5, report=None):
    """condition()'s first true value, or AssertionError after timeout seconds (with report()'s
    account of the lab, if given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s" + (f"\n{report()}" if report else ""))


class FastdLimitLab:
    """Gateways with one real fastd and the fastd_limit role's daemon each, joined by a mesh
    bridge, and a namespace of routers configured as Gluon configures them: every gateway
    listed, ``peer limit 1``. Router i reaches gateway g at 10.77.<g+1>.1."""

    DAEMON = ROOT / "roles" / "fastd_limit" / "files" / "ffmesh_fastd_limit.py"
    EXPORTER = ROOT / "roles" / "exporter" / "files" / "ffmesh_exporter.py"
    # What the daemons import from beside themselves, as the roles install them.
    MODULES = [ROOT / "plugins" / "plugin_utils" / name for name in ("_peer_limit.py", "_fastd_status.py", "_metrics.py", "_metrics_http.py", "_daemon.py")]
    FASTD_PORT, LIMIT_PORT, EXPORTER_PORT, MTU = 10000, 9471, 9472, 1406

    def __init__(self, gateways: int, workdir: pathlib.Path | None = None) -> None:
        self.workdir = workdir or pathlib.Path(tempfile.mkdtemp(prefix="ffmesh-fastd-limit-"))
        self.gateways = [f"gw{number + 1}" for number in range(gateways)]
        self.address = {name: f"10.77.{number + 1}.1" for number, name in enumerate(self.gateways)}
        self.mesh = {name: f"10.77.0.{number + 1}" for number, name in enumerate(self.gateways)}
        self.netns = {name: make_netns(f"lim-{name}") for name in [*self.gateways, "routers", "mesh"]}
        self.processes: dict[str, subprocess.Popen] = {}
        self.keys = {name: fastd_keypair() for name in self.gateways}
        self.routers: dict[str, tuple[str, str]] = {}
        routers, mesh = self.netns["routers"], self.netns["mesh"]
        _in(None, "ip", "-n", mesh, "link", "add", "br-mesh", "type", "bridge")
        _in(None, "ip", "-n", mesh, "link", "set", "br-mesh", "up")
        for number, name in enumerate(self.gateways):
            gateway = self.netns[name]
            _in(None, "ip", "-n", routers, "link", "add", f"to-{name}", "type", "veth", "peer", "name", "uplink", "netns", gateway)
            _in(None, "ip", "-n", routers, "addr", "add", self.address[name].rsplit(".", 1)[0] + ".2/24", "dev", f"to-{name}")
            _in(None, "ip", "-n", routers, "link", "set", f"to-{name}", "up")
            _in(None, "ip", "-n", gateway, "addr", "add", f"{self.address[name]}/24", "dev", "uplink")
            _in(None, "ip", "-n", gateway, "link", "set", "uplink", "up")
            _in(None, "ip", "-n", mesh, "link", "add", f"port-{name}", "master", "br-mesh", "up", "type", "veth",
                "peer", "name", "mesh", "netns", gateway)
            # As on br-mesh, the mesh address is not the interface's first: the daemon must ask
            # from it, the only source the other gateways' firewalls let in.
            _in(None, "ip", "-n", gateway, "addr", "add", f"10.77.0.{101 + number}/24", "dev", "mesh")
            _in(None, "ip", "-n", gateway, "addr", "add", f"{self.mesh[name]}/24", "dev", "mesh")
            _in(None, "ip", "-n", gateway, "link", "set", "mesh", "up")
            _in(gateway, "nft", "-f", "-", input=(
                "table inet lab_firewall {\n chain input {\n  type filter hook input priority 0; policy accept;\n"
                f"  tcp dport {self.LIMIT_PORT} ip saddr != {{ {', '.join(self.mesh.values())} }} drop\n }}\n}}\n"))
            (self.workdir / name / "peers").mkdir(parents=True)
        for path in [self.DAEMON, self.EXPORTER, *self.MODULES]:
            shutil.copy(path, self.workdir)

    def _start(self, key: str, argv: list[str], netns: str) -> None:
        log = open(self.workdir / f"{key}.log", "w", encoding="utf-8")  # pylint: disable=consider-using-with
        self.processes[key] = subprocess.Popen(["ip", "netns", "exec", netns, *argv], stdout=log, stderr=subprocess.STDOUT)

    def stop(self, key: str) -> None:
        process = self.processes.pop(key)
        process.terminate()
        process.wait(timeout=10)

    def status_socket(self, name: str) -> pathlib.Path:
        return self.workdir / name / "status.sock"

    def start_fastd(self, name: str) -> None:
        config = self.workdir / name / "fastd.conf"
        self.status_socket(name).unlink(missing_ok=True)
        config.write_text(
            f'log to stderr level warn;\ninterface "fastd-{name}";\nmode tap;\nmethod "salsa2012+umac";\nmtu {self.MTU};\n'
            f'bind {self.address[name]}:{self.FASTD_PORT};\nsecret "{self.keys[name][0]}";\n'
            f'status socket "{self.status_socket(name)}";\ninclude peers from "{self.workdir / name / "peers"}";\n')
        self._start(f"fastd-{name}", ["fastd", "--config", str(config)], self.netns[name])
        wait_for(f"{name}'s fastd status socket", self.status_socket(name).exists)

    def start_limit(self, name: str, buffer: int, shed_per_run: int = 0, interval: int = 2) -> None:
        """The daemon as the role configures it, deciding every interval s at a second of its own."""
        others = [gateway for gateway in self.gateways if gateway != name]
        config = {
            "listen": self.mesh[name], "port": self.LIMIT_PORT, "sockets": [str(self.status_socket(name))],
            "gateways": {other: f"http://{self.mesh[other]}:{self.LIMIT_PORT}/status" for other in others},
            "configured_gateways": len(self.gateways), "buffer": buffer, "min_change": 0, "shed_per_run": shed_per_run,
            "ports": [self.FASTD_PORT], "table": "ffmesh_fastd_limit", "interval": interval,
            "second": self.gateways.index(name) * interval // len(self.gateways),
            "state_file": str(self.workdir / name / "state.json"),
        }
        path = self.workdir / name / "limit.json"
        path.write_text(json.dumps(config))
        _in(None, sys.executable, str(self.workdir / self.DAEMON.name), "--check", str(path))
        self._start(f"limit-{name}", [sys.executable, str(self.workdir / self.DAEMON.name), str(path)], self.netns[name])

    def start_exporter(self, name: str, config: dict) -> None:
        """The exporter role's daemon on the gateway's mesh address, reading its fastd instance."""
        config = {"listen": self.mesh[name], "port": self.EXPORTER_PORT, "sockets": [str(self.status_socket(name))], **config}
        path = self.workdir / name / "exporter.json"
        path.write_text(json.dumps(config))
        _in(None, sys.executable, str(self.workdir / self.EXPORTER.name), "--check", str(path))
        self._start(f"exporter-{name}", [sys.executable, str(self.workdir / self.EXPORTER.name), str(path)], self.netns[name])

    def add_router(self, number: int, start: bool = True) -> str:
        """Register router<number>'s key on every gateway (as a key repository would), and start it."""
        name = f"router{number}"
        self.routers.setdefault(name, fastd_keypair())
        for gateway in self.gateways:
            (self.workdir / gateway / "peers" / name).write_text(f'key "{self.routers[name][1]}";\n')
            if f"fastd-{gateway}" in self.processes:
                self.processes[f"fastd-{gateway}"].send_signal(1)  # SIGHUP: fastd reads the new peer
        if start:
            self.start_router(name)
        return name

    def start_router(self, name: str) -> None:
        peers = "".join(f'peer "{gateway}" {{ key "{self.keys[gateway][1]}"; remote {self.address[gateway]}:{self.FASTD_PORT}; }}\n'
                        for gateway in self.gateways)
        config = self.workdir / f"{name}.conf"
        config.write_text(
            f'log to stderr level warn;\ninterface "{name}";\nmode tap;\nmethod "salsa2012+umac";\nmtu {self.MTU};\n'
            f'secret "{self.routers[name][0]}";\npeer limit 1;\n{peers}')
        self._start(name, ["fastd", "--config", str(config)], self.netns["routers"])

    def connected(self) -> dict[str, list[str]]:
        """Gateway -> the routers its fastd reports connected (none where fastd does not answer)."""
        spread = {}
        for gateway in self.gateways:
            try:
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.connect(str(self.status_socket(gateway)))
                    status = json.loads(sock.makefile().read())
            except (OSError, ValueError):
                status = {"peers": {}}
            spread[gateway] = sorted(peer["name"] for peer in status["peers"].values() if peer.get("connection"))
        return spread

    def ruleset(self, name: str) -> str:
        return _in(self.netns[name], "nft", "list", "ruleset").stdout

    def fetch(self, name: str, other: str, path: str, port: int | None = None) -> str:
        """What gateway ``name`` reads at ``path`` of gateway ``other``'s daemon (the peer limit's,
        or the one on ``port``), over the mesh."""
        script = ("import http.client, sys; c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=5, "
                  "source_address=(sys.argv[3], 0)); c.request('GET', sys.argv[4]); print(c.getresponse().read().decode())")
        return _in(self.netns[name], sys.executable, "-c", script, self.mesh[other], str(port or self.LIMIT_PORT), self.mesh[name], path).stdout

    def state(self, name: str) -> dict:
        try:
            return json.loads((self.workdir / name / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    def log(self, key: str) -> str:
        return (self.workdir / f"{key}.log").read_text()

    def report(self) -> str:
        """What a failed wait prints: the spread, each daemon's last decision and its log."""
        lines = [f"connected: {self.connected()}"]
        for name in self.gateways:
            lines.append(f"{name} state: {self.state(name)}")
            if (self.workdir / f"limit-{name}.log").exists():
                lines.append(f"{name} log:\n{self.log(f'limit-{name}')}")
        return "\n".join(lines)

    def close(self) -> None:
        for key in list(self.processes):
            self.stop(key)
        for netns in self.netns.values():
            remove_netns(netns)


class FabricLab:
    """Fabric nodes as network namespaces, running FRR's zebra, bgpd and bfdd (Debian's package)
    with the frr.conf the frr_nspawn role renders, checked with ``vtysh --dryrun`` as the role
    checks it. This kernel has no GRE, WireGuard or dummy interfaces: a veth pair named as the
    two tunnels stands in for each pair of nodes, and the loopback addresses sit on ``lo``."""

    ROLE = ROOT / "roles" / "frr_nspawn"
    FRR = pathlib.Path("/usr/lib/frr")
    # What the kernel lab's inventory uses: only inside these namespaces.
    SETTINGS = {"fabric_loopback_ipv4": "10.255.0.0/24", "fabric_loopback_ipv6": "fd00:255::/64", "fabric_wireguard_ipv4": "10.254.0.0/24"}

    def __init__(self, nodes: tuple[str, ...] = ("fra", "ber", "dus"), **settings) -> None:
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="ffmesh-fabric-"))
        self.nodes = nodes
        self.netns: dict[str, str] = {}
        self.plans = self._render(dict(self.SETTINGS, **settings))
        for name in nodes:
            self.netns[name] = make_netns(f"fab-{name}")
            plan = self.plans[name]
            _in(None, "ip", "-n", self.netns[name], "addr", "add", f"{plan['loopback_ipv4']}/32", "dev", "lo")
            _in(None, "ip", "-n", self.netns[name], "addr", "add", f"{plan['loopback_ipv6']}/128", "dev", "lo")
            _in(self.netns[name], "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
        for number, name in enumerate(nodes):
            for peer in nodes[number + 1:]:
                here, there = self.interface(name, peer), self.interface(peer, name)
                _in(None, "ip", "link", "add", here, "netns", self.netns[name], "type", "veth", "peer", "name", there, "netns", self.netns[peer])
                _in(None, "ip", "-n", self.netns[name], "link", "set", here, "up")
                _in(None, "ip", "-n", self.netns[peer], "link", "set", there, "up")
        port = settings.get("fabric_bgp_port", 179)
        for name, netns in self.netns.items():
            # -N: each node's sockets and pid files in /run/frr/NETNS, where vtysh -N finds them.
            run = pathlib.Path("/run/frr") / netns
            run.mkdir(parents=True)
            shutil.chown(run, "frr", "frr")
            for daemon, options in (("zebra", []), ("bgpd", ["-p", str(port)]), ("bfdd", [])):
                _in(netns, str(self.FRR / daemon), "-N", netns, "-d", "-f", "/dev/null", "-A", "127.0.0.1", *options)
            _in(None, "vtysh", "-N", netns, "-f", str(self.workdir / f"{name}.conf"))

    def _render(self, settings: dict) -> dict:
        """Allocate the nodes' numbers and render each node's frr.conf as playbooks/fabric.yml and the role do."""
        inventory = {"fabric": {"hosts": {name: {"ansible_connection": "local"} for name in self.nodes}}}
        play = [{
            "name": "render", "hosts": "fabric", "gather_facts": False,
            "vars_files": [str(self.ROLE / "defaults" / "main.yml")],
            "tasks": [
                {"name": "allocate", "run_once": True, "register": "fabric_allocation",
                 "ffmesh.gateway.fabric_allocation": {
                     "store": str(self.workdir / "fabric"), "fabric": "fabric", "hosts": "{{ groups['fabric'] }}",
                     "loopback_ipv4": "{{ fabric_loopback_ipv4 }}", "loopback_ipv6": "{{ fabric_loopback_ipv6 }}",
                     "wireguard_ipv4": "{{ fabric_wireguard_ipv4 }}"}},
                {"name": "plan", "ansible.builtin.set_fact": {
                    "fabric_plan": "{{ fabric_allocation.nodes | ffmesh.gateway.fabric_plan(inventory_hostname, []) }}"}},
                {"name": "frr.conf", "ansible.builtin.template": {
                    "src": str(self.ROLE / "templates" / "frr.conf.j2"), "dest": str(self.workdir) + "/{{ inventory_hostname }}.conf",
                    "mode": "0644", "validate": "vtysh --dryrun -f %s"}},
            ],
        }]
        # Above the role's defaults, which the play reads as vars_files.
        run = run_playbook(play, inventory, self.workdir, "-e", json.dumps(settings))
        if run.failed:
            raise RuntimeError(f"rendering frr.conf failed: {run.stdout[-3000:]} {run.stderr[-2000:]}")
        return {name: result["ansible_facts"]["fabric_plan"] for name, result in run.results("plan").items()}

    def interface(self, node: str, toward: str) -> str:
        """The tunnel from one node toward another, as the plan names it."""
        return next(entry["interface"] for entry in self.plans[node]["peers"] if entry["name"] == toward)

    def vtysh(self, name: str, command: str) -> dict | list:
        return json.loads(_in(None, "vtysh", "-N", self.netns[name], "-c", command).stdout)

    def routes(self, name: str, version: int = 4) -> list:
        return json.loads(_in(None, "ip", f"-{version}", "-n", self.netns[name], "-json", "route", "show", "proto", "bgp").stdout)

    def up(self) -> bool:
        """Every BGP session Established and every BFD session up, on every node."""
        for name in self.nodes:
            neighbors = self.vtysh(name, "show bgp neighbors json")
            peers = self.vtysh(name, "show bfd peers json")
            if [peer.get("bgpState") for peer in neighbors.values()] != ["Established"] * (len(self.nodes) - 1):
                return False
            if [peer["status"] for peer in peers] != ["up"] * (len(self.nodes) - 1):
                return False
        return True

    def silence(self, name: str, silent: bool = True) -> None:
        """Drop (or let through again) everything the node sends and receives, its links up: a
        node that stopped answering, as a killed one does, for BFD to find."""
        if silent:
            _in(self.netns[name], "nft", "-f", "-", input=(
                "table inet silenced {\n chain input { type filter hook input priority -500; policy drop; }\n"
                " chain output { type filter hook output priority -500; policy drop; }\n}\n"))
        else:
            _in(self.netns[name], "nft", "delete", "table", "inet", "silenced")

    def close(self) -> None:
        for netns in self.netns.values():
            remove_netns(netns)
            shutil.rmtree(pathlib.Path("/run/frr") / netns, ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)
