#!/usr/bin/env bash
# The main job on a fresh machine: installs the local AWS endpoint (moto, pinned, in
# .venv/), starts it on a free port, creates the five-group ECS chain of DESIGN.md
# through the EC2 API, writes the Terraform state that matches it, applies the
# incidents' drift as a console user would, feeds a local CloudTrail with the events
# behind them, and runs `driftd report` against it.
# Extra arguments go to `driftd report` (e.g. --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-local-aws.sh
echo "building driftd..." >&2
cargo build --quiet --bin driftd
bin="${CARGO_TARGET_DIR:-target}/debug/driftd"

work="$(mktemp -d)"
# shellcheck source=localaws/endpoints.sh
. scripts/localaws/endpoints.sh
start_local_aws

# The scan history of this demo lives and dies with it.
export DRIFTD_DATABASE_URL="${DRIFTD_DATABASE_URL:-sqlite://$work/driftd.db}"
export AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
echo "local AWS endpoint on $AWS_ENDPOINT_URL: seeding the ECS chain and the incidents' drift..." >&2
.venv/bin/python scripts/localaws/seed_chain.py --endpoint "$AWS_ENDPOINT_URL" \
  --state-out "$work/terraform.tfstate" \
  --drift alb-egress-port --drift ssh-open --drift allow-all-egress --drift delete-shared --drift alb-detached \
  >"$work/seed.json"
# The events behind that drift, as CloudTrail recorded them: who made each change.
.venv/bin/python scripts/localaws/demo_trail.py --trail "$AWS_ENDPOINT_URL_CLOUDTRAIL" <"$work/seed.json"

# The acknowledgement runs out in 60 days, whenever the demo is run.
expires="$(python3 -c 'import datetime as d; print(d.date.today() + d.timedelta(days=60))')"
cat >"$work/driftd.toml" <<TOML
[scan]
regions = ["us-east-1"]

[[terraform]]
state = "terraform.tfstate"

# Paths that must stay open: the load balancer to the front tasks, the API to the
# database. alb-detached breaks the first.
[[flow]]
name = "alb-to-front"
from = "module.lb.aws_lb.public"
to = 'module.net.aws_security_group.this["ecs-front"]'
port = 80

[[flow]]
name = "api-to-rds"
from = "ecs-api"
to = "rds"
port = 3306

# Intentional drift, acknowledged with a reason and an expiry: still listed, but it
# does not fail the report.
[[acknowledge]]
code = "rule-added"
address = 'module.net.aws_security_group.this["rds"]'
reason = "temporary allow-all egress while the DB patch mirror moves, OPS-142"
expires = "$expires"
TOML

echo "running: driftd report --config driftd.toml $*" >&2
set +e
"$bin" report --config "$work/driftd.toml" "$@"
code=$?
set -e
case $code in
  0) echo "(exit 0: no drift)" ;;
  2) echo "(exit 2: drift found, as the demo is meant to show)" ;;
  *) echo "(exit $code: error)"; exit "$code" ;;
esac
