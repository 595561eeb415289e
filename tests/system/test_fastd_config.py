"""The fastd role's configuration as the installed fastd reads it: accepted without a warning
by the fastd of this machine and by the fastd of the lab image (Debian 12 ships fastd 22,
Debian 13 fastd 23)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from harness import LOCAL, ROOT


def _render(playbook, tmp_path) -> str:
    role = ROOT / "roles" / "fastd"
    state = tmp_path / "state"
    (state / "fastd" / "peers").mkdir(parents=True)
    config = state / "fastd" / "fastd-1.conf"
    play = [{
        "name": "render",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": [str(role / "defaults" / "main.yml"), str(role / "vars" / "main.yml")],
        "tasks": [
            {"name": "key", "ffmesh.gateway.keypair": {"type": "fastd", "path": f"{state}/fastd/secret.conf"}},
            {"name": "config", "ansible.builtin.template": {"src": str(role / "templates" / "fastd.conf.j2"), "dest": str(config), "mode": "0600"}},
        ],
    }]
    # Extra vars outrank the role files loaded as vars_files.
    extra = {"freifunk_state_dir": str(state), "freifunk_fastd_instance": 1, "freifunk_fastd_instances": 2,
             "freifunk_mesh": {"ipv4_net": "10.186.0.0/16", "mac_prefix": "fe:ed:ca:fe:"}, "freifunk_group_index": 0}
    run = playbook(play, LOCAL, "--extra-vars", json.dumps(extra))
    assert run.failed == 0, run.stdout[-2000:]
    return str(config)


def _lab_image() -> str:
    built = subprocess.run([str(ROOT / "lab" / "scripts" / "lab-image")], capture_output=True, text=True, check=False,
                           env=dict(os.environ, FFMESH_LAB_SUITE="trixie"), cwd=ROOT)
    assert built.returncode == 0, built.stderr[-2000:]
    return built.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("where", ["this machine", "lab image (trixie)"])
def test_fastd_reads_the_configuration_without_a_warning(playbook, tmp_path, require, where):
    require("fastd", "podman")
    config = _render(playbook, tmp_path)
    state = str(tmp_path / "state")
    command = ["fastd", "--verify-config", "--config", config]
    if where != "this machine":
        command = ["podman", "run", "--rm", "--network", "none", "-v", f"{state}:{state}:ro", _lab_image(), *command]
    version = subprocess.run([*command[:-4], "fastd", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    checked = subprocess.run(command, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, f"{version}: {checked.stderr}"
    assert "Warning" not in checked.stdout + checked.stderr, f"{version}: {checked.stderr}"
