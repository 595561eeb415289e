from __future__ import annotations

import importlib.util
import pathlib

import pytest

# The gateway's check script, which the role installs as it is.
SCRIPT = pathlib.Path(__file__).resolve().parents[3] / "roles" / "gateway_ipv4" / "files" / "ffmesh_uplink_check.py"
_spec = importlib.util.spec_from_file_location("ffmesh_uplink_check", SCRIPT)
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)
UP, DOWN, step = check.UP, check.DOWN, check.step


def run(state, results, min_ratio=0.5, down_after=3, up_after=2):
    """Feeds runs (answered, asked) through step; returns the states after each."""
    states = []
    for answered, asked in results:
        state = step(state, answered, asked, min_ratio, down_after, up_after)
        states.append(state)
    return states


def test_a_good_uplink_stays_up():
    states = run({"uplink": UP, "streak": 0}, [(4, 4), (2, 4), (3, 4)])
    assert [s["uplink"] for s in states] == [UP, UP, UP] and not any(s["changed"] for s in states)


def test_down_only_after_enough_bad_runs_in_a_row():
    states = run({}, [(1, 4), (0, 4), (1, 4)])
    assert [(s["uplink"], s["streak"], s["changed"]) for s in states] == [(UP, 1, False), (UP, 2, False), (DOWN, 0, True)]


def test_one_good_run_between_bad_ones_starts_the_count_again():
    states = run({}, [(0, 4), (0, 4), (4, 4), (0, 4), (0, 4)])
    assert [s["uplink"] for s in states] == [UP] * 5 and states[-1]["streak"] == 2


def test_back_up_after_enough_good_runs_and_a_bad_one_resets_the_count():
    states = run({"uplink": DOWN, "streak": 0}, [(4, 4), (1, 4), (4, 4), (3, 4)])
    assert [(s["uplink"], s["changed"]) for s in states] == [(DOWN, False), (DOWN, False), (DOWN, False), (UP, True)]


def test_the_ratio_is_the_boundary():
    assert step({}, 2, 4, 0.5, 1, 1)["good"] is True
    assert step({}, 1, 4, 0.5, 1, 1) == {"uplink": DOWN, "streak": 0, "good": False, "changed": True}


@pytest.mark.parametrize(("state", "answered", "asked", "settings"), [
    ({}, 1, 0, (0.5, 3, 3)), ({}, 5, 4, (0.5, 3, 3)), ({}, 1, 4, (0, 3, 3)), ({}, 1, 4, (0.5, 0, 3)),
    ({"uplink": "sideways"}, 1, 4, (0.5, 3, 3)),
])
def test_nonsense_is_refused(state, answered, asked, settings):
    with pytest.raises(ValueError):
        step(state, answered, asked, *settings)
