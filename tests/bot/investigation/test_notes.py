"""What the report says besides the findings: earlier metric episodes left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.investigation.notes import MAX_EPISODES_NAMED, past_episodes_note
from tools.analysis.change_scores import SeriesChange
from tools.analysis.metric_kinds import classify

START = datetime(2026, 3, 2, 9, 40, tzinfo=UTC)


def change(service: str, metric: str, back: datetime | None, effect: float = 2.0) -> SeriesChange:
    """A significant change whose series was normal again at ``back`` (``None``: not over)."""
    return SeriesChange(
        service=service,
        metric=metric,
        group=classify(metric)[0],
        direction="up",
        score=12.0,
        baseline_median=1.0,
        incident_median=4.0,
        level=4.0,
        peak=4.0,
        peak_at=START.timestamp(),
        onset=(START - timedelta(minutes=9)).timestamp(),
        points=(),
        effect=effect,
        step=60.0,
        until=(back - timedelta(minutes=1)).timestamp() if back else None,
    )


def test_an_episode_over_before_the_start_is_named_with_when_it_ended() -> None:
    back = START - timedelta(minutes=3)
    changes = [
        change("mail", "cpu_usage_ratio", back),
        change("mail", "latency_p99_seconds", back - timedelta(minutes=1)),
        change("mail", "memory_usage_bytes", back),  # a third metric is not listed
        change("api", "error_ratio", None),  # going on: not an episode
        change("web", "latency_p99_seconds", START + timedelta(minutes=1)),  # over after it began
    ]
    (note,) = past_episodes_note(changes, START)
    assert note == (
        "left out as earlier episodes, over before the incident started at 09:40: "
        "mail (cpu_usage_ratio, latency_p99_seconds; normal again by 09:37)"
    )


def test_traffic_callees_the_host_and_no_effect_are_not_named() -> None:
    back = START - timedelta(minutes=5)
    changes = [
        change("web", "requests_per_second", back),
        change("web", "client_latency_p99_seconds", back),
        change("web", "node_cpu_usage_ratio", back),
        change("web", "cpu_usage_ratio", back, effect=0.0),
    ]
    assert past_episodes_note(changes, START) == []
    assert past_episodes_note(None, START) == []


def test_many_services_are_named_up_to_a_few_and_counted() -> None:
    back = START - timedelta(minutes=5)
    changes = [change(f"svc{i}", "cpu_usage_ratio", back) for i in range(MAX_EPISODES_NAMED + 2)]
    (note,) = past_episodes_note(changes, START)
    assert note.count("normal again by") == MAX_EPISODES_NAMED
    assert note.endswith("; and 2 more")
