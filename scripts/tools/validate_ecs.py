"""Validates deploy/ecs-*.json as the input of their ECS API calls, the way the AWS CLI
does before it sends anything: botocore's ECS service model and its parameter
validator (unknown keys, missing required ones, wrong types, out-of-range numbers).

    .venv/bin/python scripts/tools/validate_ecs.py [OPERATION=FILE ...]

With no argument it checks RegisterTaskDefinition=deploy/ecs-task-definition.json and
CreateService=deploy/ecs-service.json, and their PostgreSQL variants
(deploy/ecs-*-postgres.json), from the repository root. Prints one line per
file, each problem under it; exits 1 if any file is invalid. botocore is pinned in
scripts/tools/requirements.txt (scripts/setup-tools.sh installs it).
"""

import json
import sys
from pathlib import Path

import botocore
import botocore.session
from botocore.model import OperationNotFoundError
from botocore.validate import ParamValidator

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = [
    ("RegisterTaskDefinition", "deploy/ecs-task-definition.json"),
    ("CreateService", "deploy/ecs-service.json"),
    ("RegisterTaskDefinition", "deploy/ecs-task-definition-postgres.json"),
    ("CreateService", "deploy/ecs-service-postgres.json"),
]


def problems(model, operation, path):
    try:
        params = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        return [str(e)]
    try:
        shape = model.operation_model(operation).input_shape
    except OperationNotFoundError:
        return [f"ECS has no operation {operation}"]
    report = ParamValidator().validate(params, shape)
    return report.generate_report().splitlines() if report.has_errors() else []


def main(args):
    pairs = [tuple(arg.split("=", 1)) for arg in args] if args else DEFAULT
    if any(len(pair) != 2 for pair in pairs):
        sys.exit(f"usage: {sys.argv[0]} [OPERATION=FILE ...]")
    model = botocore.session.get_session().get_service_model("ecs")
    failed = False
    for operation, path in pairs:
        path = ROOT / path if not Path(path).is_absolute() else Path(path)
        found = problems(model, operation, path)
        status = "invalid" if found else "valid"
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
              f"{status} {operation} input (botocore {botocore.__version__})")
        for line in found:
            print(f"  {line}")
        failed |= bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
