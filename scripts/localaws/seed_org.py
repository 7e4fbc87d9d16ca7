"""Seeds a local AWS endpoint (moto) with an organisation: ACCOUNTS member
accounts, each reached through sts:AssumeRole into its `driftd-read` role (moto
keeps a separate backend per account), and in each of REGIONS a VPC with GROUPS
groups of RULES ingress rules. Writes the Terraform state that declares them all
(with ARNs, so every group has its scope) and the config's [[account]] tables.

With --drift, some scopes drift as people make them drift: every 4th account gets
an extra ingress rule on its first group in each region (rule-added), every 5th an
unmanaged group in its first region (sg-unmanaged).

With --cross-account-reference (two accounts or more), the second account's first
group in the first region allows 443 from a group of the first account
(`UserIdGroupPairs` naming that account), and the state declares both. moto refuses
a reference to a group its caller's account does not hold, so the seed makes the
same group id exist there for a moment: moto's ids come from Python's `random`,
which `/moto-api/seed` reseeds, so the group and a stand-in created after the same
seed get the same id; the stand-in is deleted once the rule is authorized. The
group's id goes to --cross-out.

Usage: seed_org.py --endpoint URL --accounts 20 --regions us-east-1,eu-west-1
                   --groups 5 --rules 3 --state-out org.tfstate --accounts-out accounts.toml
                   [--drift] [--threads 4] [--cross-account-reference --cross-out FILE]
       seed_org.py --endpoint URL --delete ACCOUNT/REGION/GROUP_ID
"""

import argparse
import concurrent.futures
import json
import time
import urllib.request

import boto3

PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
ROLE = "driftd-read"


def account_id(i):
    return f"{210000000000 + i}"


def assumed(endpoint, account):
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}",
                            RoleSessionName="seed-org")["Credentials"]
    return dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"])


def ranges(i, rules):
    return [{"CidrIp": f"10.{i % 250}.{r}.0/24", "Description": "tls"} for r in range(rules)]


def seed_scope(args, index, region):
    """One account × region: its groups, and the state's resources for them."""
    account = account_id(index)
    ec2 = boto3.client("ec2", endpoint_url=args.endpoint, region_name=region,
                       **assumed(args.endpoint, account))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    instances = []
    first = None
    for i in range(args.groups):
        name = f"org-{index}-{i}"
        gid = ec2.create_security_group(GroupName=name, Description=f"group {i}", VpcId=vpc)["GroupId"]
        first = first or gid
        if args.rules:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": ranges(i, args.rules)}])
        instances.append(group_instance(region, account, vpc, name, gid, i, args.rules))
    if args.drift and index % 4 == 0:
        ec2.authorize_security_group_ingress(GroupId=first, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "console debugging"}]}])
    if args.drift and index % 5 == 0 and region == args.regions[0]:
        ec2.create_security_group(GroupName=f"unmanaged-{index}", Description="made by hand", VpcId=vpc)
    return instances


def group_instance(region, account, vpc, name, gid, i, rules):
    ingress = [] if not rules else [{
        "cidr_blocks": [r["CidrIp"] for r in ranges(i, rules)], "description": "tls", "from_port": 443,
        "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "tcp", "security_groups": [],
        "self": False, "to_port": 443}]
    egress = [{"cidr_blocks": ["0.0.0.0/0"], "description": "", "from_port": 0, "ipv6_cidr_blocks": [],
               "prefix_list_ids": [], "protocol": "-1", "security_groups": [], "self": False, "to_port": 0}]
    return {"index_key": f"{account}/{region}/{name}", "schema_version": 1, "attributes": {
        "arn": f"arn:aws:ec2:{region}:{account}:security-group/{gid}", "description": f"group {i}",
        "egress": egress, "id": gid, "ingress": ingress, "name": name, "name_prefix": "",
        "owner_id": account, "revoke_rules_on_delete": False, "tags": {}, "tags_all": {},
        "timeouts": None, "vpc_id": vpc}, "sensitive_attributes": [], "dependencies": []}


def ec2_of(endpoint, account, region):
    return boto3.client("ec2", endpoint_url=endpoint, region_name=region, **assumed(endpoint, account))


def same_id_seed(endpoint):
    """Reseeds moto's `random`: the next id it makes is the one made after the last reseed."""
    request = urllib.request.Request(f"{endpoint}/moto-api/seed?a=20261205", method="POST")
    urllib.request.urlopen(request).read()


def cross_account_reference(args, instances):
    """A group of account 0 allowed by the first group of account 1 (first region)."""
    region = args.regions[0]
    owner, user = account_id(0), account_id(1)
    there, here = ec2_of(args.endpoint, owner, region), ec2_of(args.endpoint, user, region)
    vpc = there.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}])["Vpcs"][0]["VpcId"]
    here_vpc = here.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}])["Vpcs"][0]["VpcId"]
    # Nothing between a reseed and the create: any call may draw from `random`.
    same_id_seed(args.endpoint)
    shared = there.create_security_group(GroupName="shared-alb", Description="shared alb", VpcId=vpc)["GroupId"]
    same_id_seed(args.endpoint)
    stand_in = here.create_security_group(GroupName="stand-in", Description="stand-in", VpcId=here_vpc)["GroupId"]
    assert stand_in == shared, f"moto made {stand_in}, not {shared}: the seed trick no longer works"
    front = next(i for i in instances if i["index_key"] == f"{user}/{region}/org-1-0")
    here.authorize_security_group_ingress(GroupId=front["attributes"]["id"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "UserIdGroupPairs": [{"GroupId": shared, "UserId": owner}]}])
    here.delete_security_group(GroupId=stand_in)
    front["attributes"]["ingress"].append({
        "cidr_blocks": [], "description": "", "from_port": 443, "ipv6_cidr_blocks": [],
        "prefix_list_ids": [], "protocol": "tcp", "security_groups": [shared], "self": False,
        "to_port": 443})
    instances.append(group_instance(region, owner, vpc, "shared-alb", shared, 0, 0))
    instances[-1]["attributes"]["description"] = "shared alb"
    return shared


def delete(args):
    account, region, group = args.delete.split("/")
    ec2_of(args.endpoint, account, region).delete_security_group(GroupId=group)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--accounts", type=int, default=20)
    p.add_argument("--regions", default="us-east-1,eu-west-1")
    p.add_argument("--groups", type=int, default=5)
    p.add_argument("--rules", type=int, default=3)
    p.add_argument("--state-out")
    p.add_argument("--accounts-out")
    p.add_argument("--drift", action="store_true")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--cross-account-reference", action="store_true")
    p.add_argument("--cross-out")
    p.add_argument("--delete")
    args = p.parse_args()
    if args.delete:
        delete(args)
        return
    if not (args.state_out and args.accounts_out):
        p.error("--state-out and --accounts-out are required (unless --delete)")
    if args.cross_account_reference and not (args.cross_out and args.accounts >= 2):
        p.error("--cross-account-reference needs --cross-out and two accounts or more")
    args.regions = args.regions.split(",")
    started = time.time()
    scopes = [(i, region) for i in range(args.accounts) for region in args.regions]
    # Each scope is its own backend in moto: scopes seed in parallel safely.
    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        parts = list(pool.map(lambda scope: seed_scope(args, *scope), scopes))
    instances = [i for part in parts for i in part]
    if args.cross_account_reference:
        # After the parallel seeding: reseeding moto's `random` is global.
        shared = cross_account_reference(args, instances)
        with open(args.cross_out, "w") as f:
            f.write(shared)
    state = {"version": 4, "terraform_version": "1.9.8", "serial": 1,
             "lineage": "7d0c1e2f-3a4b-4c5d-8e9f-0a1b2c3d4e5f", "outputs": {}, "check_results": None,
             "resources": [{"mode": "managed", "type": "aws_security_group", "name": "org",
                            "provider": PROVIDER, "instances": instances}]}
    with open(args.state_out, "w") as f:
        json.dump(state, f)
    with open(args.accounts_out, "w") as f:
        for i in range(args.accounts):
            account = account_id(i)
            f.write(f'[[account]]\nid = "{account}"\nrole_arn = "arn:aws:iam::{account}:role/{ROLE}"\n\n')
    print(f"seeded {len(scopes)} scopes, {len(instances)} groups in {time.time() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
