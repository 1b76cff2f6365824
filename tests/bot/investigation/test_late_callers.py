"""Whose side of a slower call the time is on (``bot.investigation.late_callers``)."""

from __future__ import annotations

from bot.investigation.late_callers import caller_side, cite_callers_side, seen_by_callers
from bot.investigation.ranking import rank
from bot.investigation.report import FaultType
from bot.investigation.signals import collect
from tests.bot.investigation.test_ranking import draft
from tests.bot.investigation.test_signals import _edge
from tools.analysis.span_attribution import TraceAnalysis
from tools.evidence import EvidenceDraft, Source
from tools.trace_attribution import gap_key


def test_another_caller_sees_a_callee_s_delay_only_if_as_slowed_as_this_one() -> None:
    """A starved frontend's calls to the catalog went from 2 to 96 ms outside the catalog's
    spans, and the recommender's from 2 to 2.1 ms (OnlineBoutique, 2022-08-23 12:01): a
    significant rise, but not the delay a slow catalog network adds to every call. The time is
    still the frontend's; a recommender slowed at least half as much would keep it on the
    catalog."""
    starved = [_edge("frontend", c, 96.0) for c in ("catalog", "cart", "ads")]
    slight = [*starved, _edge("recommender", "catalog", 2.1)]
    found = collect(None, None, TraceAnalysis(100, 100, {}, slight), None, 0.0)
    assert found["frontend"].raw["trace_network"] > 0
    assert found["catalog"].raw["trace_network"] < 0.1  # the recommender's own slight rise
    assert caller_side(TraceAnalysis(100, 100, {}, slight)) == {
        ("frontend", c) for c in ("catalog", "cart", "ads")
    }
    seen = [*starved, _edge("recommender", "catalog", 40.0)]  # 2.7 doublings of the 3.9
    assert ("frontend", "catalog") not in caller_side(TraceAnalysis(100, 100, {}, seen))


def _traces_draft(key: str, service: str) -> EvidenceDraft:
    return EvidenceDraft(
        key=key, source=Source.TRACES, title=key, summary="", query="q", service=service
    )


def test_the_time_on_a_caller_s_side_is_cited_for_the_caller() -> None:
    """A candidate is listed only with evidence of its own: the edges' time, which the traces
    tool files under the callee, is the caller's evidence when the time is the caller's."""
    starved = [_edge("frontend", c, 96.0) for c in ("catalog", "cart")]
    drafts = [_traces_draft(gap_key("frontend", c), c) for c in ("catalog", "cart")]
    other = _traces_draft("traces:origin:cart", "cart")
    cited = cite_callers_side([*drafts, other], TraceAnalysis(100, 100, {}, starved))
    assert [d.service for d in cited] == ["frontend", "frontend", "cart"]
    assert cite_callers_side([*drafts, other], None) == [*drafts, other]


def _client_latency(service: str) -> EvidenceDraft:
    """A metric item of ``service``'s client-side latency (the calls it makes)."""
    return draft(f"metrics:{service}:client_latency_p95_seconds", Source.METRICS, 1.0, service)


def test_the_callers_timing_of_their_calls_is_a_second_record_of_a_slow_link() -> None:
    """Delay on the link into ``payment`` (OnlineBoutique, 2022-08-22 05:52): the traces show
    checkout's calls to it 3 ms → 584 ms outside its spans, and checkout's client-side p95 rose
    85 → 706 ms. Payment's own metrics are as they were; checkout's item is its second record.
    A caller's other metrics, and the client latency of a caller the time is not credited to
    (late on all its calls), are not."""
    edges = [_edge("checkout", "payment", 584.0), _edge("checkout", "shipping", 2.0)]
    latency = _client_latency("checkout")
    own = draft("metrics:checkout:cpu_usage_ratio", Source.METRICS, 2.0, "checkout")
    seen = seen_by_callers([latency, own], TraceAnalysis(100, 100, {}, edges))
    assert seen == {"payment": [latency]}
    starved = [_edge("frontend", c, 96.0) for c in ("catalog", "cart")]  # the caller's time
    late = _client_latency("frontend")
    assert seen_by_callers([late], TraceAnalysis(100, 100, {}, starved)) == {}
    assert seen_by_callers([latency], None) == {}


def test_a_slow_link_s_callee_cites_its_callers_timing_after_its_own_traces() -> None:
    edges = [_edge("checkout", "payment", 584.0)]
    traces = TraceAnalysis(100, 100, {}, edges)
    gap = _traces_draft(gap_key("checkout", "payment"), "payment")
    latency = _client_latency("checkout")
    found = collect(None, None, traces, None, 0.0)
    seen = seen_by_callers([gap, latency], traces)
    ranked = rank(found, traces, [gap, latency], 5, seen_by=seen)
    payment = next(r for r in ranked if r.service == "payment")
    assert payment.fault_type is FaultType.NETWORK_DELAY
    assert payment.evidence_keys == [gap.key, latency.key]
    # a service with nothing of its own to cite is no candidate for its callers' items
    alone = rank(found, traces, [latency], 5, seen_by=seen)
    assert "payment" not in {r.service for r in alone}
