# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fastd instance's status socket, as the gateways' daemons read it (``fastd_limit`` and
``exporter`` install this file beside theirs): fastd writes its status as JSON and closes."""

from __future__ import annotations

import json
import socket
import typing as t


def read_status(path: str, timeout: float = 5) -> dict[str, t.Any] | None:
    """The instance's status, or None when it does not answer (not running, or not yet)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return json.loads(b"".join(chunks))
    except (OSError, ValueError):
        return None
