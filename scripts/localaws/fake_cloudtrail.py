#!/usr/bin/env python3
"""A local CloudTrail LookupEvents endpoint: moto has none.

It speaks CloudTrail's own protocol (AWS JSON 1.1, `X-Amz-Target:
CloudTrail_20131101.LookupEvents`, as the SDKs send it, or its long form) as the API
reference documents it (docs.aws.amazon.com/awscloudtrail/latest/APIReference/
API_LookupEvents.html): exactly one lookup attribute per request, 1-50 results a
page (default 50) with `NextToken`, epoch-second `EventTime`, `CloudTrailEvent` as a
JSON string, newest first, and `ThrottlingException` above 2 requests a second per
account (access key) and region, as CloudTrail enforces.

Events are fed by the tests (POST /_fake/events: a list of
{"record": <a CloudTrail record>, "resources": [{"ResourceType", "ResourceName"}]}),
shaped after tests/fixtures/cloudtrail/records.json. GET /_fake/requests returns
every request it answered: time, region, access key, attribute, throttled.
POST /_fake/deny with a list of access keys makes their calls fail with
`AccessDeniedException`, as for a role without `cloudtrail:LookupEvents`.

Usage: fake_cloudtrail.py [--port N]   (prints the port it listens on)
"""

import argparse
import collections
import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The SDKs send the short target; the API reference spells the long one.
TARGETS = {"CloudTrail_20131101.LookupEvents",
           "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"}
RATE = 2  # requests per second per account and region
ATTRIBUTES = {"EventId", "EventName", "ReadOnly", "Username", "ResourceType",
              "ResourceName", "EventSource", "AccessKeyId"}

lock = threading.Lock()
events = []  # (epoch seconds, region, lookup event as returned)
requests = []
recent = collections.defaultdict(collections.deque)
denied = set()  # access keys refused


def epoch(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def to_lookup_event(item):
    record = item["record"]
    identity = record.get("userIdentity") or {}
    username = identity.get("userName") or (identity.get("arn") or "").rsplit("/", 1)[-1]
    event = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "true" if record.get("readOnly") else "false",
        "EventTime": epoch(record["eventTime"]),
        "EventSource": record.get("eventSource"),
        "Username": username,
        "Resources": item.get("resources", []),
        "CloudTrailEvent": json.dumps(record),
    }
    if identity.get("accessKeyId"):
        event["AccessKeyId"] = identity["accessKeyId"]
    return event


def matches(event, key, value):
    if key == "ResourceName":
        return any(r.get("ResourceName") == value for r in event["Resources"])
    if key == "ResourceType":
        return any(r.get("ResourceType") == value for r in event["Resources"])
    return str(event.get(key)) == value


def scope_of(headers):
    """(access key, region) from the SigV4 credential scope."""
    auth = headers.get("Authorization", "")
    try:
        credential = auth.split("Credential=", 1)[1].split(",", 1)[0]
        parts = credential.split("/")
        return parts[0], parts[2]
    except IndexError:
        return "", ""


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/x-amz-json-1.1"):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fake-%d" % len(requests))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, kind, message):
        self.reply(status, {"__type": kind, "message": message})

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        if self.path == "/_fake/requests":
            with lock:
                self.reply(200, requests, "application/json")
        else:
            self.error(404, "NotFound", self.path)

    def do_POST(self):
        if self.path == "/_fake/events":
            items = self.body()
            with lock:
                for item in items:
                    record = item["record"]
                    events.append((epoch(record["eventTime"]), record.get("awsRegion"),
                                   to_lookup_event(item)))
            self.reply(200, {"added": len(items)}, "application/json")
            return
        if self.path == "/_fake/deny":
            with lock:
                denied.update(self.body())
            self.reply(200, {"denied": sorted(denied)}, "application/json")
            return
        if self.headers.get("X-Amz-Target") not in TARGETS:
            self.error(400, "UnknownOperationException", "only LookupEvents is served here")
            return
        self.lookup_events()

    def lookup_events(self):
        request = self.body()
        key, region = scope_of(self.headers)
        attributes = request.get("LookupAttributes") or []
        now = time.monotonic()
        with lock:
            window = recent[(key, region)]
            while window and now - window[0] >= 1.0:
                window.popleft()
            throttled = len(window) >= RATE
            window.append(now)
            requests.append({
                "time": time.time(), "region": region, "access_key": key,
                "attributes": attributes, "next_token": request.get("NextToken"),
                "start": request.get("StartTime"), "end": request.get("EndTime"),
                "throttled": throttled,
            })
        if throttled:
            self.error(400, "ThrottlingException", "Rate exceeded")
            return
        if key in denied:
            # The shape IAM gives a caller without cloudtrail:LookupEvents.
            self.error(400, "AccessDeniedException",
                       "User: arn:aws:iam::123456789012:user/driftd is not authorized to perform: "
                       "cloudtrail:LookupEvents because no identity-based policy allows the "
                       "cloudtrail:LookupEvents action")
            return
        if len(attributes) > 1:
            self.error(400, "InvalidLookupAttributesException",
                       "You cannot specify more than one lookup attribute.")
            return
        limit = request.get("MaxResults", 50)
        if not 1 <= limit <= 50:
            self.error(400, "InvalidMaxResultsException", "MaxResults must be 1 to 50.")
            return
        if attributes and attributes[0].get("AttributeKey") not in ATTRIBUTES:
            self.error(400, "InvalidLookupAttributesException", "unknown attribute key")
            return
        start = request.get("StartTime", 0)
        end = request.get("EndTime", float("inf"))
        with lock:
            found = [e for (t, r, e) in events
                     if r == region and start <= t <= end
                     and all(matches(e, a["AttributeKey"], a["AttributeValue"])
                             for a in attributes)]
        found.sort(key=lambda e: e["EventTime"], reverse=True)
        offset = int(request.get("NextToken") or 0)
        page = found[offset:offset + limit]
        body = {"Events": page}
        if offset + limit < len(found):
            body["NextToken"] = str(offset + limit)
        self.reply(200, body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
