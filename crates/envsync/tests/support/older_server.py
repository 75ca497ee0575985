"""An envsync server as one released before `POST /api/v1/projects/{project}/versions`:
a reverse proxy to a real server that answers that route as an older server's router does
(404, `not_found`) and passes every other request through untouched.
Usage: python3 older_server.py TARGET_PORT; prints `ready PORT` once it listens."""

import http.client
import http.server
import re
import sys

TARGET = ("127.0.0.1", int(sys.argv[1]))
NEW_ROUTE = re.compile(r"^/api/v1/projects/[^/]+/versions$")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def relay(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command == "POST" and NEW_ROUTE.match(self.path.split("?")[0]):
            refusal = b'{"error": {"code": "not_found", "message": "no such route"}}'
            self.answer(404, [("Content-Type", "application/json")], refusal)
            return
        upstream = http.client.HTTPConnection(*TARGET, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream.request(self.command, self.path, body=body, headers=headers)
        reply = upstream.getresponse()
        self.answer(reply.status, reply.getheaders(), reply.read())
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = relay


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"ready {server.server_address[1]}", flush=True)
server.serve_forever()
