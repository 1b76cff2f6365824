"""Metrics into Prometheus: a bundle's series as OpenMetrics text, backfilled with ``promtool``.

Prometheus has no write API for old samples (remote write refuses samples older than the head),
so the supported way in is ``promtool tsdb create-blocks-from openmetrics FILE DATA_DIR``: it
writes TSDB blocks into the data directory of a Prometheus server. What the lead must know to
run it:

- A running Prometheus loads new blocks at its next reload, which happens about once a minute
  (and at start-up): loaded metrics become queryable within ~1 minute, no restart needed.
- **Retention must cover the data's age.** Prometheus deletes blocks whose end is more than the
  retention (default 15 days) older than its *newest* block. A server that only holds the
  backfilled data keeps it; one that also scrapes live data deletes every block older than
  "now − retention" at its next reload. Run it with e.g.
  ``--storage.tsdb.retention.time=3650d`` for incident replays.
- Every sample gets a ``service`` label and the bundle's extra labels; the value is a gauge
  (bundle metrics are already aggregated signals). ``NaN`` samples are written as ``NaN``:
  the Prometheus backend drops non-finite points on read, as a gap.
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from tools.errors import BackendError, BundleError
from tools.records import MetricSeries

NAME = "prometheus"
STDERR_TAIL = 2000
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

Key = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    """A label value for OpenMetrics text (backslash, double quote and newline escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))  # shortest text that reads back as the same double


def _timestamp(ms: int) -> str:
    """Milliseconds as seconds since the epoch (OpenMetrics' unit), to the millisecond."""
    if ms % 1000 == 0:
        return str(ms // 1000)
    return f"{ms / 1000:.3f}"


def _labels(series: MetricSeries) -> Key:
    if not _METRIC_NAME.match(series.metric):
        raise BundleError(
            f"metric name {series.metric!r} is not a valid Prometheus name "
            "([a-zA-Z_:][a-zA-Z0-9_:]*); rename it in the bundle before loading"
        )
    labels = {"service": series.service}
    for key, value in series.labels.items():
        if not _LABEL_NAME.match(key) or key.startswith("__") or key == "service":
            raise BundleError(
                f"label {key!r} of {series.metric} ({series.service}) cannot be a Prometheus "
                "label ([a-zA-Z_][a-zA-Z0-9_]*, not reserved '__…', not 'service')"
            )
        if value:  # an empty label value is no label at all in Prometheus
            labels[key] = value
    return tuple(sorted(labels.items()))


def write_openmetrics(series: Iterable[MetricSeries], path: Path) -> int:
    """Write ``series`` as OpenMetrics text to ``path``; return the number of samples written.

    Families (metric names) are contiguous with one ``# TYPE name gauge`` each, as OpenMetrics
    requires; each series' samples are sorted by time and a repeated timestamp keeps the last
    value (promtool would silently drop an out-of-order sample). Timestamps are in seconds.
    Invalid metric or label names raise :class:`BundleError`.
    """
    families: dict[str, dict[Key, dict[int, float]]] = {}
    for one in series:
        samples = families.setdefault(one.metric, {}).setdefault(_labels(one), {})
        for t, v in zip(one.timestamps, one.values, strict=True):
            samples[round(t * 1000)] = v
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for metric in sorted(families):
            out.write(f"# TYPE {metric} gauge\n")
            for key, samples in sorted(families[metric].items()):
                labels = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
                for ms in sorted(samples):
                    value = _value(samples[ms])
                    out.write(f"{metric}{{{labels}}} {value} {_timestamp(ms)}\n")
                    written += 1
        out.write("# EOF\n")
    return written


def _tail(text: bytes) -> str:
    decoded = text.decode("utf-8", errors="replace").strip()
    return decoded[-STDERR_TAIL:] or "(no output)"


async def backfill(
    series: Iterable[MetricSeries], data_dir: Path, *, promtool: str = "promtool"
) -> int:
    """Backfill ``series`` into the Prometheus data directory ``data_dir``; return samples.

    Writes the OpenMetrics file to a temporary directory and runs ``promtool tsdb
    create-blocks-from openmetrics``. A missing ``promtool`` or a failed run raises
    :class:`BackendError` with promtool's output. Nothing to write → 0, promtool not run.
    """
    executable = shutil.which(promtool)
    if executable is None:
        raise BackendError(
            NAME,
            f"promtool not found ({promtool!r}); install Prometheus' tools (Debian/Ubuntu: "
            "apt-get install prometheus) or set RCABOT_LOAD__PROMTOOL to its path",
        )
    with tempfile.TemporaryDirectory(prefix="rcabot-openmetrics-") as tmp:
        source = Path(tmp) / "metrics.om"
        count = await asyncio.to_thread(write_openmetrics, series, source)
        if count == 0:
            return 0
        try:
            await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise BackendError(
                NAME, f"cannot use {data_dir} as a Prometheus data directory: {exc}"
            ) from exc
        command = (executable, "tsdb", "create-blocks-from", "openmetrics", str(source))
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                str(data_dir),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise BackendError(NAME, f"cannot run {executable}: {exc}") from exc
        stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise BackendError(
            NAME,
            f"promtool tsdb create-blocks-from openmetrics failed (exit {process.returncode}) "
            f"writing {count} samples into {data_dir}: {_tail(stderr or stdout)}",
        )
    return count
