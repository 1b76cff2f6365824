"""Failures to *find* a dependency: service discovery and name resolution, not code.

A caller that asks its service registry or DNS for a callee and gets no address fails before
any call is made, with an error that names the lookup: Spring Cloud's load balancer ("No
instances available for ts-config-service"), Netflix Ribbon ("Load balancer does not have
available server for client: …"), Envoy and Istio ("no healthy upstream"), the JVM's
``UnknownHostException``, Go's "lookup …: no such host", glibc's "Name or service not known",
gRPC's "Name resolution failed". Nothing in the writer's code raised it: the registry lagged, an
instance was being replaced, or the writer's own registry client could not keep up. Nezha's
TrainTicket deployment writes such errors in bursts when healthy too (6 to 8 traces in a minute
of its fault-free phases, none in the minute before), and each burst counted three times
against its writer: a share of traces whose errors "originate" there, a new ERROR template and
error-rate burst in its logs, a new error path in its code. On the 2023-01-30 cases a burst in an
untouched service outranked the root cause twice (ts-seat-service, ts-basic-service).

So a failing span whose own error is a failed lookup is the origin of no error
(:mod:`tools.analysis.trace_periods`, :mod:`tools.analysis.failures_below`), and a log line that
says so is no template or error of its writer (:mod:`tools.log_patterns`, which says how many it
left out). What failed still failed: the spans count as failing everywhere else, and the code
path the request took (an error handler called, lines no longer written) is still a change of
the writer's code path (:mod:`tools.analysis.code_paths`). That part is kept on purpose: the
registry client runs in the writer, and when the writer itself is broken its lookups fail with
it (Nezha 2023-01-29 10:12 and 10:20, an exception injected into ts-travel-service: its only
errors say "No instances available for ts-basic-service"); treating those changes as reactions
too lost both cases. A dependency that is really gone shows in its own telemetry (its spans and
series stop, calls to it go unanswered), which the other analyses read.
"""

from __future__ import annotations

import re

from tools.records import Span

_LOOKUP_FAILED = re.compile(
    r"No instances available for"
    r"|Load balancer does not have available server"
    r"|No servers available for service"
    r"|no healthy upstream"
    r"|UnknownHostException"
    r"|Name or service not known"
    r"|nodename nor servname provided"
    r"|Temporary failure in name resolution"
    r"|lookup \S+( on \S+)?: no such host"
    r"|Name resolution failed",
    re.IGNORECASE,
)


def lookup_failed(message: str) -> bool:
    """Whether ``message`` reports a failure to find a dependency (service discovery or name
    resolution), not a fault of the code that writes it."""
    return _LOOKUP_FAILED.search(message) is not None


def span_lookup_failed(span: Span) -> bool:
    """Whether failing ``span``'s own error message reports a failed lookup."""
    message = span.error_message
    return span.error and message is not None and lookup_failed(message)
