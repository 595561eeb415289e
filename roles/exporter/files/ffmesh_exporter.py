# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ffmesh-exporter: a gateway's own metrics for Prometheus, on its mesh address only.

At every scrape of ``/metrics`` it reads what the daemons report - each fastd instance's status
socket, Kea's lease files, the uplink check's state file - and answers in Prometheus' text
format, followed by the DNS recursor's own metrics (from its web server on loopback). The rules
are the collection's ``_metrics``, installed beside this file. Nothing is
kept between scrapes: a daemon that stops answering shows at the next one.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
import typing as t
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _daemon  # noqa: E402  pylint: disable=wrong-import-position
import _fastd_status  # noqa: E402  pylint: disable=wrong-import-position
import _metrics  # noqa: E402  pylint: disable=wrong-import-position
import _metrics_http  # noqa: E402  pylint: disable=wrong-import-position

REQUIRED = ("listen", "port", "sockets", "lease_file", "pool", "uplink_state", "recursor_metrics")
# Every fastd instance and the recursor are asked at once, each given this long: a scrape takes
# as long as the slowest, well within Prometheus' default timeout (10 s), however many
# instances hang, so a hanging instance shows as ffmesh_fastd_up 0, not as a lost scrape.
SOURCE_TIMEOUT = 3


def load_config(path: str) -> dict[str, t.Any]:
    config = _daemon.read_config(path, REQUIRED)
    _metrics.pool_size(config["pool"]["start"], config["pool"]["end"])
    return config


def read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readlines()
    except FileNotFoundError:
        return []


def read_json(path: str | None) -> dict[str, t.Any] | None:
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        # No verdict yet (or none readable) is not an uplink that works.
        return {"uplink": "unknown"}


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=SOURCE_TIMEOUT) as response:  # noqa: S310 (the role's loopback URL)
            return response.read().decode("utf-8", errors="replace")
    except (OSError, ValueError, http.client.HTTPException):
        return None


def collect(config: dict[str, t.Any]) -> str:
    samples: list[_metrics.Sample] = []
    with ThreadPoolExecutor(max_workers=len(config["sockets"]) + 1) as pool:
        recursor_answer = pool.submit(fetch, config["recursor_metrics"]) if config["recursor_metrics"] else None
        statuses = list(pool.map(lambda path: _fastd_status.read_status(path, SOURCE_TIMEOUT), config["sockets"]))
    for index, status in enumerate(statuses):
        samples += _metrics.fastd_samples(str(index), status)
    files = _metrics.lease_files(config["lease_file"], os.path.exists)
    in_use = _metrics.leases_in_use([read_lines(path) for path in files], time.time())
    samples += _metrics.dhcp_samples(in_use, _metrics.pool_size(config["pool"]["start"], config["pool"]["end"]))
    samples += _metrics.uplink_samples(read_json(config["uplink_state"]))
    if recursor_answer is None:
        return _metrics.render(samples)
    recursor = recursor_answer.result()
    return _metrics.render(samples + _metrics.recursor_samples(recursor)) + _metrics.relayed(recursor or "")


def run(config: dict[str, t.Any]) -> None:
    _metrics_http.serve(config["listen"], config["port"], {"/metrics": lambda: (collect(config), _metrics_http.METRICS_TYPE)}).serve_forever()


if __name__ == "__main__":
    sys.exit(_daemon.main(sys.argv, load_config, run))
