# Asks the kernel lab's Prometheus (kernel_lab_fabric_monitoring.yml) what it scraped from the
# fabric exporters: waits until every target is up and the node graph shows every session
# established (a scrape may come before FRR's sessions do), at most TIMEOUT_SECONDS, then prints, as JSON,
# the targets and the rows of the dashboard's node graph queries (nodes and edges), each row
# with its labels and value, as Grafana's table format gives them to the node graph.
# Usage: fabric_prometheus.py BASE_URL TARGETS TIMEOUT_SECONDS NODES_QUERY EDGES_QUERY
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


def rows(expression: str) -> list[dict[str, object]]:
    return [{**sample["metric"], "value": float(sample["value"][1])} for sample in get("/api/v1/query", query=expression)["result"]]


expected, deadline = int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
report: dict[str, object] = {"error": "no answer"}
while time.monotonic() < deadline:
    try:
        targets = get("/api/v1/targets")["activeTargets"]
        report = {"targets": [{"node": target["labels"].get("node"), "health": target["health"], "error": target["lastError"]}
                              for target in targets],
                  "nodes": rows(sys.argv[4]), "edges": rows(sys.argv[5])}
        if (len(targets) == expected and all(target["health"] == "up" for target in targets)
                and len(report["nodes"]) == expected and all(edge["value"] == 1 for edge in report["edges"])):
            break
    except OSError as error:
        report = {"error": str(error)}
    time.sleep(2)
print(json.dumps(report))
