"""ffmesh.gateway.keypair against the real tools: fastd, wg and tincd derive or accept the same keys."""

from __future__ import annotations

import grp
import os
import pathlib
import re
import stat
import subprocess
import time

import pytest

from harness import LOCAL

ROUNDS = 10


def _keypair_play(directory: pathlib.Path, key_type: str, count: int) -> list:
    return [{
        "name": "keys",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{
            "name": "keypair",
            "ffmesh.gateway.keypair": {"type": key_type, "path": f"{directory}/key{{{{ item }}}}"},
            "loop": list(range(count)),
        }],
    }]


def _public_keys(run) -> list:
    return [item["public_key"] for item in run.results("keypair")["localhost"]["results"]]


@pytest.mark.parametrize("key_type", ["fastd", "wireguard", "tinc"])
def test_check_run_check_run(playbook, tmp_path, key_type):
    """community.crypto's four steps: check mode, run, check mode again, run again."""
    keys = tmp_path / "keys"
    keys.mkdir()
    checked = playbook(_keypair_play(keys, key_type, 1), LOCAL, "--check", "--diff")
    assert checked.failed == 0, checked.stderr
    assert checked.changed == 1 and not list(keys.iterdir())
    first = playbook(_keypair_play(keys, key_type, 1), LOCAL, "--diff")
    assert first.changed == 1
    key_file = keys / "key0"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.stdout.count(key_file.read_text().strip().splitlines()[1 if key_type == "tinc" else 0]) == 0, "private key in output"
    again = playbook(_keypair_play(keys, key_type, 1), LOCAL, "--check", "--diff")
    assert again.changed == 0
    last = playbook(_keypair_play(keys, key_type, 1), LOCAL)
    assert last.changed == 0
    assert _public_keys(last) == _public_keys(first)


def test_a_group_may_read_the_key_and_a_rerun_changes_nothing(playbook, tmp_path):
    play = _keypair_play(tmp_path, "wireguard", 1)
    play[0]["tasks"][0]["ffmesh.gateway.keypair"]["group"] = "daemon"
    first = playbook(play, LOCAL)
    assert first.failed == 0, first.stdout[-2000:]
    key_file = tmp_path / "key0"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o640
    assert key_file.stat().st_gid == grp.getgrnam("daemon").gr_gid
    assert playbook(play, LOCAL).changed == 0
    # A key made without the group gets it, and keeps its public key.
    os.chmod(key_file, 0o600)
    os.chown(key_file, -1, 0)
    fixed = playbook(play, LOCAL)
    assert fixed.changed == 1 and _public_keys(fixed) == _public_keys(first)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o640 and key_file.stat().st_gid == grp.getgrnam("daemon").gr_gid


def test_fastd_show_key_agrees(playbook, tmp_path):
    run = playbook(_keypair_play(tmp_path, "fastd", ROUNDS), LOCAL)
    assert run.failed == 0, run.stderr
    for index, public in enumerate(_public_keys(run)):
        shown = subprocess.run(
            ["fastd", "--config", str(tmp_path / f"key{index}"), "--show-key", "--machine-readable"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        assert shown == public


def test_wg_pubkey_agrees(playbook, tmp_path):
    run = playbook(_keypair_play(tmp_path, "wireguard", ROUNDS), LOCAL)
    assert run.failed == 0, run.stderr
    for index, public in enumerate(_public_keys(run)):
        private = (tmp_path / f"key{index}").read_text()
        assert subprocess.run(["wg", "pubkey"], input=private, capture_output=True, text=True, check=True).stdout.strip() == public


def test_force_replaces_the_pair(playbook, tmp_path):
    first = _public_keys(playbook(_keypair_play(tmp_path, "fastd", 1), LOCAL))
    play = _keypair_play(tmp_path, "fastd", 1)
    play[0]["tasks"][0]["ffmesh.gateway.keypair"]["force"] = True
    forced = playbook(play, LOCAL)
    assert forced.changed == 1
    assert _public_keys(forced) != first
    assert _public_keys(playbook(_keypair_play(tmp_path, "fastd", 1), LOCAL)) == _public_keys(forced)


def test_broken_key_file_is_left_alone(playbook, tmp_path):
    (tmp_path / "key0").write_text("not a key\n")
    run = playbook(_keypair_play(tmp_path, "wireguard", 1), LOCAL)
    assert run.failed == 1
    assert "exists but is not a wireguard private key" in run.stdout
    assert (tmp_path / "key0").read_text() == "not a key\n"


def _tinc_node(base: pathlib.Path, name: str, address: str, port: int, peer: str) -> pathlib.Path:
    net = base / name
    net.mkdir()
    (net / "tinc.conf").write_text(
        f"Name = {name}\nMode = switch\nDeviceType = dummy\nBindToAddress = {address} {port}\n"
        f"AddressFamily = ipv4\nConnectTo = {peer}\nPingInterval = 1\n"
    )
    return net


def _wait_for(logs, pattern, seconds):
    deadline = time.monotonic() + seconds
    while True:
        texts = [log.read_text() if log.exists() else "" for log in logs]
        if all(re.search(pattern, text) for text in texts) or time.monotonic() > deadline:
            return texts
        time.sleep(0.2)


@pytest.mark.parametrize("stranger_key", [False, True], ids=["exchanged", "wrong-key"])
def test_tincd_accepts_the_pairs(playbook, require, tmp_path, stranger_key):
    """Two tinc 1.0 daemons on loopback authenticate each other with the module's keys and the
    peer_files module's host files; with a wrong public key on record they must not."""
    require("tincd")
    port = 20000 + os.getpid() % 20000
    addresses = {"node_a": "127.0.0.2", "node_b": "127.0.0.3"}
    nets = {
        "node_a": _tinc_node(tmp_path, "node_a", addresses["node_a"], port, "node_b"),
        "node_b": _tinc_node(tmp_path, "node_b", addresses["node_b"], port, "node_a"),
    }
    tasks = [
        {"name": f"key {name}", "ffmesh.gateway.keypair": {"type": "tinc", "path": f"{net}/rsa_key.priv"}, "register": f"key_{name}"}
        for name, net in nets.items()
    ]
    tasks.append({"name": "stranger", "ffmesh.gateway.keypair": {"type": "tinc", "path": f"{tmp_path}/stranger.priv"}, "register": "stranger"})
    public_keys = {"node_a": "{{ key_node_a.public_key }}",
                   "node_b": "{{ stranger.public_key }}" if stranger_key else "{{ key_node_b.public_key }}"}
    tasks += [
        {"name": f"hosts {name}", "ffmesh.gateway.peer_files": {
            "path": f"{net}/hosts", "format": "tinc", "public_keys": public_keys, "addresses": addresses, "port": port}}
        for name, net in nets.items()
    ]
    run = playbook([{"name": "tinc", "hosts": "localhost", "gather_facts": False, "tasks": tasks}], LOCAL)
    assert run.failed == 0, run.stdout[-3000:]

    logs = {name: tmp_path / f"{name}.log" for name in nets}
    daemons = [
        subprocess.Popen(["tincd", "--config", str(net), "--no-detach", "--debug=2", f"--pidfile={net}/pid", f"--logfile={logs[name]}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        for name, net in nets.items()
    ]
    try:
        texts = _wait_for(list(logs.values()), r"Connection with \S+ \(127\.0\.0\.[23] port \d+\) activated", 5 if stranger_key else 20)
    finally:
        for daemon in daemons:
            daemon.terminate()
            daemon.wait(timeout=10)
    activated = [bool(re.search(r"Connection with \S+ .*activated", text)) for text in texts]
    assert activated == ([False, False] if stranger_key else [True, True]), texts
    if stranger_key:
        assert any(re.search(r"(?i)error|authentication|identity|challenge|failed", text) for text in texts), texts
