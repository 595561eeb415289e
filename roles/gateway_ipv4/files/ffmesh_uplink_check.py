# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The uplink health check of a gateway: seed 001's check_exitvpn_gw, with hysteresis.

Each run pings several targets through the tunnel table (from the NAT address). When fewer
than ``min_ratio`` of them answer in ``down_after`` runs in a row, the gateway stops being a
gateway for clients (``on_down``: batman-adv gateway mode off, DHCP stopped, the router
advertisements' default route withdrawn); after ``up_after`` good runs in a row it is one again
(``on_up``). Between transitions every run applies the current state's actions again, so a
daemon that was started by hand or by start.yml follows the uplink within one run. The state
lives in a JSON file a monitor can read.

The role installs this file as the gateway's check script; :func:`step` is the rule, tested on
its own, and :func:`main` runs it with ping and the configured commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import typing as t

UP, DOWN = "up", "down"


def step(state: t.Mapping[str, t.Any], answered: int, asked: int, min_ratio: float, down_after: int, up_after: int) -> dict[str, t.Any]:
    """The state after one run that got ``answered`` of ``asked`` targets to answer.

    ``state`` holds ``uplink`` (up or down) and ``streak`` (runs in a row that disagreed with
    it). The result adds ``good`` (this run's verdict) and ``changed`` (a transition now).
    """
    if asked < 1 or not 0 <= answered <= asked:
        raise ValueError(f"answered {answered} of {asked} targets is not a count of a run")
    if not 0 < min_ratio <= 1 or down_after < 1 or up_after < 1:
        raise ValueError("min_ratio must be in (0, 1], down_after and up_after at least 1")
    uplink = state.get("uplink", UP)
    if uplink not in (UP, DOWN):
        raise ValueError(f"uplink state {uplink!r} is neither {UP} nor {DOWN}")
    good = answered / asked >= min_ratio
    disagrees = good != (uplink == UP)
    streak = int(state.get("streak", 0)) + 1 if disagrees else 0
    changed = disagrees and streak >= (up_after if uplink == DOWN else down_after)
    if changed:
        uplink, streak = (UP if good else DOWN), 0
    return {"uplink": uplink, "streak": streak, "good": good, "changed": changed}


def _ping(target: str, source: str) -> bool:
    done = subprocess.run(["ping", "-n", "-q", "-c", "2", "-W", "2", "-I", source, target],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return done.returncode == 0


def _write(path: str, content: dict[str, t.Any]) -> None:
    directory = os.path.dirname(path) or "."
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False) as temporary:
        json.dump(content, temporary, indent=2, sort_keys=True)
        temporary.write("\n")
    os.chmod(temporary.name, 0o644)
    os.replace(temporary.name, path)


def main(argv: t.Sequence[str]) -> int:
    """ffmesh-uplink-check CONFIG: one run. CONFIG is the JSON the role writes."""
    if len(argv) != 2:
        print("usage: ffmesh-uplink-check CONFIG.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        config = json.load(handle)
    try:
        with open(config["state_file"], encoding="utf-8") as handle:
            state = json.load(handle)
    except FileNotFoundError:
        state = {"uplink": UP, "streak": 0}
    answered = [target for target in config["targets"] if _ping(target, config["source"])]
    new = step(state, len(answered), len(config["targets"]), config["min_ratio"], config["down_after"], config["up_after"])
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    summary = f"{len(answered)}/{len(config['targets'])} targets answered"
    if new["changed"]:
        print(f"uplink {new['uplink'].upper()}: {summary}, {config['down_after' if new['uplink'] == DOWN else 'up_after']} runs in a row")
    elif not new["good"] or new["uplink"] == DOWN:
        print(f"uplink {new['uplink']}: {summary} (streak {new['streak']})")
    failures = 0
    for command in config["on_" + new["uplink"]]:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            failures += 1
            print(f"{' '.join(command)}: exit {done.returncode}: {(done.stderr or done.stdout).strip()}", file=sys.stderr)
    _write(config["state_file"], {
        "uplink": new["uplink"], "streak": new["streak"], "last_run": now, "answered": answered,
        "targets": len(config["targets"]),
        "since": now if new["changed"] else state.get("since", now),
    })
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
