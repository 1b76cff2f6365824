"""Failed lookups of a dependency (service discovery, DNS) are told from errors of code."""

from __future__ import annotations

import pytest

from tests.tools.analysis.spans import span
from tools.analysis.discovery import lookup_failed, span_lookup_failed

# as the projects write them (the TrainTicket line is Nezha's, 2023-01-30 12:01:02)
LOOKUPS = [
    "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception "
    "[Request processing failed; nested exception is java.lang.IllegalStateException: No "
    "instances available for ts-config-service] with root cause",
    "com.netflix.client.ClientException: Load balancer does not have available server for "
    "client: payments",
    "feign.RetryableException: No servers available for service: inventory",
    "upstream connect error or disconnect/reset before headers. no healthy upstream",
    "I/O error on POST request: java.net.UnknownHostException: ts-order-service",
    'Get "http://cart:8080/items": dial tcp: lookup cart on 10.96.0.10:53: no such host',
    "Failed to establish a new connection: [Errno -2] Name or service not known",
    "getaddrinfo failed: Temporary failure in name resolution",
    "14 UNAVAILABLE: Name resolution failed for target dns:checkout:5050",
]
CODE_ERRORS = [
    "java.lang.NullPointerException: null at OrderServiceImpl.java:120",
    "[getOrderById][Order Status Wrong][OrderId: 42]",
    "price lookup failed for order 17",  # the code's own lookup, not a dependency's address
    "Connection refused: ts-order-service/10.0.0.7:12031",  # found and reached: nobody there
    "HttpServerErrorException$InternalServerError: 500 Internal Server Error",
]


@pytest.mark.parametrize("message", LOOKUPS)
def test_a_dependency_that_could_not_be_found_is_a_failed_lookup(message: str) -> None:
    assert lookup_failed(message)


@pytest.mark.parametrize("message", CODE_ERRORS)
def test_an_error_of_code_or_of_a_dependency_that_was_found_is_not(message: str) -> None:
    assert not lookup_failed(message)


def test_a_span_failed_a_lookup_when_its_own_error_says_so() -> None:
    failing = span("t", "1", None, "seat", 1.0, 20, error=True, **{"error.message": LOOKUPS[0]})
    assert span_lookup_failed(failing)
    other = span("t", "2", None, "seat", 1.0, 20, error=True, **{"exception.message": LOOKUPS[4]})
    assert span_lookup_failed(other)  # OpenTelemetry's exception event
    assert not span_lookup_failed(
        span("t", "3", None, "seat", 1.0, 20, error=True, **{"error.message": CODE_ERRORS[0]})
    )
    assert not span_lookup_failed(span("t", "4", None, "seat", 1.0, 20, error=True))
    # a message on a span that did not fail (a retry that found an instance) is no failure
    assert not span_lookup_failed(
        span("t", "5", None, "seat", 1.0, 20, error=False, **{"error.message": LOOKUPS[0]})
    )
