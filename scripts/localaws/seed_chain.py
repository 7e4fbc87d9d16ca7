"""Seeds a local AWS endpoint with the five-group ECS chain of DESIGN.md and writes
the Terraform state (format 4, AWS provider shapes) that declares exactly it.

Then applies any of the incidents' drift, as someone in the console would:

  alb-egress-port   the ALB's egress rule to ecs-front edited from port 80 to 8080
  ssh-open          SSH from 0.0.0.0/0 added to ecs-api
  allow-all-egress  allow-all egress added to rds
  unowned-group     a group nobody declares ("launch-wizard-1")
  revoke-db-egress  ecs-api's declared egress to rds revoked
  delete-shared     the shared monitoring group (read by a data source) deleted
  alb-detached      incident 2 as it really happens: alb-public detached from the
                    ALB's interface, which now carries a group made by hand
                    ("alb-by-hand", HTTPS from anywhere); ecs-front still allows
                    port 80 only from alb-public
  alb-extra-group   a permissive existing group ("wide-open", every TCP port from
                    anywhere) attached by hand to the ALB beside alb-public

What carries the groups is created as AWS creates it (moto makes no interfaces for
load balancers, see docs/local-aws.md): an interface per load balancer described
"ELB app/<name>/<id>", one per ECS task described by its attachment's ARN, one
for the database, one for the monitoring scraper. The state declares the public
load balancer (`module.lb.aws_lb.public`, security_groups = [alb-public]).

Usage: seed_chain.py --endpoint URL --region R --state-out FILE [--drift NAME ...]
                     [--s3 s3://bucket/key] [--account-role ARN]
Prints a JSON summary (group ids, rule ids) on stdout.
"""

import argparse
import json
import sys

import boto3

PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
TAGS = {"team": "payments", "env": "prod"}
CHAIN = ["alb-public", "ecs-front", "alb-internal", "ecs-api", "rds"]
# The public load balancer's ARN ends with this; its interfaces are described by it.
ALB_KEY = "app/alb-public/50dc6c495c0c9188"


def client(service, args, creds=None):
    kwargs = dict(endpoint_url=args.endpoint, region_name=args.region)
    if creds:
        kwargs.update(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    else:
        kwargs.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client(service, **kwargs)


def authorize(ec2, group_id, egress, perm):
    """One permission per call: moto answers only the last permission's rules."""
    call = ec2.authorize_security_group_egress if egress else ec2.authorize_security_group_ingress
    out = call(GroupId=group_id, IpPermissions=[perm])
    return out["SecurityGroupRules"][0]["SecurityGroupRuleId"]


def tcp(port, desc, cidr=None, group=None):
    perm = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidr:
        perm["IpRanges"] = [{"CidrIp": cidr, "Description": desc}]
    if group:
        perm["UserIdGroupPairs"] = [{"GroupId": group, "Description": desc}]
    return perm


def seed(args):
    creds = None
    if args.account_role:
        sts = client("sts", args)
        creds = sts.assume_role(RoleArn=args.account_role, RoleSessionName="seed")["Credentials"]
    ec2 = client("ec2", args, creds)
    account = client("sts", args, creds).get_caller_identity()["Account"]
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]

    groups = {}
    for name in CHAIN:
        tags = dict(TAGS, Name=name)
        gid = ec2.create_security_group(
            GroupName=name, Description=f"{name} tier", VpcId=vpc,
            TagSpecifications=[{"ResourceType": "security-group",
                                "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
        )["GroupId"]
        groups[name] = gid
        # Terraform deletes the default allow-all egress of groups it creates.
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    shared = ec2.create_security_group(GroupName="shared-monitoring",
                                       Description="Shared monitoring scrapers", VpcId=vpc)["GroupId"]
    g = groups
    rules = {
        "alb_https": authorize(ec2, g["alb-public"], False, tcp(443, "HTTPS from the internet", cidr="0.0.0.0/0")),
        "alb_http": authorize(ec2, g["alb-public"], False, tcp(80, "HTTP from the internet (redirect)", cidr="0.0.0.0/0")),
        "alb_to_front": authorize(ec2, g["alb-public"], True, tcp(80, "to ecs-front tasks", group=g["ecs-front"])),
        "front_in": authorize(ec2, g["ecs-front"], False, tcp(80, "from alb-public", group=g["alb-public"])),
        "front_shared": authorize(ec2, g["ecs-front"], False, tcp(9100, "metrics scrape from shared monitoring", group=shared)),
        "front_out": authorize(ec2, g["ecs-front"], True, tcp(80, "to alb-internal", group=g["alb-internal"])),
        "internal_in": authorize(ec2, g["alb-internal"], False, tcp(80, "from ecs-front", group=g["ecs-front"])),
        "internal_out": authorize(ec2, g["alb-internal"], True, tcp(8080, "to ecs-api", group=g["ecs-api"])),
        "api_in": authorize(ec2, g["ecs-api"], False, tcp(8080, "from alb-internal", group=g["alb-internal"])),
        "api_db": authorize(ec2, g["ecs-api"], True, tcp(3306, "to rds", group=g["rds"])),
        "api_https": authorize(ec2, g["ecs-api"], True, tcp(443, "HTTPS to AWS APIs", cidr="0.0.0.0/0")),
        "rds_in": authorize(ec2, g["rds"], False, tcp(3306, "MySQL from ecs-api", group=g["ecs-api"])),
    }
    state = terraform_state(args.region, account, vpc, groups, shared, rules)
    interfaces = carriers(ec2, args.region, account, vpc, groups, shared)
    return ec2, account, vpc, groups, shared, rules, state, interfaces


def carriers(ec2, region, account, vpc, groups, shared):
    """One network interface per thing that carries a group, described as AWS does."""
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]

    def interface(description, group_id):
        return ec2.create_network_interface(
            SubnetId=subnet, Description=description, Groups=[group_id],
        )["NetworkInterface"]["NetworkInterfaceId"]

    def task(uuid):
        return f"arn:aws:ecs:{region}:{account}:attachment/{uuid}"

    return {
        "alb-public": interface(f"ELB {ALB_KEY}", groups["alb-public"]),
        "ecs-front": interface(task("4f6a7c2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"), groups["ecs-front"]),
        "alb-internal": interface("ELB app/alb-internal/7a1b2c3d4e5f6a7b", groups["alb-internal"]),
        "ecs-api": interface(task("9c8b7a6f-5e4d-4c3b-8a2f-1e0d9c8b7a6f"), groups["ecs-api"]),
        "rds": interface("RDSNetworkInterface", groups["rds"]),
        "shared-monitoring": interface("prometheus scraper", shared),
    }


def terraform_state(region, account, vpc, groups, shared, rules):
    def arn(kind, rid):
        return f"arn:aws:ec2:{region}:{account}:{kind}/{rid}"

    def group_instance(name, gid, ingress):
        tags = dict(TAGS, Name=name)
        return {"index_key": name, "schema_version": 1, "attributes": {
            "arn": arn("security-group", gid), "description": f"{name} tier", "egress": [],
            "id": gid, "ingress": ingress, "name": name, "name_prefix": "", "owner_id": account,
            "revoke_rules_on_delete": False, "tags": tags, "tags_all": tags, "timeouts": None,
            "vpc_id": vpc}, "sensitive_attributes": [], "dependencies": []}

    rds_inline = [{"cidr_blocks": [], "description": "MySQL from ecs-api", "from_port": 3306,
                   "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "tcp",
                   "security_groups": [groups["ecs-api"]], "self": False, "to_port": 3306}]
    group_instances = [group_instance(n, groups[n], rds_inline if n == "rds" else []) for n in CHAIN]

    def vpc_rule(kind, name, key, rid, gid, port, peer, desc):
        attrs = {"arn": arn("security-group-rule", rid), "cidr_ipv4": None, "cidr_ipv6": None,
                 "description": desc, "from_port": port, "id": rid, "ip_protocol": "tcp",
                 "prefix_list_id": None, "referenced_security_group_id": None,
                 "security_group_id": gid, "security_group_rule_id": rid, "tags": None,
                 "tags_all": {}, "to_port": port}
        attrs.update(peer)
        inst = {"schema_version": 0, "attributes": attrs, "sensitive_attributes": []}
        if key is not None:
            inst["index_key"] = key
        return {"module": "module.net", "mode": "managed", "type": kind, "name": name,
                "provider": PROVIDER, "instances": [inst]}

    def sg_rule(key, typ, rid, gid, port, desc, cidrs=None, source=None):
        return {"index_key": key, "schema_version": 2, "attributes": {
            "cidr_blocks": cidrs, "description": desc, "from_port": port, "id": f"sgrule-{rid[-8:]}",
            "ipv6_cidr_blocks": None, "prefix_list_ids": None, "protocol": "tcp",
            "security_group_id": gid, "security_group_rule_id": rid, "self": False,
            "source_security_group_id": source, "timeouts": None, "to_port": port, "type": typ},
            "sensitive_attributes": []}

    g, r = groups, rules
    alb_in = vpc_rule("aws_vpc_security_group_ingress_rule", "alb_public_in", "https", r["alb_https"],
                      g["alb-public"], 443, {"cidr_ipv4": "0.0.0.0/0"}, "HTTPS from the internet")
    alb_in["instances"] += vpc_rule("aws_vpc_security_group_ingress_rule", "alb_public_in", "http", r["alb_http"],
                                    g["alb-public"], 80, {"cidr_ipv4": "0.0.0.0/0"},
                                    "HTTP from the internet (redirect)")["instances"]
    lb_arn = f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/{ALB_KEY}"
    resources = [
        {"module": "module.lb", "mode": "managed", "type": "aws_lb", "name": "public",
         "provider": PROVIDER, "instances": [{"schema_version": 0, "attributes": {
             "arn": lb_arn, "id": lb_arn, "name": "alb-public", "internal": False,
             "load_balancer_type": "application", "security_groups": [g["alb-public"]],
             "subnets": ["subnet-0c9e8ba8"], "tags": {}, "vpc_id": vpc}, "sensitive_attributes": []}]},
        {"module": "module.ecs", "mode": "data", "type": "aws_security_group", "name": "shared",
         "provider": PROVIDER, "instances": [{"schema_version": 0, "attributes": {
             "arn": arn("security-group", shared), "description": "Shared monitoring scrapers",
             "filter": None, "id": shared, "name": "shared-monitoring", "tags": {},
             "timeouts": None, "vpc_id": vpc}, "sensitive_attributes": []}]},
        {"module": "module.net", "mode": "managed", "type": "aws_security_group", "name": "this",
         "provider": PROVIDER, "instances": group_instances},
        alb_in,
        vpc_rule("aws_vpc_security_group_egress_rule", "alb_to_front", None, r["alb_to_front"],
                 g["alb-public"], 80, {"referenced_security_group_id": g["ecs-front"]}, "to ecs-front tasks"),
        vpc_rule("aws_vpc_security_group_ingress_rule", "alb_internal_from_front", None, r["internal_in"],
                 g["alb-internal"], 80, {"referenced_security_group_id": g["ecs-front"]}, "from ecs-front"),
        vpc_rule("aws_vpc_security_group_egress_rule", "alb_internal_to_api", None, r["internal_out"],
                 g["alb-internal"], 8080, {"referenced_security_group_id": g["ecs-api"]}, "to ecs-api"),
        {"module": "module.ecs", "mode": "managed", "type": "aws_security_group_rule", "name": "front",
         "provider": PROVIDER, "instances": [
             sg_rule("from_alb", "ingress", r["front_in"], g["ecs-front"], 80, "from alb-public", source=g["alb-public"]),
             sg_rule("to_internal_alb", "egress", r["front_out"], g["ecs-front"], 80, "to alb-internal", source=g["alb-internal"]),
             sg_rule("from_monitoring", "ingress", r["front_shared"], g["ecs-front"], 9100,
                     "metrics scrape from shared monitoring", source=shared)]},
        {"module": "module.ecs", "mode": "managed", "type": "aws_security_group_rule", "name": "api",
         "provider": PROVIDER, "instances": [
             sg_rule("from_internal_alb", "ingress", r["api_in"], g["ecs-api"], 8080, "from alb-internal", source=g["alb-internal"]),
             sg_rule("to_rds", "egress", r["api_db"], g["ecs-api"], 3306, "to rds", source=g["rds"]),
             sg_rule("to_internet_https", "egress", r["api_https"], g["ecs-api"], 443, "HTTPS to AWS APIs", cidrs=["0.0.0.0/0"])]},
    ]
    return {"version": 4, "terraform_version": "1.9.8", "serial": 1,
            "lineage": "5f1c8a3e-0d2b-4c6e-9a7f-1b2c3d4e5f60", "outputs": {}, "resources": resources,
            "check_results": None}


def drift(ec2, name, groups, shared, rules, vpc, interfaces):
    g = groups
    if name == "alb-egress-port":
        ec2.modify_security_group_rules(GroupId=g["alb-public"], SecurityGroupRules=[{
            "SecurityGroupRuleId": rules["alb_to_front"],
            "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                                  "ReferencedGroupId": g["ecs-front"], "Description": "to ecs-front tasks"}}])
    elif name == "ssh-open":
        return authorize(ec2, g["ecs-api"], False, tcp(22, "debug", cidr="0.0.0.0/0"))
    elif name == "allow-all-egress":
        return authorize(ec2, g["rds"], True, {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    elif name == "unowned-group":
        return ec2.create_security_group(GroupName="launch-wizard-1", Description="launch-wizard-1",
                                         VpcId=vpc)["GroupId"]
    elif name == "revoke-db-egress":
        ec2.revoke_security_group_egress(GroupId=g["ecs-api"], SecurityGroupRuleIds=[rules["api_db"]])
    elif name == "delete-shared":
        ec2.delete_security_group(GroupId=shared)
    elif name == "alb-detached":
        by_hand = ec2.create_security_group(GroupName="alb-by-hand", Description="alb-by-hand",
                                            VpcId=vpc)["GroupId"]
        authorize(ec2, by_hand, False, tcp(443, "quick fix", cidr="0.0.0.0/0"))
        ec2.modify_network_interface_attribute(NetworkInterfaceId=interfaces["alb-public"],
                                               Groups=[by_hand])
        return by_hand
    elif name == "alb-extra-group":
        wide = ec2.create_security_group(GroupName="wide-open", Description="wide-open",
                                         VpcId=vpc)["GroupId"]
        authorize(ec2, wide, False, {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535,
                                     "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
        ec2.modify_network_interface_attribute(NetworkInterfaceId=interfaces["alb-public"],
                                               Groups=[g["alb-public"], wide])
        return wide
    else:
        sys.exit(f"unknown drift {name!r}")
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--state-out")
    p.add_argument("--s3", help="also upload the state to s3://bucket/key (the bucket is created)")
    p.add_argument("--account-role", help="seed the account reached by assuming this role")
    p.add_argument("--drift", action="append", default=[])
    args = p.parse_args()
    ec2, account, vpc, groups, shared, rules, state, interfaces = seed(args)
    body = json.dumps(state, indent=2)
    if args.state_out:
        with open(args.state_out, "w") as f:
            f.write(body)
    if args.s3:
        bucket, key = args.s3[len("s3://"):].split("/", 1)
        s3 = client("s3", args)
        if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            kwargs = {} if args.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": args.region}}
            s3.create_bucket(Bucket=bucket, **kwargs)
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    added = {name: drift(ec2, name, groups, shared, rules, vpc, interfaces) for name in args.drift}
    print(json.dumps({"account": account, "vpc": vpc, "groups": groups, "shared": shared,
                      "rules": rules, "interfaces": interfaces, "drift": added}))


if __name__ == "__main__":
    main()
