"""Confirmed causes become postmortems: the document, the reply parser, and the round trip
through the real index and embedding model (a recurrence then says *Seen before*)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import postmortems
from bot.commands import investigate_bundle
from bot.config import Settings, load_settings
from bot.confirmed import (
    MAX_REPLY_CHARS,
    Confirmation,
    confirmed_document,
    parse_confirmation_reply,
    record_confirmation,
)
from bot.demo import generate_case, postmortems_dir
from bot.investigation.report import Candidate, FaultType, Report, SourceStatus
from bot.investigation.writer import FAULT_WORDS
from retrieval.index import PostmortemIndex
from tools.evidence import Evidence, EvidenceDraft, Source, TimeWindow
from tools.postmortems import SectionName

LINK = "https://acme.slack.com/archives/C0INCIDENT/p1772447175000100"
SECRET = "postgres://app:hunter22@db:5432/orders"
START = datetime(2026, 3, 2, 10, 26, 15, tzinfo=UTC)
CONFIRMED_AT = datetime(2026, 3, 2, 10, 52, tzinfo=UTC)


def _evidence(index: int, source: Source, title: str, service: str) -> Evidence:
    draft = EvidenceDraft(
        key=f"{source.value}:{index}", source=source, title=title, summary=title, query="q"
    )
    return Evidence.number(draft.model_copy(update={"service": service}), index)


def _candidate(
    rank: int, service: str, fault: FaultType, hypothesis: str, ids: list[str]
) -> Candidate:
    return Candidate(
        rank=rank,
        service=service,
        fault_type=fault,
        hypothesis=hypothesis,
        score=3.0 / rank,
        evidence_ids=ids,
    )


def _report(
    hypothesis: str = "Memory growth: shipping: memory_usage_bytes up +86% [E2]; "
    "GC pauses ×73 [E3].",
    second_title: str = "shipping: WARN “[gc] Pause Full” ×73",
) -> Report:
    evidence = [
        _evidence(1, Source.ALERT, "CheckoutHighLatencyP99 firing since 10:31:00", "checkout"),
        _evidence(2, Source.METRICS, "shipping: memory_usage_bytes up +86%", "shipping"),
        _evidence(3, Source.LOGS, second_title, "shipping"),
        _evidence(4, Source.METRICS, "checkout: latency_p99_seconds up +399%", "checkout"),
    ]
    return Report(
        question="Why is CheckoutHighLatencyP99 firing? checkout p99 latency above 0.2s",
        scope="alert CheckoutHighLatencyP99 (checkout)",
        window=TimeWindow(start=datetime(2026, 3, 2, 10, tzinfo=UTC), end=CONFIRMED_AT),
        incident_start=START.isoformat(),
        candidates=[
            _candidate(1, "shipping", FaultType.MEMORY, hypothesis, ["E2", "E3"]),
            _candidate(2, "checkout", FaultType.LATENCY, "Slow [E4].", ["E4"]),
        ],
        evidence=evidence,
        answer="*Most likely cause:* shipping, memory growth [E2] [E3].",
        answer_by="deterministic",
        sources=[SourceStatus(source="metrics", backend="bundle", ok=True)],
    )


def _confirm(
    report: Report,
    rank: int = 1,
    *,
    thread_ts: str = "1772447175.000100",
    thread_link: str | None = LINK,
    confirmed_by: str = "alice",
    alert_name: str | None = "CheckoutHighLatencyP99",
) -> Confirmation:
    return Confirmation.of(
        report,
        report.candidates[rank - 1],
        channel="C0INCIDENT",
        thread_ts=thread_ts,
        thread_link=thread_link,
        confirmed_by=confirmed_by,
        alert_name=alert_name,
        at=CONFIRMED_AT,
    )


# --- the document ------------------------------------------------------------------------------


def test_the_document_records_the_confirmed_candidate() -> None:
    doc = confirmed_document(_confirm(_report()))
    assert doc.doc_id == "slack/C0INCIDENT/1772447175.000100"
    assert doc.source == "slack:C0INCIDENT/1772447175.000100"
    assert doc.url == LINK
    assert doc.title == f"shipping: {FAULT_WORDS[FaultType.MEMORY]} (confirmed in Slack)"
    assert doc.date == date(2026, 3, 2)
    assert doc.services == ("shipping",)
    assert doc.root_cause_category == "memory"
    sections = {s.name: s.text for s in doc.sections}
    assert list(sections) == [
        SectionName.SUMMARY,
        SectionName.ROOT_CAUSE,
        SectionName.DETECTION,
        SectionName.TIMELINE,
    ]
    assert "CheckoutHighLatencyP99" in sections[SectionName.SUMMARY]
    assert "alice" in sections[SectionName.SUMMARY]
    cause = sections[SectionName.ROOT_CAUSE]
    assert cause.startswith("shipping: memory growth.")
    assert "memory_usage_bytes up +86%; GC pauses ×73." in cause  # markers gone, text kept
    assert "[E" not in cause and "(E" not in cause
    detection = sections[SectionName.DETECTION].splitlines()
    assert detection == [
        "- shipping: memory_usage_bytes up +86%",
        "- shipping: WARN “[gc] Pause Full” ×73",
    ]
    assert START.isoformat() in sections[SectionName.TIMELINE]
    assert CONFIRMED_AT.isoformat(timespec="seconds") in sections[SectionName.TIMELINE]


def test_the_hash_is_stable_and_follows_the_content() -> None:
    report = _report()
    first = confirmed_document(_confirm(report))
    assert confirmed_document(_confirm(report)).content_hash == first.content_hash
    other = confirmed_document(_confirm(report, confirmed_by="bob"))
    assert other.content_hash != first.content_hash


def test_a_later_confirmation_in_the_thread_replaces_the_earlier() -> None:
    report = _report()
    first = confirmed_document(_confirm(report, rank=1))
    correction = confirmed_document(_confirm(report, rank=2, confirmed_by="bob"))
    assert correction.doc_id == first.doc_id
    assert correction.services == ("checkout",) and correction.content_hash != first.content_hash
    elsewhere = confirmed_document(_confirm(report, thread_ts="1772447999.000200"))
    assert elsewhere.doc_id != first.doc_id


def test_secrets_and_pings_do_not_reach_the_index() -> None:
    report = _report(
        hypothesis=f"Memory growth after connecting to {SECRET} [E2].",
        second_title=f"shipping: ERROR cannot reach {SECRET}",
    )
    doc = confirmed_document(_confirm(report, confirmed_by="<!here> <@U0ADMIN>"))
    stored = " ".join([doc.title, *(s.text for s in doc.sections)])
    assert "hunter22" not in stored
    assert stored.count("[REDACTED") >= 2  # the hypothesis and the evidence title
    assert "<!here>" not in stored and "<@U0ADMIN>" not in stored


@pytest.mark.parametrize("link", ["javascript:alert(1)", "<https://evil.example|thread>", ""])
def test_only_a_web_link_becomes_the_url(link: str) -> None:
    assert confirmed_document(_confirm(_report(), thread_link=link)).url is None


def test_a_confirmation_needs_slack_ids_and_an_aware_time() -> None:
    confirmation = _confirm(_report())
    with pytest.raises(ValueError, match="channel id"):
        dataclasses.replace(confirmation, channel="C1/../x")
    with pytest.raises(ValueError, match="message ts"):
        dataclasses.replace(confirmation, thread_ts="latest")
    with pytest.raises(ValueError, match="timezone-aware"):
        dataclasses.replace(confirmation, at=datetime(2026, 3, 2, 10, 52))


# --- replies -----------------------------------------------------------------------------------

SERVICES = ["checkout", "payment", "order", "ts-order-service", "payment-db"]


def _candidates() -> list[Candidate]:
    return [_candidate(i, s, FaultType.ERRORS, "x", []) for i, s in enumerate(SERVICES, start=1)]


@pytest.mark.parametrize(
    ("reply", "service"),
    [
        ("root cause: checkout", "checkout"),
        ("Confirmed: payment db memory", "payment"),
        ("it was the ts-order-service deploy", "ts-order-service"),
        ("ROOT CAUSE = Payment-DB", "payment-db"),
        ("confirm order", "order"),
        ("caused by checkout's bad config push", "checkout"),
        ("confirmed: checkout, not payment", "checkout"),
        ("no, it was checkout", "checkout"),
        ("<@U0ONCALL> root-cause was checkout.", "checkout"),
    ],
)
def test_a_short_reply_naming_a_service_confirms_it(reply: str, service: str) -> None:
    found = parse_confirmation_reply(reply, _candidates())
    assert found is not None and found.service == service


@pytest.mark.parametrize(
    "reply",
    [
        "was it checkout?",  # no confirming word
        "checkout",
        "root cause: checkout?",  # a question
        "not the root cause: checkout",
        "I can't confirm checkout yet",
        "it was not checkout",
        "root cause: it wasn't checkout",
        "root cause: checkout or payment",  # two services: ambiguous
        "root cause: the frontend",  # not a candidate
        "confirmed: orders-api",  # "order" is not named
        "",
    ],
)
def test_other_replies_confirm_nothing(reply: str) -> None:
    assert parse_confirmation_reply(reply, _candidates()) is None


def test_a_long_reply_is_a_discussion_not_a_confirmation() -> None:
    reply = "root cause: checkout. " + "We looked at the dashboards for a while. " * 8
    assert len(reply) > MAX_REPLY_CHARS
    assert parse_confirmation_reply(reply, _candidates()) is None
    assert parse_confirmation_reply(reply[:MAX_REPLY_CHARS], _candidates()) is not None


# --- through the real index and model -----------------------------------------------------------


def _settings(index_dir: Path) -> Settings:
    settings = load_settings()
    retrieval = settings.retrieval.model_copy(update={"chroma_path": index_dir, "chroma_url": None})
    return settings.model_copy(update={"retrieval": retrieval})


def _seen_before(report: Report) -> list[Evidence]:
    lines = [line for line in report.answer.splitlines() if line.startswith("*Seen before:*")]
    return [e for e in report.evidence if lines and f"[{e.id}]" in lines[0]]


@pytest.mark.slow
async def test_a_recurrence_of_a_confirmed_cause_is_seen_before(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "index")
    await postmortems.ingest(settings, [postmortems_dir()])  # written postmortems compete
    first = await investigate_bundle(
        settings, generate_case(tmp_path, "memory-leak", 3).bundle_dir, use_llm=False
    )
    assert LINK not in {e.link for e in _seen_before(first)}
    top = first.candidates[0]
    doc_id = await record_confirmation(settings, _confirm(first, alert_name=None))
    assert doc_id == "slack/C0INCIDENT/1772447175.000100"

    again = await investigate_bundle(
        settings, generate_case(tmp_path, "memory-leak", 5).bundle_dir, use_llm=False
    )
    assert again.candidates[0].service == top.service
    seen = [e for e in _seen_before(again) if e.link == LINK]
    assert len(seen) == 1, again.answer
    assert seen[0].source is Source.POSTMORTEM
    assert f"{top.service}: {FAULT_WORDS[top.fault_type]}" in seen[0].title

    other = await investigate_bundle(
        settings, generate_case(tmp_path, "bad-deploy", 5).bundle_dir, use_llm=False
    )
    assert other.candidates[0].service != top.service
    assert LINK not in {e.link for e in _seen_before(other)}  # another cause: not cited


@pytest.mark.slow
async def test_recording_replaces_within_the_thread_and_keeps_other_documents(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path / "index")  # no index yet: recording creates it
    report = _report()
    await record_confirmation(settings, _confirm(report, rank=1))
    await record_confirmation(settings, _confirm(report, thread_ts="1772447999.000200"))
    await record_confirmation(settings, _confirm(report, rank=2, confirmed_by="bob"))
    async with await PostmortemIndex.open(settings.retrieval) as index:
        assert (await index.stats()).documents == 2
        hits = await index.search("checkout slow processing", k=5, mode="bm25")
    corrected = {h.document.doc_id: h.document for h in hits}["slack/C0INCIDENT/1772447175.000100"]
    assert corrected.services == ("checkout",)


@pytest.mark.slow
async def test_a_lone_confirmed_cause_is_not_cited_for_another_cause(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "index")
    first = await investigate_bundle(
        settings, generate_case(tmp_path, "memory-leak", 3).bundle_dir, use_llm=False
    )
    await record_confirmation(settings, _confirm(first))
    other = await investigate_bundle(
        settings, generate_case(tmp_path, "bad-deploy", 5).bundle_dir, use_llm=False
    )
    assert LINK not in {e.link for e in _seen_before(other)}
