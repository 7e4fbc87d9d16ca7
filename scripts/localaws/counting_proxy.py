"""A counting proxy in front of the local AWS endpoint: forwards every request
unchanged and counts the EC2 and STS actions per (account, region), so that a test
can say how often each scope was read, counted where the calls arrive.

The region comes from the SigV4 credential scope of the Authorization header; the
account from the access key: the proxy reads each sts:AssumeRole answer going
through it (the role ARN names the account; the credentials answered carry the
key), and a key it never saw answered is the endpoint's default account
`123456789012`.

POST /_refuse with a body `account/region` makes every EC2 call of that scope
answer 403 `UnauthorizedOperation` in EC2's own error shape (the EC2 API
reference, "Error codes"), as a role without ec2:Describe* would: a scope that
cannot be read, beside others that can.

Usage: counting_proxy.py --upstream http://127.0.0.1:PORT --port 0
       prints `listening on PORT`; GET /_counts answers
       {"<account>/<region>": {"<Action>": n}}; POST /_counts/reset clears them.
"""

import argparse
import http.client
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_ACCOUNT = "123456789012"
CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")

lock = threading.Lock()
counts = {}
accounts_by_key = {}
refused = set()

UNAUTHORIZED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                b'<Code>UnauthorizedOperation</Code><Message>You are not authorized to perform '
                b'this operation.</Message></Error></Errors>'
                b'<RequestID>6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b</RequestID></Response>')


def action_of(body, headers):
    target = headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return fields.get("Action", ["?"])[0]


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/_counts":
            with lock:
                self.answer(200, json.dumps(counts).encode())
            return
        self.forward()

    def do_POST(self):
        if self.path == "/_counts/reset":
            with lock:
                counts.clear()
            self.answer(200, b"{}")
            return
        if self.path == "/_refuse":
            scope = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            with lock:
                refused.add(scope)
            self.answer(200, b"{}")
            return
        self.forward()

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        action = action_of(body, self.headers)
        found = CREDENTIAL.search(self.headers.get("Authorization", ""))
        key, region, service = found.groups() if found else ("", "", "")
        with lock:
            scope = f"{accounts_by_key.get(key, DEFAULT_ACCOUNT)}/{region}"
            refuse = service == "ec2" and scope in refused
        if refuse:
            self.send_response(403)
            self.send_header("Content-Type", "text/xml;charset=UTF-8")
            self.send_header("Content-Length", str(len(UNAUTHORIZED)))
            self.end_headers()
            self.wfile.write(UNAUTHORIZED)
            return
        upstream = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers["Host"] = self.headers.get("Host", "")
        upstream.request(self.command, self.path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        with lock:
            if service == "sts" and action == "AssumeRole" and reply.status == 200:
                text = data.decode("utf-8", "replace")
                answered_key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", text)
                role = re.search(r"<Arn>arn:aws:sts::(\d{12}):assumed-role/", text)
                if answered_key and role:
                    accounts_by_key[answered_key.group(1)] = role.group(1)
            if service:
                scope = f"{accounts_by_key.get(key, DEFAULT_ACCOUNT)}/{region}"
                per_scope = counts.setdefault(scope, {})
                per_scope[action] = per_scope.get(action, 0) + 1
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    Proxy.upstream = urllib.parse.urlparse(args.upstream)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Proxy)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
