"""Human figures for evidence summaries: units from metric names, times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def fmt_value(metric: str, value: float) -> str:
    if value != value:
        return "n/a"
    if metric.endswith("_ratio"):
        return f"{value * 100:.1f}%"
    if metric.endswith("_seconds"):
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if metric.endswith("_bytes"):
        for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(value) >= size:
                return f"{value / size:.1f} {unit}"
        return f"{value:.0f} B"
    if metric.endswith("_per_second"):
        return f"{value:.1f}/s"
    if abs(value) >= 1000:  # a count (threads, connections, files): whole, grouped
        return f"{value:,.0f}"
    return f"{value:.3g}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def hhmm(moment: datetime | float) -> str:
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%H:%M:%S")


def pct_change(before: float, after: float) -> str:
    if before == 0:
        return "from zero" if after else "unchanged"
    change = (after - before) / abs(before) * 100
    return f"{change:+.0f}%"


def moved(direction: str, before: float, sustained: float, peak: float) -> tuple[float, str]:
    """The value a change in ``direction`` is told by, and its size in words with no sign to
    contradict the direction ("up 340%", "down 60%", "up ×45", "up from zero", "up <1%"):
    the sustained level when it moved that way, else the peak the change rests on."""
    rose = direction == "up"
    after = sustained if (sustained > before if rose else sustained < before) else peak
    if before == 0:
        return after, "from zero" if after else "unchanged"
    ratio = after / before if before > 0 else 0.0
    if rose and before > 0 and ratio >= 10:
        return after, f"×{ratio:.0f}"
    change = abs(after - before) / abs(before) * 100
    return after, "<1%" if change < 1 else f"{change:.0f}%"
