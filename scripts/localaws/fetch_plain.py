"""The baseline for the scan benchmark: the minimal paginated fetch of every security
group, rule and network interface of one region with boto3 (MaxResults 1000), timed,
with its call count. Prints one JSON line:
{"seconds": …, "calls": …, "groups": …, "rules": …, "interfaces": …}.
"""

import json
import sys
import time

import boto3

endpoint, region = sys.argv[1], sys.argv[2]
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region,
                   aws_access_key_id="testing", aws_secret_access_key="testing")
started = time.time()
counts = {"calls": 0, "groups": 0, "rules": 0, "interfaces": 0}
for operation, key, count in [
    ("describe_security_groups", "SecurityGroups", "groups"),
    ("describe_security_group_rules", "SecurityGroupRules", "rules"),
    ("describe_network_interfaces", "NetworkInterfaces", "interfaces"),
]:
    for page in ec2.get_paginator(operation).paginate(PaginationConfig={"PageSize": 1000}):
        counts["calls"] += 1
        counts[count] += len(page[key])
print(json.dumps({"seconds": round(time.time() - started, 3), **counts}))
