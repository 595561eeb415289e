"""ffmesh-fabric-exporter (the fabric_exporter role's daemon) in a network namespace of its own,
on its loopback address, as the role installs it (beside its modules): its settings are checked
before it starts, and a node where FRR and WireGuard do not answer (neither runs on this kernel;
the kernel lab scrapes the daemon against real ones) reports every planned peer down, not
missing, and each tunnel by the kernel's own interface flags."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from harness import ROOT, _in, make_netns, remove_netns, wait_for

DAEMON = ROOT / "roles" / "fabric_exporter" / "files" / "ffmesh_fabric_exporter.py"
MODULES = [ROOT / "plugins" / "plugin_utils" / name for name in ("_fabric_metrics.py", "_metrics.py", "_metrics_http.py", "_daemon.py")]
CONFIG = {
    "listen": "10.255.0.1", "port": 9473, "node": "kvm1", "loopback": "10.255.0.1",
    "peers": [{"name": "kvm2", "interface": "gre-kvm2"}, {"name": "kvm3", "interface": "gre-kvm3"}],
    "public_keys": {"kvm2": "A" * 43 + "=", "kvm3": "B" * 43 + "="},
    "bfd": True, "vtysh": "/nonexistent/vtysh", "wireguard_interface": "wg-fabric",
}


@pytest.fixture
def node(tmp_path):
    for path in [DAEMON, *MODULES]:
        shutil.copy(path, tmp_path)
    netns = make_netns("fabric")
    yield tmp_path, netns
    remove_netns(netns)


def _scrape(netns: str, address: str) -> str | None:
    try:
        return _in(netns, sys.executable, "-c", "import sys, urllib.request; sys.stdout.write("
                   f"urllib.request.urlopen('http://{address}:9473/metrics', timeout=5).read().decode())").stdout
    except subprocess.CalledProcessError:
        return None


def _check(directory, config) -> subprocess.CompletedProcess:
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run([sys.executable, str(directory / DAEMON.name), "--check", str(path)], capture_output=True, text=True, check=False)


def test_settings_without_a_peers_key_or_a_key_are_refused(node):
    directory, _netns = node
    assert _check(directory, CONFIG).returncode == 0
    missing = _check(directory, {key: value for key, value in CONFIG.items() if key != "vtysh"})
    assert missing.returncode != 0 and "missing vtysh" in missing.stderr
    unknown = _check(directory, {**CONFIG, "public_keys": {"kvm2": CONFIG["public_keys"]["kvm2"]}})
    assert unknown.returncode != 0 and "no WireGuard public key for the peer kvm3" in unknown.stderr


def test_a_node_whose_daemons_do_not_answer_reports_each_peer_down_and_its_tunnels_by_their_flags(node):
    directory, netns = node
    # The loopback address it listens on, and two interfaces named as the fabric's tunnels, one
    # up, one down (veth: this kernel has neither GRE nor dummy interfaces).
    _in(netns, "ip", "addr", "add", "10.255.0.1/32", "dev", "lo")
    for number, name in enumerate(("gre-kvm2", "gre-kvm3")):
        _in(netns, "ip", "link", "add", name, "type", "veth", "peer", "name", f"other{number}")
    _in(netns, "ip", "link", "set", "gre-kvm2", "up")
    (directory / "config.json").write_text(json.dumps(CONFIG))
    daemon = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, str(directory / DAEMON.name), str(directory / "config.json")])
    try:
        lines = wait_for("the exporter answering on the loopback", lambda: _scrape(netns, "10.255.0.1")).splitlines()
        # Only there: not on another address of the node.
        assert _scrape(netns, "127.0.0.1") is None
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in lines if not line.startswith("#")}
    assert samples == {
        'ffmesh_fabric_node{id="kvm1",subtitle="10.255.0.1",title="kvm1"}': 0,
        'ffmesh_fabric_edge{id="kvm1--kvm2",source="kvm1",target="kvm2"}': 0,
        'ffmesh_fabric_edge{id="kvm1--kvm3",source="kvm1",target="kvm3"}': 0,
        "ffmesh_fabric_frr_up": 0,
        'ffmesh_fabric_bgp_session_up{interface="gre-kvm2",peer="kvm2"}': 0,
        'ffmesh_fabric_bgp_session_up{interface="gre-kvm3",peer="kvm3"}': 0,
        'ffmesh_fabric_bfd_session_up{interface="gre-kvm2",peer="kvm2"}': 0,
        'ffmesh_fabric_bfd_session_up{interface="gre-kvm3",peer="kvm3"}': 0,
        'ffmesh_fabric_tunnel_up{interface="gre-kvm2",peer="kvm2"}': 1,
        'ffmesh_fabric_tunnel_up{interface="gre-kvm3",peer="kvm3"}': 0,
        'ffmesh_fabric_wireguard_last_handshake_seconds{peer="kvm2"}': 0,
        'ffmesh_fabric_wireguard_last_handshake_seconds{peer="kvm3"}': 0,
    }
