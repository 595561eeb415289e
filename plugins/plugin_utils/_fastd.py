# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names of the fastd role's instances: instance k has the configuration ``fastd-k.conf`` and
the TAP interface PREFIX + k."""

from __future__ import annotations

import os
import re
import typing as t

_CONFIG = re.compile(r"^fastd-([0-9]+)\.conf$")


class FastdInstanceError(ValueError):
    """Arguments that name no instances."""


def surplus(config_paths: t.Iterable[t.Any], instances: t.Any, interface_prefix: str) -> t.List[t.Dict[str, t.Any]]:
    """The instances whose configuration exists but whose number is ``instances`` or more.

    One entry per instance, by number: ``instance``, ``config`` (the path found) and
    ``interface``. Other files are not instances and are left out.
    """
    if isinstance(instances, bool) or not isinstance(instances, int) or instances < 1:
        raise FastdInstanceError(f"instances = {instances!r} must be an integer of at least 1")
    found = []
    for path in config_paths:
        match = _CONFIG.match(os.path.basename(str(path)))
        if match and int(match.group(1)) >= instances:
            number = int(match.group(1))
            found.append({"instance": number, "config": str(path), "interface": f"{interface_prefix}{number}"})
    return sorted(found, key=lambda entry: (entry["instance"], entry["config"]))
