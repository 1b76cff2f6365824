"""The pure PromQL helpers: template filling, escaping, the range grid, reading answers."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from tools.evidence import TimeWindow
from tools.prometheus.promql import (
    AnswerError,
    api_seconds,
    format_duration,
    parse_data,
    range_grid,
    rate_window,
    rejection,
    render,
    services_matcher,
    setting_name,
    window_ms,
)
from tools.prometheus.settings import DEFAULT_PROMQL

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def window(start: timedelta, end: timedelta) -> TimeWindow:
    return TimeWindow(start=T + start, end=T + end)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(60, "1m"), (240, "4m"), (90, "90s"), (7200, "2h"), (5400, "90m"), (1.5, "1500ms")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_rate_window_is_four_steps_at_least_a_minute() -> None:
    assert rate_window(15) == "1m"
    assert rate_window(60) == "4m"
    assert rate_window(0.5) == "1m"
    assert rate_window(3600) == "4h"


def test_services_matcher_escapes_regex_and_string() -> None:
    assert services_matcher(()) == ".+"
    assert services_matcher(("web", "api", "web")) == "api|web"
    # RE2-escaped, then escaped for the inside of a double-quoted PromQL string
    assert services_matcher(('a.b"c',)) == 'a\\\\.b\\"c'
    assert services_matcher(("front-end x",)) == "front-end x"  # RE2 rejects "\-"-style noise


def test_render_accepts_format_style_and_plain_templates() -> None:
    plain = render('error_ratio{service=~"{services}"}', services="web", rate="1m")
    assert plain == 'error_ratio{service=~"web"}'
    rendered = render(DEFAULT_PROMQL["requests_per_second"], services=".+", rate="4m")
    assert rendered == (
        'sum by (service) (rate(http_server_request_duration_seconds_count{service=~".+"}[4m]))'
    )
    # a service name is inserted as is, never re-read as a placeholder or brace
    assert render("x{services}", services="{rate}}}", rate="1m") == "x{rate}}}"


def test_every_default_template_renders_to_balanced_promql() -> None:
    for template in DEFAULT_PROMQL.values():
        text = render(template, services="api", rate="1m")
        assert "{{" not in text and "{services}" not in text and "{rate}" not in text
        assert text.count("{") == text.count("}")


def test_window_ms_is_closed_open_to_the_millisecond() -> None:
    lo, hi = window_ms(window(timedelta(0), timedelta(minutes=1)))
    assert (lo, hi) == (int(T.timestamp()) * 1000, int(T.timestamp()) * 1000 + 59_999)
    odd = TimeWindow(start=T + timedelta(microseconds=400), end=T + timedelta(microseconds=1400))
    assert window_ms(odd) == (int(T.timestamp()) * 1000 + 1, int(T.timestamp()) * 1000 + 1)


def test_range_grid_aligns_start_and_stops_before_end() -> None:
    grid = range_grid(window(timedelta(seconds=30), timedelta(minutes=10)), 60)
    base = int(T.timestamp()) * 1000
    assert grid.start_ms == base + 60_000
    assert grid.end_ms == base + 600_000 - 1
    assert grid.step_ms == 60_000 and not grid.coarsened and not grid.empty


def test_range_grid_coarsens_to_stay_under_11000_points() -> None:
    grid = range_grid(window(timedelta(0), timedelta(hours=12)), 1)
    assert grid.coarsened and grid.step_ms == 4000
    assert (grid.end_ms - grid.start_ms) // grid.step_ms <= 11_000
    exact = range_grid(window(timedelta(0), timedelta(seconds=11_000)), 1)
    assert not exact.coarsened  # 10,999 steps: allowed as is


def test_range_grid_empty_when_no_step_fits() -> None:
    assert range_grid(window(timedelta(seconds=1), timedelta(seconds=30)), 60).empty


def test_range_grid_rejects_zero_step() -> None:
    with pytest.raises(ValueError, match="step"):
        range_grid(window(timedelta(0), timedelta(minutes=1)), 0)


def test_api_seconds() -> None:
    assert api_seconds(1_772_442_000_000) == "1772442000"
    assert api_seconds(1_772_442_000_500) == "1772442000.5"
    assert api_seconds(15_000) == "15"


def test_setting_name() -> None:
    assert setting_name("error_ratio") == "RCABOT_METRICS__QUERIES__ERROR_RATIO"


def test_parse_matrix_vector_scalar() -> None:
    matrix = parse_data(
        {
            "status": "success",
            "warnings": ["partial"],
            "data": {
                "resultType": "matrix",
                "result": [
                    {"metric": {"service": "a"}, "values": [[1, "NaN"], [2.5, "+Inf"], [3, "-1"]]}
                ],
            },
        }
    )
    assert matrix.warnings == ("partial",)
    (only,) = matrix.series
    assert only.timestamps == (1.0, 2.5, 3.0)
    assert math.isnan(only.values[0]) and only.values[1] == math.inf and only.values[2] == -1
    vector = parse_data(
        {"data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "2"]}]}}
    )
    assert vector.series[0].values == (2.0,)
    scalar = parse_data({"data": {"resultType": "scalar", "result": [7, "3"]}})
    assert scalar.series[0].values == (3.0,) and dict(scalar.series[0].labels) == {}


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"status": "success"},
        {"data": {"resultType": "string", "result": [1, "x"]}},
        {"data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, 2]]}]}},
        {"data": {"resultType": "matrix", "result": [{"metric": {"a": 1}, "values": []}]}},
        {"data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "x"]]}]}},
        {"data": {"resultType": "histogram", "result": []}},
    ],
)
def test_parse_rejects_what_is_not_the_api(body: object) -> None:
    with pytest.raises(AnswerError):
        parse_data(body)


def test_rejection_reads_400_and_422_bodies() -> None:
    body = '{"status":"error","errorType":"bad_data","error":"1:8: parse error: unclosed"}'
    assert rejection(400, body) == (
        "bad_data",
        "1:8: parse error: unclosed",
    )
    cut = '{"status":"error","errorType":"execution","error":"many-to-many matching not al'
    kind, detail = rejection(422, cut) or ("", "")
    assert kind == "execution" and detail.startswith("many-to-many") and detail.endswith("...")
    assert rejection(503, "busy") is None
    assert rejection(None, None) is None  # unreachable: no answer at all
    assert rejection(400, "plain text") == ("bad_data", "plain text")
