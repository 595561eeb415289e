"""The alert rules in monitoring/ffmesh-alerts.yml, checked and run by Prometheus' own promtool:
each alert fires on the series the exporter writes, only after its ``for``, and not for the
gateway that is fine (tests/system/prometheus/ffmesh-alerts.test.yml)."""

from __future__ import annotations

import subprocess

from harness import ROOT

RULES = ROOT / "monitoring" / "ffmesh-alerts.yml"
RULE_TESTS = ROOT / "tests" / "system" / "prometheus" / "ffmesh-alerts.test.yml"


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, check=False, cwd=RULE_TESTS.parent)


def test_the_rules_load(require):
    require("promtool")
    result = _promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


def test_each_alert_fires_when_it_should_and_not_before(require):
    require("promtool")
    result = _promtool("test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
