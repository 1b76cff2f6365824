"""Backend-neutral records: where a log line says which code wrote it, a series' samples in a
window."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pytest

from tools.records import MetricSeries, log_source, names_line


def _source(fields: Mapping[str, object]) -> str | None:
    return log_source(fields.get)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"logger": "t.s.TravelServiceImpl#372"}, "t.s.TravelServiceImpl#372"),  # logback
        ({"code.filepath": "app/pay.py", "code.lineno": 88}, "app/pay.py:88"),  # OTel, old
        (  # OTel's current names, with the function
            {"code.file.path": "pay.go", "code.line.number": 7, "code.function.name": "Charge"},
            "pay.go:7 Charge",
        ),
        (  # ECS
            {"log.logger": "app.pay", "log.origin.file.name": "pay.py", "log.origin.file.line": 9},
            "app.pay pay.py:9",
        ),
        ({"log.origin.file.name": "pay.py"}, "pay.py"),  # a file without a line
        ({"code.lineno": 88}, None),  # a line without a file says nothing
        ({"logger": "  ", "code.function": True}, None),  # blank, and not a name
        ({}, None),
    ],
)
def test_the_statement_is_read_from_the_conventions_fields(
    fields: Mapping[str, object], expected: str | None
) -> None:
    assert _source(fields) == expected


def test_the_first_name_of_each_part_wins() -> None:
    fields = {"code.namespace": "Pay", "logger": "app.pay", "code.lineno": 3, "code.line.number": 4}
    assert _source({**fields, "code.filepath": "pay.py"}) == "app.pay pay.py:4"


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("t.s.TravelServiceImpl#372", True),
        ("app/pay.py:88", True),
        ("pay.go:7 Charge", True),
        ("app.pay pay.py:9", True),
        ("t.s.TravelServiceImpl", False),  # a logger: every statement of a class
        ("pay.py", False),
        ("com.shop.v2.Checkout", False),  # digits in a name are no line number
        (None, False),
    ],
)
def test_a_source_names_a_statement_when_it_has_a_line_number(
    source: str | None, names: bool
) -> None:
    assert names_line(source) is names


def test_a_series_between_two_moments_keeps_its_samples_there_and_its_labels() -> None:
    labels = MappingProxyType({"pod": "web-1"})
    series = MetricSeries("cpu", "web", (10.0, 20.0, 30.0), (1.0, 2.0, 3.0), labels)
    cut = series.between(20.0, 30.0)  # the end is left out
    assert (cut.timestamps, cut.values) == ((20.0,), (2.0,))
    assert (cut.metric, cut.service, cut.labels) == ("cpu", "web", labels)
    assert series.between(31.0, 40.0).timestamps == ()


def test_a_series_of_samples_splits_them_into_times_and_values() -> None:
    samples = iter([(10.0, 1.5), (20.0, 2.5)])  # any iterable, read once
    series = MetricSeries.of_samples("cpu", "web", samples)
    assert (series.timestamps, series.values) == ((10.0, 20.0), (1.5, 2.5))
    assert dict(series.labels) == {}
    assert MetricSeries.of_samples("cpu", "web", []).timestamps == ()
