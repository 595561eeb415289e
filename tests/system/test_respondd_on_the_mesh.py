"""The respondd role's daemon in a gateway namespace, asked as a map's collector asks: the real
multicast request to ff02::2:1001 from a client on the mesh bridge's link. Run as root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from harness import ROOT, _in, make_netns, remove_netns, wait_for

DAEMON = ROOT / "roles" / "respondd" / "files" / "ffmesh_respondd.py"
PROTOCOL = ROOT / "plugins" / "plugin_utils" / "_respondd.py"
PROBE = ROOT / "lab" / "playbooks" / "files" / "probe.py"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces")


def _link_local_ready(netns: str, interface: str) -> bool:
    addresses = json.loads(_in(netns, "ip", "-6", "-j", "address", "show", "dev", interface, "scope", "link").stdout)
    return any(info.get("family") == "inet6" and not info.get("tentative")
               for address in addresses for info in address.get("addr_info", []))


def _ask(netns: str, *request: str, seconds: str = "2") -> dict:
    return json.loads(_in(netns, sys.executable, str(PROBE), "respondd", "eth0", seconds, *request).stdout)


@pytest.fixture(name="mesh")
def fixture_mesh(tmp_path):
    """A gateway namespace with a mesh bridge (one port to a client namespace) and a second link
    outside the bridge (to an outsider namespace), and the daemon installed as the role installs it."""
    gateway, client, outsider = make_netns("rdgw"), make_netns("rdcl"), make_netns("rdout")
    daemon = None
    try:
        _in(gateway, "ip", "link", "add", "br-mesh", "address", "fe:ed:ca:fe:00:01", "type", "bridge")
        _in(gateway, "ip", "link", "add", "vpn0", "address", "fe:ed:ca:fe:00:10", "type", "veth", "peer", "name", "eth0", "netns", client)
        _in(gateway, "ip", "link", "add", "wan0", "type", "veth", "peer", "name", "eth0", "netns", outsider)
        _in(gateway, "ip", "link", "set", "vpn0", "master", "br-mesh")
        for netns, interface in ((gateway, "br-mesh"), (gateway, "vpn0"), (gateway, "wan0"), (client, "eth0"), (outsider, "eth0")):
            _in(netns, "ip", "link", "set", interface, "up")
        for netns, interface in ((gateway, "br-mesh"), (gateway, "wan0"), (client, "eth0"), (outsider, "eth0")):
            wait_for(f"link-local address of {interface}", lambda n=netns, i=interface: _link_local_ready(n, i), timeout=30)
        shutil.copy(DAEMON, tmp_path)
        shutil.copy(PROTOCOL, tmp_path)
        shutil.copy(ROOT / "plugins" / "plugin_utils" / "_daemon.py", tmp_path)
        (tmp_path / "fastd-limit.json").write_text(json.dumps({"established": 3}))
        config = {
            "hostname": "gw1", "site_code": "fflab", "domain_code": "", "release": "ffmesh.gateway", "model": "Freifunk gateway",
            "contact": "noc@example.org", "location": {}, "bridge": "br-mesh", "batman": False, "mesh_interface": "br-mesh",
            "routing_algorithm": "BATMAN_IV", "port": 1001, "fastd_limit_state": str(tmp_path / "fastd-limit.json"),
        }
        (tmp_path / "config.json").write_text(json.dumps(config))
        log = open(tmp_path / "respondd.log", "w", encoding="utf-8")  # noqa: SIM115 (the daemon's log, closed below)
        daemon = subprocess.Popen(["ip", "netns", "exec", gateway, "/usr/bin/python3", str(tmp_path / DAEMON.name), str(tmp_path / "config.json")],
                                  stdout=log, stderr=subprocess.STDOUT)
        wait_for("respondd listening", lambda: "answering respondd" in (tmp_path / "respondd.log").read_text(), timeout=30)
        yield {"gateway": gateway, "client": client, "outsider": outsider, "log": tmp_path / "respondd.log"}
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait(timeout=10)
        for netns in (gateway, client, outsider):
            remove_netns(netns)


def test_the_map_gets_nodeinfo_statistics_and_neighbours_in_one_compressed_answer(mesh):
    answers = _ask(mesh["client"])
    assert len(answers) == 1, answers
    sender, answer = next(iter(answers.items()))
    assert sender.startswith("fe80:"), sender
    assert set(answer) == {"nodeinfo", "statistics", "neighbours"}
    nodeinfo = answer["nodeinfo"]
    assert nodeinfo["node_id"] == "feedcafe0001" and nodeinfo["hostname"] == "gw1" and nodeinfo["vpn"] is True
    assert nodeinfo["system"] == {"site_code": "fflab"}
    assert nodeinfo["owner"] == {"contact": "noc@example.org"}
    # The bridge's own link-local address, and the link under it that the map draws.
    assert sender in nodeinfo["network"]["addresses"]
    assert nodeinfo["network"]["mesh"] == {"br-mesh": {"interfaces": {"tunnel": ["fe:ed:ca:fe:00:10"]}}}
    statistics = answer["statistics"]
    assert statistics["node_id"] == "feedcafe0001"
    assert statistics["uptime"] > 0 and statistics["memory"]["total"] > 0 and statistics["processes"]["total"] > 0
    # The request itself came in over the bridge.
    assert statistics["traffic"]["rx"]["packets"] > 0
    assert statistics["mesh_vpn"] == {"fastd": {"routers": 3}}
    assert answer["neighbours"] == {"node_id": "feedcafe0001", "batadv": {}}


def test_a_bare_provider_name_gets_its_json_uncompressed(mesh):
    answers = _ask(mesh["client"], "nodeinfo")
    assert [answer["hostname"] for answer in answers.values()] == ["gw1"]


def _link_local(netns: str, interface: str) -> str:
    addresses = json.loads(_in(netns, "ip", "-6", "-j", "address", "show", "dev", interface, "scope", "link").stdout)
    return addresses[0]["addr_info"][0]["local"]


def test_a_node_asked_directly_answers_on_the_mesh_only(mesh):
    bridge = _link_local(mesh["gateway"], "br-mesh")
    assert list(_ask(mesh["client"], "GET nodeinfo", bridge)) == [bridge]
    assert _ask(mesh["outsider"], "GET nodeinfo", _link_local(mesh["gateway"], "wan0")) == {}


def test_no_answer_off_the_mesh_bridge_nor_to_what_is_no_request(mesh):
    assert _ask(mesh["outsider"]) == {}
    assert _ask(mesh["client"], "GET wifi") == {}
    assert "not a respondd request" in mesh["log"].read_text()
