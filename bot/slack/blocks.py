"""An investigation report as a Slack message, and the alert summary that leads to one.

The message mirrors the terminal report in the order an on-call engineer reads it: the answer
(each ``[E#]`` opens its evidence), who wrote it and what could not be checked, the ranked
candidates (each with a button to confirm it as the root cause), similar past incidents,
suggested next checks, the first cited evidence with a button for all of it, and Slack's
feedback buttons last. Slack allows 50 blocks: the parts have priorities, and the least
important go first when a report would not fit; the feedback block is never dropped.

Every piece of report text is untrusted (telemetry, model output): it is escaped here, so
nothing posted pings anyone or hides a link. The interactions' ``action_id`` constants and
button values are the contract with the listeners that handle them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.investigation.report import CITATION, Candidate, Report
from bot.investigation.writer import FAULT_WORDS
from bot.slack import kit, mrkdwn
from bot.slack.evidence_blocks import digest, evidence_messages, window_text
from bot.slack.kit import SlackMessage
from bot.slack.next_checks import next_checks
from bot.slack.texts import failure_message, progress_line, usage_message
from tools.evidence import Evidence, Source

__all__ = [
    "ACTION_CONFIRM",
    "ACTION_FEEDBACK",
    "ACTION_SHOW_EVIDENCE",
    "SlackMessage",
    "alert_summary_message",
    "confirm_value",
    "evidence_messages",
    "failure_message",
    "progress_line",
    "report_message",
    "usage_message",
]

ACTION_CONFIRM = "rca_confirm_cause"
"""Button on each candidate; value: compact JSON ``{"r": report_id, "c": rank}``."""
ACTION_SHOW_EVIDENCE = "rca_show_evidence"
"""Button under the evidence digest; value: the report id."""
ACTION_FEEDBACK = "rca_feedback"
"""Slack's feedback buttons; value ``positive:<report_id>`` or ``negative:<report_id>``."""

REPORT_ID_CHARS = 200
ANSWER_SECTIONS = 4
CANDIDATES_SHOWN = 5
SIMILAR_SHOWN = 3
ALERT_ANSWER_LINES = 3
NO_ANSWER = "No answer: no evidence strong enough to cite."


@dataclass(frozen=True)
class _Part:
    """Blocks that stay or go together; a lower ``priority`` stays longer."""

    priority: int
    blocks: list[kit.Block]


def _check_report_id(report_id: str) -> None:
    if not report_id or len(report_id) > REPORT_ID_CHARS:
        raise ValueError(f"report_id must be 1 to {REPORT_ID_CHARS} characters")


def confirm_value(report_id: str, rank: int) -> str:
    """The ``ACTION_CONFIRM`` button's value for candidate ``rank`` of ``report_id``."""
    return json.dumps({"r": report_id, "c": rank}, separators=(",", ":"))


def _answer_by(report: Report) -> str:
    if report.answer_by == "llm":
        model = f" {mrkdwn.inert(report.model, multiline=False)}" if report.model else ""
        return f"Written by the model{model}"
    if report.answer_by == "deterministic":
        return "Written from the ranking (no model)"
    return f"Written by {mrkdwn.inert(report.answer_by, multiline=False)}"


def _meta(report: Report) -> kit.Block:
    facts = [_answer_by(report), window_text(report.window)]
    if report.answer_note:
        facts.append(mrkdwn.inert(report.answer_note, multiline=False))
    if report.dropped_statements:
        facts.append(f"{len(report.dropped_statements)} unsupported statement(s) left out")
    failed = "; ".join(f"{s.source}: {s.detail or 'failed'}" for s in report.failed_sources)
    warning = f":warning: Not checked: {mrkdwn.inert(failed, multiline=False)}" if failed else ""
    return kit.context(" · ".join(facts), warning)


def _candidate(candidate: Candidate, report_id: str, by_id: dict[str, Evidence]) -> kit.Block:
    service = mrkdwn.inert(candidate.service, multiline=False)
    head = (
        f"*{candidate.rank}. {service}* · {FAULT_WORDS[candidate.fault_type]}"
        f" · score {candidate.score:.2f}"
    )
    if candidate.propagated:
        head += " · _likely a symptom, not the cause_"
    hypothesis = candidate.hypothesis
    if not CITATION.search(hypothesis) and candidate.evidence_ids:
        hypothesis += " " + " ".join(f"[{i}]" for i in candidate.evidence_ids[:3])
    text = f"{head}\n{mrkdwn.cite_links(hypothesis, by_id)}"
    confirm = kit.button(
        "Confirm root cause", ACTION_CONFIRM, confirm_value(report_id, candidate.rank)
    )
    return kit.section(text, accessory=confirm)


def _candidate_parts(report: Report, report_id: str) -> list[_Part]:
    by_id = report.evidence_by_id()
    shown = report.candidates[:CANDIDATES_SHOWN]
    parts = [
        _Part(2 if i == 0 else 4 if i < 3 else 7, [_candidate(c, report_id, by_id)])
        for i, c in enumerate(shown)
    ]
    rest = report.candidates[CANDIDATES_SHOWN:]
    if rest:
        names = ", ".join(mrkdwn.inert(c.service, multiline=False) for c in rest[:10])
        more = f" and {len(rest) - 10} more" if len(rest) > 10 else ""
        parts.append(_Part(7, [kit.context(f"Lower-ranked candidates: {names}{more}")]))
    return parts


def _similar(report: Report) -> list[kit.Block]:
    seen = [e for e in report.evidence if e.source is Source.POSTMORTEM][:SIMILAR_SHOWN]
    if not seen:
        return []
    lines = [f"• [{e.id}] {mrkdwn.link(e.link, e.title)}" for e in seen]
    return [kit.section("\n".join(["*Seen before*", *lines]))]


def _next_checks(report: Report) -> list[kit.Block]:
    checks = next_checks(report)
    if not checks:
        return []
    return [kit.section("\n".join(["*Next checks* (suggestions)", *(f"• {c}" for c in checks)]))]


def _evidence(report: Report, report_id: str) -> list[kit.Block]:
    block, more = digest(report)
    if block is None:
        return []
    if not more:
        return [block]
    show = kit.button("Show evidence", ACTION_SHOW_EVIDENCE, report_id)
    return [block, kit.actions(show)]


def _fit(parts: Sequence[_Part], room: int) -> list[kit.Block]:
    """The parts' blocks in order, leaving out the least important parts until ``room``
    blocks hold them."""
    kept = list(parts)
    while sum(len(p.blocks) for p in kept) > room and kept:
        worst = max(range(len(kept)), key=lambda i: (kept[i].priority, i))
        del kept[worst]
    return [b for p in kept for b in p.blocks]


def _answer_lines(answer: str, most: int) -> str:
    return "\n".join([line for line in answer.splitlines() if line.strip()][:most])


def report_message(
    report: Report, report_id: str, *, title: str, answer_shown: bool = False
) -> SlackMessage:
    """The report as one message within Slack's limits (see the module docstring).

    ``answer_shown``: the answer was already streamed above these blocks, statement by
    statement; it is not repeated (the cited evidence below still links every ``[E#]``)."""
    _check_report_id(report_id)
    answer = mrkdwn.cite_links(report.answer.strip() or NO_ANSWER, report.evidence_by_id())
    answer_blocks = [] if answer_shown else kit.sections(answer, ANSWER_SECTIONS)
    parts = [
        _Part(0, [kit.header(title or "rcabot investigation")]),
        _Part(0, answer_blocks[:1]),
        _Part(5, answer_blocks[1:]),
        _Part(1, [_meta(report)]),
        *_candidate_parts(report, report_id),
        _Part(6, _similar(report)),
        _Part(3, _next_checks(report)),
        _Part(5, _evidence(report, report_id)),
    ]
    closing = kit.feedback(ACTION_FEEDBACK, f"positive:{report_id}", f"negative:{report_id}")
    blocks = [*_fit(parts, kit.MAX_BLOCKS - 1), closing]
    text = kit.fallback(title, _answer_lines(report.answer.strip() or NO_ANSWER, 3))
    return SlackMessage(text=text, blocks=blocks)


_STATUS = {"firing": "🔥 FIRING", "resolved": "✅ RESOLVED"}


def _status(status: str) -> str:
    return _STATUS.get(status.strip().lower()) or "🔔 " + (status.strip().upper() or "ALERT")


def _started(started_at: datetime | str | None) -> str:
    if isinstance(started_at, datetime):
        return f"{started_at:%Y-%m-%d %H:%M} UTC"
    return started_at or ""


def alert_summary_message(
    name: str,
    status: str,
    service: str | None,
    summary: str,
    started_at: datetime | str | None,
    report: Report | None = None,
    report_id: str | None = None,
) -> SlackMessage:
    """The top-level message for an alert: what fired (or resolved), and the first lines of
    the answer once an investigation has one (with a "Show evidence" button given the
    ``report_id``)."""
    state = _status(status)
    head = f"{mrkdwn.inert(state, multiline=False)} · *{mrkdwn.inert(name, multiline=False)}*"
    if service:
        head += f" · {mrkdwn.inert(service, multiline=False)}"
    lines = [head, mrkdwn.clip(mrkdwn.inert(summary), 1_500)]
    started = _started(started_at)
    if started:
        lines.append(f"Started {mrkdwn.inert(started, multiline=False)}")
    blocks = [kit.section("\n".join(line for line in lines if line))]
    if report is not None:
        first = _answer_lines(report.answer.strip() or NO_ANSWER, ALERT_ANSWER_LINES)
        blocks.append(kit.section(mrkdwn.cite_links(first, report.evidence_by_id())))
        blocks.append(kit.context("The full investigation is in the thread."))
        if report_id is not None and report.evidence:
            _check_report_id(report_id)
            blocks.append(kit.actions(kit.button("Show evidence", ACTION_SHOW_EVIDENCE, report_id)))
    about = f" ({service})" if service else ""
    text = kit.fallback(f"{state} {name}{about}: {summary}")
    return SlackMessage(text=text, blocks=blocks)
