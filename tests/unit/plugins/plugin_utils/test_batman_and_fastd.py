from __future__ import annotations

import pytest

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._batman import BandwidthError, gateway_bandwidth
from ansible_collections.ffmesh.gateway.plugins.plugin_utils._fastd import FastdInstanceError, surplus


@pytest.mark.parametrize(
    ("text", "down", "up"),
    [
        ("100mbit/100mbit", 100000, 100000),
        ("100MBit/20mbit", 100000, 20000),
        ("50mbit/512kbit", 50000, 512),
        ("10000", 10000, 2000),  # batctl: kbit without a unit, upload a fifth of the download
        ("100mbit", 100000, 20000),
        ("1000/100", 1000, 100),
        (" 100mbit/100mbit ", 100000, 100000),
    ],
)
def test_bandwidth_as_batctl_reads_it(text, down, up):
    assert gateway_bandwidth(text) == {"down_kbit": down, "up_kbit": up}


@pytest.mark.parametrize(
    "text",
    ["100mbit-100mbit", "100 mbit", "fast", "", "/100", "100/", "100mbit/100mbit/1", "-5", "1.5mbit", "100gbit", "mbit", "429496729600mbit"],
)
def test_bandwidth_batctl_would_refuse(text):
    with pytest.raises(BandwidthError) as refused:
        gateway_bandwidth(text)
    assert repr(text) in str(refused.value)


def test_bandwidth_not_a_string():
    with pytest.raises(BandwidthError, match="expected a string"):
        gateway_bandwidth(100)


def test_bandwidth_error_shows_the_form():
    with pytest.raises(BandwidthError, match=r"DOWN or DOWN/UP.*for example 100mbit/100mbit"):
        gateway_bandwidth("100mbit-100mbit")


def test_surplus_instances_and_their_names():
    found = ["/f/fastd-0.conf", "/f/fastd-3.conf", "/f/fastd-1.conf", "/f/fastd-2.conf", "/f/secret.conf", "/f/fastd-x.conf", "/f/fastd-12.conf"]
    assert surplus(found, 2, "fastd") == [
        {"instance": 2, "config": "/f/fastd-2.conf", "interface": "fastd2"},
        {"instance": 3, "config": "/f/fastd-3.conf", "interface": "fastd3"},
        {"instance": 12, "config": "/f/fastd-12.conf", "interface": "fastd12"},
    ]
    assert surplus(found, 13, "mesh-vpn") == []


@pytest.mark.parametrize("instances", [0, -1, "2", True, None])
def test_surplus_needs_a_count(instances):
    with pytest.raises(FastdInstanceError, match="instances"):
        surplus([], instances, "fastd")
