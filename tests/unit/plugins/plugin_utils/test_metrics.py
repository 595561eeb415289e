from __future__ import annotations

import pytest

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _metrics

# What fastd 23's status socket returns, shortened: one router connected, one that has not
# finished its handshake.
FASTD_STATUS = {
    "uptime": 123456,
    "interface": "mesh-vpn0",
    "statistics": {"rx": {"packets": 40, "bytes": 5200}, "rx_reordered": {"packets": 0, "bytes": 0},
                   "tx": {"packets": 38, "bytes": 6100}, "tx_dropped": {"packets": 0, "bytes": 0}},
    "peers": {
        "a" * 64: {"name": "router1", "address": "[2001:db8::1]:40000", "interface": None,
                   "connection": {"established": 5000, "method": "salsa2012+umac", "mac_addresses": []}},
        "b" * 64: {"name": "router2", "address": None, "interface": None, "connection": None},
    },
}

HEADER = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\n"


def lease(address: str, lifetime: int, expire: int, state: int = 0) -> str:
    return f"{address},02:00:00:00:00:01,,{lifetime},{expire},1,0,0,,{state},,0\n"


def test_a_fastd_instance_reports_its_connected_routers_and_traffic():
    samples = _metrics.fastd_samples("0", FASTD_STATUS)
    assert ("ffmesh_fastd_up", {"fastd_instance": "0"}, 1) in samples
    assert ("ffmesh_fastd_connected_routers", {"fastd_instance": "0"}, 1) in samples
    assert ("ffmesh_fastd_bytes_total", {"fastd_instance": "0", "direction": "rx"}, 5200) in samples
    assert ("ffmesh_fastd_packets_total", {"fastd_instance": "0", "direction": "tx"}, 38) in samples


def test_a_fastd_instance_that_does_not_answer_is_down_not_empty():
    assert _metrics.fastd_samples("1", None) == [("ffmesh_fastd_up", {"fastd_instance": "1"}, 0)]
    # Running without routers: up, and 0 routers.
    assert _metrics.fastd_samples("1", {"peers": {}}) == [
        ("ffmesh_fastd_up", {"fastd_instance": "1"}, 1), ("ffmesh_fastd_connected_routers", {"fastd_instance": "1"}, 0)]


def test_the_pool_counts_both_ends():
    assert _metrics.pool_size("10.186.16.0", "10.186.31.255") == 4096
    assert _metrics.pool_size("10.186.1.10", "10.186.1.10") == 1
    with pytest.raises(ValueError, match="not a range"):
        _metrics.pool_size("10.186.1.10", "10.186.1.9")


def test_an_addresss_last_lease_record_decides_across_the_lease_files():
    now = 1_000_000
    older_file = [HEADER, lease("10.186.16.1", 3600, now + 100), lease("10.186.16.2", 3600, now + 100)]
    newer_file = [
        HEADER,
        lease("10.186.16.2", 0, now - 1),  # released since
        lease("10.186.16.3", 3600, now - 5),  # expired
        lease("10.186.16.4", 3600, now + 900, state=1),  # declined
        lease("10.186.16.5", 3600, now + 900),
        lease("10.186.16.5", 3600, now + 1800),  # renewed: one address, one lease
    ]
    assert _metrics.leases_in_use([older_file, newer_file], now) == 2
    assert _metrics.leases_in_use([[HEADER]], now) == 0
    assert _metrics.leases_in_use([], now) == 0


@pytest.mark.parametrize("present, expected", [
    # Between cleanups: the last cleanup's result, then the file Kea appends to.
    ({"l.2"}, ["l.2", "l"]),
    # During a cleanup: the records moved away to .1 count, after .2.
    ({"l.2", "l.1"}, ["l.2", "l.1", "l"]),
    # The cleanup's output is complete: it holds .2 and .1 merged.
    ({"l.2", "l.1", "l.completed"}, ["l.completed", "l"]),
    # A new server: only the file it appends to (read as empty until it is there).
    (set(), ["l"]),
])
def test_the_lease_files_are_those_kea_loads(present, expected):
    assert _metrics.lease_files("l", present.__contains__) == expected


def test_kea_22s_lease_file_without_pool_id_is_read_too():
    header = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
    assert _metrics.leases_in_use([[header, "10.186.16.9,02:00:00:00:00:09,,3600,2000,1,0,0,,0,\n"]], 1000) == 1


def test_the_uplink_is_up_only_when_its_check_says_so():
    assert _metrics.uplink_samples({"uplink": "up", "streak": 3}) == [("ffmesh_uplink_up", {}, 1)]
    assert _metrics.uplink_samples({"uplink": "down"}) == [("ffmesh_uplink_up", {}, 0)]
    assert _metrics.uplink_samples(None) == []


def test_the_text_format_has_each_metrics_help_and_type_once_and_escaped_labels():
    text = _metrics.render(_metrics.fastd_samples("0", FASTD_STATUS) + _metrics.fastd_samples("1", None)
                           + _metrics.dhcp_samples(3, 4096) + _metrics.uplink_samples({"uplink": "up"}))
    lines = text.splitlines()
    assert lines.count("# TYPE ffmesh_fastd_up gauge") == 1
    assert 'ffmesh_fastd_up{fastd_instance="0"} 1' in lines and 'ffmesh_fastd_up{fastd_instance="1"} 0' in lines
    assert "# TYPE ffmesh_fastd_bytes_total counter" in lines
    assert 'ffmesh_fastd_bytes_total{direction="rx",fastd_instance="0"} 5200' in lines
    assert "ffmesh_dhcp_leases_in_use 3" in lines and "ffmesh_dhcp_pool_size 4096" in lines
    assert "ffmesh_uplink_up 1" in lines
    assert text.endswith("\n")
    assert _metrics.render([("ffmesh_fastd_up", {"fastd_instance": 'a"b\\c\nd'}, 1)]).splitlines()[-1] == \
        'ffmesh_fastd_up{fastd_instance="a\\"b\\\\c\\nd"} 1'
    assert _metrics.render([("ffmesh_dhcp_pool_size", {}, 2.5)]).splitlines()[-1] == "ffmesh_dhcp_pool_size 2.5"
    with pytest.raises(ValueError, match="not one of the exporter's metrics"):
        _metrics.render([("node_load1", {}, 1)])


RECURSOR_METRICS = """# HELP pdns_recursor_questions Counts all end-user initiated queries with the RD bit set
# TYPE pdns_recursor_questions counter
pdns_recursor_questions 12
# HELP pdns_recursor_cache_entries Shows the number of entries in the cache
# TYPE pdns_recursor_cache_entries gauge
pdns_recursor_cache_entries 31
pdns_recursor_auth_rcode_answers{rcode="noerror"} 4
# HELP ffmesh_dhcp_pool_size Not the recursor's
ffmesh_dhcp_pool_size 1
# EOF
"""


def test_the_recursors_metrics_are_relayed_and_nothing_else():
    text = _metrics.relayed(RECURSOR_METRICS)
    lines = text.splitlines()
    assert lines[:3] == ["# HELP pdns_recursor_questions Counts all end-user initiated queries with the RD bit set",
                         "# TYPE pdns_recursor_questions counter", "pdns_recursor_questions 12"]
    assert 'pdns_recursor_auth_rcode_answers{rcode="noerror"} 4' in lines
    assert len(lines) == 7 and not [line for line in lines if "ffmesh_" in line or "EOF" in line]
    assert text.endswith("\n")
    assert _metrics.relayed("<html>Unauthorized</html>") == ""
    assert _metrics.relayed("") == ""


def test_the_recursor_is_up_when_it_answered():
    assert _metrics.recursor_samples(RECURSOR_METRICS) == [("ffmesh_recursor_up", {}, 1)]
    assert _metrics.recursor_samples(None) == [("ffmesh_recursor_up", {}, 0)]
