"""The samples of one Nezha metric file, or of one column of a per-edge file, in time order."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

Sample = tuple[str, float]  # (metric, value)


@dataclass
class Series:
    """``rows[i]`` were taken at ``stamps[i]`` (ascending, once :meth:`sort` ran)."""

    service: str
    instance: str
    node: str = ""  # the host, for the node_* metrics
    server: str = ""  # the callee, for a call edge's series (the client is ``service``)
    stamps: list[float] = field(default_factory=list)
    rows: list[list[Sample]] = field(default_factory=list)

    def value_at(self, metric: str) -> dict[int, float]:
        """``{minute: value}`` of ``metric``."""
        return {
            int(ts // 60): v
            for ts, row in zip(self.stamps, self.rows, strict=True)
            for name, v in row
            if name == metric
        }

    def between(self, start: float, end: float) -> Iterator[tuple[float, list[Sample]]]:
        lo, hi = bisect_left(self.stamps, start), bisect_right(self.stamps, end)
        yield from zip(self.stamps[lo:hi], self.rows[lo:hi], strict=True)

    def drop(self, metrics: set[str]) -> None:
        self.rows = [[(m, v) for m, v in row if m not in metrics] for row in self.rows]

    def sort(self) -> None:
        """Put the samples in time order (files are, mostly)."""
        if any(a > b for a, b in zip(self.stamps, self.stamps[1:], strict=False)):
            order = sorted(range(len(self.stamps)), key=self.stamps.__getitem__)
            self.stamps = [self.stamps[i] for i in order]
            self.rows = [self.rows[i] for i in order]
