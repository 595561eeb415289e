"""What the preflight takes as known besides the roles' options: the results the collection's
own tasks leave behind as host variables, which a later preflight in the same run sees."""

from __future__ import annotations

from ansible_collections.ffmesh.gateway.plugins.action import inventory_check


def test_results_of_the_collections_tasks_are_known():
    names = inventory_check.registered_variables()
    # register: in a role, set_fact: in a role, set_fact: in a playbook, register: in a playbook,
    # register: in a role's handler (the kernel lab's start.yml after setup.yml refused it once)
    assert {"freifunk_dhcpd_install", "freifunk_restore_script", "freifunk_group_index", "freifunk_preflight",
            "freifunk_uplink_batman_recreated"} <= names
    assert all(name.startswith("freifunk_") for name in names)


def test_role_options_come_from_every_entry_point():
    options = inventory_check.role_options()
    assert {"freifunk_fastd_public_port", "freifunk_tinc_name", "freifunk_link_macs", "freifunk_restore_name"} <= options
