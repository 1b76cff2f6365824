"""The Kubernetes base fits together and serves rcabot the way issue 12 asks.

Schemas check each object alone; these check what only the whole shows: selectors select the
pods, Services and probes name ports that exist, the Ingress publishes exactly the routes Slack
and Alertmanager call (and they are routes of bot/app.py), the bot is HTTP, non-root and never
below two replicas, and the model server holds a GPU and rcabot's prompts.
"""

from __future__ import annotations

import ast
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.llm.settings import LlmSettings
from tests.deploy.deploy_files import DEPLOY, REPO, Document, load_yaml, named, option, resources


def _routes() -> set[str]:
    """The paths bot/app.py serves (``Route("/path", ...)``)."""
    tree = ast.parse((REPO / "bot" / "app.py").read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "Route"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def _pod(deployment: Document) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def _deployments() -> list[Document]:
    return [doc for doc in resources() if doc["kind"] == "Deployment"]


def _selected(selector: dict[str, str]) -> list[Document]:
    return [
        deployment
        for deployment in _deployments()
        if selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    ]


def _port_names(deployment: Document) -> set[str]:
    return {port["name"] for c in _pod(deployment)["containers"] for port in c.get("ports", [])}


def test_deployments_select_their_own_pods() -> None:
    for deployment in _deployments():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert _selected(selector) == [deployment], deployment["metadata"]["name"]


@pytest.mark.parametrize("kind", ["Service", "PodDisruptionBudget"])
def test_selectors_select_pods(kind: str) -> None:
    for doc in (d for d in resources() if d["kind"] == kind):
        selector = doc["spec"]["selector"]
        pods = _selected(selector.get("matchLabels", selector))
        assert len(pods) == 1, f"{kind} {doc['metadata']['name']} selects {len(pods)}"
        if kind == "Service":
            for port in doc["spec"]["ports"]:
                assert port["targetPort"] in _port_names(pods[0])


def test_probes_and_volumes_refer_to_what_the_pod_has() -> None:
    claims = {d["metadata"]["name"] for d in resources() if d["kind"] == "PersistentVolumeClaim"}
    for deployment in _deployments():
        pod = _pod(deployment)
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        for container in pod["containers"]:
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                action = container.get(probe, {})
                port = (action.get("httpGet") or action.get("tcpSocket") or {}).get("port")
                assert port is None or port in _port_names(deployment)
        for volume in volumes.values():
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims


def test_the_ingress_publishes_the_slack_and_alertmanager_routes_only() -> None:
    (ingress,) = [doc for doc in resources() if doc["kind"] == "Ingress"]
    paths = [path for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    published = {path["path"] for path in paths}
    manifest = load_yaml(DEPLOY / "slack-app-manifest.yaml")
    slack_path = urlsplit(manifest["settings"]["event_subscriptions"]["request_url"]).path
    assert published == {slack_path, "/alertmanager"}
    assert published <= _routes()
    for path in paths:
        backend = path["backend"]["service"]
        service = named(resources(), "Service", backend["name"])
        assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}


def test_rcabot_runs_http_replicas_non_root_with_health_probes() -> None:
    deployment = named(resources(), "Deployment", "rcabot")
    pod = _pod(deployment)
    (bot,) = pod["containers"]
    assert deployment["spec"]["replicas"] >= 2
    assert bot["args"][0] == "serve" and "--socket" not in bot["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert bot["securityContext"]["allowPrivilegeEscalation"] is False
    assert bot["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # readiness must not hang on shared backends: one outage would empty the Service
    assert bot["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"/healthz", "/readyz"} <= _routes()
    assert bot["resources"]["requests"] and bot["resources"]["limits"]
    assert int(option(bot["args"], "--port")) in {p["containerPort"] for p in bot["ports"]}


def test_disruptions_and_autoscaling_keep_two_replicas() -> None:
    deployment = named(resources(), "Deployment", "rcabot")
    hpa = named(resources(), "HorizontalPodAutoscaler", "rcabot")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    pdb = named(resources(), "PodDisruptionBudget", "rcabot")
    assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]  # drains can proceed


def test_tgi_holds_a_gpu_and_rcabots_prompts() -> None:
    deployment = named(resources(), "Deployment", "tgi")
    (tgi,) = _pod(deployment)["containers"]
    assert tgi["resources"]["limits"]["nvidia.com/gpu"] >= 1
    assert tgi["readinessProbe"]["httpGet"]["path"] == "/health"
    defaults = LlmSettings()
    max_input = int(option(tgi["args"], "--max-input-tokens"))
    assert max_input >= defaults.prompt_budget_tokens * 1.25  # evidence + instructions
    assert int(option(tgi["args"], "--max-total-tokens")) >= max_input + defaults.max_new_tokens
    port = int(option(tgi["args"], "--port"))
    assert port in {p["containerPort"] for p in tgi["ports"]}
