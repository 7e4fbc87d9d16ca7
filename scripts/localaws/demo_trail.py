"""Feeds the local CloudTrail (fake_cloudtrail.py) with the events behind the demo's
drift, as CloudTrail would have recorded them: the documented record shapes of
tests/fixtures/cloudtrail/records.json, filled in with the seeded ids.

  alb-egress-port   ModifySecurityGroupRules by an SSO user in the console
  ssh-open          AuthorizeSecurityGroupIngress by an IAM user with the AWS CLI
  alb-detached      CreateSecurityGroup of "alb-by-hand" by the same SSO user, then
                    SetSecurityGroups giving the load balancer that group alone

Other drift gets no event, so driftd shows it as pending, as it does while
CloudTrail has not delivered an event yet.

Usage: demo_trail.py --trail URL < seed summary (seed_chain.py's stdout)
"""

import argparse
import datetime
import json
import pathlib
import sys
import urllib.request
import uuid

# seed_chain.py's public load balancer.
LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb-public/50dc6c495c0c9188"
FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/cloudtrail/records.json"


def fill(template, values):
    """Replaces each "${NAME}" token (quotes included) by its JSON value."""
    text = json.dumps(template)
    for name, value in values.items():
        text = text.replace(json.dumps("${%s}" % name), json.dumps(value))
    if '"${' in text:
        sys.exit(f"a placeholder was left unset in {text}")
    return json.loads(text)


def event(fixture, key, who, how, minutes_ago, **values):
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trail", required=True)
    args = parser.parse_args()
    seed = json.load(sys.stdin)
    fixture = json.loads(FIXTURE.read_text())
    groups, rules, drift = seed["groups"], seed["rules"], seed["drift"]
    events = []
    if "alb-egress-port" in drift:
        modify = event(fixture, "ModifySecurityGroupRules", "sso", "console", 42,
                       GROUP_ID=groups["alb-public"], RULE_ID=rules["alb_to_front"],
                       FROM_PORT=8080, TO_PORT=8080, DESCRIPTION="to ecs-front tasks")
        rule = modify["record"]["requestParameters"]["ModifySecurityGroupRulesRequest"][
            "SecurityGroupRule"]["SecurityGroupRule"]
        del rule["CidrIpv4"]
        rule["ReferencedGroupId"] = groups["ecs-front"]
        events.append(modify)
    if "ssh-open" in drift:
        events.append(event(fixture, "AuthorizeSecurityGroupIngress.current", "iam_user", "cli", 27,
                            GROUP_ID=groups["ecs-api"], FROM_PORT=22, TO_PORT=22,
                            RULE_ID=drift["ssh-open"],
                            RULE_ARN=f"arn:aws:ec2:us-east-1:123456789012:security-group-rule/{drift['ssh-open']}"))
    if drift.get("alb-detached"):
        events.append(event(fixture, "CreateSecurityGroup", "sso", "console", 12,
                            GROUP_ID=drift["alb-detached"], GROUP_NAME="alb-by-hand",
                            DESCRIPTION="alb-by-hand", VPC_ID=seed["vpc"]))
        swap = event(fixture, "SetSecurityGroups.elbv2", "sso", "console", 11,
                     GROUP_ID=drift["alb-detached"], LB_ARN=LB_ARN)
        events.append(swap)
    request = urllib.request.Request(f"{args.trail}/_fake/events", data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as answer:
        answer.read()


if __name__ == "__main__":
    main()
