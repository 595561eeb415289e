from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._peer_limit import (
    PeerLimitError,
    gate,
    gate_ruleset,
    newest_peers,
    peer_limit,
    shed_element,
)
from ansible_collections.ffmesh.gateway.plugins.plugin_utils._schedule import ScheduleError, capacity, repeating, slot


def _times(entry):
    """Minutes of the week at which the job runs."""
    hours = range(24) if entry["hour"] is None else [entry["hour"]]
    return {day * 1440 + hour * 60 + entry["minute"] for day in entry["weekdays"] for hour in hours}


@given(
    period=st.sampled_from(["hourly", "daily", "weekly"]),
    start_hour=st.integers(0, 23),
    window_hours=st.integers(1, 24),
    spacing=st.sampled_from([1, 2, 5, 10, 15, 20, 30, 60]),
)
def test_no_two_gateways_share_a_slot(period, start_hour, window_hours, spacing):
    room = capacity(period, window_hours, spacing)
    seen = set()
    for number in range(min(room, 200)):
        times = _times(slot(number, period, start_hour, window_hours, spacing))
        assert not times & seen
        seen |= times


@pytest.mark.parametrize("gateways", range(1, 8))
def test_every_weekday_has_exactly_one_gateway(gateways):
    days = [day for number in range(gateways) for day in slot(number, "weekly", gateways=gateways)["weekdays"]]
    assert sorted(days) == list(range(7))


def test_cron_and_on_calendar():
    entry = slot(1, "weekly", start_hour=3, gateways=3)
    assert entry["cron"] == "0 3 * * 1,4"
    assert entry["on_calendar"] == "Mon,Thu *-*-* 03:00:00"
    assert slot(9, "weekly")["cron"] == "15 3 * * 2"
    assert slot(2, "daily", start_hour=5)["on_calendar"] == "*-*-* 05:30:00"
    assert slot(3, "hourly", spacing=5)["cron"] == "15 * * * *"


def test_window_crossing_midnight_wraps_the_hour_and_the_weekday():
    assert slot(5, "daily", start_hour=23, window_hours=2)["cron"] == "15 0 * * *"
    # Sunday's window 23:00-01:00 reaches into Monday.
    assert slot(28, "weekly", start_hour=23, window_hours=2)["on_calendar"] == "Mon *-*-* 00:00:00"
    assert slot(1, "weekly", start_hour=23, window_hours=2, spacing=60, gateways=2)["cron"] == "0 23 * * 1,3,5"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((28, "weekly"), "has no slot of its own: a weekly window of 1 h in steps of 15 min holds 28"),
        ((0, "monthly"), "period 'monthly'"),
        ((0, "daily", 3, 1, 7), "spacing 7 must divide an hour"),
        ((-1,), "non-negative"),
        ((3, "weekly", 3, 1, 15, 3), "not below the number of gateways 3"),
    ],
)
def test_schedule_errors(args, message):
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        slot(*args)


def test_peer_limit_seed_001_formula():
    assert peer_limit(300, 3) == 110
    assert peer_limit(301, 3) == 111  # rounded up: nobody is turned away by rounding
    assert peer_limit(300, 3, configured_gateways=5, buffer=10) == 130
    assert peer_limit(0, 1, buffer=0) == 0


def test_peer_limit_hysteresis():
    assert peer_limit(300, 3, current=105, min_change=10) == 105
    assert peer_limit(300, 3, current=95, min_change=10) == 110


@pytest.mark.parametrize(
    "kwargs",
    [
        {"active_peers": -1, "active_gateways": 1},
        {"active_peers": 10, "active_gateways": 0},
        {"active_peers": 10, "active_gateways": 3, "configured_gateways": 2},
        {"active_peers": 10, "active_gateways": True},
    ],
)
def test_peer_limit_rejects_impossible_counts(kwargs):
    with pytest.raises(PeerLimitError):
        peer_limit(**kwargs)


@given(peers=st.integers(0, 100000), active=st.integers(1, 50), offline=st.integers(0, 50), buffer=st.integers(0, 500))
def test_active_gateways_together_admit_every_peer(peers, active, offline, buffer):
    limit = peer_limit(peers, active, active + offline, buffer)
    assert limit * active >= peers + buffer * active


@given(seconds=st.sampled_from([1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60]), gateways=st.integers(1, 60))
def test_interval_jobs_spread_gateways_evenly_over_the_interval(seconds, gateways):
    seconds_of = [repeating(number, seconds, gateways)["second"] for number in range(gateways)]
    assert seconds_of == sorted(seconds_of) and all(0 <= second < seconds for second in seconds_of)
    # As far apart as the interval allows: no two gateways closer than a whole share of it.
    assert all(later - earlier >= seconds // gateways for earlier, later in zip(seconds_of, seconds_of[1:]))
    if gateways <= seconds:
        assert len(set(seconds_of)) == gateways


def test_interval_jobs_rank_group_indices_with_gaps_among_themselves():
    indices = [40, 0, 10]
    assert [repeating(number, 15, indices)["second"] for number in sorted(indices)] == [0, 5, 10]
    # A gateway missing from the list takes its place among the others.
    assert repeating(5, 15, [0, 10])["second"] == 5
    assert repeating(0, 15, [])["second"] == 0


def test_interval_on_calendar():
    assert repeating(1, 10, 2)["on_calendar"] == "*-*-* *:*:05/10"
    assert repeating(3, 60, 4)["on_calendar"] == "*-*-* *:*:45"
    # The key repository's sync every 15 minutes: two gateways seven and a half minutes apart.
    assert repeating(0, 900, 2)["on_calendar"] == "*-*-* *:00/15:00"
    assert repeating(1, 900, 2) == {"second": 450, "seconds": 900, "on_calendar": "*-*-* *:07/15:30"}
    assert repeating(2, 3600, 3)["on_calendar"] == "*-*-* *:40:00"


@given(minutes=st.sampled_from([2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60]), gateways=st.integers(1, 60))
def test_minute_intervals_spread_gateways_evenly_too(minutes, gateways):
    offsets = [repeating(number, minutes * 60, gateways)["second"] for number in range(gateways)]
    assert all(0 <= offset < minutes * 60 for offset in offsets)
    assert all(later - earlier >= minutes * 60 // gateways for earlier, later in zip(offsets, offsets[1:]))


@pytest.mark.parametrize("number, seconds, gateways", [(0, 7, 1), (0, 0, 1), (0, 90, 1), (0, 420, 1), (0, 7200, 1), (2, 60, 2), (-1, 60, 2), (True, 60, 2)])
def test_interval_refuses_what_has_no_second(number, seconds, gateways):
    with pytest.raises(ScheduleError):
        repeating(number, seconds, gateways)


def test_gate_closes_at_the_limit_over_the_gateways_that_answered():
    # 40 routers on two gateways, buffer 2: the limit is 22.
    assert gate(22, {"gw2": 18}, 2, buffer=2) == {
        "limit": 22, "closed": True, "shed": 0, "active_gateways": 2, "active_peers": 40}
    assert not gate(21, {"gw2": 19}, 2, buffer=2)["closed"]
    # gw2 silent: gw1 is the only active gateway, with one more buffer for gw2.
    assert gate(40, {"gw2": None}, 2, buffer=2) == {
        "limit": 44, "closed": False, "shed": 0, "active_gateways": 1, "active_peers": 40}


def test_gate_sheds_at_most_its_share_per_run_and_never_below_the_limit():
    assert gate(40, {"gw2": 0}, 2, buffer=2, shed_per_run=5)["shed"] == 5
    assert gate(24, {"gw2": 16}, 2, buffer=2, shed_per_run=5)["shed"] == 2
    assert gate(22, {"gw2": 18}, 2, buffer=2, shed_per_run=5)["shed"] == 0
    with pytest.raises(PeerLimitError, match="shed_per_run"):
        gate(1, {}, 1, shed_per_run=-1)
    with pytest.raises(PeerLimitError, match=r"others\[gw2\]"):
        gate(1, {"gw2": -3}, 2)


@given(st.integers(0, 500), st.lists(st.one_of(st.none(), st.integers(0, 500)), max_size=6), st.integers(0, 20))
def test_a_closed_gateway_always_holds_its_share(own, other_counts, buffer):
    others = {f"gw{i}": count for i, count in enumerate(other_counts)}
    result = gate(own, others, len(others) + 1, buffer=buffer)
    answered = [count for count in other_counts if count is not None]
    if result["closed"]:
        assert own * (len(answered) + 1) >= own + sum(answered)
    assert result["limit"] >= buffer


def test_gate_ruleset_drops_only_new_flows_to_the_fastd_ports_and_replaces_the_chains_only():
    closed = gate_ruleset("ffmesh_fastd_limit", [10001, 10000, 10002], True)
    # The sets of routers let go outlive a change of the gate (tests/system/test_fastd_limit.py).
    assert "delete" not in closed and "flush set" not in closed
    assert ["flush chain inet ffmesh_fastd_limit gate", "flush chain inet ffmesh_fastd_limit shed"] == [
        line for line in closed.splitlines() if line.startswith("flush")]
    assert "    udp dport { 10000, 10001, 10002 } ct state new counter drop" in closed.splitlines()
    assert "    udp dport { 10000, 10001, 10002 } ip saddr . udp sport @shed_ipv4 drop" in closed.splitlines()
    assert "    ip6 daddr . udp dport @shed_ipv6 drop" in closed.splitlines()
    assert "ct state new" not in gate_ruleset("ffmesh_fastd_limit", [10000], False)
    with pytest.raises(PeerLimitError):
        gate_ruleset("ffmesh_fastd_limit", [], True)


def test_shed_element_cuts_off_a_router_at_its_address_and_port():
    assert shed_element("t", "192.0.2.1:4000") == "add element inet t shed_ipv4 { 192.0.2.1 . 4000 timeout 300s }"
    assert shed_element("t", "[2001:db8::3]:4000") == "add element inet t shed_ipv6 { 2001:db8::3 . 4000 timeout 300s }"
    for bad in ("192.0.2.1", "router:4000", "192.0.2.1:0", "192.0.2.1:x"):
        with pytest.raises(PeerLimitError):
            shed_element("t", bad)


def test_newest_peers_are_let_go_first_and_spared_ones_not_twice():
    peers = {
        "a": {"address": "192.0.2.1:4000", "connection": {"established": 90000}},
        "b": {"address": "192.0.2.2:4000", "connection": {"established": 1000}},
        "c": {"address": "[2001:db8::3]:4000", "connection": {"established": 5000}},
        "d": {"address": "192.0.2.4:4000", "connection": None},
    }
    assert newest_peers(peers, 2) == ["192.0.2.2:4000", "[2001:db8::3]:4000"]
    assert newest_peers(peers, 2, spared={"192.0.2.2:4000"}) == ["[2001:db8::3]:4000", "192.0.2.1:4000"]
    assert newest_peers(peers, 0) == []


def test_slots_rank_group_indices_with_gaps_among_themselves():
    indices = [40, 0, 10]
    assert [slot(number, "daily", start_hour=2, spacing=15, gateways=indices)["on_calendar"] for number in sorted(indices)] == [
        "*-*-* 02:00:00", "*-*-* 02:15:00", "*-*-* 02:30:00"]
    # Weekly with three gateways: each weekday has one of them.
    days = [slot(number, "weekly", gateways=indices)["weekdays"] for number in sorted(indices)]
    assert sorted(day for gateway in days for day in gateway) == list(range(7))
