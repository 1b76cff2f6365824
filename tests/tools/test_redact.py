from __future__ import annotations

import pytest

from tools.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connect postgres://app:hunter22@db:5432/orders", "hunter22"),
        ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
        ("password=s3cr3t-value retries=3", "s3cr3t-value"),
        ('{"api_key": "k-123456789"}', "k-123456789"),
        ("user jane.doe@example.com logged in", "jane.doe@example.com"),
        ("card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"),
        ("token xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
        ("key AKIAABCDEFGHIJKLMNOP used", "AKIAABCDEFGHIJKLMNOP"),
    ],
)
def test_secrets_and_pii_are_masked(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "REDACTED" in cleaned


def test_ordinary_text_is_unchanged() -> None:
    text = "Timeout acquiring connection from pool after 5000ms (active=50 idle=0)"
    assert redact(text) == text
