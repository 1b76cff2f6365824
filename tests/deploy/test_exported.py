"""The helpers the dashboard and rule tests rely on (tests/deploy/exported.py): a PromQL
expression's metric names, and an exposition's series names."""

from __future__ import annotations

from tests.deploy.exported import metric_names, series_names


def test_metric_names_skip_functions_labels_ranges_strings_and_variables() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, stage) (rate(rcabot_a_bucket{job=~"$job",'
        ' x="not_a{metric}"}[$__rate_interval]))) / on (job) group_left rcabot_b offset 5m'
        ' > bool 1 and absent(up{job="rcabot"}) or rcabot_c unless vector(1)'
    )
    assert metric_names(expr) == {"rcabot_a_bucket", "rcabot_b", "rcabot_c", "up"}


def test_series_names_include_families_with_no_sample_yet() -> None:
    exposition = (
        "# HELP a_seconds latency\n# TYPE a_seconds histogram\n"
        "# HELP b_total jobs\n# TYPE b_total counter\nb_total 3.0\n"
        "# HELP c depth\n# TYPE c gauge\nc 1.0\n"
    )
    assert series_names(exposition) >= {
        "a_seconds_bucket",
        "a_seconds_sum",
        "a_seconds_count",
        "b_total",
        "c",
    }
