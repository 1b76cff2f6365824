"""rcabot's own metrics (``GET /metrics``): what an operator graphs and alerts on.

One :class:`RcabotMetrics` per running bot, with its own ``CollectorRegistry`` rather than
prometheus_client's global one, so two bots in one process (tests) never count into each
other. Everything is recorded where the bot already holds the facts, never inside the engine
or ``tools/``:

- a finished investigation (:meth:`RcabotMetrics.investigated`, from ``bot.slack.run`` in the
  process that talks to Slack, whichever process ran it): its stage timings, its failed tool
  calls by source and backend, the model's stage time and tokens, and whether the
  deterministic answer stood in for the model (a fallback) and why;
- the work queue, read when scraped (:meth:`RcabotMetrics.watch_work`), so the queue itself
  knows nothing of Prometheus;
- Slack's ack latency, by :class:`AckTimer` around ``/slack/events``.

Labels are few-valued by construction (stage names, source and backend kinds, outcomes,
reasons); never a service, channel, question or report id: those go in the log lines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.investigation.report import Fallback, Report
from bot.slack.work import WorkQueue

SLACK_EVENTS_PATH = "/slack/events"
# Slack retries an event not acked within 3 s; rcabot aims at 0.1 s
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
STAGE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
LLM_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
MODEL_STAGES = frozenset({"model", "agent"})  # the engine's writing stage, the agent's loop
OUTCOMES = ("answered", "failed")
TOKEN_KINDS = ("prompt", "completion")
_UNSAFE_LABEL = re.compile(r"[^a-z0-9_.-]+")
MAX_LABEL_CHARS = 40


def label(value: str) -> str:
    """``value`` as a short, tame label value (stage and backend names come from code, but a
    label is forever: a stray value must not become a new series per investigation)."""
    return _UNSAFE_LABEL.sub("_", value.lower())[:MAX_LABEL_CHARS] or "unknown"


def fallback_reason(report: Report) -> str | None:
    """Why the deterministic answer stood in for the model's, or None: the model wrote the
    answer, or no model was asked (none configured, ``--no-llm``)."""
    if report.answer_by == "llm" or report.fallback is None:
        return None
    return report.fallback.value


class RcabotMetrics:
    """The bot's metrics and the registry ``/metrics`` serves."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes
        self.investigations = Counter(
            "rcabot_investigations",
            "Investigations run for Slack, by outcome (answered, or failed with an expected "
            "error the thread was told)",
            ["outcome"],
            registry=r,
        )
        self.investigation_seconds = Histogram(
            "rcabot_investigation_duration_seconds",
            "Time an investigation ran, from start to report (queueing excluded)",
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.stage_seconds = Histogram(
            "rcabot_investigation_stage_duration_seconds",
            "Time each stage of an investigation took, from the report's timings",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.tool_calls = Counter(
            "rcabot_tool_calls",
            "Tool calls to a configured telemetry source, by source and backend",
            ["source", "backend"],
            registry=r,
        )
        self.tool_errors = Counter(
            "rcabot_tool_errors",
            "Tool calls whose backend failed (down, timed out, refused), by source and backend",
            ["source", "backend"],
            registry=r,
        )
        self.llm_answers = Counter(
            "rcabot_llm_answers",
            "Investigations whose answer the model was asked to write",
            registry=r,
        )
        self.llm_seconds = Histogram(
            "rcabot_llm_duration_seconds",
            "Time the model's stage took (model: the engine's answer; agent: the agent's "
            "loop, its tool calls included)",
            ["stage"],
            buckets=LLM_BUCKETS,
            registry=r,
        )
        self.llm_tokens = Counter(
            "rcabot_llm_tokens",
            "Tokens the model read (prompt) and wrote (completion)",
            ["kind"],
            registry=r,
        )
        self.fallbacks = Counter(
            "rcabot_llm_fallbacks",
            "Investigations answered deterministically because the model failed, was slow or "
            "was not grounded, by reason",
            ["reason"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "rcabot_slack_ack_duration_seconds",
            f"Time from a request to {SLACK_EVENTS_PATH} arriving to its response (Slack's "
            "ack), by status class",
            ["status"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        for outcome in OUTCOMES:  # every series exists from the start: rate() sees the first
            self.investigations.labels(outcome=outcome)
        for kind in TOKEN_KINDS:
            self.llm_tokens.labels(kind=kind)
        for reason in Fallback:
            self.fallbacks.labels(reason=reason.value)

    def watch_work(self, work: WorkQueue, *, capacity: int, concurrency: int) -> None:
        """Serve ``work``'s depth and counts, read at each scrape."""
        self.registry.register(WorkCollector(work, capacity=capacity, concurrency=concurrency))

    def investigated(self, report: Report, seconds: float) -> None:
        """Record a finished investigation and what its report says it did."""
        self.investigations.labels(outcome="answered").inc()
        self.investigation_seconds.observe(seconds)
        for timing in report.timings:
            stage = label(timing.stage)
            self.stage_seconds.labels(stage=stage).observe(timing.ms / 1000)
            if stage in MODEL_STAGES:
                self.llm_seconds.labels(stage=stage).observe(timing.ms / 1000)
        for status in report.sources:
            if status.backend == "none":  # not configured: no call was made
                continue
            where = {"source": label(status.source), "backend": label(status.backend)}
            self.tool_calls.labels(**where).inc()
            if not status.ok:
                self.tool_errors.labels(**where).inc()
        reason = fallback_reason(report)
        if report.answer_by == "llm" or reason is not None:
            self.llm_answers.inc()
            self.llm_tokens.labels(kind="prompt").inc(report.tokens.prompt)
            self.llm_tokens.labels(kind="completion").inc(report.tokens.completion)
        if reason is not None:
            self.fallbacks.labels(reason=reason).inc()

    def failed(self, seconds: float) -> None:
        """Record an investigation that ended in an expected error (no report)."""
        self.investigations.labels(outcome="failed").inc()
        self.investigation_seconds.observe(seconds)


class WorkCollector(Collector):
    """The work queue's state as gauges and counters, read when scraped."""

    def __init__(self, work: WorkQueue, *, capacity: int, concurrency: int) -> None:
        self._work = work
        self._capacity = capacity
        self._concurrency = concurrency

    def collect(self) -> Iterator[Metric]:
        work, stats = self._work, self._work.stats
        yield GaugeMetricFamily("rcabot_work_running", "Jobs running now", value=work.running)
        yield GaugeMetricFamily("rcabot_work_waiting", "Jobs queued, not started", work.waiting)
        yield GaugeMetricFamily(
            "rcabot_work_queue_capacity", "Jobs the queue holds (slack.queue_size)", self._capacity
        )
        yield GaugeMetricFamily(
            "rcabot_work_concurrency",
            "Jobs run at once at most (slack.max_concurrent)",
            self._concurrency,
        )
        yield CounterMetricFamily(
            "rcabot_work_refused", "Jobs turned away: the queue was full", stats.refused
        )
        jobs = CounterMetricFamily(
            "rcabot_work_jobs",
            "Jobs finished: done, failed (a bug or a backend's own limit), timed_out "
            "(slack.deadline_s)",
            labels=["result"],
        )
        for result, count in (
            ("done", stats.done),
            ("failed", stats.failed),
            ("timed_out", stats.timed_out),
        ):
            jobs.add_metric([result], count)
        yield jobs


class AckTimer:
    """ASGI middleware: how long each request to ``path`` waited for its response to start,
    which for Slack's HTTP delivery is the ack (Bolt acks before the listener runs)."""

    def __init__(self, app: ASGIApp, metrics: RcabotMetrics, path: str = SLACK_EVENTS_PATH) -> None:
        self.app = app
        self.histogram = metrics.ack_seconds
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = f"{int(message['status']) // 100}xx"
                self.histogram.labels(status=status).observe(time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed)


def metrics_endpoint(metrics: RcabotMetrics) -> Callable[[Request], Awaitable[Response]]:
    """``GET /metrics``: the registry in the format the scraper asks for (Prometheus text,
    or OpenMetrics when its ``Accept`` says so)."""

    async def endpoint(request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(metrics.registry), headers={"Content-Type": content_type})

    return endpoint
