"""A fake Nautobot HTTP server (routes of canned answers, requests recorded) and a real NautobotClient
for it: shared by test_nautobot.py and test_note_scrub.py (test modules import helpers, never each other)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from ansible_collections.sotsync.nautobot.plugins.module_utils.nautobot import NautobotClient

TOKEN = "0123456789abcdef0123456789abcdef01234567"


class FakeNautobotServer:
    """Routes: ``(method, path) -> (status, body)``; a body may be a callable of the query."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method):
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                server.requests.append(
                    {
                        "method": method,
                        "path": url.path,
                        "query": parse_qs(url.query),
                        "auth": self.headers.get("Authorization"),
                        "body": body,
                    }
                )
                status, answer = server.routes.get((method, url.path), (404, {"detail": "Not found."}))
                if callable(answer):
                    answer = answer(parse_qs(url.query))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._answer("GET")

            def do_POST(self):  # noqa: N802
                self._answer("POST")

            def do_PATCH(self):  # noqa: N802
                self._answer("PATCH")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def client_for(server, token=TOKEN):
    return NautobotClient(server.url, token, timeout=5)
