"""Seeds a local AWS endpoint with many security groups for the scan benchmark:
GROUPS groups in one VPC, each with RULES ingress rules (one per CIDR), the
endpoint's default allow-all egress left in place.

Usage: seed_bulk.py --endpoint URL --groups 10000 --rules 10 [--threads 4]
"""

import argparse
import concurrent.futures
import time

import boto3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--groups", type=int, default=10000)
    p.add_argument("--rules", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)  # moto answers 500 to concurrent creates
    args = p.parse_args()
    kw = dict(endpoint_url=args.endpoint, region_name=args.region,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2 = boto3.client("ec2", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    started = time.time()

    def one(i):
        client = boto3.client("ec2", **kw)
        gid = client.create_security_group(GroupName=f"bench-{i}", Description=f"bench group {i}",
                                           VpcId=vpc)["GroupId"]
        ranges = [{"CidrIp": f"10.{i % 250}.{r}.0/24", "Description": f"r{r}"} for r in range(args.rules)]
        client.authorize_security_group_ingress(
            GroupId=gid, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": ranges}])

    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        for n, _ in enumerate(pool.map(one, range(args.groups)), 1):
            if n % 1000 == 0:
                print(f"  seeded {n} groups ({time.time() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
