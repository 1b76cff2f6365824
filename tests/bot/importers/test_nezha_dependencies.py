"""Nezha's static call graph (``metric/dependency.csv``) becomes the bundle's service map:
edges between the case's services only (not the pods' node addresses, nor the load generator),
bad rows skipped and said."""

from __future__ import annotations

from pathlib import Path

from bot.importers.nezha import import_nezha
from tests.bot.importers.fake_nezha import POD, write_lines
from tools.bundle.reader import load_bundle
from tools.service_map import FILE_NAME

GATEWAY, FOO = "ts-gateway-service", "ts-foo-service"


def test_the_day_s_dependencies_become_the_bundle_s_service_map(
    fake_nezha: Path, tmp_path: Path
) -> None:
    day = fake_nezha / "rca_data" / "2023-01-29"
    write_lines(
        day / "metric" / "dependency.csv",
        [
            "Source,Target,Weight",
            f"{GATEWAY},{FOO},1",
            f"{GATEWAY},33.33.33.167,1",  # the node its pod runs on
            f"loadgenerator,{GATEWAY},1",  # not a service of the case
            f"{FOO},{FOO},1",
            "a,b",
        ],
    )
    (case,) = import_nezha(fake_nezha, tmp_path / "out")
    assert (case.bundle_dir / FILE_NAME).read_text() == f"caller,callee\n{GATEWAY},{FOO}\n"
    bundle = load_bundle(case.bundle_dir)
    assert bundle.service_map is not None
    assert bundle.service_map.calls == {GATEWAY: {FOO}}
    assert any("metric/dependency.csv:6: expected 3 columns" in w for w in case.warnings)
    assert POD.startswith(FOO)


def test_without_dependencies_a_bundle_has_no_service_map(fake_nezha: Path, tmp_path: Path) -> None:
    (case,) = import_nezha(fake_nezha, tmp_path / "out")
    assert not (case.bundle_dir / FILE_NAME).exists()
    assert load_bundle(case.bundle_dir).service_map is None
