"""CloudTrail records as the local CloudTrail (fake_cloudtrail.py) serves them: the
documented shapes of tests/fixtures/cloudtrail/records.json (each with its source),
filled in with a change's ids, caller and time. Shared by the demo and the
attribution benchmark.
"""

import datetime
import json
import pathlib
import sys
import urllib.request
import uuid

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/cloudtrail/records.json"


def load_fixture():
    return json.loads(FIXTURE.read_text())


def fill(template, values):
    """Replaces each "${NAME}" token (quotes included) by its JSON value."""
    text = json.dumps(template)
    for name, value in values.items():
        text = text.replace(json.dumps("${%s}" % name), json.dumps(value))
    if '"${' in text:
        sys.exit(f"a placeholder was left unset in {text}")
    return json.loads(text)


def event(fixture, key, who, how, minutes_ago, **values):
    """The record `key` made by the identity `who` through the user agent `how`
    (`console`, `cli`, `terraform`, ...), `minutes_ago` minutes ago."""
    agent = fixture["user_agents"][how]
    time = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    defaults = {
        "ACCOUNT_ID": "123456789012", "REGION": "us-east-1", "EVENT_ID": str(uuid.uuid4()),
        "EVENT_TIME": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "USER_IDENTITY": fixture["user_identities"][who]["userIdentity"],
        "USER_AGENT": agent["userAgent"], "SOURCE_IP": agent.get("sourceIPAddress", "198.51.100.7"),
        "DESCRIPTION": "", "PROTOCOL": "tcp", "CIDR": "0.0.0.0/0",
    }
    values = {**defaults, **values}
    entry = fixture["records"][key]
    record = fill(entry["record"], values)
    # The flag is the caller's, not the documented record's.
    record.pop("sessionCredentialFromConsole", None)
    if "sessionCredentialFromConsole" in agent:
        record["sessionCredentialFromConsole"] = agent["sessionCredentialFromConsole"]
    return {"record": record, "resources": fill(entry["resources"], values)}


def post_events(trail, events):
    """Adds `events` to the local CloudTrail at `trail`."""
    request = urllib.request.Request(f"{trail}/_fake/events", data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as answer:
        answer.read()
