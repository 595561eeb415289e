# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP side of the collection's daemons that Prometheus scrapes (roles ``exporter``,
``fabric_exporter``, ``fastd_limit``): each page made anew at every request, on one address only.
The daemons install this file beside themselves.
"""

from __future__ import annotations

import http.server
import socket
import typing as t

# Bind the address before the interface has it (a boot: the mesh bridge, the fabric's loopback).
IP_FREEBIND = 15
METRICS_TYPE = "text/plain; version=0.0.4"
JSON_TYPE = "application/json"
# A page: its body and content type, made at each request.
Page = t.Callable[[], t.Tuple[str, str]]


def serve(listen: str, port: int, pages: t.Mapping[str, Page]) -> http.server.ThreadingHTTPServer:
    """A server for ``pages`` (path -> page) on ``listen``; the caller runs ``serve_forever``."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path not in pages:
                self.send_error(404)
                return
            text, kind = pages[self.path]()
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: t.Any) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in listen else socket.AF_INET

        def server_bind(self) -> None:
            # Linux takes IP_FREEBIND on IPv6 sockets too.
            self.socket.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
            super().server_bind()

    return Server((listen, port), Handler)
