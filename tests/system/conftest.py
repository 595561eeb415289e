"""Fixtures for tests that run the collection's plugins through real ansible-playbook runs,
against real daemons and real packet filters in network namespaces made by the tests."""

from __future__ import annotations

import os
import shutil

import pytest

from harness import BalancerLab, FastdLimitLab, run_playbook


def require_root_tools(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.fail("these tests need root: they create network namespaces (run them as CI does, as root)")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing tools {missing}: run scripts/bootstrap first")


@pytest.fixture(name="require")
def require_fixture():
    """require(*tools): fail unless root and the tools are installed."""
    return require_root_tools


@pytest.fixture
def playbook(tmp_path):
    """playbook(plays, inventory, *args, netns=None) -> harness.PlaybookRun"""

    def run(plays, inventory, *args, netns=None):
        return run_playbook(plays, inventory, tmp_path, *args, netns=netns)

    return run


@pytest.fixture
def balancer_lab():
    require_root_tools("ip", "iptables", "nft")
    lab = BalancerLab()
    yield lab
    lab.close()


@pytest.fixture(name="lab")
def fastd_lab_fixture(require, tmp_path):
    """Two gateways with a real fastd each and a namespace of Gluon-like routers (harness.FastdLimitLab)."""
    require("ip", "fastd", "nft")
    lab = FastdLimitLab(2, tmp_path)
    try:
        yield lab
    finally:
        lab.close()
