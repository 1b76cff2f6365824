"""Property tests of the bundle reader: whatever bytes or JSON a bundle file holds, reading it
gives records and warnings or a :class:`BundleError` naming the file — never another exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bundles import T0, iso
from tests.strategies import json_values
from tools.bundle.reader import Bundle, load_bundle
from tools.bundle.timestamps import EARLIEST
from tools.errors import BundleError

FILES = [
    "logs.jsonl",
    "traces.jsonl",
    "changes.jsonl",
    "metrics.csv",
    "metrics.om",
    "alerts.json",
    "manifest.json",
]
JSON = json_values(text_size=20, key_size=8, width=3, leaves=8)
GOOD: dict[str, dict[str, Any]] = {
    "logs.jsonl": {"ts": iso(T0), "service": "api", "level": "info", "message": "hi"},
    "traces.jsonl": {
        "trace_id": "t1",
        "span_id": "s1",
        "service": "api",
        "operation": "GET /",
        "start": iso(T0),
        "duration_ms": 5,
    },
    "changes.jsonl": {"ts": iso(T0), "service": "api", "kind": "deploy", "description": "x"},
}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(files: dict[str, bytes]) -> Bundle | None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, content in files.items():
            (root / name).write_bytes(content)
        try:
            bundle = load_bundle(root)
            # what the engine asks of a bundle must not fail in another way either
            window = bundle.window
            assert EARLIEST <= window.start < window.end
            assert all(isinstance(s, str) for s in bundle.services)
            assert all(isinstance(w, str) for w in bundle.warnings)
        except BundleError:  # the one documented error; it names the file
            return None
        return bundle


@given(st.sampled_from(FILES), st.binary(max_size=2_000))
@SETTINGS
def test_arbitrary_bytes_in_any_file(name: str, content: bytes) -> None:
    _read({name: content, "logs.jsonl": json.dumps(GOOD["logs.jsonl"]).encode() + b"\n"})


@given(st.sampled_from(sorted(GOOD)), st.lists(st.tuples(st.text(max_size=12), JSON), max_size=4))
@SETTINGS
def test_arbitrary_values_in_a_good_line(name: str, changes: list[tuple[str, Any]]) -> None:
    line = dict(GOOD[name])
    keys = sorted(line)
    for key, value in changes:
        line[keys[len(key) % len(keys)] if key.isascii() else key] = value
    content = (json.dumps(line) + "\n").encode()
    bundle = _read({name: content})
    if bundle is not None:
        assert bundle.files[0].read + bundle.files[0].skipped == 1


@given(st.lists(st.text(max_size=40), max_size=6))
@SETTINGS
def test_arbitrary_metric_rows(rows: list[str]) -> None:
    content = "timestamp,service,metric,value\n" + "\n".join(rows) + "\n"
    _read({"metrics.csv": content.encode()})


@given(st.lists(st.text(max_size=40), max_size=6))
@SETTINGS
def test_arbitrary_openmetrics_lines(lines: list[str]) -> None:
    _read({"metrics.om": ("\n".join(lines) + "\n").encode()})


@given(JSON)
@SETTINGS
def test_arbitrary_manifest_and_alerts(value: Any) -> None:
    try:
        text = json.dumps(value)
    except ValueError:  # a circular or otherwise unencodable value: nothing to write
        return
    logs = (json.dumps(GOOD["logs.jsonl"]) + "\n").encode()
    _read({"manifest.json": text.encode(), "logs.jsonl": logs})
    _read({"alerts.json": text.encode(), "logs.jsonl": logs})
