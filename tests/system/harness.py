"""Shared by the system tests and the benchmarks: ansible-playbook runs of the collection,
network namespaces made for one test, and the balancer lab (a gateway and a client namespace
joined by a veth pair)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
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
