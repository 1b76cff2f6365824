"""The memory of confirmed causes: a root cause an engineer confirmed in Slack becomes a postmortem.

Most incidents never get a written postmortem, yet the on-call engineer knows, minutes after
rcabot's report, which candidate was right. When they say so (the report's button, or a short
thread reply such as "root cause: checkout"), the incident is recorded as a document in the
same postmortem index ``rcabot ingest`` fills, so the next similar alert's investigation finds
it like any written postmortem and says *Seen before*, linking the Slack thread where the cause
was confirmed. Nothing new on the search side: the engine's rule for citing a past incident
(both retrievers rank it near the top) applies unchanged.

Why it is shaped like this:

* **One document per thread** (``slack/<channel>/<thread ts>``): a later confirmation in the
  same thread, say a correction, replaces the earlier one rather than adding a second memory
  of the same incident.
* **Written in the words the next investigation searches with.** Its query is built from the
  alert, the top candidate's service and fault words and its evidence titles
  (``bot.investigation.past_incidents.similar_incident_query``); the document's root-cause and
  detection sections carry exactly those, so a recurrence matches on words and on meaning.
* **The cause is the title, not the alert.** The title opens every chunk (its context line),
  so whatever it names dominates matching. One alert has many causes: with the alert name in
  the title, a confirmed "shipping: memory growth" behind CheckoutHighLatencyP99 was cited as
  *Seen before* for the same alert caused by CPU saturation in another service (6 such false
  matches over the 6 x 6 demo fault pairs, 3 without; no recurrence missed either way). The
  alert and the question stay in the summary.
* **Everything goes through the text pipeline** before it is stored: a thread's text, the
  report's hypothesis and the evidence titles are untrusted (a log line can hold a token), and
  what the index stores comes back as evidence in later reports.
* **Ingested alone, with no roots**, so recording a confirmation never removes another
  document; one recording at a time per process, so two clicks cannot interleave two ingests
  (a concurrent ingest's garbage collection would delete the other's new chunks).
* **A reply counts only when it clearly confirms one candidate**: a confirming phrase, no
  negation of it, not a question, short, and exactly one candidate's service named. A wrong
  memory misleads every later investigation; a missed one costs a click on the button.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.config import Settings
from bot.investigation.report import Candidate, FaultType, Report
from bot.investigation.writer import FAULT_WORDS
from retrieval.chunking import chunk_document
from retrieval.index import PostmortemIndex
from tools.errors import RetrievalError
from tools.postmortems import Document, Section, SectionName
from tools.text import LINK_CHARS, TITLE_CHARS, TextPipeline

SECTION_CHARS = 2_000  # per section: a confirmed incident is a few lines, not a wiki page
MAX_REPLY_CHARS = 300  # a longer reply is a discussion, not a confirmation
MAX_DETECTION_ITEMS = 6

_CHANNEL = re.compile(r"^[A-Za-z0-9]{1,40}$")  # Slack ids: C…, G…, D…
_THREAD_TS = re.compile(r"^[0-9]{1,12}\.[0-9]{1,9}$")
_CITATION = re.compile(r"\s*\[E[1-9][0-9]*\]")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.;,:])")

_CONFIRMING = r"(?:root[\s-]*causes?|confirm(?:ed|s)?|it\s+was|caused\s+by)"
_NEGATION = r"(?:\b(?:not|never|no|cannot|dont|cant|isnt|wasnt|didnt|doesnt)|n['’]t)"
_CONFIRMS = re.compile(rf"\b{_CONFIRMING}\b", re.IGNORECASE)
_NEGATED_CONFIRMATION = re.compile(
    rf"{_NEGATION}\s+(?:[\w'’]+\s+){{0,2}}?{_CONFIRMING}\b|\bit\s+was\s+(?:not|never)\b",
    re.IGNORECASE,
)
_NEGATED_BEFORE = re.compile(rf"{_NEGATION}\s+(?:(?:the|a|an)\s+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Confirmation:
    """An engineer confirmed one of a report's candidates as the root cause, in a thread."""

    channel: str  # Slack channel id
    thread_ts: str  # the thread's root message ts: one memory per thread
    thread_link: str | None  # permalink to the thread (http or https), shown as the source
    confirmed_by: str  # who confirmed, as it may be shown (a name or a user id, never a mention)
    service: str
    fault: FaultType
    report: Report  # the investigation the confirmation answers
    alert_name: str | None
    at: datetime  # when it was confirmed (timezone-aware)

    def __post_init__(self) -> None:
        if not _CHANNEL.match(self.channel):
            raise ValueError(f"not a Slack channel id: {self.channel!r}")
        if not _THREAD_TS.match(self.thread_ts):
            raise ValueError(f"not a Slack message ts: {self.thread_ts!r}")
        if self.at.tzinfo is None:
            raise ValueError("the confirmation time must be timezone-aware")

    @classmethod
    def of(
        cls,
        report: Report,
        candidate: Candidate,
        *,
        channel: str,
        thread_ts: str,
        thread_link: str | None,
        confirmed_by: str,
        alert_name: str | None = None,
        at: datetime | None = None,
    ) -> Confirmation:
        """``candidate`` of ``report`` confirmed now (or ``at``)."""
        return cls(
            channel=channel,
            thread_ts=thread_ts,
            thread_link=thread_link,
            confirmed_by=confirmed_by,
            service=candidate.service,
            fault=candidate.fault_type,
            report=report,
            alert_name=alert_name,
            at=at or datetime.now(UTC),
        )

    @property
    def doc_id(self) -> str:
        return f"slack/{self.channel}/{self.thread_ts}"

    @property
    def candidate(self) -> Candidate | None:
        """The report's candidate that was confirmed (same service, preferring the same fault)."""
        same = [c for c in self.report.candidates if c.service == self.service]
        exact = [c for c in same if c.fault_type == self.fault]
        return next(iter(exact or same), None)


def confirmed_document(c: Confirmation, text: TextPipeline | None = None) -> Document:
    """The postmortem document recording ``c``; every text field through ``text``."""
    text = text or TextPipeline()
    report = c.report
    words = FAULT_WORDS[c.fault]
    started = _parse_time(report.incident_start)
    title = text.line(f"{c.service}: {words} (confirmed in Slack)", TITLE_CHARS)
    who = text.line(c.confirmed_by, 100) or "an engineer"
    candidate = c.candidate
    evidence = report.evidence_by_id()
    cited = [
        evidence[i].title for i in (candidate.evidence_ids if candidate else []) if i in evidence
    ]

    alerted = f"Alert {c.alert_name} fired" if c.alert_name else "Symptoms started"
    when = f" at {report.incident_start}" if report.incident_start else ""
    summary = (
        f"{alerted}{when} ({report.scope}): {report.question}\n"
        f"The root cause, {c.service}: {words}, was confirmed in Slack by {who} on "
        f"{c.at.astimezone(UTC).date().isoformat()}."
    )
    hypothesis = _without_citations(candidate.hypothesis) if candidate else ""
    root_cause = f"{c.service}: {words}." + (f"\n{hypothesis}" if hypothesis else "")
    detection = "\n".join(f"- {item}" for item in cited[:MAX_DETECTION_ITEMS])
    timeline = "\n".join(
        line
        for line in (
            f"- {report.incident_start}: symptoms started" if report.incident_start else "",
            f"- {c.at.astimezone(UTC).isoformat(timespec='seconds')}: root cause confirmed in "
            f"Slack by {who}",
        )
        if line
    )
    sections = tuple(
        Section(name, heading, text(body, SECTION_CHARS))
        for name, heading, body in (
            (SectionName.SUMMARY, "Summary", summary),
            (SectionName.ROOT_CAUSE, "Root cause", root_cause),
            (SectionName.DETECTION, "Detection", detection),
            (SectionName.TIMELINE, "Timeline", timeline),
        )
        if body.strip()
    )
    url = _thread_url(c.thread_link, text)
    when_day = started.date() if started else c.at.astimezone(UTC).date()
    services = (text.line(c.service, 200),)
    return Document(
        doc_id=c.doc_id,
        title=title,
        source=f"slack:{c.channel}/{c.thread_ts}",
        url=url,
        date=when_day,
        services=services,
        root_cause_category=c.fault.value,
        sections=sections,
        content_hash=document_hash(title, when_day, services, c.fault.value, url, sections),
    )


def document_hash(
    title: str,
    day: date | None,
    services: Sequence[str],
    root_cause_category: str | None,
    url: str | None,
    sections: Sequence[Section],
) -> str:
    """The content hash ``retrieval.documents`` gives a document with these fields (the same
    canonical JSON), so a confirmed incident re-indexes exactly when its content changes."""
    canonical = json.dumps(
        {
            "title": title,
            "date": day.isoformat() if day else None,
            "services": list(services),
            "root_cause_category": root_cause_category,
            "url": url,
            "sections": [[s.name.value, s.heading, s.text] for s in sections],
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# One recording at a time per event loop: two ingests into one index must not interleave.
_recording: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def record_confirmation(settings: Settings, c: Confirmation) -> str:
    """Store ``c`` in the postmortem index (created if there is none); returns its doc id.

    Replaces an earlier confirmation of the same thread and touches no other document.
    Raises :class:`RetrievalError` when the index cannot be opened or written.
    """
    document = confirmed_document(c, TextPipeline.from_settings(settings.redaction))
    lock = _recording.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        try:
            index = await PostmortemIndex.open(settings.retrieval)
        except OSError as exc:
            raise RetrievalError(f"cannot open the postmortem index: {exc}") from exc
        try:
            await index.ingest([document], [], chunk_document)
        except OSError as exc:
            raise RetrievalError(f"cannot record the confirmed cause: {exc}") from exc
        finally:
            index.close()
    return document.doc_id


def parse_confirmation_reply(text: str, candidates: Sequence[Candidate]) -> Candidate | None:
    """The candidate a short thread reply confirms ("root cause: checkout"), else ``None``.

    A reply confirms when it is at most :data:`MAX_REPLY_CHARS` long, not a question, has a
    confirming phrase ("root cause", "confirmed", "confirm", "it was", "caused by") that is not
    negated ("not the root cause", "can't confirm"), and names exactly one candidate's service
    that is not negated ("not payment"). Services match case-insensitively as whole names
    (``order`` does not match inside ``ts-order-service``), the longest first.
    """
    reply = text.strip()
    if not reply or len(reply) > MAX_REPLY_CHARS or reply.endswith(("?", "？")):
        return None
    if not _CONFIRMS.search(reply) or _NEGATED_CONFIRMATION.search(reply):
        return None
    lowered = reply.lower()
    taken: list[tuple[int, int]] = []
    named: list[str] = []
    for service in sorted({c.service for c in candidates if c.service}, key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w-]){re.escape(service.lower())}(?![\w-])")
        for match in pattern.finditer(lowered):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue  # inside a longer service's name
            taken.append(span)
            if not _NEGATED_BEFORE.search(lowered[max(0, span[0] - 20) : span[0]]):
                named.append(service)
    if len(set(named)) != 1:
        return None
    return next(c for c in sorted(candidates, key=lambda c: c.rank) if c.service == named[0])


def _without_citations(text: str) -> str:
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _CITATION.sub("", text)).strip()


def _parse_time(value: str) -> datetime | None:
    """``value`` (ISO 8601) in UTC; ``None`` when it is empty or not a time with a zone."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment and moment.tzinfo else None


def _thread_url(link: str | None, text: TextPipeline) -> str | None:
    """The thread link if it is a web address (never ``javascript:`` or a Slack markup)."""
    if not link:
        return None
    safe = text.line(link.strip(), LINK_CHARS)
    return safe if re.match(r"^https?://[^\s<>|]+$", safe) else None
