from __future__ import annotations

import pytest

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._dns_names import DnsNameError, gateway_dns_names


def test_short_inventory_names_in_the_mesh_domain():
    plans = {"container01.freifunk-hennef.de": {"gateway_ipv4": "10.186.1.1"}, "gw2": {"gateway_ipv4": "10.186.1.2"}}
    assert gateway_dns_names(plans, "ffhef") == {"container01.ffhef": "10.186.1.1", "gw2.ffhef": "10.186.1.2"}


def test_one_short_name_in_two_domains_is_refused():
    plans = {"gw1.a.example": {"gateway_ipv4": "10.186.1.1"}, "gw1.b.example": {"gateway_ipv4": "10.186.1.2"}}
    with pytest.raises(DnsNameError, match="hosts gw1.a.example and gw1.b.example would both be gw1.ffhef"):
        gateway_dns_names(plans, "ffhef")


@pytest.mark.parametrize("domain", ["", ".", None])
def test_an_empty_domain_is_refused(domain):
    with pytest.raises(DnsNameError, match="domain"):
        gateway_dns_names({"gw1": {"gateway_ipv4": "10.186.1.1"}}, domain)
