# Prints, as a JSON list, the names of the peers connected to each fastd status socket given.
from __future__ import annotations

import json
import socket
import sys


def connected_peers(path: str) -> list[str]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        status = json.loads(sock.makefile().read())
    return sorted(peer["name"] for peer in status["peers"].values() if peer.get("connection"))


print(json.dumps([connected_peers(path) for path in sys.argv[1:]]))
