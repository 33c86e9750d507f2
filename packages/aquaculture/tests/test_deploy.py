"""deploy/aquaculture holds what it promises: probes, roles matching the consumers, HPA,
network policy, settings that exist, and alert rules on metrics the app really exposes.
The real tools run too (installed by `make tools`, offline at test time): promtool checks the
rules and unit-tests the alerts, kubernetes-validate checks every manifest against the
Kubernetes schemas it ships."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from aquaculture.settings import AquacultureSettings
from aquaculture.testing import fish_png, make_farm

from forgekit.identity.testing import register_and_login
from forgekit.settings import ForgeSettings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "aquaculture"
K8S = DEPLOY / "k8s"
PROMETHEUS = DEPLOY / "prometheus"
#: The Kubernetes version the manifests target (kubernetes-validate ships its schemas).
K8S_VERSION = "1.30.0"


def _tool(name: str) -> str:
    # A console script of the venv's packages sits beside its interpreter, maybe off PATH.
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        pytest.fail(f"{name} is not installed: run `make tools` (or `make venv`)")
    return path


def _run(*cmd: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_checks_the_rules_and_unit_tests_the_alerts() -> None:
    promtool = _tool("promtool")
    checked = _run(promtool, "check", "rules", "alerts.yml", cwd=PROMETHEUS)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 2 rules found" in checked.stdout
    tested = _run(promtool, "test", "rules", "alerts.test.yml", cwd=PROMETHEUS)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout + tested.stderr


def test_promtool_catches_a_wrong_alert_expectation(tmp_path: Path) -> None:
    """The unit test is not vacuous: expecting no alert where 30 % are unsure fails."""
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path / "alerts.yml")
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())
    tests["tests"] = tests["tests"][:1]
    tests["tests"][0]["alert_rule_test"][0]["exp_alerts"] = []
    (tmp_path / "wrong.test.yml").write_text(yaml.safe_dump(tests))
    failed = _run(_tool("promtool"), "test", "rules", "wrong.test.yml", cwd=tmp_path)
    assert failed.returncode != 0 and "AquacultureUnsureShareHigh" in failed.stdout + failed.stderr


def test_manifests_validate_against_the_kubernetes_schemas(tmp_path: Path) -> None:
    validate = _tool("kubernetes-validate")
    files = sorted(str(p) for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    ok = _run(validate, "--strict", "-k", K8S_VERSION, *files)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # And the validator does refuse a broken deployment (a field no schema knows).
    api = (K8S / "api.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(api.replace("readinessProbe:", "readinessProbe:\n          bogusField: 1", 1))
    bad = _run(validate, "--strict", "-k", K8S_VERSION, str(broken))
    assert bad.returncode != 0, bad.stdout + bad.stderr


def _docs() -> list[dict]:
    return [d for p in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]


def _kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in _docs() if d["kind"] == kind}


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == on_disk
    assert {d["kind"] for d in _docs()} >= {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
    }


def test_deployments_run_the_roles_with_probes_and_no_privileges() -> None:
    deployments = _kind("Deployment")
    assert set(deployments) == {"aquaculture-api", "aquaculture-worker-batches"}
    api = deployments["aquaculture-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["args"] == ["aquaculture", "serve"]
    assert api["livenessProbe"]["httpGet"]["path"] == "/live"
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"
    worker = deployments["aquaculture-worker-batches"]["spec"]["template"]["spec"]["containers"][0]
    # The queue group is the batch consumer's ("batches.classify").
    from aquaculture.observations.tasks import CONSUMER

    assert worker["args"][-2:] == ["--queues", CONSUMER.split(".")[0]]
    for d in deployments.values():
        spec = d["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert (
            d["spec"]["selector"]["matchLabels"].items()
            <= d["spec"]["template"]["metadata"]["labels"].items()
        )
        for c in spec["containers"]:
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert "memory" in c["resources"]["limits"]
    hpa = _kind("HorizontalPodAutoscaler")["aquaculture-api"]
    assert (
        hpa["spec"]["scaleTargetRef"]["name"] == "aquaculture-api"
        and hpa["spec"]["minReplicas"] >= 2
    )
    deny = _kind("NetworkPolicy")["aquaculture-default-deny"]
    assert deny["spec"]["podSelector"] == {} and "ingress" not in deny["spec"]


def test_configured_variables_are_real_settings() -> None:
    config = _kind("ConfigMap")["aquaculture-config"]["data"]
    secret = _kind("Secret")["aquaculture-secrets"]["stringData"]
    aqua = {f"AQUA_{n.upper()}" for n in AquacultureSettings.model_fields}
    forge = {f"FORGE_{n.upper()}" for n in ForgeSettings.model_fields}
    inference = {"FORGE_INFERENCE_MAX_BATCH_SIZE", "FORGE_INFERENCE_MAX_QUEUE_SIZE"}
    for key in [*config, *secret]:
        assert key in aqua | forge | inference, key
    assert all("CHANGE-ME" in v for k, v in secret.items() if k in ("FORGE_SECRET_KEY",))


async def test_alert_rules_use_metrics_the_app_exposes(client: httpx.AsyncClient) -> None:
    rules = [
        r
        for g in yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
        for r in g["rules"]
    ]
    assert {r["alert"] for r in rules} >= {"AquacultureUnsureShareHigh"}
    tests = yaml.safe_load((DEPLOY / "prometheus" / "alerts.test.yml").read_text())
    assert {t["alertname"] for t in tests["tests"][0]["alert_rule_test"]} == {
        "AquacultureUnsureShareHigh"
    }
    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    await client.post(
        f"/api/v1/farms/{farm}/tanks/{tank}/observations",
        headers=user.headers,
        files={"file": ("a.png", fish_png(), "image/png")},
    )
    exposed = (await client.get("/metrics")).text
    for rule in rules:
        for name in set(re.findall(r"aquaculture_[a-z_]+", rule["expr"])):
            assert f"# TYPE {name.removesuffix('_total')}" in exposed, name


async def test_grafana_dashboard_queries_exposed_metrics(client: httpx.AsyncClient) -> None:
    import json

    dashboard = json.loads((DEPLOY / "grafana" / "aquaculture.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 6 and len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    await client.post(f"/api/v1/farms/{farm}/tanks/{tank}/observations", headers=user.headers,
                      files={"file": ("a.png", fish_png(), "image/png")})
    exposed = (await client.get("/metrics")).text
    for expr in exprs:
        for name in set(re.findall(r"aquaculture_[a-z_]+", expr)):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert re.search(rf"^# TYPE {base}(_total)? ", exposed, re.M), name
