"""deploy/k8s/kustomization.yaml: the base lists files that exist, forgets none, and everything it
renders (its resources and the ConfigMap it generates) is valid against Kubernetes' own schemas.

Validation is offline, with the schemas kubernetes-validate ships, in strict mode (a misspelt
field is an error, not ignored). 1.33 is the oldest Kubernetes version checked: the manifests use
nothing newer, so they apply to any cluster from 1.33 on.
"""

from __future__ import annotations

import pytest
from kubernetes_validate import ValidationError, validate  # type: ignore[import-untyped]

from tests.deploy.deploy_files import (
    K8S,
    generated_config_maps,
    kustomization,
    resources,
    yaml_documents,
)

KUBERNETES_VERSION = "1.33.0"
SECRET_EXAMPLE = "secret.example.yaml"  # applied by hand: no token in the base


def test_every_listed_file_exists_and_no_manifest_is_forgotten() -> None:
    base = kustomization()
    listed = list(base["resources"])
    generated = [
        entry.rpartition("=")[2]
        for generator in base.get("configMapGenerator", [])
        for entry in generator["files"]
    ]
    for name in listed + generated:
        assert (K8S / name).is_file(), f"kustomization.yaml lists {name}: no such file"
    assert SECRET_EXAMPLE not in listed
    on_disk = {path.name for path in K8S.glob("*.yaml")}
    assert on_disk == {"kustomization.yaml", SECRET_EXAMPLE, *listed, *generated}


def test_everything_the_base_renders_is_a_valid_kubernetes_object() -> None:
    rendered = resources() + yaml_documents(K8S / SECRET_EXAMPLE)
    kinds = {doc["kind"] for doc in rendered}
    assert {"Deployment", "Service", "Ingress", "ConfigMap", "Secret"} <= kinds
    assert {"PodDisruptionBudget", "HorizontalPodAutoscaler", "PersistentVolumeClaim"} <= kinds
    for doc in rendered:
        validate(doc, KUBERNETES_VERSION, strict=True)


def test_strict_validation_refuses_a_misspelt_field() -> None:
    (config_map,) = generated_config_maps()
    with pytest.raises(ValidationError):
        validate({**config_map, "date": config_map["data"]}, KUBERNETES_VERSION, strict=True)


def test_the_namespace_is_created_by_the_base() -> None:
    namespace = kustomization()["namespace"]
    created = [doc for doc in resources() if doc["kind"] == "Namespace"]
    assert [doc["metadata"]["name"] for doc in created] == [namespace]
    (secret,) = yaml_documents(K8S / SECRET_EXAMPLE)
    assert secret["metadata"]["namespace"] == namespace  # applied outside kustomize
