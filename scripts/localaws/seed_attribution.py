"""Seeds the attribution benchmark: in each of SCOPES regions, GROUPS security groups
that a Terraform state declares with no rules, RULES ingress rules added to each by
hand (each a `rule-added`, its AuthorizeSecurityGroupIngress event fed to the local
CloudTrail, some minutes ago), and each group's default allow-all egress, which has
no event (a `rule-added` CloudTrail cannot explain: pending, looked up by event name
too). Findings: SCOPES x GROUPS x (RULES + 1).

Usage: seed_attribution.py --endpoint URL --trail URL --state-out FILE
                           [--scopes 10] [--groups 10] [--rules 9]
Prints the regions seeded, one a line.
"""

import argparse
import json
import random

import boto3

from trail_records import event, load_fixture, post_events

REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
           "eu-central-1", "ap-southeast-1", "ap-northeast-1", "sa-east-1", "ca-central-1",
           "eu-north-1"]
ACCOUNT = "123456789012"
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--trail", required=True)
    p.add_argument("--state-out", required=True)
    p.add_argument("--scopes", type=int, default=10)
    p.add_argument("--groups", type=int, default=10)
    p.add_argument("--rules", type=int, default=9)
    args = p.parse_args()
    if not 1 <= args.scopes <= len(REGIONS):
        p.error(f"--scopes is 1 to {len(REGIONS)}")
    fixture = load_fixture()
    random.seed(7)
    instances = []
    for region in REGIONS[:args.scopes]:
        ec2 = boto3.client("ec2", endpoint_url=args.endpoint, region_name=region,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        events = []
        for g in range(args.groups):
            name = f"bench-{region}-{g}"
            gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
            instances.append({"index_key": name, "schema_version": 1, "attributes": {
                "arn": f"arn:aws:ec2:{region}:{ACCOUNT}:security-group/{gid}",
                "description": name, "egress": [], "id": gid, "ingress": [], "name": name,
                "name_prefix": "", "owner_id": ACCOUNT, "revoke_rules_on_delete": False,
                "tags": {}, "tags_all": {}, "timeouts": None, "vpc_id": vpc},
                "sensitive_attributes": [], "dependencies": []})
            for r in range(args.rules):
                cidr = f"10.{g % 250}.{r}.0/24"
                out = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
                    "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                    "IpRanges": [{"CidrIp": cidr}]}])
                rule = out["SecurityGroupRules"][0]["SecurityGroupRuleId"]
                how, who = random.choice([("console", "sso"), ("cli", "iam_user"),
                                          ("terraform", "terraform_role")])
                events.append(event(
                    fixture, "AuthorizeSecurityGroupIngress.current", who, how,
                    random.randint(5, 55), REGION=region, GROUP_ID=gid, FROM_PORT=443,
                    TO_PORT=443, CIDR=cidr, RULE_ID=rule,
                    RULE_ARN=f"arn:aws:ec2:{region}:{ACCOUNT}:security-group-rule/{rule}"))
        post_events(args.trail, events)
        print(region, flush=True)
    state = {"version": 4, "terraform_version": "1.9.8", "serial": 1,
             "lineage": "0b5e7a52-3c1f-4d2e-8f60-9a1b2c3d4e5f", "outputs": {},
             "resources": [{"mode": "managed", "type": "aws_security_group", "name": "bench",
                            "provider": PROVIDER, "instances": instances}],
             "check_results": None}
    with open(args.state_out, "w") as f:
        json.dump(state, f)


if __name__ == "__main__":
    main()
