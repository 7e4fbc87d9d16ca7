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
import json
import sys

from trail_records import event, load_fixture, post_events

# seed_chain.py's public load balancer.
LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb-public/50dc6c495c0c9188"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trail", required=True)
    args = parser.parse_args()
    seed = json.load(sys.stdin)
    fixture = load_fixture()
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
    post_events(args.trail, events)


if __name__ == "__main__":
    main()
