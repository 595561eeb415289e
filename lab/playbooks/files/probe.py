"""Probes of the way out, for the uplink system test and the kernel lab.

serve ADDRESS PORT: prints "ready", then per accepted TCP connection a JSON line with the peer's
address and the MSS the connection uses.
connect ADDRESS PORT: one TCP connection; prints a JSON line with the MSS, or the error (errno
name, or "timeout").
listen ADDRESS PORT: records every UDP datagram as a line "arrival-time source sequence" on
standard output (the backbone's side of a failover measurement).
send ADDRESS PORT INTERVAL: sends a numbered UDP datagram every INTERVAL seconds, for ever.
scan PORTS ADDRESS...: a TCP connection to every port of PORTS ("1-1024,10000") at every ADDRESS,
all at once; prints a JSON list, per address the ports that accepted ("open"), those that
answered with a reset ("refused": a filter let the SYN through to no listener), and how many got
no answer ("silent": dropped).
respondd INTERFACE SECONDS [REQUEST [ADDRESS]]: asks every node on INTERFACE's link as a map's
collector does (REQUEST, by default "GET nodeinfo statistics neighbours", to ff02::2:1001 port
1001; or to one node's ADDRESS) and prints a JSON object of the answers of SECONDS by sender,
inflated (raw deflate) for GET.
withdrawal ADDRESS SECONDS READY: once ADDRESS answers (the file READY then exists), for SECONDS at
most (3 s after the route's first change), pings ADDRESS every 20 ms and watches the routing
table; prints as JSON when the last answer came and when the route to ADDRESS first changed
(deleted, or replaced by a path through another node): for a node killed meanwhile, BFD's
detection time as this node saw it.
sessions: FRR's BGP sessions on this fabric node as JSON: bgpd's process number, and per session its
state and how many times it was established (a session that went down and up counts two; a bgpd
started anew counts from 1 again, with another process number).
gaps LOG SINCE: from listen's lines, the longest silence after the time SINCE, with the sources
before and after it, as JSON.
"""

from __future__ import annotations

import asyncio
import datetime
import errno
import json
import pathlib
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib


def respondd(interface: str, seconds: str, request: str = "GET nodeinfo statistics neighbours", address: str = "ff02::2:1001") -> None:
    index = socket.if_nametoindex(interface)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
    sock.sendto(request.encode(), (address, 1001, 0, index))
    answers = {}
    deadline = time.monotonic() + float(seconds)
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data, sender = sock.recvfrom(65535)
        except TimeoutError:
            break
        answers[sender[0]] = json.loads(zlib.decompress(data, -15) if request.startswith("GET ") else data)
    print(json.dumps(answers))


def serve(address: str, port: str) -> None:
    listener = socket.create_server((address, int(port)), family=socket.AF_INET6 if ":" in address else socket.AF_INET)
    print("ready", flush=True)
    while True:
        connection, peer = listener.accept()
        with connection:
            mss = connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
            print(json.dumps({"peer": peer[0], "mss": mss}), flush=True)


def connect(address: str, port: str) -> None:
    try:
        with socket.create_connection((address, int(port)), timeout=5) as connection:
            result = {"error": None, "mss": connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)}
    except socket.timeout:
        result = {"error": "timeout"}
    except OSError as exc:
        result = {"error": errno.errorcode.get(exc.errno or 0, str(exc))}
    print(json.dumps(result))


def listen(address: str, port: str) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind((address, int(port)))
    while True:
        data, peer = receiver.recvfrom(64)
        print(f"{time.time():.3f} {peer[0]} {data.decode(errors='replace')}", flush=True)


def send(address: str, port: str, interval: str) -> None:
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sequence = 0
    while True:
        try:
            sender.sendto(str(sequence).encode(), (address, int(port)))
        except OSError:
            pass  # no route yet (no lease, no gateway): the gap shows it
        sequence += 1
        time.sleep(float(interval))


async def _knock(address: str, port: int, limit: asyncio.Semaphore) -> str:
    async with limit:
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setblocking(False)
            # The SYN leaves here, and the 3 s count from it: not from the knock's turn, which
            # under emulation can come late when a thousand knocks start together.
            error = sock.connect_ex((address, port))
            if error == errno.EINPROGRESS:
                answered = loop.create_future()
                loop.add_writer(sock, lambda: answered.done() or answered.set_result(None))
                try:
                    await asyncio.wait_for(answered, timeout=3)
                except asyncio.TimeoutError:
                    return "silent"
                finally:
                    loop.remove_writer(sock)
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    return {0: "open", errno.ECONNREFUSED: "refused"}.get(error, "silent")


async def _scan(address: str, ports: list, limit: asyncio.Semaphore) -> dict:
    answers = await asyncio.gather(*(_knock(address, port, limit) for port in ports))
    found: dict = {kind: [port for port, answer in zip(ports, answers) if answer == kind] for kind in ("open", "refused")}
    return {"address": address, **found, "silent": answers.count("silent")}


# Knocks in flight at once. A thousand SYNs at one emulated gateway at once left its SSH port
# without an answer within 3 s in a CI run (every port of that address silent); 250 at a time
# takes about 3 s per 250 silent ports.
KNOCKS_AT_ONCE = 250


async def _scan_all(addresses: tuple, ports: list) -> list:
    limit = asyncio.Semaphore(KNOCKS_AT_ONCE)
    return list(await asyncio.gather(*(_scan(address, ports, limit) for address in addresses)))


def scan(ports: str, *addresses: str) -> None:
    wanted = []
    for part in ports.split(","):
        first, last = (part.split("-", 1) + [""])[:2]
        wanted += range(int(first), int(last or first) + 1)
    print(json.dumps(asyncio.run(_scan_all(addresses, wanted))))


def gaps(log: str, since: str) -> None:
    arrivals = []
    with open(log, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) == 3 and float(fields[0]) >= float(since):
                arrivals.append((float(fields[0]), fields[1]))
    result = {"since": float(since), "datagrams": len(arrivals)}
    if arrivals:
        steps = [(later[0] - earlier[0], earlier, later) for earlier, later in zip(arrivals, arrivals[1:])]
        first = (arrivals[0][0] - float(since), (float(since), None), arrivals[0])
        silence, before, after = max([first, *steps], key=lambda step: step[0])
        result.update({"longest_silence": round(silence, 3), "source_before": before[1], "source_after": after[1],
                       "resumed_at": after[0], "last_source": arrivals[-1][1],
                       "last_arrival": arrivals[-1][0]})
    print(json.dumps(result))


def sessions() -> None:
    neighbors = json.loads(subprocess.run(["vtysh", "-c", "show bgp neighbors json"], capture_output=True, check=True).stdout)
    bgpd = subprocess.run(["ffmesh-frr", "cat", "/run/frr/bgpd.pid"], capture_output=True, check=True, text=True).stdout
    print(json.dumps({"bgpd": int(bgpd), "states": {name: peer["bgpState"] for name, peer in neighbors.items()},
                      "connections": {name: peer["connectionsEstablished"] for name, peer in neighbors.items()}}))


def withdrawal(address: str, seconds: str, ready: str) -> None:
    # Watching starts once ADDRESS answers, and READY (a file) says so: under emulation a watch
    # started by Ansible may begin seconds late, and one begun after the kill measures nothing.
    deadline = time.monotonic() + 60
    while subprocess.run(["ping", "-c", "1", "-W", "1", address], capture_output=True, check=False).returncode:
        if time.monotonic() > deadline:
            print(json.dumps({"address": address, "error": "no answer in 60 s before the watch"}))
            return
        # ping returns at once when there is no route: no busy loop meanwhile.
        time.sleep(0.5)
    # Line-buffered, and stopped with SIGINT: ping prints to a pipe in blocks, and SIGTERM would
    # end it with the last block unwritten. Started in a shell's background, this probe ignores
    # SIGINT, and its children would too (ip monitor would run on).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # ping's answers go to a file: fifty lines a second would fill a pipe nobody reads meanwhile.
    answers = tempfile.TemporaryFile(mode="w+")
    route = subprocess.run(["ip", "route", "get", address], capture_output=True, text=True, check=False)
    monitor = subprocess.Popen(["stdbuf", "-oL", "ip", "-ts", "monitor", "route"], stdout=subprocess.PIPE, text=True)
    pinger = subprocess.Popen(["stdbuf", "-oL", "ping", "-D", "-n", "-i", "0.02", "-W", "1", address], stdout=answers,
                              stderr=subprocess.STDOUT, text=True)
    pathlib.Path(ready).touch()
    # Until SECONDS have passed, or 3 s after the first change to ADDRESS's route (a second
    # change, such as a path through another node withdrawn in turn, comes within them).
    lines: list = []
    end = time.monotonic() + float(seconds)
    changed = False
    while time.monotonic() < end:
        if select.select([monitor.stdout], [], [], 0.5)[0]:
            line = monitor.stdout.readline()
            if not line:
                break
            lines.append(line)
            if not changed and address in line.split()[1:3]:
                changed, end = True, time.monotonic() + 3
    for process in (monitor, pinger):
        process.send_signal(signal.SIGINT)
    lines += monitor.communicate()[0].splitlines()
    pinger.wait()
    answers.seek(0)
    # "[2026-12-07T03:58:05.353046] Deleted 10.255.0.1 nhid 22 via inet6 fe80::1 dev gre-kvm1 proto bgp metric 20"
    changes = [(datetime.datetime.fromisoformat(line[1:line.index("]")]).timestamp(), " ".join(line.split()[1:]))
               for line in lines if address in line.split()[1:3]]
    # "[1796615911.123456] 64 bytes from 10.255.0.1: icmp_seq=1 ttl=64 time=3.1 ms"
    said = answers.read().splitlines()
    replies = [float(line[1:line.index("]")]) for line in said if " bytes from " in line]
    result: dict = {"address": address, "route": " ".join((route.stdout or route.stderr).split()), "replies": len(replies),
                    "changes": [change for dummy, change in changes]}
    if not replies:
        # Why none came: ping's errors and its summary ("N packets transmitted, 0 received").
        result["ping"] = [line for line in said if " bytes from " not in line][-6:]
    if changes and replies:
        changed_at = changes[0][0]
        last = max((reply for reply in replies if reply <= changed_at), default=None)
        result.update({"changed_at": changed_at, "last_reply_at": last,
                       "detection_s": round(changed_at - last, 3) if last else None})
    print(json.dumps(result))


if __name__ == "__main__":
    {"serve": serve, "connect": connect, "listen": listen, "send": send, "scan": scan, "gaps": gaps, "respondd": respondd,
     "sessions": sessions, "withdrawal": withdrawal}[sys.argv[1]](*sys.argv[2:])
