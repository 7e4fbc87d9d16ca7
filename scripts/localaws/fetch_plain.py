"""The baseline for the scan benchmark: the minimal paginated fetch of every security
group and rule of one region with boto3 (MaxResults 1000), timed, with its call count.
Prints one JSON line: {"seconds": …, "calls": …, "groups": …, "rules": …}.
"""

import json
import sys
import time

import boto3

endpoint, region = sys.argv[1], sys.argv[2]
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region,
                   aws_access_key_id="testing", aws_secret_access_key="testing")
started = time.time()
calls = groups = rules = 0
for page in ec2.get_paginator("describe_security_groups").paginate(PaginationConfig={"PageSize": 1000}):
    calls += 1
    groups += len(page["SecurityGroups"])
for page in ec2.get_paginator("describe_security_group_rules").paginate(PaginationConfig={"PageSize": 1000}):
    calls += 1
    rules += len(page["SecurityGroupRules"])
print(json.dumps({"seconds": round(time.time() - started, 3), "calls": calls, "groups": groups, "rules": rules}))
