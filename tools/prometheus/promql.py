"""PromQL text and Prometheus HTTP API answers: pure functions, no I/O.

Kept apart from the backend so the rules that decide *which* query is sent (template filling,
escaping, step alignment, the 11,000-point cap) and *how* an answer is read can be tested
without a server, and so ``describe()`` builds exactly the text that ``series()`` sends.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from tools.evidence import TimeWindow

#: Prometheus refuses a range query with more than this many steps per series
#: (``exceeded maximum resolution of 11,000 points per timeseries``).
MAX_POINTS = 11_000
#: Shortest ``{rate}`` window: ``rate()`` needs two samples, and a 15 s scrape gives four here.
MIN_RATE_S = 60
ALL_SERVICES = ".+"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MILLISECOND = timedelta(milliseconds=1)

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(services|rate)\}")
_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def setting_name(signal: str) -> str:
    """The environment variable that holds ``signal``'s template (what to tell the user)."""
    return f"RCABOT_METRICS__QUERIES__{signal.upper()}"


def format_duration(seconds: float) -> str:
    """A PromQL duration literal (``90s``, ``4m``, ``2h``, ``1500ms``) for ``seconds`` > 0.

    Only single-unit literals: they parse in every Prometheus version (compound ones such as
    ``1h30m`` need 2.26+).
    """
    ms = round(seconds * 1000)
    if ms <= 0:
        raise ValueError(f"duration must be positive, got {seconds}s")
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def rate_window(step_s: float) -> str:
    """``{rate}``: max(4 × step, 1m), so every ``rate()`` sees several samples per point."""
    return format_duration(max(4 * math.ceil(step_s), MIN_RATE_S))


def quote_regex(text: str) -> str:
    """Escape RE2 metacharacters (Go's ``regexp.QuoteMeta``).

    Not Python's ``re.escape``: it also escapes spaces and ``-``, ``&``, ``~``, ``#``, and RE2
    rejects escapes of some of those.
    """
    return _REGEX_META.sub(r"\\\1", text)


def promql_string(text: str) -> str:
    """Escape ``text`` for the inside of a double-quoted PromQL string literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def services_matcher(services: Sequence[str]) -> str:
    """What ``{services}`` becomes: ``.+`` for all services, else an escaped alternation.

    The result is already escaped for a double-quoted PromQL string (``{services}`` sits inside
    ``service=~"..."`` in every template). Prometheus anchors label regexes (``^(?:...)$``), so
    ``api|web`` matches exactly those two services, never ``api-gateway``.
    """
    if isinstance(services, str):  # one name passed where a sequence was meant
        services = (services,)
    if not services:
        return ALL_SERVICES
    return promql_string("|".join(quote_regex(s) for s in sorted(set(services))))


def render(template: str, *, services: str, rate: str) -> str:
    """Fill ``{services}`` and ``{rate}`` in a PromQL template.

    Both spellings of a template work: ``str.format`` style with doubled braces (as in
    ``bot.config.DEFAULT_PROMQL``: ``x{{service=~"{services}"}}``) and plain PromQL
    (``x{service=~"{services}"}``, as ``rcabot load`` writes). ``{{`` and ``}}`` read as one
    brace; any other brace is PromQL and kept. (Valid PromQL has no ``{{`` or ``}}`` outside
    string literals.)
    """

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return services if match.group(1) == "services" else rate

    return _PLACEHOLDER.sub(fill, template)


@dataclass(frozen=True, slots=True)
class RangeGrid:
    """Evaluation times of a range query, in integer milliseconds since the epoch.

    ``start_ms`` is the window start rounded *up* to a multiple of ``step_ms`` (as Grafana
    does), so that the points of a series fall on the same wall-clock times whatever the
    window's offset: with step = scrape interval each point is a stored sample, which is what
    makes the answer equal to the raw samples of a bundle. ``end_ms`` is 1 ms before the window
    end, because Prometheus' end is inclusive and a :class:`TimeWindow` is not.
    """

    start_ms: int
    end_ms: int
    step_ms: int
    requested_step_ms: int

    @property
    def empty(self) -> bool:
        return self.start_ms > self.end_ms

    @property
    def coarsened(self) -> bool:
        return self.step_ms != self.requested_step_ms

    @property
    def step_s(self) -> float:
        return self.step_ms / 1000


def epoch_ms(moment: datetime) -> int:
    """``moment`` in whole milliseconds since the epoch (floored; exact, no float rounding)."""
    return (moment - _EPOCH) // _MILLISECOND


def window_ms(window: TimeWindow) -> tuple[int, int]:
    """First and last millisecond inside ``[start, end)``: Prometheus resolves time to ms.

    Computed from the datetimes in integer microseconds, never through float seconds, so a
    window edge on a whole millisecond is exact.
    """
    start_us = (window.start - _EPOCH) // _MICROSECOND
    end_us = (window.end - _EPOCH) // _MICROSECOND
    return -(-start_us // 1000), -(-end_us // 1000) - 1


def range_grid(window: TimeWindow, step_s: float) -> RangeGrid:
    """The grid for ``window`` at ``step_s``, the step coarsened to whole seconds if needed
    to stay within :data:`MAX_POINTS` (a finer step would be refused outright)."""
    requested = round(step_s * 1000)
    if requested <= 0:
        raise ValueError(f"step must be at least 1 ms, got {step_s}s")
    lo, hi = window_ms(window)
    step = requested
    if (hi - lo) // step > MAX_POINTS:
        step = math.ceil((hi - lo) / MAX_POINTS / 1000) * 1000
    start = -(-lo // step) * step
    return RangeGrid(start_ms=start, end_ms=hi, step_ms=step, requested_step_ms=requested)


def api_seconds(ms: int) -> str:
    """Milliseconds as the decimal seconds the HTTP API takes (``1772442000.5``)."""
    text = f"{ms / 1000:.3f}".rstrip("0")
    return text.rstrip(".")


@dataclass(frozen=True, slots=True)
class PromSeries:
    """One series of an answer, as Prometheus gave it (``__name__`` included when present).

    Values are floats parsed from Prometheus' strings, ``NaN`` and ``±Inf`` included.
    """

    labels: Mapping[str, str]
    timestamps: tuple[float, ...]
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PromResult:
    """A parsed ``/api/v1/query`` or ``/api/v1/query_range`` answer.

    ``result_type`` is ``matrix``, ``vector`` or ``scalar`` (a scalar is one series without
    labels). ``step_s`` is the step a range query actually used: coarser than asked when the
    window would have exceeded :data:`MAX_POINTS`. Native-histogram samples (``histograms``)
    are not read: rcabot's signals are floats.
    """

    result_type: str
    series: list[PromSeries]
    warnings: tuple[str, ...] = ()
    step_s: float | None = None


class AnswerError(ValueError):
    """A success body that does not have the shape of the Prometheus HTTP API."""


def _point(raw: Any) -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) != 2 or not isinstance(raw[1], str):
        raise AnswerError(f'expected [timestamp, "value"], got {str(raw)[:80]}')
    try:
        return float(raw[0]), float(raw[1])  # float() reads "NaN", "+Inf" and "-Inf"
    except (TypeError, ValueError) as exc:
        raise AnswerError(f"bad sample {str(raw)[:80]}: {exc}") from exc


def _labels(raw: Any) -> Mapping[str, str]:
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise AnswerError(f"expected a label object, got {str(raw)[:80]}")
    return MappingProxyType(dict(raw))


def parse_data(body: Any) -> PromResult:
    """Read a ``status: success`` body; raise :class:`AnswerError` for anything else."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise AnswerError("no 'data' object")
    kind, result = data.get("resultType"), data.get("result")
    warnings = body.get("warnings") or []
    notes = tuple(str(w) for w in warnings) if isinstance(warnings, list) else ()
    if kind == "scalar":
        t, v = _point(result)
        return PromResult(kind, [PromSeries(MappingProxyType({}), (t,), (v,))], notes)
    if kind == "string":
        raise AnswerError("the expression evaluates to a string, not numbers")
    if kind not in ("vector", "matrix") or not isinstance(result, list):
        raise AnswerError(f"unexpected resultType {kind!r}")
    series = []
    for item in result:
        if not isinstance(item, dict):
            raise AnswerError(f"expected a series object, got {str(item)[:80]}")
        if kind == "vector":
            points = [_point(item.get("value"))] if "value" in item else []
        else:
            raw_values = item.get("values", [])
            if not isinstance(raw_values, list):
                raise AnswerError("'values' is not a list")
            points = [_point(p) for p in raw_values]
        series.append(
            PromSeries(
                labels=_labels(item.get("metric", {})),
                timestamps=tuple(t for t, _ in points),
                values=tuple(v for _, v in points),
            )
        )
    return PromResult(kind, series, notes)


_ERROR_FIELD = re.compile(r'"error"\s*:\s*"(?P<error>(?:[^"\\]|\\.)*)')


def error_body(body: Any) -> tuple[str, str] | None:
    """``(errorType, error)`` of a ``status: error`` body, else ``None``."""
    if isinstance(body, dict) and body.get("status") == "error":
        return str(body.get("errorType") or "error"), str(body.get("error") or "no detail")
    return None


def rejection(status: int | None, body: str | None) -> tuple[str, str] | None:
    """``(errorType, error)`` when an HTTP error (its status and the start of its body) is
    Prometheus refusing the query (400 ``bad_data`` or 422 ``execution``), else ``None``.

    :class:`~tools.http.JsonClient` keeps only the first 200 characters of an error body, so
    a cut-off JSON body is read with a regex as far as it goes.
    """
    if status not in (400, 422) or body is None:
        return None
    try:
        parsed = error_body(json.loads(body))
    except ValueError:
        parsed = None
    if parsed is not None:
        return parsed
    found = _ERROR_FIELD.search(body)
    kind = "bad_data" if status == 400 else "execution"
    if found is None:
        return kind, body
    return kind, found.group("error").replace('\\"', '"') + "..."
