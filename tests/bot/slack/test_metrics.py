"""rcabot's own metrics (bot/slack/metrics.py): what a finished report records, fallbacks told
apart by the notes the model writers really produce, the work queue read at scrape time,
Slack's ack timed by the middleware, and the exposition formats."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.investigation.report import Fallback, Report, SourceStatus, StageTiming, TokenCounts
from bot.llm.writer import Failure, WriteLimits, deadline_passed, fall_back, model_failure
from bot.llm.writer_model import ChosenModel
from bot.slack.metrics import AckTimer, RcabotMetrics, fallback_reason, label, metrics_endpoint
from bot.slack.work import Work, WorkQueue
from tests.bot.slack.reports import candidate, evidence, report
from tools.errors import ModelError, ModelOutputError, ModelTimeout, ModelUnavailable

Labels = dict[str, str]


def value(metrics: RcabotMetrics, name: str, labels: Labels | None = None) -> float:
    found = metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if found is None else found


def a_report(**fields: Any) -> Report:
    return report([evidence(1), evidence(2)], [candidate(1, ["E1", "E2"])], **fields)


def answered_by_the_model() -> Report:
    return a_report(
        answer_by="llm",
        model="standin/tiny-chat",
        answer_note="written by standin/tiny-chat; 2 statements kept, 0 dropped",
        timings=[
            StageTiming(stage="scope", ms=20.0),
            StageTiming(stage="gather", ms=1500.0),
            StageTiming(stage="model", ms=4200.0),
        ],
        tokens=TokenCounts(prompt=900, completion=120, evidence=700, budget=2000),
        sources=[
            SourceStatus(source="logs", backend="elasticsearch", ok=False, detail="HTTP 503"),
            SourceStatus(source="logs", backend="elasticsearch", ok=True, evidence_count=3),
            SourceStatus(source="metrics", backend="prometheus", ok=True, evidence_count=2),
            SourceStatus(source="changes", backend="none", ok=False, detail="not configured"),
        ],
    )


def test_a_finished_report_records_its_stages_tool_calls_and_the_model() -> None:
    metrics = RcabotMetrics()
    metrics.investigated(answered_by_the_model(), seconds=6.0)
    assert value(metrics, "rcabot_investigations_total", {"outcome": "answered"}) == 1
    assert value(metrics, "rcabot_investigation_duration_seconds_sum") == 6.0
    stage = "rcabot_investigation_stage_duration_seconds"
    assert value(metrics, f"{stage}_sum", {"stage": "gather"}) == 1.5
    assert value(metrics, f"{stage}_bucket", {"stage": "gather", "le": "1.0"}) == 0
    assert value(metrics, f"{stage}_bucket", {"stage": "gather", "le": "2.5"}) == 1
    logs = {"source": "logs", "backend": "elasticsearch"}
    assert value(metrics, "rcabot_tool_calls_total", logs) == 2
    assert value(metrics, "rcabot_tool_errors_total", logs) == 1
    prometheus = {"source": "metrics", "backend": "prometheus"}
    assert value(metrics, "rcabot_tool_errors_total", prometheus) == 0
    unconfigured = {"source": "changes", "backend": "none"}
    assert value(metrics, "rcabot_tool_calls_total", unconfigured) == 0  # no call was made
    assert value(metrics, "rcabot_tool_errors_total", unconfigured) == 0
    assert value(metrics, "rcabot_llm_answers_total") == 1
    assert value(metrics, "rcabot_llm_duration_seconds_sum", {"stage": "model"}) == 4.2
    assert value(metrics, "rcabot_llm_duration_seconds_count", {"stage": "gather"}) == 0
    assert value(metrics, "rcabot_llm_tokens_total", {"kind": "prompt"}) == 900
    assert value(metrics, "rcabot_llm_tokens_total", {"kind": "completion"}) == 120
    fallbacks = [
        s.value
        for f in metrics.registry.collect()
        if f.name == "rcabot_llm_fallbacks"
        for s in f.samples
        if s.name.endswith("_total")
    ]
    assert fallbacks and sum(fallbacks) == 0


def test_a_report_without_a_model_counts_no_model_work() -> None:
    metrics = RcabotMetrics()
    chosen = ChosenModel(None, WriteLimits(), "no model configured (llm.url is not set)")
    plain = chosen.finish(a_report(tokens=TokenCounts(evidence=500)))
    metrics.investigated(plain, seconds=1.0)
    assert fallback_reason(plain) is None
    assert value(metrics, "rcabot_investigations_total", {"outcome": "answered"}) == 1
    assert value(metrics, "rcabot_llm_answers_total") == 0
    assert value(metrics, "rcabot_llm_tokens_total", {"kind": "prompt"}) == 0


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (model_failure(ModelTimeout("read timed out after 30 s")), "timeout"),
        (deadline_passed(45), "timeout"),  # the agent's own deadline
        (model_failure(ModelUnavailable("HTTP 503 from /generate")), "unavailable"),
        (model_failure(ModelOutputError("not JSON")), "malformed"),
        (Failure(Fallback.UNGROUNDED, "no statement was grounded (3 dropped)"), "ungrounded"),
        (model_failure(ModelError("something new went wrong")), "other"),
    ],
)
def test_a_fallback_is_counted_with_its_reason(failure: Failure, expected: str) -> None:
    fell_back = fall_back(a_report(), failure, model_name="standin/tiny-chat")
    metrics = RcabotMetrics()
    metrics.investigated(fell_back, seconds=2.0)
    assert fallback_reason(fell_back) == expected
    assert value(metrics, "rcabot_llm_fallbacks_total", {"reason": expected}) == 1
    assert value(metrics, "rcabot_llm_answers_total") == 1


def test_every_fallback_reason_is_a_series_from_the_start() -> None:
    metrics = RcabotMetrics()
    for reason in Fallback:
        assert value(metrics, "rcabot_llm_fallbacks_total", {"reason": reason.value}) == 0


def test_a_model_that_could_not_be_created_is_a_fallback_and_no_llm_is_not() -> None:
    broken = ChosenModel(
        None,
        WriteLimits(),
        "model not used: cannot reach it; deterministic answer shown",
        Fallback.UNAVAILABLE,
    ).finish(a_report())
    assert fallback_reason(broken) == "unavailable"
    asked_not_to = ChosenModel(None, WriteLimits(), "model not used: --no-llm").finish(a_report())
    assert fallback_reason(asked_not_to) is None


def test_the_agents_note_after_a_fallback_still_says_why() -> None:
    fell_back = fall_back(a_report(), model_failure(ModelTimeout("slow")), model_name="m")
    noted = fell_back.model_copy(
        update={"answer_note": f"{fell_back.answer_note}; agent: 2 tool calls"}
    )
    assert fallback_reason(noted) == "timeout"


def test_stage_and_backend_labels_stay_tame() -> None:
    assert label("Gather") == "gather"
    assert label('x"}\n' + "y" * 100) == "x_" + "y" * 38
    assert label("") == "unknown"
    metrics = RcabotMetrics()
    metrics.investigated(a_report(timings=[StageTiming(stage="We ird\n", ms=10)]), seconds=1)
    stage = "rcabot_investigation_stage_duration_seconds_count"
    assert value(metrics, stage, {"stage": "we_ird_"}) == 1


def test_an_expected_failure_is_counted_as_failed() -> None:
    metrics = RcabotMetrics()
    metrics.failed(0.5)
    assert value(metrics, "rcabot_investigations_total", {"outcome": "failed"}) == 1
    assert value(metrics, "rcabot_investigations_total", {"outcome": "answered"}) == 0
    assert value(metrics, "rcabot_investigation_duration_seconds_count") == 1


def test_two_bots_in_one_process_count_apart() -> None:
    first, second = RcabotMetrics(), RcabotMetrics()
    first.investigated(answered_by_the_model(), seconds=1.0)
    assert value(first, "rcabot_llm_answers_total") == 1
    assert value(second, "rcabot_llm_answers_total") == 0


async def test_the_work_queue_is_read_when_scraped() -> None:
    work = WorkQueue(max_concurrent=2, size=3, deadline_s=5)  # not started: jobs wait
    metrics = RcabotMetrics()
    metrics.watch_work(work, capacity=3, concurrency=2)

    async def nothing() -> None:
        await asyncio.sleep(0)

    assert value(metrics, "rcabot_work_waiting") == 0
    accepted = [work.submit(Work(name=f"job {i}", run=nothing)) for i in range(4)]
    assert accepted == [True, True, True, False]
    assert value(metrics, "rcabot_work_waiting") == 3
    assert value(metrics, "rcabot_work_running") == 0
    assert value(metrics, "rcabot_work_queue_capacity") == 3
    assert value(metrics, "rcabot_work_concurrency") == 2
    assert value(metrics, "rcabot_work_refused_total") == 1
    work.start()
    await work.join()
    await work.stop()
    assert value(metrics, "rcabot_work_waiting") == 0
    assert value(metrics, "rcabot_work_jobs_total", {"result": "done"}) == 3
    assert value(metrics, "rcabot_work_jobs_total", {"result": "timed_out"}) == 0


def _timed_app(metrics: RcabotMetrics) -> Starlette:
    async def events(request: Request) -> Response:
        body = await request.body()
        return JSONResponse({"ok": True}, status_code=400 if body == b"bad" else 200)

    async def other(request: Request) -> Response:
        return JSONResponse({})

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/alertmanager", other, methods=["POST"]),
            Route("/metrics", metrics_endpoint(metrics), methods=["GET"]),
        ],
        middleware=[Middleware(AckTimer, metrics=metrics)],
    )


async def test_slack_acks_are_timed_by_status_and_nothing_else_is() -> None:
    metrics = RcabotMetrics()
    transport = httpx.ASGITransport(app=_timed_app(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        assert (await client.post("/slack/events", content=b"{}")).status_code == 200
        assert (await client.post("/slack/events", content=b"{}")).status_code == 200
        assert (await client.post("/slack/events", content=b"bad")).status_code == 400
        await client.post("/alertmanager", content=b"{}")
    ack = "rcabot_slack_ack_duration_seconds_count"
    assert value(metrics, ack, {"status": "2xx"}) == 2
    assert value(metrics, ack, {"status": "4xx"}) == 1
    total = value(metrics, "rcabot_slack_ack_duration_seconds_sum", {"status": "2xx"})
    assert 0 < total < 2


async def test_metrics_are_served_as_prometheus_text_or_openmetrics() -> None:
    metrics = RcabotMetrics()
    metrics.investigated(answered_by_the_model(), seconds=6.0)
    transport = httpx.ASGITransport(app=_timed_app(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        text = await client.get("/metrics")
        openmetrics = await client.get(
            "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
        )
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(text.text)}
    assert families["rcabot_investigations"].type == "counter"
    assert families["rcabot_investigation_stage_duration_seconds"].type == "histogram"
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.rstrip().endswith("# EOF")
