"""deploy/aquaculture holds what it promises: probes, roles matching the consumers, HPA,
network policy, settings that exist, and alert rules on metrics the app really exposes.
(No cluster or promtool here: checked structurally; `promtool test rules alerts.test.yml`
and `kubernetes-validate --strict` are the schema checks where those tools exist.)"""

import re
from pathlib import Path

import httpx
import yaml
from aquaculture.settings import AquacultureSettings
from aquaculture.testing import fish_png, make_farm

from forgekit.identity.testing import register_and_login
from forgekit.settings import ForgeSettings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "aquaculture"
K8S = DEPLOY / "k8s"


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
