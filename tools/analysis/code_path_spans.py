"""The spans a code-path comparison reads, by index: their operation (group), their period
(before the incident start, in the incident, in the reference), where logs find them, which
period each operation is compared with, and what below a span explains a change in it.

Part of :mod:`tools.analysis.code_paths`, which says why each rule is what it is.
"""

from __future__ import annotations

from collections import Counter

from tools.analysis.surprise import share_above
from tools.records import Span

# of an operation in a normal period compared: fewer is no estimate of its normal shares. The
# incident needs no such count: the beta-binomial tail says how few spans are too few to show a
# change (0 of 4 where 10 of 10 normal spans wrote a line is p < 0.001; 0 of 1 takes 500 of 500).
MIN_SPANS = 5
# a call below a span that took at least this share of the span's time is what it waited on
WAITED_ON = 0.5
BEFORE, INCIDENT, REFERENCE = 0, 1, 2


def same_id(value: str) -> str:
    """Trace and span ids as both sides agree on them: Jaeger pads to 32 hex digits, some
    loggers do not, some write upper case."""
    return value.strip().lower().lstrip("0")


class SpanIndex:
    """Every span by index: its operation, its period, and where logs find it."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str], int] = {}
        self.counts: list[list[int]] = []  # group → spans per period
        self.incident: list[list[int]] = []  # group → its incident spans
        self.group: list[int] = []
        self.period: list[int] = []
        self.spans: list[Span] = []
        # (trace id, span id) → index; the reference's apart: an id reused there is another span
        self.by_id: dict[bool, dict[tuple[str, str], int]] = {False: {}, True: {}}
        self._children: dict[tuple[str, str], list[int]] | None = None
        self._slowest: list[float | None] | None = None  # group → its slowest normal span
        self._by_start: dict[int, list[int]] = {}  # group → its incident spans by start
        self.changed: set[int] = set()  # incident spans that show a code-path change
        # reference spans not compared: their service failed in their request (set_aside_...)
        self.aside: set[int] = set()
        self.doubted: set[str] = set()  # services whose reference spans were set aside
        self.members: list[list[list[int]]] = []  # group → period → its spans
        self._callers: dict[int, str] = {}  # span → the service that called its service
        self._mix: dict[tuple[int, int], Counter[str]] = {}  # (group, period) → its callers

    def add(self, span: Span, period: int) -> None:
        index = self.by_id[period == REFERENCE]
        key = (same_id(span.trace_id), same_id(span.span_id))
        if key in index:
            return
        group = self.groups.setdefault((span.service, span.operation), len(self.groups))
        if group == len(self.counts):
            self.counts.append([0, 0, 0])
            self.incident.append([])
            self.members.append([[], [], []])
        self.counts[group][period] += 1
        self.members[group][period].append(len(self.spans))
        if period == INCIDENT:
            self.incident[group].append(len(self.spans))
        index[key] = len(self.spans)
        self.group.append(group)
        self.period.append(period)
        self.spans.append(span)

    def incident_by_start(self, group: int) -> list[int]:
        """The group's incident spans in the order they started (sorted once per group)."""
        if group not in self._by_start:
            spans = self.incident[group]
            self._by_start[group] = sorted(spans, key=lambda i: self.spans[i].start)
        return self._by_start[group]

    def who_called(self, index: int) -> str:
        """The service that called span ``index``'s service in its request: the first span of
        another service above it (a caller's client or server span); "" where the trace begins
        in its service or what is above it was not recorded."""
        if index not in self._callers:
            own = self.spans[index].service
            ids = self.by_id[self.period[index] == REFERENCE]
            span, found = self.spans[index], ""
            for _ in range(len(self.spans)):  # up the trace; ids are unique, so it ends
                above = ids.get((same_id(span.trace_id), same_id(span.parent_id or "")))
                if above is None:
                    break
                span = self.spans[above]
                if span.service != own:
                    found = span.service
                    break
            self._callers[index] = found
        return self._callers[index]

    def callers_mix(self, group: int, period: int) -> Counter[str]:
        """How many of the group's spans of ``period`` each service called
        (:meth:`who_called`), counted once per group and period."""
        if (group, period) not in self._mix:
            spans = self.members[group][period]
            self._mix[(group, period)] = Counter(self.who_called(i) for i in spans)
        return self._mix[(group, period)]

    def callee_failed(self, index: int) -> bool:
        """Whether something below incident span ``index`` explains a change in it: a failing
        client span, or a span of another service that failed or shows a code-path change of
        its own (``changed``), or a call (a client span, or another service's span) that was
        slower than any of its operation before the incident and took at least
        :data:`WAITED_ON` of the span's time (``waited_too_long``), anywhere in its subtree.
        Like errors, a change is attributed to the deepest span that shows one."""
        if self._children is None:
            self._children = {}
            for i, span in enumerate(self.spans):
                if span.parent_id and self.period[i] != REFERENCE:
                    key = (same_id(span.trace_id), same_id(span.parent_id))
                    self._children.setdefault(key, []).append(i)
        top = self.spans[index]
        stack = [index]
        while stack:
            span = self.spans[stack.pop()]
            for child in self._children.get((same_id(span.trace_id), same_id(span.span_id)), []):
                found = self.spans[child]
                call = found.kind == "client" or found.service != top.service
                if found.error and call:
                    return True
                if found.service != top.service and child in self.changed:
                    return True
                if call and self.waited_too_long(top, child):
                    return True
                stack.append(child)
        return False

    def waited_too_long(self, span: Span, call: int) -> bool:
        """Whether ``span`` spent at least :data:`WAITED_ON` of its time on span ``call``
        below it, and that call was slower than any span of its operation in the period it is
        compared with (:meth:`normal_periods`; at least ``MIN_SPANS`` of them). A caller's
        exception, or the lines it stopped writing, are then a timeout's: the slow link or
        callee caused them, wherever the caller's code threw."""
        if self._slowest is None:
            periods = self.normal_periods()
            normal: list[list[float]] = [[] for _ in self.counts]
            for i, other in enumerate(self.spans):
                if self.period[i] == periods[self.group[i]] and i not in self.aside:
                    normal[self.group[i]].append(other.duration_ms)
            self._slowest = [max(d) if len(d) >= MIN_SPANS else None for d in normal]
        slowest = self._slowest[self.group[call]]
        took = self.spans[call].duration_ms
        return slowest is not None and took > slowest and took >= WAITED_ON * span.duration_ms

    def less_healthy(self) -> set[str]:
        """Services whose spans fail significantly more often in the reference than before the
        incident: for them the reference caught another incident and is not normal."""
        failed: dict[str, list[int]] = {}
        total: dict[str, list[int]] = {}
        for i, (span, period) in enumerate(zip(self.spans, self.period, strict=True)):
            if i in self.aside:
                continue
            total.setdefault(span.service, [0, 0, 0])[period] += 1
            failed.setdefault(span.service, [0, 0, 0])[period] += span.error
        return {
            service
            for service, counts in total.items()
            if counts[BEFORE] >= MIN_SPANS
            and share_above(
                failed[service][REFERENCE],
                counts[REFERENCE],
                failed[service][BEFORE],
                counts[BEFORE],
            )
        }

    def set_aside_failed_requests(self) -> None:
        """For each service less healthy in the reference (:meth:`less_healthy`), set its
        reference spans in the requests (traces) where it failed aside: what it did in the
        others is still how it normally works. A code path is per request, so the rest of the
        reference still says which lines and calls a request normally shows (ts-travel2-service
        failed in 8 of its 14 reference requests on 2023-01-29; the 6 others wrote the line an
        exception injected at 10:45 stopped, and the minutes before the start, after another
        fault at 10:26, did not)."""
        unhealthy = self.doubted = self.less_healthy()
        failed = {
            (same_id(span.trace_id), span.service)
            for span, period in zip(self.spans, self.period, strict=True)
            if period == REFERENCE and span.error and span.service in unhealthy
        }
        for i, span in enumerate(self.spans):
            if self.period[i] == REFERENCE and (same_id(span.trace_id), span.service) in failed:
                self.aside.add(i)
        for group, members in enumerate(self.members):
            members[REFERENCE] = [i for i in members[REFERENCE] if i not in self.aside]
            self.counts[group][REFERENCE] = len(members[REFERENCE])

    def services(self) -> dict[int, str]:
        """Each group's service."""
        return {group: service for (service, _), group in self.groups.items()}

    def compared(self, index: int, bases: tuple[int, ...]) -> bool:
        """Whether span ``index`` counts in its group's comparison: it is in the incident or
        in one of the group's ``bases`` (:meth:`baselines`), and not set aside."""
        return self.period[index] in (INCIDENT, *bases) and index not in self.aside

    def normal_periods(self) -> list[int]:
        """Per group, the period that is normal for it: the reference when it has enough of
        the group's spans and the service was not less healthy in it, else before the start."""
        unhealthy = self.less_healthy()
        services = self.services()
        return [
            REFERENCE
            if counts[REFERENCE] >= MIN_SPANS and services[group] not in unhealthy
            else BEFORE
            for group, counts in enumerate(self.counts)
        ]

    def baselines(self) -> list[tuple[int, ...]]:
        """Per group, the periods it is compared with (none when too thin to compare): its
        normal period (:meth:`normal_periods`), and for a service whose failed requests in
        the reference were set aside (``doubted``) the spans before the start too. Which of
        the two is normal cannot be told there: the reference caught another incident, and
        the minutes before may hold an earlier fault's tail (a line ts-travel2-service stopped
        writing at 10:26 on 2023-01-29 and had not written again by 10:45)."""
        services = self.services()
        out: list[tuple[int, ...]] = []
        for group, (counts, base) in enumerate(
            zip(self.counts, self.normal_periods(), strict=True)
        ):
            periods = [base]
            if base == REFERENCE and services[group] in self.doubted:
                periods.append(BEFORE)
            seen = counts[INCIDENT] > 0
            out.append(tuple(p for p in periods if seen and counts[p] >= MIN_SPANS))
        return out
