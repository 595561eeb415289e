# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which configuration file the installed PowerDNS Recursor reads.

PowerDNS Recursor 5 reads ``recursor.yml`` (YAML) from its configuration directory; 4.x
(Debian 12 ships 4.8) reads only ``recursor.conf`` (``key=value``) and does not know YAML.
"""

from __future__ import annotations

import re

YAML_FILE = "recursor.yml"
OLD_STYLE_FILE = "recursor.conf"
FILES = (YAML_FILE, OLD_STYLE_FILE)
_FIRST_YAML_MAJOR = 5


class RecursorVersionError(ValueError):
    """A version string that names no PowerDNS Recursor release."""


def config_file(version: str) -> str:
    """The file name a recursor of ``version`` reads, as Debian's package version or the daemon's.

    ``version`` as ``dpkg-query`` reports it (``4.8.8-1+deb12u1``, an epoch such as ``1:`` allowed).
    An empty ``version`` means no recursor is installed yet (check mode on a new host): the
    newest format is the answer.
    """
    if not isinstance(version, str):
        raise RecursorVersionError(f"recursor version {version!r} must be a string")
    if not version.strip():
        return YAML_FILE
    match = re.match(r"^(?:\d+:)?(\d+)\.\d+", version.strip())
    if not match:
        raise RecursorVersionError(f"recursor version {version!r} is not a version such as 4.8.8 or 5.2.2-1")
    return YAML_FILE if int(match.group(1)) >= _FIRST_YAML_MAJOR else OLD_STYLE_FILE
