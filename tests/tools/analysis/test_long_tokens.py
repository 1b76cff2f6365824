from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from tools.analysis import template_miner
from tools.analysis.long_tokens import SHORT_TOKEN, mask_long

PARTS = st.sampled_from(
    [
        *"a1-.=@:xAFfm_s%0Z9T+ge/,",
        *["msg=", "message=", "0x1f", "2024-01-15", "10:00:00", "a@b.com", "1.2.3.4:80"],
        *["deadbeef12", "12ms", "k=v", "123e4567-e89b-12d3-a456-426614174000", "-3.5", "x="],
    ]
)


def _regex(token: str) -> str:
    return template_miner._MASK_RE.sub(template_miner._placeholder, token)


@settings(max_examples=500, deadline=None)
@given(st.lists(PARTS, min_size=1, max_size=40).map("".join))
def test_the_linear_scan_masks_as_the_regex_does(token: str) -> None:
    placeholders = {name: f"<{name}>" for name, _ in template_miner.MASKS}
    assert mask_long(token, placeholders) == _regex(token)


def test_long_tokens_take_the_linear_scan() -> None:
    token = "k=" + "v1" * SHORT_TOKEN
    assert template_miner.mask_token(token) == "k=<VAL>"


def test_a_million_character_token_masks_in_well_under_a_second() -> None:
    for token in ("a1" * 500_000, "x" * 999_999 + "=", "a.b-c_" * 166_000 + "@x", "f" * 10**6):
        started = time.process_time()
        template_miner.mask_token(token)
        assert time.process_time() - started < 0.5
