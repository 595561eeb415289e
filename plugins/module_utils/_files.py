# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic file writes that never expose content under looser permissions."""

from __future__ import annotations

import os
import re
import tempfile
import typing as t

_RECORD_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def record_path(store: str, name: str, option: str, example: str) -> str:
    """``STORE/NAME.yml``, the record a controller-side action keeps next to the inventory.

    ``option`` names the action's option that gave ``name``; ``example`` is a store to suggest.
    Raises ValueError for a name that is no plain file name or a store that is not absolute.
    """
    if not _RECORD_NAME.match(name):
        raise ValueError(f"{option}={name!r} may only hold letters, digits, _ and -")
    if not os.path.isabs(store):
        raise ValueError(f"store={store!r} must be an absolute path, for example \"{example}\"")
    return os.path.join(store, f"{name}.yml")


def read_text(path: str) -> t.Optional[str]:
    """The file's text, or None if it does not exist; bytes that are not UTF-8 become U+FFFD."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_temporary(path: str, content: str, mode: int, owner: t.Optional[t.Tuple[int, int]] = None) -> str:
    """A new file beside ``path`` holding ``content``, with ``mode`` (and ``owner``, uid and gid)
    from its first byte on: its name."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".ffmesh-", dir=directory)
    try:
        if owner is not None:
            os.fchown(handle, *owner)
        os.fchmod(handle, mode)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


def write_atomic(path: str, content: str, mode: int) -> None:
    """Replace ``path`` by a file holding ``content`` that has ``mode`` from its first byte on."""
    temporary = write_temporary(path, content, mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
