"""What the collection gives a community's monitoring (monitoring/): the alert rules, checked
and run by Prometheus' own promtool (each alert fires on the series the exporter writes, only
after its ``for``, and not for the gateway that is fine), and the Grafana dashboards (the
gateways', the fabric's), read by Grafana's own models (grafana-foundation-sdk), with every
query checked by promtool and every metric one that an exporter of the collection exports."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from harness import ROOT

MONITORING = ROOT / "monitoring"
RULES = MONITORING / "ffmesh-alerts.yml"
DASHBOARDS = {"gateways": MONITORING / "ffmesh-dashboard.json", "fabric": MONITORING / "ffmesh-fabric-dashboard.json"}
RULE_TESTS = ROOT / "tests" / "system" / "prometheus" / "ffmesh-alerts.test.yml"
# What the exporters export: the gateway's (_metrics.METRICS), the fabric's (_fabric_metrics.METRICS)
# and the peer limit's.
EXPORTED = {name for module in ("_metrics.py", "_fabric_metrics.py")
            for name in re.findall(r'^    "(ffmesh_[a-z_]+)": \(', (ROOT / "plugins" / "plugin_utils" / module).read_text(), re.M)} | set(
    re.findall(r"# TYPE (ffmesh_[a-z_]+) ", (ROOT / "roles" / "fastd_limit" / "files" / "ffmesh_fastd_limit.py").read_text()))
# The daemons' own metrics that the dashboard shows. The labs ask Prometheus for each: the
# recursor's and the node exporter's in molecule's gateway lab (lab/playbooks/files/lab_prometheus.py),
# BIRD's in the kernel lab (lab/playbooks/kernel_lab.yml).
DAEMONS_OWN = {"pdns_recursor_questions", "node_load1", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes",
               "bird_protocol_up"}
METRIC_NAME = r"\b((?:ffmesh|pdns_recursor|node|bird)_[A-Za-z0-9_]+)\b"


def _promtool(*args: str, cwd=RULE_TESTS.parent) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, check=False, cwd=cwd)


def _expressions(dashboard_name: str) -> list[str]:
    dashboard = json.loads(DASHBOARDS[dashboard_name].read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def _missing(written, read, path="") -> list[str]:
    """Keys and values of ``written`` that ``read`` lacks or changed."""
    if isinstance(written, dict):
        if not isinstance(read, dict):
            return [path]
        return [gap for key, value in written.items()
                for gap in ([f"{path}.{key}"] if key not in read else _missing(value, read[key], f"{path}.{key}"))]
    if isinstance(written, list):
        if not isinstance(read, list) or len(written) != len(read):
            return [path]
        return [gap for index, pair in enumerate(zip(written, read)) for gap in _missing(*pair, f"{path}[{index}]")]
    return [] if written == read else [f"{path}: {written!r} became {read!r}"]


def test_the_rules_load(require):
    require("promtool")
    result = _promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


def test_each_alert_fires_when_it_should_and_not_before(require):
    require("promtool")
    result = _promtool("test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dashboard_name", DASHBOARDS)
def test_the_dashboard_is_what_grafanas_models_read(dashboard_name):
    # The models drop what Grafana's schema does not have, at every level and per panel type
    # (a misspelt option, a panel key Grafana ignores): all that was written must come back.
    register_default_plugins()
    written = json.loads(DASHBOARDS[dashboard_name].read_text())
    read = json.loads(JSONEncoder(sort_keys=True).encode(Dashboard.from_json(written)))
    assert _missing(written, read) == []
    broken = json.loads(DASHBOARDS[dashboard_name].read_text())
    broken["panels"][0]["options"]["colourMode"] = "value"
    broken["panels"][0]["targets"][0]["instnat"] = True
    assert _missing(broken, json.loads(JSONEncoder().encode(Dashboard.from_json(broken)))) == [
        ".panels[0].targets[0].instnat", ".panels[0].options.colourMode"]


@pytest.mark.parametrize("dashboard_name", DASHBOARDS)
def test_the_dashboards_queries_parse_and_the_dashboard_and_alerts_ask_only_for_exported_metrics(require, tmp_path, dashboard_name):
    require("promtool")
    expressions = _expressions(dashboard_name)
    used = set(re.findall(METRIC_NAME, " ".join(expressions) + RULES.read_text()))
    assert used and used <= EXPORTED | DAEMONS_OWN, f"not exported: {sorted(used - EXPORTED - DAEMONS_OWN)}"
    if dashboard_name == "gateways":
        assert DAEMONS_OWN <= used
    # promtool parses PromQL in rule files: each query as a recording rule, the variable as Grafana fills it.
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{number}", "expr": expr.replace("$instance", ".*")} for number, expr in enumerate(expressions)]}]}
    (tmp_path / "dashboard.rules.yml").write_text(yaml.safe_dump(rules))
    result = _promtool("check", "rules", "dashboard.rules.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
