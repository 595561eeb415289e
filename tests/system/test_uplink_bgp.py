"""gateway_ipv4's configuration with the real daemons, in network namespaces this test makes.

The role's own templates are rendered from seed-style host_vars (with its vars and defaults,
the configuration checked by `bird -p` and `nft --check` as the role checks it), then:
a gateway namespace runs BIRD with that configuration, the NAT rules and the routing rules and
routes of its networkd file; a backbone namespace runs BIRD as the upstream does (a default
route and more to offer) and a TCP server at a test address; a client namespace is a mesh
client. This kernel has no GRE and no dummy interfaces: a veth pair stands in for each tunnel
(named as the tunnel, MTU 1500) and the public address sits on the gateway's loopback.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
import time

import pytest

from harness import LOCAL, ROOT, make_netns, remove_netns, run_playbook

# One TCP connection and what each end saw of it; the kernel lab uses the same probe.
PROBE = ROOT / "lab" / "playbooks" / "files" / "probe.py"

ROLE = ROOT / "roles" / "gateway_ipv4"
PUBLIC = "198.51.100.86"
TEST_ADDRESS = "203.0.113.80"
MESH = "10.186.0.0/16"
CLIENT = "10.186.2.5"
MSS_CLAMP = 1300
TUNNELS = [
    {"name": "a_ak_ber", "tunnel_endpoint": "192.0.2.10", "tunnel_address_ipv4": "100.64.1.69", "tunnel_peer_ipv4": "100.64.1.68"},
    {"name": "a_ix_dus", "tunnel_endpoint": "192.0.2.11", "tunnel_address_ipv4": "100.64.1.71", "tunnel_peer_ipv4": "100.64.1.70"},
]
NEIGHBORS = [
    {"name": tunnel["name"], "as": 201701, "address_ipv4": tunnel["tunnel_peer_ipv4"], "source_ipv4": tunnel["tunnel_address_ipv4"]}
    for tunnel in TUNNELS
]
BACKBONE_CONF = """
router id 100.64.1.68;
protocol device { }
protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }
# The default route, and more that the gateway must not take.
protocol static offered { ipv4; route 0.0.0.0/0 unreachable; route 203.0.113.0/24 unreachable; route 10.0.0.0/8 unreachable; }
template bgp gateways { local as 201701; ipv4 { import all; export where proto = "offered"; }; }
protocol bgp gw_a from gateways { neighbor 100.64.1.69 as 65186; source address 100.64.1.68; }
protocol bgp gw_b from gateways { neighbor 100.64.1.71 as 65186; source address 100.64.1.70; }
"""
# IPv6: the community's prefix, the mesh's /64 in it, a transfer net on the first tunnel, and the
# backbone's default route and test address.
PREFIX6, MESH6 = "2001:db8:186::/48", "2001:db8:186::/64"
TUNNEL6 = {"tunnel_address_ipv6": "2001:db8:ff::2", "tunnel_peer_ipv6": "2001:db8:ff::1"}
NEIGHBOR6 = {"address_ipv6": "2001:db8:ff::1", "source_ipv6": "2001:db8:ff::2"}
TEST_ADDRESS6 = "2001:db8:ffff::80"
BACKBONE_CONF6 = BACKBONE_CONF + """
protocol kernel { ipv6 { import none; export where source = RTS_BGP; }; }
protocol static offered6 { ipv6; route ::/0 unreachable; route 2001:db8:ffff::/48 unreachable; }
protocol bgp gw_a6 { local as 201701; neighbor 2001:db8:ff::2 as 65186; source address 2001:db8:ff::1;
  ipv6 { import all; export where proto = "offered6"; }; }
"""
# On the gateway host's own way out: what arrives from the mesh, or for the test server.
LEAK_COUNTERS = """
table inet leak {
    chain prerouting {
        type filter hook prerouting priority 0; policy accept;
        ip saddr 10.186.0.0/16 counter
        tcp dport 8080 counter
    }
}
"""


def sh(*argv: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    if netns:
        argv = ("ip", "netns", "exec", netns, *argv)
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=60)


def render(workdir: pathlib.Path, tunnels: list, neighbors: list, ipv6: bool = False) -> pathlib.Path:
    """The role's bird.conf, uplink.nft and uplink.network, checked as the role checks them."""
    out = workdir / f"rendered-{len(tunnels)}{'-ipv6' if ipv6 else ''}"
    settings = {"freifunk_gateways_peering_prefix_ipv6": PREFIX6} if ipv6 else {}
    out.mkdir()
    play = [{
        "name": "render", "hosts": "localhost", "gather_facts": False,
        "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
        "vars": {
            "freifunk_mesh": {"ipv4_net": MESH, **({"ipv6_net": MESH6} if ipv6 else {})}, "freifunk_group_index": 0, **settings,
            "freifunk_gateways_peering_local_as": 65186, "freifunk_gateways_peering_gre_tunnel_mss_clamp": MSS_CLAMP,
            "freifunk_gateway": {"peering_public_address_ipv4": PUBLIC, "gre_tunnels": tunnels, "bgp_neighbors": neighbors},
        },
        "tasks": [
            {"name": "bird", "ansible.builtin.template": {"src": str(ROLE / "templates" / "bird.conf.j2"), "dest": str(out / "bird.conf"),
                                                          "mode": "0644", "validate": "{{ freifunk_bird_check }}"}},
            {"name": "nft", "ansible.builtin.template": {"src": str(ROLE / "templates" / "uplink.nft.j2"), "dest": str(out / "uplink.nft"),
                                                         "mode": "0644", "validate": "nft --check --file %s"}},
            {"name": "network", "ansible.builtin.template": {"src": str(ROLE / "templates" / "uplink.network.j2"),
                                                             "dest": str(out / "uplink.network"), "mode": "0644"}},
            # As the role's task writes them; this kernel has no GRE to use them.
            {"name": "tunnels", "ansible.builtin.template": {"src": str(ROLE / "templates") + "/tunnel.{{ item.1 }}.j2",
                                                             "dest": str(out) + "/{{ item.0.name }}.{{ item.1 }}", "mode": "0644"},
             "loop": "{{ freifunk_uplink.tunnels | product(['netdev', 'network']) | list }}",
             "vars": {"freifunk_uplink_tunnel": "{{ item.0 }}"}},
        ],
    }]
    # Above the role's defaults, which the play reads as vars_files.
    run = run_playbook(play, LOCAL, workdir, "-e", "freifunk_gateway_ipv4_underlay_address=192.0.2.2")
    assert run.failed == 0, run.stdout[-3000:]
    return out


def networkd_rules_and_routes(network_file: pathlib.Path) -> list[list[str]]:
    """`ip` commands for the [RoutingPolicyRule] and [Route] sections, as networkd applies them."""
    commands, section, keys = [], None, {}

    def flush():
        if section == "RoutingPolicyRule":
            family = "-6" if ":" in keys.get("From", "") + keys.get("To", "") else "-4"
            argv = ["ip", family, "rule", "add"]
            argv += ["from", keys["From"]] if "From" in keys else []
            argv += ["to", keys["To"]] if "To" in keys else []
            commands.append(argv + ["lookup", keys["Table"], "priority", keys["Priority"]])
        elif section == "Route":
            family = "-6" if ":" in keys["Destination"] else "-4"
            commands.append(["ip", family, "route", "add", keys["Type"], keys["Destination"], "table", keys["Table"], "metric", keys["Metric"]])

    for line in network_file.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            flush()
            section, keys = line.strip("[]"), {}
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            keys[key] = value
    flush()
    return commands


def protocols(socket_path: pathlib.Path) -> dict:
    """BIRD's protocols: name -> (state, since, info)."""
    shown = sh("birdc", "-s", str(socket_path), "show", "protocols").stdout.splitlines()
    table = {}
    for line in shown:
        fields = line.split()
        if len(fields) >= 5 and fields[1] == "BGP":
            table[fields[0]] = (fields[3], fields[4], " ".join(fields[5:]))
    return table


def wait_established(socket_path: pathlib.Path, names: list[str], seconds: float = 40) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        table = protocols(socket_path)
        if all(table.get(name, ("",))[0] == "up" and "Established" in table[name][2] for name in names):
            return table
        if time.monotonic() > deadline:
            raise AssertionError(f"sessions not Established: {table}")
        time.sleep(1)


def routes(socket_path: pathlib.Path, table: str) -> list[str]:
    shown = sh("birdc", "-s", str(socket_path), "show", "route", "table", table).stdout.splitlines()
    # A route's line starts with its prefix; its attributes follow indented.
    return sorted(line.split()[0] for line in shown if line[:1].strip() and "/" in line.split()[0])


class UplinkLab:
    def __init__(self, backbone_conf: str = BACKBONE_CONF) -> None:
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="ffmesh-uplink-"))
        self.gw, self.bb, self.client, self.up = (make_netns(role) for role in ("gw", "bb", "cl", "up"))
        self.birds: dict[str, subprocess.Popen] = {}
        self.server: subprocess.Popen | None = None
        for tunnel, peer_name in zip(TUNNELS, ("gw_a", "gw_b")):
            sh("ip", "link", "add", tunnel["name"], "netns", self.gw, "type", "veth", "peer", "name", peer_name, "netns", self.bb)
            sh("ip", "-n", self.gw, "addr", "add", f"{tunnel['tunnel_address_ipv4']}/31", "dev", tunnel["name"])
            sh("ip", "-n", self.bb, "addr", "add", f"{tunnel['tunnel_peer_ipv4']}/31", "dev", peer_name)
            sh("ip", "-n", self.gw, "link", "set", tunnel["name"], "up")
            sh("ip", "-n", self.bb, "link", "set", peer_name, "up")
        sh("ip", "link", "add", "br-mesh", "netns", self.gw, "type", "veth", "peer", "name", "eth0", "netns", self.client)
        sh("ip", "-n", self.gw, "addr", "add", "10.186.1.0/16", "dev", "br-mesh")
        sh("ip", "-n", self.client, "addr", "add", f"{CLIENT}/16", "dev", "eth0")
        # The gateway host's own way out, where nothing from the mesh may ever arrive.
        sh("ip", "link", "add", "eth0", "netns", self.gw, "type", "veth", "peer", "name", "eth0", "netns", self.up)
        sh("ip", "-n", self.gw, "addr", "add", "192.0.2.2/24", "dev", "eth0")
        sh("ip", "-n", self.up, "addr", "add", "192.0.2.1/24", "dev", "eth0")
        for namespace, device in ((self.gw, "br-mesh"), (self.gw, "eth0"), (self.client, "eth0"), (self.up, "eth0")):
            sh("ip", "-n", namespace, "link", "set", device, "up")
        sh("ip", "-n", self.gw, "route", "add", "default", "via", "192.0.2.1")
        sh("ip", "-n", self.client, "route", "add", "default", "via", "10.186.1.0")
        sh("ip", "-n", self.gw, "addr", "add", f"{PUBLIC}/32", "dev", "lo")
        sh("ip", "-n", self.bb, "addr", "add", f"{TEST_ADDRESS}/32", "dev", "lo")
        for setting in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=2"):
            sh("sysctl", "-q", "-w", setting, netns=self.gw)
        for namespace in (self.client, self.bb):
            # The MSS a socket reports is then the MSS of the SYN, without the timestamp option.
            sh("sysctl", "-q", "-w", "net.ipv4.tcp_timestamps=0", netns=namespace)
        subprocess.run(["ip", "netns", "exec", self.up, "nft", "-f", "-"], input=LEAK_COUNTERS, text=True, check=True)
        (self.workdir / "backbone.conf").write_text(backbone_conf)
        self.start_bird("bb", self.bb, self.workdir / "backbone.conf")

    def start_bird(self, name: str, namespace: str, config: pathlib.Path) -> pathlib.Path:
        socket_path = self.workdir / f"{name}.ctl"
        sh("bird", "-p", "-c", str(config))
        self.birds[name] = subprocess.Popen(["ip", "netns", "exec", namespace, "bird", "-f", "-c", str(config), "-s", str(socket_path)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            if time.monotonic() > deadline or self.birds[name].poll() is not None:
                raise AssertionError(f"bird {name} did not start: {self.birds[name].stderr.read() if self.birds[name].poll() is not None else ''}")
            time.sleep(0.2)
        return socket_path

    def stop_bird(self, name: str) -> None:
        bird = self.birds.pop(name)
        bird.terminate()
        bird.wait(timeout=20)

    def apply_gateway(self, rendered: pathlib.Path) -> None:
        sh("nft", "--file", str(rendered / "uplink.nft"), netns=self.gw)
        for argv in networkd_rules_and_routes(rendered / "uplink.network"):
            sh(*argv[:1], "-n", self.gw, *argv[1:])

    def serve(self) -> None:
        self.server = subprocess.Popen(["ip", "netns", "exec", self.bb, sys.executable, str(PROBE), "serve", TEST_ADDRESS, "8080"],
                                       stdout=subprocess.PIPE, text=True)
        assert self.server.stdout.readline().strip() == "ready"

    def connect(self) -> dict:
        done = sh(sys.executable, str(PROBE), "connect", TEST_ADDRESS, "8080", netns=self.client, check=False)
        return json.loads(done.stdout)

    def served(self) -> dict:
        return json.loads(self.server.stdout.readline())

    def leaked(self) -> list[int]:
        ruleset = json.loads(sh("nft", "-j", "list", "table", "inet", "leak", netns=self.up).stdout)["nftables"]
        return [item["rule"]["expr"][-1]["counter"]["packets"] for item in ruleset if "rule" in item]

    def close(self) -> None:
        for name in list(self.birds):
            self.stop_bird(name)
        if self.server:
            self.server.terminate()
        for namespace in (self.gw, self.bb, self.client, self.up):
            remove_netns(namespace)


@pytest.fixture
def uplink_lab(require):
    require("ip", "nft", "bird", "birdc")
    lab = UplinkLab()
    yield lab
    lab.close()


def test_the_mesh_leaves_only_through_the_tunnels_as_the_public_address(uplink_lab):
    lab = uplink_lab
    one = render(lab.workdir, TUNNELS[:1], NEIGHBORS[:1])
    lab.apply_gateway(one)
    gw_socket = lab.start_bird("gw", lab.gw, one / "bird.conf")
    wait_established(gw_socket, ["up4_a_ak_ber"])
    wait_established(lab.workdir / "bb.ctl", ["gw_a"])

    netdev = (one / "a_ak_ber.netdev").read_text()
    assert all(line in netdev.splitlines() for line in ("Kind=gre", "MTUBytes=1400", "Local=192.0.2.2", "Remote=192.0.2.10", "TTL=64"))
    assert "Address=100.64.1.69/31" in (one / "a_ak_ber.network").read_text().splitlines()

    # Only the default route comes in; only the public address goes out.
    time.sleep(2)
    assert routes(gw_socket, "ffmesh_uplink4") == ["0.0.0.0/0", f"{PUBLIC}/32"]
    assert routes(lab.workdir / "bb.ctl", "master4") == ["0.0.0.0/0", "10.0.0.0/8", f"{PUBLIC}/32", "203.0.113.0/24"]
    assert sh("birdc", "-s", str(lab.workdir / "bb.ctl"), "show", "route", "protocol", "gw_a").stdout.count(f"{PUBLIC}/32") == 1
    table = json.loads(sh("ip", "-n", lab.gw, "-j", "route", "show", "table", "61").stdout)
    kinds = sorted((route.get("type", "unicast"), route.get("gateway"), route.get("prefsrc")) for route in table)
    assert kinds == [("unicast", "100.64.1.68", PUBLIC), ("unreachable", None, None)], table

    # A client's connection leaves through the tunnel, NATed to the public address, MSS clamped.
    lab.serve()
    client = lab.connect()
    served = lab.served()
    assert client["error"] is None, client
    assert served["peer"] == PUBLIC
    assert served["mss"] == MSS_CLAMP and client["mss"] == MSS_CLAMP, (served, client)
    assert lab.leaked() == [0, 0]

    # A re-run that adds a session: BIRD takes the new configuration, the first session stays up.
    before = protocols(gw_socket)["up4_a_ak_ber"]
    two = render(lab.workdir, TUNNELS, NEIGHBORS)
    sh("nft", "--file", str(two / "uplink.nft"), netns=lab.gw)
    (one / "bird.conf").write_text((two / "bird.conf").read_text())
    assert "Reconfigured" in sh("birdc", "-s", str(gw_socket), "configure").stdout
    after = wait_established(gw_socket, ["up4_a_ak_ber", "up4_a_ix_dus"])
    assert after["up4_a_ak_ber"][1] == before[1], (before, after)
    time.sleep(2)
    table = json.loads(sh("ip", "-n", lab.gw, "-j", "route", "show", "table", "61").stdout)
    default = next(route for route in table if route.get("type", "unicast") == "unicast")
    assert sorted(hop["gateway"] for hop in default.get("nexthops", [])) == ["100.64.1.68", "100.64.1.70"], table

    # Every session down: the mesh's traffic is refused, and none of it takes the host's own way out.
    lab.stop_bird("gw")
    time.sleep(1)
    client = lab.connect()
    assert client["error"] in ("EHOSTUNREACH", "ENETUNREACH", "timeout"), client
    assert lab.leaked() == [0, 0]


def _client_default6(lab) -> list:
    return json.loads(sh("ip", "-6", "-j", "route", "show", "default", netns=lab.client).stdout)


def _wait(condition, seconds: float, what: str, shown=lambda: ""):
    """condition()'s first true result; else an error with ``what`` and ``shown()`` at the end."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}\n{shown()}")
        time.sleep(0.5)
    return result


@pytest.fixture
def uplink_lab6(require):
    require("ip", "nft", "bird", "birdc", "ping")
    lab = UplinkLab(BACKBONE_CONF6)
    sh("ip", "-n", lab.gw, "addr", "add", f"{TUNNEL6['tunnel_address_ipv6']}/64", "dev", TUNNELS[0]["name"], "nodad")
    sh("ip", "-n", lab.bb, "addr", "add", f"{TUNNEL6['tunnel_peer_ipv6']}/64", "dev", "gw_a", "nodad")
    sh("ip", "-n", lab.bb, "addr", "add", f"{TEST_ADDRESS6}/128", "dev", "lo")
    # freifunk_node gives the mesh bridge an address of the mesh's /64; radv announces that /64.
    sh("ip", "-n", lab.gw, "addr", "add", "2001:db8:186::1/64", "dev", "br-mesh", "nodad")
    sh("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1", netns=lab.gw)
    yield lab
    lab.close()


def test_ipv6_sessions_prefix_and_router_advertisements_follow_the_uplink(uplink_lab6):
    lab = uplink_lab6
    rendered = render(lab.workdir, [{**TUNNELS[0], **TUNNEL6}], [{**NEIGHBORS[0], **NEIGHBOR6}], ipv6=True)
    lab.apply_gateway(rendered)
    gw_socket = lab.start_bird("gw", lab.gw, rendered / "bird.conf")
    wait_established(gw_socket, ["up4_a_ak_ber", "up6_a_ak_ber"])

    # Only the default route comes in; only the community's prefix goes out.
    _wait(lambda: routes(gw_socket, "ffmesh_uplink6") == sorted(["::/0", PREFIX6]), 10, "::/0 from the backbone",
          lambda: sh("birdc", "-s", str(gw_socket), "show", "route", "table", "ffmesh_uplink6", "all").stdout)
    learned = sh("birdc", "-s", str(lab.workdir / "bb.ctl"), "show", "route", "protocol", "gw_a6").stdout
    assert PREFIX6 in learned and learned.count("/") == 1, learned
    table = json.loads(sh("ip", "-6", "-n", lab.gw, "-j", "route", "show", "table", "61").stdout)
    assert sorted((route.get("type", "unicast"), route["dst"]) for route in table) == [("unicast", "default"), ("unreachable", "default")], table

    # The client learns its address and default route from the gateway's router advertisements,
    # and reaches the backbone's test address through the tunnel, without NAT.
    def radv() -> str:
        return sh("birdc", "-s", str(gw_socket), "show", "protocols", "all", "ffmesh_radv").stdout

    default = _wait(lambda: _client_default6(lab), 20, "a default route from the router advertisements", radv)
    # The only gateway is the first IPv6 exit: the best default router preference.
    assert default[0]["gateway"].startswith("fe80:") and default[0]["pref"] == "high", default
    addresses = json.loads(sh("ip", "-6", "-j", "addr", "show", "dev", "eth0", "scope", "global", netns=lab.client).stdout)
    assert any(info["local"].startswith("2001:db8:186:0:") for info in addresses[0]["addr_info"]), addresses
    assert sh("ping", "-6", "-c", "2", "-W", "2", TEST_ADDRESS6, netns=lab.client, check=False).returncode == 0

    # The uplink check's down action (gateway_ipv4's freifunk_uplink_check_config): the
    # advertisements' router lifetime drops to 0, the client loses its default route, and the
    # backbone the prefix, so that replies take the gateway the clients take then.
    def backbone_learned() -> str:
        return sh("birdc", "-s", str(lab.workdir / "bb.ctl"), "show", "route", "protocol", "gw_a6").stdout

    assert sh("birdc", "-s", str(gw_socket), "disable", "ffmesh_exit6").returncode == 0
    _wait(lambda: not _client_default6(lab), 20, "the default route withdrawn", radv)
    _wait(lambda: PREFIX6 not in backbone_learned(), 10, "the prefix withdrawn", backbone_learned)
    assert routes(gw_socket, "ffmesh_uplink6") == ["::/0"], "the session itself stays"
    # And its up action brings both back.
    assert sh("birdc", "-s", str(gw_socket), "enable", "ffmesh_exit6").returncode == 0
    _wait(lambda: _client_default6(lab), 20, "the default route back", radv)
    _wait(lambda: PREFIX6 in backbone_learned(), 10, "the prefix back", backbone_learned)
