# Asks the lab's Prometheus (lab_verify.yml) what it scraped: waits until it has scraped every
# target once and evaluated the alert rules, then prints, as JSON, its targets (health, last
# error, scrape time), what it reads per gateway (routers, leases, the recursor's questions, the
# host's load and memory: the dashboard's queries), and its rules.
# Usage: lab_prometheus.py BASE_URL TARGETS TIMEOUT_SECONDS
from __future__ import annotations

import json
import sys
import time
import urllib.parse
import urllib.request


def get(path: str, **query: str) -> object:
    url = f"{sys.argv[1]}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]


def number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def per_gateway(expression: str) -> dict[str, float | int]:
    return {sample["metric"].get("gateway", "?"): number(sample["value"][1]) for sample in get("/api/v1/query", query=expression)["result"]}


expected, deadline = int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
report: dict[str, object] = {"error": "no answer"}
while time.monotonic() < deadline:
    try:
        targets = get("/api/v1/targets")["activeTargets"]
        rules = [rule for group in get("/api/v1/rules")["groups"] for rule in group["rules"]]
        report = {
            "targets": [{"gateway": target["labels"].get("gateway"), "job": target["labels"]["job"], "health": target["health"],
                         "error": target["lastError"], "scrape_ms": round(target["lastScrapeDuration"] * 1000, 1)}
                        for target in targets],
            "routers": per_gateway("sum by (gateway) (ffmesh_fastd_connected_routers)"),
            "leases": per_gateway("ffmesh_dhcp_leases_in_use"),
            "pool_sizes": per_gateway("ffmesh_dhcp_pool_size"),
            # One instance per gateway across both jobs: the dashboard's peer limit line needs it.
            "peer_limits": per_gateway("ffmesh_fastd_peer_limit and on (instance) ffmesh_fastd_up"),
            # The recursor's own metrics, relayed by the exporter, and the node exporter's.
            "recursor_up": per_gateway("ffmesh_recursor_up"),
            "recursor_questions": per_gateway("pdns_recursor_questions"),
            "node_memory_available": per_gateway("node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes"),
            "node_load1": per_gateway("node_load1"),
            "rules": {rule["name"]: rule["health"] for rule in rules},
        }
        done = (len(targets) == expected and all(target["health"] == "up" for target in targets)
                and all(rule["health"] == "ok" and rule.get("lastEvaluation", "").startswith("20") for rule in rules))
        if done:
            break
    except OSError as exc:
        report = {"error": str(exc)}
    time.sleep(2)
print(json.dumps(report))
