"""ffmesh-exporter (the exporter role's daemon) on a gateway with a real fastd and routers
configured as Gluon configures them, in network namespaces: what another host on the mesh
scrapes matches what fastd reports, and the leases and the uplink's verdict it is given."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time


from harness import FastdLimitLab, _in, wait_for

KEA_HEADER = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\n"


def _scrape(lab: FastdLimitLab) -> list[str] | None:
    try:
        return lab.fetch("gw2", "gw1", "/metrics", port=lab.EXPORTER_PORT).splitlines()
    except subprocess.CalledProcessError:
        return None


def _value(lines: list[str], series: str) -> float | None:
    return next((float(line.rsplit(" ", 1)[1]) for line in lines if line.rsplit(" ", 1)[0] == series), None)


def test_what_the_mesh_scrapes_is_what_fastd_kea_and_the_uplink_check_report(lab):
    lab.start_fastd("gw1")
    for number in range(3):
        lab.add_router(number)
    wait_for("three routers on gw1", lambda: len(lab.connected()["gw1"]) == 3, report=lab.report)
    # Traffic through the tunnel: the interfaces' IPv6 link-local start (DAD, router solicitations).
    _in(lab.netns["routers"], "ip", "link", "set", "router0", "up")
    _in(lab.netns["gw1"], "ip", "link", "set", "fastd-gw1", "up")
    now = int(time.time())
    # As Kea's lease cleanup leaves them: older records in .2, newer ones appended to the file.
    (lab.workdir / "gw1" / "dhcp4.leases.2").write_text(
        KEA_HEADER + f"10.77.16.1,02:00:00:00:00:01,,3600,{now + 3000},1,0,0,,0,,0\n")
    (lab.workdir / "gw1" / "dhcp4.leases").write_text(
        KEA_HEADER + f"10.77.16.2,02:00:00:00:00:02,,3600,{now + 3000},1,0,0,,0,,0\n"
        f"10.77.16.3,02:00:00:00:00:03,,3600,{now - 10},1,0,0,,0,,0\n")
    uplink_state = lab.workdir / "gw1" / "uplink-state.json"
    uplink_state.write_text(json.dumps({"uplink": "down", "streak": 2}))
    lab.start_exporter("gw1", {
        "lease_file": str(lab.workdir / "gw1" / "dhcp4.leases"),
        "pool": {"start": "10.77.16.0", "end": "10.77.31.255"},
        "uplink_state": str(uplink_state),
        # No recursor in this lab (molecule's gateway lab relays a real one): nothing listens there.
        "recursor_metrics": "http://127.0.0.1:9/metrics",
    })

    lines = wait_for("gw1's exporter answering gw2 over the mesh, with traffic both ways", lambda: (
        (lines := _scrape(lab)) and all(_value(lines, f'ffmesh_fastd_packets_total{{direction="{direction}",fastd_instance="0"}}')
                                        for direction in ("rx", "tx")) and lines), report=lab.report)
    assert _value(lines, 'ffmesh_fastd_up{fastd_instance="0"}') == 1
    assert _value(lines, 'ffmesh_fastd_connected_routers{fastd_instance="0"}') == 3
    assert _value(lines, 'ffmesh_fastd_bytes_total{direction="rx",fastd_instance="0"}') > 0
    assert _value(lines, 'ffmesh_fastd_packets_total{direction="tx",fastd_instance="0"}') > 0
    assert _value(lines, "ffmesh_dhcp_leases_in_use") == 2
    assert _value(lines, "ffmesh_dhcp_pool_size") == 4096
    assert _value(lines, "ffmesh_uplink_up") == 0
    assert _value(lines, "ffmesh_recursor_up") == 0

    # Nothing is kept between scrapes: the uplink's next verdict and a stopped fastd show at once.
    uplink_state.write_text(json.dumps({"uplink": "up", "streak": 2}))
    lab.stop("fastd-gw1")
    lines = _scrape(lab)
    assert _value(lines, 'ffmesh_fastd_up{fastd_instance="0"}') == 0
    assert _value(lines, 'ffmesh_fastd_connected_routers{fastd_instance="0"}') is None
    assert _value(lines, "ffmesh_uplink_up") == 1


def _hold_connections(listener: socket.socket, held: list[socket.socket]) -> None:
    while True:
        held.append(listener.accept()[0])


def test_hanging_fastd_instances_show_as_down_within_the_scrape(lab, tmp_path):
    # fastd busy or stuck: it takes the connection and says nothing. Each connection is accepted
    # and held (a full backlog would refuse the next at once and prove nothing).
    held: list[socket.socket] = []
    listeners = []
    for number in range(2):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(tmp_path / f"hanging{number}.sock"))
        listener.listen(4)
        threading.Thread(target=_hold_connections, args=(listener, held), daemon=True).start()
        listeners.append(listener)
    lab.start_fastd("gw1")
    lab.start_exporter("gw1", {
        "sockets": [str(lab.status_socket("gw1"))] + [listener.getsockname() for listener in listeners],
        "lease_file": str(tmp_path / "dhcp4.leases"),
        "pool": {"start": "10.77.16.0", "end": "10.77.31.255"},
        "uplink_state": None,
        "recursor_metrics": None,
    })
    # The scraping client waits 5 s (Prometheus 10 s by default); one instance after the other,
    # the two silent ones alone would take 6 s, and no scrape would ever come back.
    lines = wait_for("gw1's exporter answering while two instances hang", lambda: _scrape(lab), report=lab.report)
    assert _value(lines, 'ffmesh_fastd_up{fastd_instance="0"}') == 1
    assert _value(lines, 'ffmesh_fastd_up{fastd_instance="1"}') == 0
    assert _value(lines, 'ffmesh_fastd_up{fastd_instance="2"}') == 0
    assert held, "the silent instances were never asked"
