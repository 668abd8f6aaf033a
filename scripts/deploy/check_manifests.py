"""Checks that the deployment manifests fit the binary they deploy.

Usage: check_manifests.py CHINOOK_BINARY RENDERED.yaml... [--compose docker-compose.yml]
       [--dockerfile Dockerfile] [--readme README.md]

- Every CHINOOK_* name in ConfigMaps, Secrets, container env and the compose file is one
  the binary reads (`chinook settings`).
- Probe paths and ports, Service/Ingress/ServiceMonitor ports and selectors line up, and
  the probe and scrape paths really answer on a running binary configured like the pod.
- Every metric the alerts and the dashboard use is one the binary exports, or documented in
  the README's Metrics table (series that need replicas or Redis to appear).
- The rollout, shutdown, HPA, security and database wiring the deployment issue asks for.
Prints each failure and exits 1 if there was any.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def load(paths):
    docs = []
    for path in paths:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    doc["__file"] = path
                    docs.append(doc)
    return docs


def find(docs, kind, name=None):
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def settings(binary):
    out = subprocess.run([binary, "settings"], check=True, capture_output=True, text=True).stdout
    return {line.split("\t")[0] for line in out.splitlines() if line.strip()}


def env_names_in(doc):
    """CHINOOK_* names a manifest sets: ConfigMap/Secret keys and container env."""
    names = set()
    if doc["kind"] in ("ConfigMap", "Secret"):
        for field in ("data", "stringData"):
            names.update((doc.get(field) or {}).keys())
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if doc["kind"] in ("Deployment", "Job") else {}
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        names.update(e["name"] for e in container.get("env", []))
    return {n for n in names if n.startswith("CHINOOK_")}


def pod_labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def check_env(docs, known, compose):
    for doc in docs:
        for name in sorted(env_names_in(doc) - known):
            check(False, f"{doc['__file']}: {doc['kind']}/{doc['metadata']['name']} sets {name}, "
                         "which the binary does not read (see `chinook settings`)")
    if compose:
        with open(compose) as f:
            text = f.read()
        for name in sorted(set(re.findall(r"\b(CHINOOK_[A-Z0-9_]+)\s*:", text)) - known):
            check(False, f"{compose} sets {name}, which the binary does not read")


def bind_port(configmap):
    bind = configmap["data"]["CHINOOK_BIND"]
    return int(bind.rsplit(":", 1)[1])


def check_deployment(docs):
    deployment = find(docs, "Deployment", "chinook")[0]
    configmap = find(docs, "ConfigMap", "chinook-config")[0]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    container = next(c for c in pod["containers"] if c["name"] == "chinook")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    port = bind_port(configmap)
    check(ports.get("http") == port, f"containerPort http {ports.get('http')} != CHINOOK_BIND port {port}")

    probes = {}
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container.get(kind, {}).get("httpGet")
        if not check(probe is not None, f"the Deployment has no HTTP {kind}"):
            continue
        check(probe["port"] in ports or probe["port"] in ports.values(),
              f"{kind} port {probe['port']} is not a container port")
        probes[kind] = probe["path"]
    check(probes.get("startupProbe") == "/health/ready", "the startupProbe must poll /health/ready")
    check(probes.get("readinessProbe") == "/health/ready", "readiness must be /health/ready")
    check(probes.get("livenessProbe") == "/health/live", "liveness must be /health/live")
    startup = container["startupProbe"]
    check(startup["periodSeconds"] * startup["failureThreshold"] >= 300,
          "the startupProbe should allow at least 5 minutes for the index to warm")

    check(spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, "maxUnavailable must be 0")
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    pre_stop_secs = int(pre_stop[-1]) if pre_stop[0] == "sleep" else 0
    delay = int(configmap["data"].get("CHINOOK_SHUTDOWN_DELAY_SECS", 0))
    timeout = int(configmap["data"].get("CHINOOK_SHUTDOWN_TIMEOUT_SECS", 30))
    grace = pod["terminationGracePeriodSeconds"]
    check(grace > pre_stop_secs + delay + timeout,
          f"terminationGracePeriodSeconds {grace} must exceed preStop {pre_stop_secs} + "
          f"shutdown delay {delay} + shutdown timeout {timeout}")
    check(timeout >= 60, "streams in flight need a shutdown timeout of a minute or more")

    security = container["securityContext"]
    check(security.get("readOnlyRootFilesystem") is True, "the root filesystem must be read-only")
    check(security.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    check(pod["securityContext"].get("runAsNonRoot") is True, "pods must run as non-root")
    resources = container["resources"]
    check({"cpu", "memory"} <= set(resources.get("requests", {})), "cpu and memory requests are needed")
    check("memory" in resources.get("limits", {}), "a memory limit is needed")

    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    data_dir = configmap["data"]["CHINOOK_DATA_DIR"]
    media_dir = configmap["data"]["CHINOOK_MEDIA_DIR"]
    check(data_dir in mounts and "emptyDir" in volumes[mounts[data_dir]["name"]],
          f"CHINOOK_DATA_DIR {data_dir} (the index) must be an emptyDir mount")
    check(media_dir in mounts and mounts[media_dir].get("readOnly") is True,
          f"CHINOOK_MEDIA_DIR {media_dir} must be mounted read-only")

    env_from = {next(iter(e.values()))["name"] for e in container.get("envFrom", [])}
    check("chinook-config" in env_from, "the Deployment must take the ConfigMap")
    check("chinook-secrets" in env_from, "the Deployment must take the Secret")

    # Services, Ingress, ServiceMonitor, PDB, HPA all point at this Deployment's pods.
    service = find(docs, "Service", "chinook")[0]
    check(pod_labels_match(service["spec"]["selector"], labels), "the Service does not select the pods")
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    for p in service["spec"]["ports"]:
        check(p["targetPort"] in ports or p["targetPort"] in ports.values(),
              f"Service port {p['name']} targets {p['targetPort']}, not a container port")
    for ingress in find(docs, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                check(backend["name"] == "chinook", "the Ingress must route to the chinook Service")
                check(backend["port"].get("name") in service_ports
                      or backend["port"].get("number") in [p["port"] for p in service_ports.values()],
                      f"the Ingress targets port {backend['port']}, not a Service port")
        notes = ingress["metadata"].get("annotations", {})
        check(int(notes.get("nginx.ingress.kubernetes.io/proxy-read-timeout", 60)) >= 600,
              "the Ingress must allow long reads for streams")
        check("nginx.ingress.kubernetes.io/proxy-body-size" in notes, "the Ingress needs a body limit")
    for monitor in find(docs, "ServiceMonitor"):
        check(pod_labels_match(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"]),
              "the ServiceMonitor does not select the Service")
        for endpoint in monitor["spec"]["endpoints"]:
            check(endpoint["port"] in service_ports, f"ServiceMonitor port {endpoint['port']} is not a Service port")
            check(endpoint.get("path") == "/metrics", "the ServiceMonitor must scrape /metrics")
    for pdb in find(docs, "PodDisruptionBudget"):
        check(pod_labels_match(pdb["spec"]["selector"]["matchLabels"], labels), "the PDB does not select the pods")

    hpa = find(docs, "HorizontalPodAutoscaler", "chinook")[0]["spec"]
    check(hpa["scaleTargetRef"]["name"] == "chinook", "the HPA must scale the chinook Deployment")
    check((hpa["minReplicas"], hpa["maxReplicas"]) == (3, 20), "the HPA must run 3 to 20 pods")
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["metrics"]}
    check(targets == {"cpu": 70, "memory": 80}, f"HPA targets {targets}, expected cpu 70 and memory 80")
    up, down = hpa["behavior"]["scaleUp"], hpa["behavior"]["scaleDown"]
    check(up["stabilizationWindowSeconds"] == 60 and up["policies"] == [{"type": "Percent", "value": 100, "periodSeconds": 15}],
          "scale up: 100% per 15 s after 60 s of stabilization")
    check(down["stabilizationWindowSeconds"] == 300 and down["policies"] == [{"type": "Percent", "value": 10, "periodSeconds": 60}],
          "scale down: 10% per 60 s after 300 s of stabilization")
    return container, port, probes, monitor_paths(docs)


def monitor_paths(docs):
    return sorted({e.get("path", "/metrics") for m in find(docs, "ServiceMonitor") for e in m["spec"]["endpoints"]})


def check_database(docs, expect_instances):
    clusters = find(docs, "Cluster")
    if not check(len(clusters) == 1, "expected one CloudNativePG Cluster"):
        return
    cluster = clusters[0]
    name = cluster["metadata"]["name"]
    check(cluster["apiVersion"] == "postgresql.cnpg.io/v1", "the Cluster must be postgresql.cnpg.io/v1")
    if expect_instances is not None:
        check(cluster["spec"]["instances"] == expect_instances,
              f"the Cluster has {cluster['spec']['instances']} instances, expected {expect_instances}")
    for doc in find(docs, "Deployment", "chinook") + find(docs, "Job"):
        for container in doc["spec"]["template"]["spec"]["containers"]:
            env = {e["name"]: e for e in container.get("env", [])}
            primary = env.get("CHINOOK_DATABASE_URL", {}).get("value", "")
            check(f"@{name}-rw:" in primary, f"{doc['metadata']['name']}: CHINOOK_DATABASE_URL must use {name}-rw")
            if doc["kind"] == "Deployment":
                replicas = env.get("CHINOOK_REPLICA_URLS", {}).get("value", "")
                check(f"@{name}-ro:" in replicas, f"CHINOOK_REPLICA_URLS must use {name}-ro")
            for e in env.values():
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    check(ref["name"] == f"{name}-app", f"database credentials must come from {name}-app")
    jobs = find(docs, "Job")
    check(len(jobs) == 1 and jobs[0]["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"],
          "one migration Job running `chinook migrate`")


PROMQL_WORDS = {"sum", "rate", "max", "min", "by", "le", "without", "unless", "and", "or", "clamp_min",
                "histogram_quantile", "increase", "count", "avg", "label_values", "on", "ignoring"}


def metric_names(expr):
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "{}", expr)  # matchers
    expr = re.sub(r"\[[^\]]*\]", "[]", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    names = set()
    for name in re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b", expr):
        if name in PROMQL_WORDS or ":" in name or name.startswith("kube_") or name.startswith("__"):
            continue
        if re.fullmatch(r"[0-9e.]+", name):
            continue
        names.add(re.sub(r"_(bucket|sum|count)$", "", name))
    return names


def check_metrics(docs, dashboard_files, exported, readme):
    documented = set()
    if readme:
        with open(readme) as f:
            for line in f:
                m = re.match(r"\| `([a-z_]+)(\{[^}]*\})?` \| (counter|gauge|histogram)", line)
                if m:
                    documented.add(m.group(1))
    used = {}
    for rule_doc in find(docs, "PrometheusRule"):
        for group in rule_doc["spec"]["groups"]:
            for rule in group["rules"]:
                for name in metric_names(rule["expr"]):
                    used.setdefault(name, f"PrometheusRule {rule.get('alert') or rule.get('record')}")
        alerts = {r.get("alert") for g in rule_doc["spec"]["groups"] for r in g["rules"]}
        for needed in ("error rate", "latency", "replica lag", "redis", "restart"):
            exprs = " ".join(r["expr"] for g in rule_doc["spec"]["groups"] for r in g["rules"])
            hint = {"error rate": "status=~\"5..\"", "latency": "http_request_duration_seconds",
                    "replica lag": "db_replica_lag_seconds", "redis": "redis_degraded",
                    "restart": "kube_pod_container_status_restarts_total"}[needed]
            check(hint in exprs, f"no alert on {needed}")
        check(len(alerts) >= 5, "expected at least five alerts")
    for path in dashboard_files:
        with open(path) as f:
            dashboard = json.load(f)
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                for name in metric_names(target["expr"]):
                    used.setdefault(name, f"dashboard panel {panel['title']!r}")
    for name, where in sorted(used.items()):
        check(name in exported or name in documented,
              f"{where} uses metric {name}, which the binary neither exports now nor documents in the README")
    return used


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


def run_binary(binary, configmap, paths):
    """Starts the binary with the pod's non-secret settings (on SQLite, on a free port) and
    returns each path's status once ready, plus the /metrics text."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHINOOK_")}
        for key, value in configmap["data"].items():
            # Services that only exist in the cluster are left out: this run is about the
            # binary's own paths and port, on SQLite.
            if key in ("CHINOOK_REDIS_URL", "CHINOOK_REPLICA_URLS", "CHINOOK_TRUSTED_PROXIES"):
                continue
            env[key] = value
        env.update({
            "CHINOOK_BIND": f"127.0.0.1:{port}",
            "CHINOOK_DATA_DIR": tmp,
            "CHINOOK_MEDIA_DIR": os.path.join(tmp, "media"),
            "CHINOOK_LOG": "warn",
        })
        log = open(os.path.join(tmp, "server.log"), "w+")
        # As in the cluster: the migration Job runs first, since pods do not migrate
        # (CHINOOK_MIGRATE_ON_START=false) but wait for it.
        subprocess.run([binary, "migrate"], env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
        server = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 120
            while time.time() < deadline and get(base + "/health/ready")[0] != 200:
                if server.poll() is not None:
                    break
                time.sleep(0.2)
            results = {path: get(base + path)[0] for path in paths}
            metrics = get(base + "/metrics")[1]
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.seek(0)
            tail = log.read()[-2000:]
        if not all(status == 200 for status in results.values()):
            print(tail, file=sys.stderr)
    exported = set(re.findall(r"^# TYPE ([a-z_:]+) ", metrics, re.M))
    return results, exported


def check_dockerfile(path, known):
    with open(path) as f:
        text = f.read()
    check(re.search(r"^HEALTHCHECK .*?/health/live", text, re.M | re.S) is not None, "the Dockerfile needs a HEALTHCHECK on /health/live")
    user = re.findall(r"^USER (\S+)", text, re.M)
    check(user and not user[-1].startswith(("root", "0")), "the image must run as a non-root user")
    bind = re.search(r"CHINOOK_BIND=\S+:(\d+)", text)
    expose = re.search(r"^EXPOSE (\d+)", text, re.M)
    check(bind and expose and bind.group(1) == expose.group(1), "EXPOSE must match the CHINOOK_BIND port")
    for name in sorted(set(re.findall(r"\b(CHINOOK_[A-Z0-9_]+)=", text)) - known):
        check(False, f"the Dockerfile sets {name}, which the binary does not read")
    check("cargo chef cook" in text, "dependency layers should be cached with cargo-chef")


def main():
    args = sys.argv[1:]
    opts = {}
    for flag in ("--compose", "--dockerfile", "--readme", "--instances"):
        if flag in args:
            i = args.index(flag)
            opts[flag] = args[i + 1]
            del args[i:i + 2]
    binary, rendered = args[0], args[1:]
    known = settings(binary)
    check("CHINOOK_DATABASE_URL" in known, "`chinook settings` does not list CHINOOK_DATABASE_URL")
    for path in rendered:
        docs = load([path])
        print(f"checking {path} ({len(docs)} resources)")
        check_env(docs, known, None)
        container, port, probes, scrape = check_deployment(docs)
        check_database(docs, int(opts["--instances"]) if "--instances" in opts else None)
        configmap = find(docs, "ConfigMap", "chinook-config")[0]
        statuses, exported = run_binary(binary, configmap, sorted(set(probes.values()) | set(scrape)))
        for path_, status in statuses.items():
            check(status == 200, f"{path_} answered {status} on the binary configured like the pod")
        dashboards = []
        for cm in find(docs, "ConfigMap"):
            for key, value in (cm.get("data") or {}).items():
                if key.endswith(".json"):
                    fd, name = tempfile.mkstemp(suffix=".json")
                    with os.fdopen(fd, "w") as f:
                        f.write(value)
                    dashboards.append(name)
        check(dashboards, "no Grafana dashboard ConfigMap")
        used = check_metrics(docs, dashboards, exported, opts.get("--readme"))
        print(f"  probes {probes} and scrape path {scrape} answer 200; "
              f"{len(used)} metrics used by alerts and dashboard; {len(known)} settings known")
    if "--compose" in opts:
        check_env([], known, opts["--compose"])
    if "--dockerfile" in opts:
        check_dockerfile(opts["--dockerfile"], known)
    for failure in failures:
        print(f"FAIL: {failure}")
    print(f"{len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
