"""A declared service map counts only for callers whose calls nothing measured: a measured
call graph shows which calls the incident's requests made and which changed; a map only which
may be made."""

from __future__ import annotations

from bot.investigation.declared_calls import declared_calls, untraced_calls, untraced_note
from tests.bot.investigation.test_call_signals import edge
from tests.bot.investigation.test_ranking import calls
from tools.service_map import ServiceMap

MAP = ServiceMap.of(
    [("frontend", "checkout"), ("frontend", "cart"), ("checkout", "payments"), ("cart", "db")]
)


def test_without_measurements_the_whole_map_counts() -> None:
    assert declared_calls(MAP, None, None) == {
        "frontend": {"checkout", "cart"},
        "checkout": {"payments"},
        "cart": {"db"},
    }


def test_a_traced_caller_s_calls_are_its_spans_not_the_map() -> None:
    """A service that recorded spans has its calls in the traces (none, where it called
    nothing): they say what it waited on, the map does not."""
    traces = calls(("frontend", "cart"), untraced=("cart",))
    found = declared_calls(MAP, traces, None)
    assert found == {"checkout": {"payments"}, "cart": {"db"}}
    found = declared_calls(MAP, calls(("web", "checkout")), None)
    assert "checkout" not in found and "frontend" in found


def test_a_client_in_the_service_graph_has_its_calls_measured() -> None:
    """An edge in the metrics' service graph, changed or not, measures its client's calls."""
    found = declared_calls(MAP, None, [edge("cart", "db")])
    assert found == {"frontend": {"checkout", "cart"}, "checkout": {"payments"}}


def test_no_map_declares_nothing() -> None:
    assert declared_calls(None, None, [edge("cart", "db")]) == {}


def test_a_traced_caller_s_declared_calls_no_span_shows_are_untraced() -> None:
    """The frontend's spans show it calling the cart, never the checkout the map declares:
    that call is untraced (its time is in the frontend's own spans). The checkout recorded no
    span: its calls are declared (``declared_calls``), not untraced."""
    traces = calls(("frontend", "cart"), ("cart", "db"), untraced=("checkout",))
    assert untraced_calls(MAP, traces, None) == {"frontend": {"checkout"}}


def test_a_call_the_service_graph_measured_and_no_span_shows_is_untraced_too() -> None:
    """The service graph measures the call at both ends; the caller's spans still hold its
    time (OnlineBoutique's checkoutservice → currencyservice, from the mesh's medians)."""
    traces = calls(("frontend", "cart"), ("cart", "db"))
    measured = [edge("frontend", "checkout"), edge("cart", "db"), edge("cart", "cache")]
    assert untraced_calls(MAP, traces, measured) == {
        "frontend": {"checkout"},
        "cart": {"cache"},
    }
    assert untraced_calls(None, traces, measured) == {
        "frontend": {"checkout"},
        "cart": {"cache"},
    }
    assert untraced_calls(None, traces, [edge("payments", "bank")]) == {}  # not traced


def test_without_traces_or_any_call_known_nothing_is_untraced() -> None:
    assert untraced_calls(MAP, None, [edge("frontend", "checkout")]) == {}
    assert untraced_calls(None, calls(("frontend", "cart")), None) == {}


def test_the_note_names_the_listed_callers_untraced_calls() -> None:
    untraced = {"checkout": {"currency", "cart"}, "web": {"ads"}}
    notes = untraced_note(untraced, ["currency", "checkout", "frontend"])
    assert notes == [
        "no trace read shows checkout calling cart, currency, which the service map "
        "declares or the service graph measured: the time of those calls is in its own "
        "spans' time"
    ]
    assert untraced_note(untraced, ["frontend"]) == []
