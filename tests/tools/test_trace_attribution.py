"""The trace_attribution tool's evidence: latency is critical-path time, and says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from tests.tools.analysis.test_ended_after import SPLIT
from tests.tools.analysis.test_ended_after import incident_traces as _incident_traces
from tools.analysis.span_attribution import EdgeFinding
from tools.backends import QueryInfo, TraceQuery
from tools.deps import Deps
from tools.evidence import TimeWindow
from tools.gateway import ToolGateway
from tools.records import Span
from tools.reference import unhealthy_warning
from tools.result import ToolStatus
from tools.trace_attribution import _gap, trace_attribution

START = datetime(2026, 3, 2, 9, 40, tzinfo=UTC)


class _Traces:
    """In-memory traces backend: every trace with a span matching the query."""

    name = "memory"

    def __init__(self, traces: list[list[Span]]) -> None:
        self.traces = traces

    async def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        return [t for t in self.traces if any(query.matches(s) for s in t)]

    async def get_trace(self, trace_id: str) -> list[Span]:
        return next((t for t in self.traces if t[0].trace_id == trace_id), [])

    def describe(self, query: TraceQuery) -> QueryInfo:
        return QueryInfo(text=f"service={query.service}", link=None)

    def trace_link(self, trace_id: str) -> str | None:
        return None


def _fan_out(trace: str, start: float, fast_ms: float, slow_ms: float, gap_ms: float) -> list[Span]:
    """frontend calls fast and slow in parallel, each with ``gap_ms`` of network; 5 ms of its
    own before the calls and after the later one returns."""
    longest = max(fast_ms, slow_ms) + gap_ms
    spans = [Span(trace, "root", None, "frontend", "GET /", start, longest + 10, kind="server")]
    for callee, ms in (("fast", fast_ms), ("slow", slow_ms)):
        call_start = start + 0.005
        spans += [
            Span(
                trace,
                f"call-{callee}",
                "root",
                "frontend",
                f"call {callee}",
                call_start,
                ms + gap_ms,
                kind="client",
                attrs=MappingProxyType({"peer.service": callee}),
            ),
            Span(
                trace,
                f"serve-{callee}",
                f"call-{callee}",
                callee,
                "serve",
                call_start + gap_ms / 2000,
                ms,
                kind="server",
            ),
        ]
    return spans


async def test_latency_evidence_is_critical_path_time_and_says_so() -> None:
    t0 = START.timestamp()
    # before: fast 20 ms beside slow 50 ms. After: fast 100 ms, still beside slow, now 200 ms,
    # and both links 30 ms slower. Nobody waited on fast; everybody waited on slow
    traces = [_fan_out(f"b{i}", t0 - 300 + i, 20, 50, 2) for i in range(20)]
    traces += [_fan_out(f"i{i}", t0 + 10 + i, 100, 200, 32) for i in range(20)]
    window = TimeWindow(start=START - timedelta(minutes=10), end=START + timedelta(minutes=5))
    result = await ToolGateway(Deps(traces=_Traces(traces))).call(
        trace_attribution, window=window, incident_start=START
    )
    assert result.status is ToolStatus.OK
    analysis = result.data
    assert analysis is not None
    fast = analysis.services["fast"]
    assert fast.latency_score > 2  # its spans' own time grew five-fold ...
    assert fast.critical_latency_score == 0  # ... while slow's kept the request waiting
    evidence = {e.key: e for e in result.evidence}
    assert "traces:latency:fast" not in evidence
    slow = evidence["traces:latency:slow"]
    assert slow.title == "slow: own time on the critical path 50 ms → 200 ms per trace"
    assert slow.summary.startswith(
        "Per trace, the median time requests waited on slow itself (its spans' self time on the "
        "critical path, not in child calls) grew from 50 ms to 200 ms."
    )
    # both links slowed; only slow's delay was on the critical path
    gap_fast = evidence["traces:gap:frontend->fast"].summary
    gap_slow = evidence["traces:gap:frontend->slow"].summary
    assert "a median 0 ms of that time was on the critical path" in gap_fast
    assert "a median 32 ms of that time was on the critical path, against 2 ms" in gap_slow


def _checkout_call(trace: str, start: float, failing: bool) -> list[Span]:
    """frontend calls checkout; when ``failing``, the error originates in checkout."""
    peer = MappingProxyType({"peer.service": "checkout"})
    return [
        Span(trace, "1", None, "frontend", "GET /", start, 30, failing, "server"),
        Span(trace, "2", "1", "frontend", "call", start + 0.001, 25, failing, "client", peer),
        Span(trace, "3", "2", "checkout", "pay", start + 0.002, 20, failing, "server"),
    ]


def _lost_call(trace: str, start: float) -> list[Span]:
    """frontend's call to checkout got no answer: it waited 2 s and failed, no checkout span."""
    peer = MappingProxyType({"peer.service": "checkout"})
    return [
        Span(trace, "1", None, "frontend", "GET /", start, 2005, True, "server"),
        Span(trace, "2", "1", "frontend", "call", start + 0.001, 2000, True, "client", peer),
    ]


async def test_calls_that_timed_out_unanswered_are_named_in_the_origin_evidence() -> None:
    t0 = START.timestamp()
    traces = [_checkout_call(f"b{i}", t0 - 300 + i, False) for i in range(20)]
    traces += [_checkout_call(f"a{i}", t0 + 10 + i, False) for i in range(10)]
    traces += [_lost_call(f"l{i}", t0 + 30 + i) for i in range(10)]
    result = await ToolGateway(Deps(traces=_Traces(traces))).call(
        trace_attribution, window=WINDOW, incident_start=START
    )
    origin = next(e for e in result.evidence if e.key == "traces:origin:checkout")
    assert "In 10 of those traces a call to checkout got no answer" in origin.summary
    answered = [e for e in result.evidence if e.key != "traces:origin:checkout"]
    assert all("got no answer" not in e.summary for e in answered)


REFERENCE = TimeWindow(start=START - timedelta(hours=3), end=START - timedelta(hours=2))
WINDOW = TimeWindow(start=START - timedelta(minutes=10), end=START + timedelta(minutes=5))


async def test_traces_that_begin_at_the_incident_are_compared_with_nothing_and_said() -> None:
    """No trace before the start (a recording cut around the incident): checkout failing in
    half of the traces since is no rise against anything, and a warning says the traces of
    both services were not compared; with a reference holding them, nothing is said."""
    t0 = START.timestamp()
    traces = [_checkout_call(f"i{i}", t0 + 10 + i, i % 2 == 0) for i in range(20)]
    gateway = ToolGateway(Deps(traces=_Traces(traces)))
    result = await gateway.call(trace_attribution, window=WINDOW, incident_start=START)
    assert result.data is not None and result.data.baseline_traces == 0
    assert not any(e.key == "traces:origin:checkout" for e in result.evidence)
    assert result.warnings == [
        f"no traces before the incident start at {START:%H:%M:%S}: the traces of 2 service(s) "
        "could not be compared with normal"
    ]
    healthy = [_checkout_call(f"r{i}", REFERENCE.start.timestamp() + i, False) for i in range(20)]
    gateway = ToolGateway(Deps(traces=_Traces(traces + healthy)))
    result = await gateway.call(
        trace_attribution, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    assert not any("before the incident start" in w for w in result.warnings)
    assert any(e.key == "traces:origin:checkout" for e in result.evidence)


async def _against_a_failing_reference() -> tuple[list[str], set[str]]:
    """checkout failed in every trace of the reference period (it caught another incident),
    in none before the start and in half from it; the warnings and the services whose
    baseline is the reference."""
    t0 = START.timestamp()
    traces = [_checkout_call(f"r{i}", REFERENCE.start.timestamp() + i, True) for i in range(20)]
    traces += [_checkout_call(f"b{i}", t0 - 300 + i, False) for i in range(20)]
    traces += [_checkout_call(f"i{i}", t0 + 10 + i, i % 2 == 0) for i in range(20)]
    result = await ToolGateway(Deps(traces=_Traces(traces))).call(
        trace_attribution, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    assert result.status is ToolStatus.OK and result.data is not None
    assert result.data.unhealthy_reference == ("checkout",)
    assert any(e.key == "traces:origin:checkout" for e in result.evidence)
    return result.warnings, {s for s, f in result.data.services.items() if f.reference}


async def test_a_reference_with_more_errors_than_before_is_named_in_a_warning() -> None:
    warnings, from_reference = await _against_a_failing_reference()
    assert from_reference == {"frontend"}
    shown = [w for w in warnings if "shows more errors" in w]
    assert shown == unhealthy_warning("traces", REFERENCE, ["checkout"])


async def test_a_service_the_reference_has_traces_of_is_not_said_to_lack_them() -> None:
    warnings, _ = await _against_a_failing_reference()
    # the reference has checkout's traces, only not healthy ones: one warning says so
    assert not any("has no traces" in w for w in warnings)
    assert len(warnings) == 1


async def test_calls_a_caller_stopped_making_are_one_evidence_item() -> None:
    """frontend called fast and slow in every trace before the start and in 2 of 20 after:
    one item names both calls, with the counts of the most surprising."""
    t0 = START.timestamp()
    traces = [_fan_out(f"b{i}", t0 - 300 + i, 20, 50, 2) for i in range(20)]
    traces += [_fan_out(f"i{i}", t0 + 10 + i, 20, 50, 2) for i in range(2)]
    traces += [
        [Span(f"j{i}", "root", None, "frontend", "GET /", t0 + 20 + i, 5, kind="server")]
        for i in range(18)
    ]
    result = await ToolGateway(Deps(traces=_Traces(traces))).call(
        trace_attribution, window=WINDOW, incident_start=START
    )
    assert result.status is ToolStatus.OK
    (item,) = [e for e in result.evidence if e.key.startswith("traces:calls:")]
    assert item.key == "traces:calls:frontend:stopped" and item.service == "frontend"
    assert item.title == (
        "frontend stopped calling fast, slow (20/20 traces through frontend before → 2/20)"
    )
    assert "in 100% of the 20 sampled traces that went through it before" in item.summary
    assert "in 10% of 20 since the incident start" in item.summary
    assert item.summary.endswith("1 other call stopped too.")
    assert item.query == "service=frontend"


async def test_calls_that_moved_to_the_other_arm_of_a_choice_are_no_evidence() -> None:
    """frontend calls fast or slow, never both (20 and 10 of 30 traces before the start, 4
    and 26 after): other requests, not another code path; nothing stopped or started."""
    t0 = START.timestamp()

    def only(trace: str, start: float, callee: str) -> list[Span]:
        other = "slow" if callee == "fast" else "fast"
        return [s for s in _fan_out(trace, start, 20, 50, 2) if not s.span_id.endswith(other)]

    traces = [only(f"b{i}", t0 - 300 + i, "fast" if i < 20 else "slow") for i in range(30)]
    traces += [only(f"i{i}", t0 + 10 + i, "fast" if i < 4 else "slow") for i in range(30)]
    result = await ToolGateway(Deps(traces=_Traces(traces))).call(
        trace_attribution, window=WINDOW, incident_start=START
    )
    assert result.status is ToolStatus.OK and result.data is not None
    fast = next(e for e in result.data.edges if e.callee == "fast")
    assert fast.call_surprise > 3 and fast.other_arm == "slow"
    assert not [e for e in result.evidence if e.key.startswith("traces:calls:")]


def test_a_link_compared_with_every_other_link_says_so() -> None:
    window = TimeWindow(start=START - timedelta(minutes=30), end=START + timedelta(minutes=10))
    edge = EdgeFinding(
        caller="cart",
        callee="pay",
        incident_calls=8,
        incident_errors=0,
        baseline_gap_ms=3.0,
        incident_gap_ms=2000.0,
        error_origins=(),
        incident_critical_gap_ms=2000.0,
        gap_rose=True,
        pooled="reference",
    )
    evidence = _gap(edge, _Traces([]), window, spans=True)
    assert evidence.title == "cart → pay: time outside pay's spans 3 ms → 2.00 s"
    assert evidence.summary.endswith(
        "against 3 ms over the links into every other service in the reference period (this "
        "one carried too few calls of its own). Per trace, a median 2.00 s of that time was on "
        "the critical path."
    )
    # a callee that records no spans (a database): the whole call is outside them, not a link
    untraced = _gap(edge, _Traces([]), window, spans=False)
    assert untraced.title == "cart → pay: call time 3 ms → 2.00 s (pay records no spans)"
    assert "(pay records no spans: its own time and the network's)" in untraced.summary


async def test_with_no_call_before_a_link_is_compared_with_the_others_at_the_same_time() -> None:
    """Traces that begin at the incident: no link has a normal. frontend's calls to slow wait
    2 s outside slow's spans, its calls to fast 2 ms: slow's link is slower than every other
    link at the same time, and the evidence says what it was compared with. When both links
    wait 2 s (the whole network), neither stands out."""
    t0 = START.timestamp()
    traces = [_fan_out(f"i{i}", t0 + 10 + i, 20, 50, 2) for i in range(20)]
    for trace in traces:  # slow's calls only: 2 s on the way
        trace[3] = replace(trace[3], duration_ms=2050.0)
        trace[4] = replace(trace[4], start=trace[4].start + 1.0)
    result = await ToolGateway(Deps(traces=_Traces(traces))).call(
        trace_attribution, window=WINDOW, incident_start=START
    )
    assert result.data is not None
    edges = {e.callee: e for e in result.data.edges}
    assert edges["slow"].gap_rose and edges["slow"].pooled == "incident"
    assert not edges["fast"].gap_rose
    (item,) = [e for e in result.evidence if e.key == "traces:gap:frontend->slow"]
    assert "against 2 ms over the links into every other service at the same time" in item.summary
    everywhere = [_fan_out(f"i{i}", t0 + 10 + i, 20, 50, 1900 + 20 * (i % 10)) for i in range(20)]
    result = await ToolGateway(Deps(traces=_Traces(everywhere))).call(
        trace_attribution, window=WINDOW, incident_start=START
    )
    assert result.data is not None and not any(e.gap_rose for e in result.data.edges)


async def test_an_origin_significant_at_five_percent_only_is_cited_saying_so() -> None:
    # 7 of 49 incident traces fail in checkout against 0 of 76 before: p ≈ 0.001 by Fisher's
    # exact test, just short of 0.001 alone; a finding where checkout's ERROR lines rose too
    t0 = START.timestamp()
    traces = [_checkout_call(f"b{i}", t0 - 300 + i, False) for i in range(76)]
    traces += [_checkout_call(f"a{i}", t0 + 10 + i, i < 7) for i in range(49)]
    result = await ToolGateway(Deps(traces=_Traces(traces))).call(
        trace_attribution, window=WINDOW, incident_start=START
    )
    assert result.data is not None
    checkout = result.data.services["checkout"]
    assert checkout.error_score == 0 and checkout.confirmable_error_score > 3
    origin = next(e for e in result.evidence if e.key == "traces:origin:checkout")
    assert "In 7 of 49 sampled traces" in origin.summary
    assert "Significant at 5 % only" in origin.summary
    assert origin.score == checkout.confirmable_error_score


async def test_a_callee_two_callers_stop_after_is_cited_for_the_callee() -> None:
    """The frontend's and the checkout's requests end at their call to the catalog (24 and 20
    of 30, none before) and their later calls stopped: one item, the catalog's."""
    shift = START.timestamp() - SPLIT
    traces = [
        [replace(s, start=s.start + shift) for s in trace] for trace in _incident_traces(24, 20)
    ]
    result = await ToolGateway(Deps(traces=_Traces(traces))).call(
        trace_attribution, window=WINDOW, incident_start=START
    )
    (item,) = [e for e in result.evidence if e.key.startswith("traces:ended-after:")]
    assert item.key == "traces:ended-after:catalog" and item.service == "catalog"
    assert item.title == (
        "requests of 2 callers end right after calling catalog "
        "(frontend 0/30 traces before → 24/30; checkout 0/30 traces before → 20/30)"
    )
    assert "in 0% of the 30 sampled traces through it before, and in 80% of 30" in item.summary
    assert item.summary.endswith("though no span of it failed.")
