from __future__ import annotations

import asyncio

from bot.config import Settings
from bot.config_check import check_settings
from tools.settings import RedactionSettings


def test_config_check_never_prints_a_password_from_a_url() -> None:
    settings = Settings(
        metrics={"url": "http://admin:hunter22secret@127.0.0.1:9"},
        redaction=RedactionSettings(extra_patterns=[r"127\.0\.0\.1"]),
    )
    checks = asyncio.run(check_settings(settings))
    details = " ".join(check.detail for check in checks)
    assert "unreachable" in details
    assert "hunter22secret" not in details
    assert "127.0.0.1" not in details  # the operator's extra pattern applies too
