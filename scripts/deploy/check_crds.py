"""Validates custom resources against models generated from their CRDs' schemas.

ServiceMonitor and PrometheusRule: the prometheus-operator models of cloudcoil (types,
enums and patterns), plus a walk that rejects keys the schema does not have (the models
themselves ignore them). CloudNativePG's Cluster has no offline schema package; its fields
are checked by check_manifests.py instead. Exits 1 on any problem.
"""

import sys
import typing

import pydantic
import yaml
from cloudcoil.models.prometheus_operator import v1 as monitoring

MODELS = {("monitoring.coreos.com/v1", "ServiceMonitor"): monitoring.ServiceMonitor,
          ("monitoring.coreos.com/v1", "PrometheusRule"): monitoring.PrometheusRule}


def model_of(annotation):
    """The pydantic model inside an annotation such as Optional[List[Endpoint]]."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_of(arg)
        if found:
            return found
    return None


def unknown_keys(value, model, path):
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from unknown_keys(item, model, f"{path}[{i}]")
        return
    if not isinstance(value, dict) or model is None:
        return
    fields = {}
    for name, field in model.model_fields.items():
        fields[field.alias or name] = field
        fields[name] = field
    for key, item in value.items():
        if key not in fields:
            yield f"{path}.{key}"
            continue
        yield from unknown_keys(item, model_of(fields[key].annotation), f"{path}.{key}")


def main(paths):
    problems, checked = [], 0
    for path in paths:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if not doc:
                    continue
                model = MODELS.get((doc["apiVersion"], doc["kind"]))
                if model is None:
                    continue
                checked += 1
                where = f"{path}: {doc['kind']}/{doc['metadata']['name']}"
                try:
                    model.model_validate(doc)
                except pydantic.ValidationError as e:
                    problems.append(f"{where}: {e}")
                for key in unknown_keys(doc, model, ""):
                    if not key.startswith((".metadata.labels", ".metadata.annotations")):
                        problems.append(f"{where}: unknown field {key}")
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"{checked} custom resources checked against their CRD models, {len(problems)} problems")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
