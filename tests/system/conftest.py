"""Helpers for tests that run the collection's plugins through real ansible-playbook runs,
against real daemons and real packet filters in network namespaces made by the tests."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import uuid

import pytest
import yaml

BIN = pathlib.Path(sys.executable).parent


class PlaybookRun:
    def __init__(self, completed: subprocess.CompletedProcess) -> None:
        self.returncode = completed.returncode
        self.stderr = completed.stderr
        self.output = json.loads(completed.stdout) if completed.stdout.strip().startswith("{") else {}
        self.stdout = completed.stdout

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
        return sum(stats["failures"] + stats["unreachable"] for stats in self.output["stats"].values())


@pytest.fixture
def playbook(tmp_path):
    """Run a playbook (a list of plays) with an inventory; returns a PlaybookRun."""

    def run(plays, inventory: dict, *args: str, netns: str | None = None) -> PlaybookRun:
        (tmp_path / "playbook.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
        (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        argv = [str(BIN / "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "playbook.yml"), *args]
        if netns:
            argv = ["ip", "netns", "exec", netns, *argv]
        return PlaybookRun(subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False))

    return run


def require_root_tools(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.fail("these tests need root: they create network namespaces (run them as CI does, as root)")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing tools {missing}: run scripts/bootstrap first")


@pytest.fixture
def netns():
    """Factory for network namespaces that are deleted after the test."""
    require_root_tools("ip")
    made = []

    def make(role: str) -> str:
        name = f"ffm-{role}-{uuid.uuid4().hex[:6]}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        made.append(name)
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        return name

    yield make
    for name in made:
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False).stdout.split()
        for pid in pids:
            subprocess.run(["kill", pid], check=False)
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture(name="require")
def require_fixture():
    """require(*tools): fail unless root and the tools are installed."""
    return require_root_tools
