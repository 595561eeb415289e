"""One TCP connection across the test's namespaces, and what each end saw of it.

serve ADDRESS PORT: prints "ready", then per accepted connection a JSON line with the peer's
address and the MSS the connection uses. connect ADDRESS PORT: prints a JSON line with the MSS,
or the error (errno name, or "timeout").
"""

from __future__ import annotations

import errno
import json
import socket
import sys


def serve(address: str, port: int) -> None:
    listener = socket.create_server((address, port))
    print("ready", flush=True)
    while True:
        connection, peer = listener.accept()
        with connection:
            mss = connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
            print(json.dumps({"peer": peer[0], "mss": mss}), flush=True)


def connect(address: str, port: int) -> None:
    try:
        with socket.create_connection((address, port), timeout=5) as connection:
            result = {"error": None, "mss": connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)}
    except socket.timeout:
        result = {"error": "timeout"}
    except OSError as exc:
        result = {"error": errno.errorcode.get(exc.errno or 0, str(exc))}
    print(json.dumps(result))


if __name__ == "__main__":
    {"serve": serve, "connect": connect}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
