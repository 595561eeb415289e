"""playbooks/exchange_keys.yml on three local gateways: every gateway gets every peer's public
key, a --limit run keeps the peers outside the limit, and a gateway that left is removed."""

from __future__ import annotations

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _inventory(base: pathlib.Path, hosts: list) -> dict:
    return {"gateways": {"hosts": {
        host: {"ansible_connection": "local", "freifunk_container_data_dir": str(base / host),
               "freifunk_gateway": {"peering_public_address_ipv4": f"192.0.2.{index + 1}"}}
        for index, host in enumerate(hosts)}}}


def _run(playbook, tmp_path, hosts, *args):
    plays = yaml.safe_load((ROOT / "playbooks" / "exchange_keys.yml").read_text())
    return playbook(plays, _inventory(tmp_path, hosts), *args)


def _tinc_key_of(host_file: pathlib.Path) -> str:
    return re.search(r"-----BEGIN RSA PUBLIC KEY-----.*-----END RSA PUBLIC KEY-----\n", host_file.read_text(), re.S).group(0)


def _own_public_keys(run) -> dict:
    return {host: result["public_key"] for host, result in run.results("Make the tinc key pair").items()}


def test_every_gateway_gets_every_key_and_limit_keeps_peers(playbook, tmp_path):
    hosts = ["gw1", "gw2", "gw3"]
    first = _run(playbook, tmp_path, hosts)
    assert first.failed == 0, first.stdout[-3000:]
    keys = _own_public_keys(first)
    for host in hosts:
        for peer in hosts:
            assert _tinc_key_of(tmp_path / host / "tinc" / "hosts" / peer) == keys[peer]
        assert sorted(p.name for p in (tmp_path / host / "fastd" / "gateways").iterdir()) == sorted(set(hosts) - {host})
    assert "Address = 192.0.2.2 655" in (tmp_path / "gw1" / "tinc" / "hosts" / "gw2").read_text()
    assert "remote 192.0.2.3:10000;" in (tmp_path / "gw1" / "fastd" / "gateways" / "gw3").read_text()
    record = yaml.safe_load((tmp_path / "public_keys" / "tinc.yml").read_text())
    assert record == keys
    assert "PRIVATE KEY" not in first.stdout

    assert _run(playbook, tmp_path, hosts).changed == 0
    assert _run(playbook, tmp_path, hosts, "--check").changed == 0

    limited = _run(playbook, tmp_path, hosts, "--limit", "gw1")
    assert limited.failed == 0 and limited.changed == 0
    assert sorted(p.name for p in (tmp_path / "gw1" / "tinc" / "hosts").iterdir()) == hosts

    (tmp_path / "gw2" / "tinc" / "rsa_key.priv").unlink()  # gw2 gets a new key pair (rotation)
    rotated = _run(playbook, tmp_path, hosts, "--limit", "gw2")
    new_key = rotated.results("Make the tinc key pair")["gw2"]["public_key"]
    assert new_key != keys["gw2"]
    assert rotated.results("Record the tinc public keys and learn all gateways'")["gw2"]["updated"] == ["gw2"]
    assert _run(playbook, tmp_path, hosts).failed == 0
    assert _tinc_key_of(tmp_path / "gw1" / "tinc" / "hosts" / "gw2") == new_key

    left = _run(playbook, tmp_path, ["gw1", "gw2"], "--diff")
    assert left.failed == 0
    assert left.results("Record the tinc public keys and learn all gateways'")["gw1"]["removed"] == ["gw3"]
    for host in ("gw1", "gw2"):
        assert not (tmp_path / host / "tinc" / "hosts" / "gw3").exists()
        assert not (tmp_path / host / "fastd" / "gateways" / "gw3").exists()


def test_limit_without_a_record_fails_before_writing_peers(playbook, tmp_path):
    run = _run(playbook, tmp_path, ["gw1", "gw2"], "--limit", "gw1")
    assert run.failed == 1
    assert "host gw2 is a member of the mesh but its tinc public key is not on record" in run.stdout
    assert not (tmp_path / "gw1" / "tinc" / "hosts").exists()


def test_check_mode_on_fresh_gateways_writes_nothing(playbook, tmp_path):
    run = _run(playbook, tmp_path, ["gw1", "gw2"], "--check", "--diff")
    assert run.failed == 0, run.stdout[-3000:]
    assert run.results("Record the tinc public keys and learn all gateways'")["gw1"]["pending"] == ["gw1", "gw2"]
    assert not (tmp_path / "gw1").exists() and not (tmp_path / "public_keys").exists()


def test_peer_files_only_remove_their_own_files(playbook, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.mkdir()
    (hosts / "rsa_key.priv").write_text("-----BEGIN RSA PRIVATE KEY-----\nsecret\n")
    task = {"name": "peers", "ffmesh.gateway.peer_files": {"path": str(hosts), "format": "fastd",
            "public_keys": {"gw1": "4064ca1873cae00358d045472edd29c26c0ed96eaf335ad2a647d19bfee6f2cc"}}}
    play = [{"name": "peers", "hosts": "localhost", "gather_facts": False, "tasks": [task]}]
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}
    assert playbook(play, inventory).changed == 1
    task["ffmesh.gateway.peer_files"]["public_keys"] = {"gw2": "99ce861ca7ffd1f805ab0bc95d0aa93374a4cfa5414f9c2a2eb28d544600e0c0"}
    run = playbook(play, inventory, "--diff")
    assert run.results("peers")["localhost"]["removed"] == ["gw1"]
    assert sorted(p.name for p in hosts.iterdir()) == ["gw2", "rsa_key.priv"]
    assert "secret" not in run.stdout


def test_store_takes_host_names_from_groups(playbook, tmp_path):
    """Host names straight from groups[...], as in the module's EXAMPLES, are written to the record."""
    key = "4064ca1873cae00358d045472edd29c26c0ed96eaf335ad2a647d19bfee6f2cc"
    task = {"name": "record", "run_once": True, "ffmesh.gateway.public_key_store": {
        "store": str(tmp_path / "public_keys"), "mesh": "routers", "key_type": "fastd",
        "keys": "{{ dict(groups['gateways'] | zip([" + repr(key) + "])) }}", "members": "{{ groups['gateways'] }}"}}
    play = [{"name": "record", "hosts": "gateways", "gather_facts": False, "tasks": [task]}]
    inventory = {"gateways": {"hosts": {"gw1": {"ansible_connection": "local"}}}}
    run = playbook(play, inventory)
    assert run.failed == 0, run.stdout[-3000:]
    assert yaml.safe_load((tmp_path / "public_keys" / "routers.yml").read_text()) == {"gw1": key}
