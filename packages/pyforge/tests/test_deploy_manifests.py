"""The deployment manifests in deploy/ hold the security, probe and scaling rules they promise.

No cluster or Docker engine runs in CI, so the manifests are checked structurally here (the
schema checks are `kubernetes-validate --strict`, `promtool check/test` and `docker compose
config`; see README "Deployment"). The worker's `--metrics-port`, which the worker-down alert
relies on, is run for real.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from forgekit.testing.servers import free_port

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
K8S = DEPLOY / "k8s"
PYFORGE_ROLES = {"api", "analysis", "notify", "system"}


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _all_k8s() -> list[dict]:
    return [d for p in sorted(K8S.rglob("*.yaml")) for d in _docs(p)]


def _kind(kind: str) -> list[dict]:
    return [d for d in _all_k8s() if d["kind"] == kind]


def _pod_specs() -> list[tuple[str, dict]]:
    specs = [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in _kind("Deployment")]
    specs += [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in _kind("Job")]
    return specs


def test_every_manifest_is_valid_yaml_with_kind_and_name():
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        for doc in _docs(path):
            assert doc.get("apiVersion") and doc.get("kind"), path
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path


def test_kustomization_lists_every_manifest_but_the_optional_ones():
    kustomization = _docs(K8S / "kustomization.yaml")[0]
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    # The example Secret holds placeholders and KEDA is optional: both applied by hand.
    assert listed == on_disk - {"secret.example.yaml"}
    assert all((K8S / r).exists() for r in listed)


def test_deployments_for_api_and_each_worker_role():
    deployments = {d["metadata"]["name"]: d for d in _kind("Deployment")}
    assert set(deployments) == {
        "pyforge-api", "pyforge-worker-analysis", "pyforge-worker-notify", "pyforge-worker-system"
    }
    args = {n: d["spec"]["template"]["spec"]["containers"][0]["args"] for n, d in deployments.items()}
    assert args["pyforge-api"] == ["pyforge", "serve"]
    assert args["pyforge-worker-analysis"][-2:] == ["--queues", "analysis"]
    assert args["pyforge-worker-notify"][-2:] == ["--queues", "notify"]
    assert args["pyforge-worker-system"][-2:] == ["--queues", "audit,identity"]
    assert deployments["pyforge-worker-analysis"]["spec"]["replicas"] >= 3
    for name, d in deployments.items():
        selector = d["spec"]["selector"]["matchLabels"]
        template_labels = d["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= template_labels.items(), name
        assert template_labels["pyforge.dev/role"] in PYFORGE_ROLES


@pytest.mark.parametrize("name_spec", _pod_specs(), ids=lambda ns: ns[0])
def test_pods_are_locked_down(name_spec):
    name, spec = name_spec
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0
    assert pod["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in spec["volumes"]}
    for c in spec["containers"]:
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["capabilities"]["drop"] == ["ALL"], name
        assert "add" not in sc["capabilities"], name
        assert sc.get("privileged", False) is False, name
        # A read-only root needs a writable /tmp, and it must be an emptyDir.
        tmp = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert tmp and "emptyDir" in volumes[tmp[0]["name"]], name
        res = c["resources"]
        assert res["requests"]["cpu"] and res["requests"]["memory"], name
        assert res["limits"]["memory"], name
        # Configuration comes from the ConfigMap, secrets by reference: never inline values.
        refs = {next(iter(e.values()))["name"] for e in c["envFrom"]}
        assert refs == {"pyforge-config", "pyforge-secrets"}, name
        assert "env" not in c, name


def test_api_probes_service_and_autoscaling():
    api = next(d for d in _kind("Deployment") if d["metadata"]["name"] == "pyforge-api")
    c = api["spec"]["template"]["spec"]["containers"][0]
    assert c["livenessProbe"]["httpGet"]["path"] == "/live"
    assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert c["ports"][0]["containerPort"] == 8000
    service = next(d for d in _kind("Service") if d["metadata"]["name"] == "pyforge-api")
    assert service["spec"]["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d for d in _kind("HorizontalPodAutoscaler")}
    assert set(hpas) == {"pyforge-api", "pyforge-worker-analysis"}
    for hpa in hpas.values():
        assert hpa["apiVersion"] == "autoscaling/v2"
        metric = hpa["spec"]["metrics"][0]
        assert metric["resource"]["name"] == "cpu"
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_workers_have_a_metrics_port_and_a_liveness_probe():
    for d in _kind("Deployment"):
        if d["metadata"]["name"] == "pyforge-api":
            continue
        c = d["spec"]["template"]["spec"]["containers"][0]
        assert [p["containerPort"] for p in c["ports"]] == [9100]
        assert c["livenessProbe"]
        annotations = d["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == "9100"


def test_configmap_keeps_consumers_out_of_the_api_and_secrets_out():
    data = _kind("ConfigMap")[0]["data"]
    assert data["PYFORGE_INPROCESS_WORKERS"] == "false"
    assert data["FORGE_ENV"] == "production"
    for key in data:
        assert not re.search(r"SECRET|PASSWORD|DATABASE_URL|AMQP_URL", key), key
    secret = _docs(K8S / "secret.example.yaml")[0]
    assert {"FORGE_SECRET_KEY", "FORGE_DATABASE_URL"} <= set(secret["stringData"])


def test_network_policies():
    policies = {d["metadata"]["name"]: d["spec"] for d in _kind("NetworkPolicy")}
    deny = policies["pyforge-default-deny"]
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    api = policies["pyforge-api-ingress"]
    assert api["podSelector"]["matchLabels"]["pyforge.dev/role"] == "api"
    assert api["ingress"] == [{"ports": [{"port": 8000, "protocol": "TCP"}]}]
    # Workers: the only ingress is the metrics port, from Prometheus only.
    workers = policies["pyforge-worker-metrics-ingress"]
    assert workers["ingress"][0]["from"] and workers["ingress"][0]["ports"] == [
        {"port": 9100, "protocol": "TCP"}
    ]
    ingress_policies = [p for p in policies.values() if p.get("ingress")]
    assert len(ingress_policies) == 2
    egress = policies["pyforge-backend-egress"]["egress"]
    ports = {p["port"] for rule in egress for p in rule["ports"]}
    assert ports == {53, 5432, 6379, 5672, 9000}


def test_keda_scaled_object_targets_the_analysis_queue():
    docs = {d["kind"]: d for d in _docs(K8S / "keda" / "scaledobject-analysis.yaml")}
    scaled = docs["ScaledObject"]["spec"]
    assert scaled["scaleTargetRef"]["name"] == "pyforge-worker-analysis"
    rabbit = next(t for t in scaled["triggers"] if t["type"] == "rabbitmq")
    assert rabbit["metadata"]["queueName"] == "pyforge.analysis.runner"
    assert rabbit["authenticationRef"]["name"] == docs["TriggerAuthentication"]["metadata"]["name"]


def test_compose_runs_api_without_inprocess_workers_and_each_worker_role():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "rabbitmq", "minio", "migrate", "api"} <= set(services)
    commands = {n: s.get("command") for n, s in services.items()}
    assert commands["migrate"] == ["pyforge", "migrate"]
    assert services["api"]["environment"]["PYFORGE_INPROCESS_WORKERS"] == "false"
    workers = {n: c for n, c in commands.items() if c and c[:2] == ["pyforge", "worker"]}
    queues = {c[c.index("--queues") + 1]: n for n, c in workers.items()}
    assert set(queues) == {"analysis", "notify", "audit,identity"}
    assert services[queues["analysis"]]["deploy"]["replicas"] == 3
    for name in [*workers, "api", "migrate"]:
        assert services[name]["read_only"] is True and services[name]["cap_drop"] == ["ALL"]
        assert services[name]["depends_on"]["migrate" if name != "migrate" else "postgres"]


def test_dockerfile_is_multi_stage_and_runs_as_non_root():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", text, flags=re.M)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    # Build tools are installed in the build stage only.
    assert "build-essential" in text.split("AS runtime", 1)[0]
    assert "build-essential" not in runtime and "apt-get install" not in runtime
    user = re.findall(r"^USER\s+(\S+)", runtime, flags=re.M)
    assert user and not user[-1].startswith(("root", "0"))
    assert "COPY --from=build" in runtime


def test_alert_rules_cover_the_required_signals():
    groups = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
    rules = {r["alert"]: r for g in groups for r in g["rules"]}
    exprs = " ".join(r["expr"] for r in rules.values())
    for metric in ("pyforge_requests_total", "pyforge_request_duration_seconds_bucket",
                   "pyforge_outbox_lag_seconds", "pyforge_queue_depth"):
        assert metric in exprs, metric
    assert '> 0.1' in rules["PyForgeHighLatencyP95"]["expr"]
    assert 'up{job="pyforge-worker"} == 0' in rules["PyForgeWorkerDown"]["expr"]
    for rule in rules.values():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
    # The scrape configs provide the job names the rules select on.
    for config in ("prometheus.yml", "prometheus-kubernetes.yml"):
        prom = yaml.safe_load((DEPLOY / "prometheus" / config).read_text())
        jobs = {j["job_name"] for j in prom["scrape_configs"]}
        assert {"pyforge-api", "pyforge-worker"} <= jobs, config
        assert "/etc/prometheus/alerts.yml" in prom["rule_files"]




def test_worker_serves_metrics_on_the_metrics_port(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "PYFORGE_"))}
    env["PYFORGE_DATA_DIR"] = str(tmp_path)
    cmd = [sys.executable, "-m", "pyforge.cli"]
    subprocess.run([*cmd, "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([*cmd, "worker", "--queues", "notify", "--metrics-port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 90  # a busy machine starts Python processes slowly
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "metrics port never opened"
                time.sleep(0.2)
        assert r.status_code == 200
        assert "python_info" in r.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
