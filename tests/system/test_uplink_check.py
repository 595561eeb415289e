"""The uplink check script as the gateway runs it: real ping, real commands, its state file."""

from __future__ import annotations

import json
import subprocess
import sys

from harness import ROOT, make_netns, remove_netns

SCRIPT = ROOT / "roles" / "gateway_ipv4" / "files" / "ffmesh_uplink_check.py"


def test_the_check_withdraws_after_bad_runs_and_returns_after_good_ones(require, tmp_path):
    require("ip", "ping")
    namespace = make_netns("check")
    try:
        subprocess.run(["ip", "-n", namespace, "addr", "add", "198.51.100.86/32", "dev", "lo"], check=True)
        state, marks = tmp_path / "state.json", tmp_path / "marks"
        config = tmp_path / "check.json"

        def run(targets):
            config.write_text(json.dumps({
                "targets": targets, "source": "198.51.100.86", "min_ratio": 0.5, "down_after": 2, "up_after": 2,
                "state_file": str(state),
                "on_down": [["sh", "-c", f"echo down >> {marks}"]], "on_up": [["sh", "-c", f"echo up >> {marks}"]],
            }))
            done = subprocess.run(["ip", "netns", "exec", namespace, sys.executable, str(SCRIPT), str(config)],
                                  capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
            return json.loads(state.read_text())["uplink"], done.stdout

        # 198.51.100.86 answers (the namespace's own address); 192.0.2.99 has no route here.
        good, bad = ["198.51.100.86", "198.51.100.86"], ["192.0.2.99", "192.0.2.99", "198.51.100.86"]
        assert run(good)[0] == "up"
        assert run(bad)[0] == "up"
        uplink, said = run(bad)
        assert uplink == "down" and "uplink DOWN: 1/3 targets answered, 2 runs in a row" in said
        assert run(good)[0] == "down"
        uplink, said = run(good)
        assert uplink == "up" and "uplink UP: 2/2 targets answered" in said
        assert marks.read_text().split() == ["up", "up", "down", "down", "up"]
        assert set(json.loads(state.read_text())) == {"uplink", "streak", "last_run", "answered", "targets", "since"}
    finally:
        remove_netns(namespace)
