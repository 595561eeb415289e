from __future__ import annotations

import re

import pytest

from ansible_collections.ffmesh.gateway.plugins.module_utils._files import record_path


def test_a_record_is_named_after_its_mesh_or_fabric_in_the_store():
    assert record_path("/srv/inventory/fabric", "backbone", "fabric", "{{ inventory_dir }}/fabric") == "/srv/inventory/fabric/backbone.yml"


@pytest.mark.parametrize(("store", "name", "message"), [
    ("/srv", "../etc/passwd", "fabric='../etc/passwd' may only hold letters, digits, _ and -"),
    ("relative", "backbone", "store='relative' must be an absolute path, for example \"{{ inventory_dir }}/fabric\""),
])
def test_a_record_outside_the_store_or_a_relative_store_is_refused(store, name, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        record_path(store, name, "fabric", "{{ inventory_dir }}/fabric")
