from __future__ import annotations

import sys
import unicodedata

import pytest

from tools.text import defuse_broadcasts, neutralise
from tools.text.neutralise import MULTI_LINE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("\x1b]8;;https://evil\x07link\x1b]8;;\x07", "link"),
        ("bell\x07 back\x08space nul\x00", "bell backspace nul"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("keep\ttab\nand newline", "keep\ttab\nand newline"),
        ("pay\u202eusd\u202c 10", "payusd 10"),
        ("is\u2066olate\u2069d \u200fmark", "isolated mark"),
        ("zero\u200bwidth\u200d\u2060\ufeff", "zerowidth"),
        ("tag\U000e0041\U000e0042s", "tags"),
        ("c1\x85line \x9b31mred", "c1\nline red"),
        ("<!channel> down", "‹!channel› down"),
        ("<!here|here> and <!everyone>", "‹!here|here› and ‹!everyone›"),
        ("<!subteam^S012AB|@oncall> ping", "‹!subteam^S012AB|@oncall› ping"),
        ("@channel stays for defuse_broadcasts", "@channel stays for defuse_broadcasts"),
        ("by <@U012AB3CD> in <#C012AB|ops>", "by ‹@U012AB3CD› in ‹#C012AB|ops›"),
        ("see <https://evil.example/x|the docs>", "see the docs (https://evil.example/x)"),
        ("see <https://evil.example/x>", "see https://evil.example/x"),
        ("x < 5 and <NUM> stay, a@here.com too", "x < 5 and <NUM> stay, a@here.com too"),
    ],
)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected
    assert neutralise(expected) == expected


def test_broadcasts_get_a_full_width_at_sign() -> None:
    assert defuse_broadcasts("@channel @Here and x@everyone") == "＠channel ＠Here and x＠everyone"


def test_single_line_turns_newlines_and_tabs_into_spaces() -> None:
    assert neutralise("a\nb\tc\r\nd\u2028e", multiline=False) == "a b c d e"


def test_a_lone_surrogate_becomes_encodable() -> None:
    out = neutralise("bad \udc80 byte")
    assert "\udc80" not in out and out.startswith("bad ") and out.endswith(" byte")
    out.encode("utf-8")  # raises UnicodeEncodeError if a surrogate were left


def test_every_control_and_format_character_is_removed() -> None:
    kept = {"\t", "\n"}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in {"Cc", "Cf"} and char not in kept:
            assert code in MULTI_LINE, f"U+{code:04X} is not neutralised"


def test_markup_that_does_not_close_cleanly_is_defused() -> None:
    masked = neutralise("user <@U1<NUM>ABC> and <!chan<*>nel> and <#C<NUM>>")
    assert "<@" not in masked and "<!" not in masked and "<#" not in masked
    assert neutralise(masked) == masked
