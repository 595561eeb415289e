"""UDP listeners and a flow generator for the balancer test; run inside network namespaces.

listen PORT...     one echo socket per port; each answers with its own index
send HOST PORT FLOWS ROUNDS FIRST_SOURCE_PORT
                   FLOWS sockets with distinct source ports; ROUNDS passes over all flows, one
                   packet per flow per pass; prints JSON: per flow the indexes that answered,
                   and the (address, port) the answers came from
"""

from __future__ import annotations

import json
import selectors
import socket
import sys


def listen(ports: list) -> None:
    selector = selectors.DefaultSelector()
    for index, port in enumerate(ports):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", port))
        selector.register(sock, selectors.EVENT_READ, index)
    print("ready", flush=True)
    while True:
        for key, dummy in selector.select():
            source = key.fileobj.recvfrom(2048)[1]
            key.fileobj.sendto(f"{key.data}".encode(), source)


def send(host: str, port: int, flows: int, rounds: int, first_source_port: int) -> None:
    sockets = []
    for flow in range(flows):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", first_source_port + flow))
        sock.settimeout(2)
        sockets.append(sock)
    answers = [[] for flow in range(flows)]
    sources = set()
    for dummy in range(rounds):
        for flow, sock in enumerate(sockets):
            sock.sendto(f"flow {flow}".encode(), (host, port))
            try:
                data, source = sock.recvfrom(2048)
            except socket.timeout:
                answers[flow].append(None)
                continue
            answers[flow].append(int(data))
            sources.add(f"{source[0]}:{source[1]}")
    print(json.dumps({"answers": answers, "reply_sources": sorted(sources)}))


if __name__ == "__main__":
    if sys.argv[1] == "listen":
        listen([int(port) for port in sys.argv[2:]])
    else:
        send(sys.argv[2], *(int(arg) for arg in sys.argv[3:7]))
