from __future__ import annotations

import pytest

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._recursor import RecursorVersionError, config_file


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        # Debian 12's package, and PowerDNS's own 4.x packages.
        ("4.8.8-1+deb12u1", "recursor.conf"),
        ("4.9.3-1pdns.bookworm", "recursor.conf"),
        ("1:4.6.0", "recursor.conf"),
        # Debian 13's package and 5.x from PowerDNS.
        ("5.2.2-1", "recursor.yml"),
        ("5.0.0", "recursor.yml"),
        ("10.0.1", "recursor.yml"),
        # Nothing installed yet (check mode on a new host): the newest format.
        ("", "recursor.yml"),
    ],
)
def test_config_file_follows_the_recursors_major_version(version, expected):
    assert config_file(version) == expected


@pytest.mark.parametrize("version", ["unknown", "five.0", "4", None])
def test_config_file_refuses_what_is_no_version(version):
    with pytest.raises(RecursorVersionError, match="recursor version"):
        config_file(version)
