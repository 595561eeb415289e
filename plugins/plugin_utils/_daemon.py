# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's small daemons share (roles ``exporter``, ``fabric_exporter``,
``fastd_limit``, ``respondd``): their settings, a JSON file the role writes and checks with
``DAEMON --check FILE`` before it replaces the old one, and their command line,
``DAEMON [--check] CONFIG.json``. The daemons install this file beside themselves.
"""

from __future__ import annotations

import json
import sys
import typing as t


def read_config(path: str, required: t.Iterable[str]) -> dict[str, t.Any]:
    """The settings in ``path``; a missing key of ``required`` is an error that names it."""
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    missing = [key for key in required if key not in config]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    return config


def main(argv: t.Sequence[str], load_config: t.Callable[[str], dict[str, t.Any]], run: t.Callable[[dict[str, t.Any]], None]) -> int:
    """``--check FILE`` loads (and so checks) the settings; otherwise ``run`` them."""
    if len(argv) == 3 and argv[1] == "--check":
        load_config(argv[2])
        return 0
    if len(argv) != 2:
        print(f"usage: {argv[0]} [--check] CONFIG.json", file=sys.stderr)
        return 2
    run(load_config(argv[1]))
    return 0
