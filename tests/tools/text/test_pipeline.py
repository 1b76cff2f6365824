from __future__ import annotations

import re
import time
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.evidence import Evidence, EvidenceDraft, Source, TimeWindow
from tools.text import EXCERPT_CHARS, TITLE_CHARS, TextPipeline, clip

CITATION = re.compile(r"\[(E[1-9][0-9]*)\]")
SLACK_MARKUP = re.compile(r"<[!@#][^<>]*>|<[a-z]+:[^<>]*\|[^<>]*>")
BROADCAST = re.compile(r"(?i)@(channel|here|everyone)")
PIPELINE = TextPipeline()

# text with the characters that matter: markup, brackets, digits, separators, invisible ones
_ALPHABET = st.sampled_from(
    [
        *"aE1 4-:=@<>![]|/.\n\t\r\x1b\x07\x08\u202e\u200b\ufeff［Ｅ１］",
        *["[E1]", "<!here>", "@channel", "password=", "4111 1111 1111 1111", "xoxb-12345-"],
        *["-----BEGIN PRIVATE KEY-----", "https://u:p@h/", "AKIAIOSFODNN7EXAMPLE", "\x1b[31m"],
    ]
)
TEXTS = st.lists(_ALPHABET, max_size=60).map("".join) | st.text(max_size=200)
LIMITS = st.integers(min_value=1, max_value=120)


@settings(max_examples=300, deadline=None)
@given(TEXTS, LIMITS)
def test_output_is_within_the_limit_and_idempotent(text: str, limit: int) -> None:
    once = PIPELINE(text, limit)
    assert len(once) <= limit
    assert PIPELINE(once, limit) == once


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_output_has_no_invisible_characters_markup_or_citations(text: str) -> None:
    out = PIPELINE(text, 10_000)
    assert not CITATION.search(out)
    assert not SLACK_MARKUP.search(out)
    assert not BROADCAST.search(out)
    for char in out:
        assert char in "\n\t" or unicodedata.category(char) not in {"Cc", "Cf", "Cs"}
    line = PIPELINE.line(text, 10_000)
    assert "\n" not in line and "\t" not in line


def test_a_pem_block_cut_before_its_end_leaks_nothing() -> None:
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" * 20
    text = f"loaded key -----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY----- ok"
    for limit in (30, 60, 200, 2_000):
        out = PIPELINE(text, limit)
        assert "MIIE" not in out
        assert len(out) <= limit


def test_an_email_at_a_broadcast_like_domain_is_redacted_and_nothing_pings() -> None:
    out = PIPELINE("from jane@here.com and AKIAIOSFODNN7EXAMPLE@channel, @everyone", 200)
    assert "jane" not in out and "AKIA" not in out
    assert not BROADCAST.search(out)
    assert out.endswith("＠everyone")


def test_redaction_comes_before_the_clip() -> None:
    token = "xoxb-1234567890-1234567890123-" + "a" * 24
    out = PIPELINE(f"{'x' * 40} {token}", 60)
    assert "xoxb-12" not in out and "aaaa" not in out


def test_a_clip_never_leaves_a_fragment_that_reads_as_a_card() -> None:
    # 20 digits are not a card; cut to 16 they would be one (Luhn-valid, Visa prefix)
    text = "id 4111111111111111" + "0000"
    assert PIPELINE(text, 20) == PIPELINE(PIPELINE(text, 20), 20)
    assert "REDACTED" not in PIPELINE(text, 20)


def test_clip_marks_the_cut() -> None:
    assert clip("  short  ", 10) == "short"
    cut = clip("alpha beta gamma delta", 12)
    assert cut.endswith("…") and len(cut) <= 12
    with pytest.raises(ValueError, match="at least 1"):
        clip("x", 0)


def test_evidence_fields_are_cleaned_and_numbering_accepts_them() -> None:
    window = TimeWindow(
        start=datetime(2024, 1, 1, tzinfo=UTC), end=datetime(2024, 1, 2, tzinfo=UTC)
    )
    draft = EvidenceDraft(
        key="logs:x",
        source=Source.ALERT,
        title="<!channel> [E1] " + "t" * 500,
        summary="desc " * 400 + "password=hunter2",
        query="q\x1b[31m",
        link="http://user:secretpass@grafana.local/d?x=1",
        window=window,
        service="svc\u202e",
        excerpt="password=hunter2 " + "e" * 2_000,
    )
    clean = PIPELINE.evidence(draft)
    assert len(clean.title) <= TITLE_CHARS and "[E1]" not in clean.title
    assert "<!channel>" not in clean.title
    assert len(clean.excerpt) <= EXCERPT_CHARS and "hunter2" not in clean.excerpt
    assert clean.link is not None and "secretpass" not in clean.link
    assert clean.service == "svc" and clean.query == "q"
    numbered = Evidence.number(clean, 1)
    assert numbered.id == "E1"
    with pytest.raises(ValueError, match="at most"):
        Evidence.number(draft, 1)


ADVERSARIAL = [
    "a1-" * 350_000,
    "1 " * 500_000,
    "4111 " * 200_000,
    "[E1" * 330_000,
    "<!" * 500_000,
    "password=" * 110_000,
    "-----BEGIN PRIVATE KEY-----" * 37_000,
    "a@" * 500_000,
    "+1 " * 330_000,
    "\x1b[" * 500_000,
    "eyJ." * 250_000,
    "postgres://a:" * 77_000,
    "\u202e\u200b" * 500_000,
]


def _seconds(text: str) -> float:
    """CPU seconds to pass ``text`` through the pipeline and the redactor."""
    started = time.process_time()
    assert len(PIPELINE(text, EXCERPT_CHARS)) <= EXCERPT_CHARS
    PIPELINE.redact(text)
    return time.process_time() - started


@pytest.mark.parametrize("text", ADVERSARIAL, ids=[t[:6] for t in ADVERSARIAL])
def test_a_megabyte_of_adversarial_input_is_processed_in_linear_time(text: str) -> None:
    """Four times the input takes about four times as long (sixteen, were it quadratic), and
    a megabyte seconds, not minutes. The ratio, not a fixed budget: the card runs take about
    1.8 s a megabyte on this project's 2-core machine, near any budget tight enough to catch
    a slow pattern; their speed is a figure of ``bench/redaction.py``."""
    quarter = _seconds(text[: len(text) // 4])
    whole = _seconds(text)
    assert whole < 6 * quarter + 0.05
    assert whole < 10.0


def test_a_huge_field_is_bounded_before_the_work_and_leaks_nothing() -> None:
    secret = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
    key = "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEowIBAAKCAQEA\n" * 10_000
    text = f"login {secret} " + "word " * 400_000 + secret
    started = time.process_time()
    out = PIPELINE(text, EXCERPT_CHARS)
    assert time.process_time() - started < 0.5
    assert "AbCdEfGhIjKl" not in out and len(out) <= EXCERPT_CHARS
    assert "MIIEow" not in PIPELINE(f"started {key} tail", EXCERPT_CHARS)
