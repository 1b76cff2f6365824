from __future__ import annotations

import re

import pytest
from drain3.drain import Drain

from tools.analysis import template_miner
from tools.analysis.template_miner import (
    MASKS,
    TemplateMiner,
    grouping_accuracy,
    mask,
    mask_token,
    template_ids,
)

# The masks mine_patterns used before (drain3 TemplateMiner, one pass per instruction, in order).
OLD_MASKS = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "UUID"),
    (r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b", "EMAIL"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "IP"),
    (r"\b(?:0x)?[0-9a-fA-F]{12,}\b", "HEX"),
    (r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?\b", "TIME"),
    (r"(?<![A-Za-z])-?\d+(?:\.\d+)?(?=[a-zA-Z%]{0,3}\b)", "NUM"),
)
LINES = (
    "GET /cart/8f14e45f-ceea-467f-a0e6-0b1f8c7a1234 from 10.1.2.3:80 took 12ms",
    "Timeout acquiring connection after 5012ms (active=50 idle=0 waiting=7)",
    "login failed user=alice@example.com ip=192.168.0.12: invalid password (attempt 2/5)",
    "span 4bf92f3577b34da6a3ce929d0e0e4736 exceeded budget by -3.5s at 2024-03-01T12:00:01.25Z",
    "PacketResponder 1 for block blk_6952295868487656571 terminating",
    "disk /dev/sda1 at 93% used, 1.5GB free",
    "dial tcp 10.96.0.12:6379: connect: connection refused",
)


def _old_mask(line: str) -> str:
    for pattern, name in OLD_MASKS:
        line = re.sub(pattern, f"<{name}>", line)
    return line


def _anonymous(masked: str) -> str:
    return re.sub(r"<[A-Z]+>", "<*>", masked)


@pytest.mark.parametrize("line", LINES)
def test_masks_what_the_old_masks_did(line: str) -> None:
    assert _anonymous(mask(line)) == _anonymous(_old_mask(line))


@pytest.mark.parametrize(
    ("token", "masked"),
    [
        ("8f14e45f-ceea-467f-a0e6-0b1f8c7a1234", "<UUID>"),
        ("2024-03-01T12:00:01.25Z", "<TIME>"),
        ("12:00:01", "<TIME>"),
        ("2024-03-01", "<DATE>"),
        ("ops+rcabot@example.com", "<EMAIL>"),
        ("10.1.2.3:8080", "<IP>"),
        ("0x800f080d", "<NUM>"),
        ("003a90fc", "<NUM>"),  # hex and decimal dumps of one field share a name
        ("00106210", "<NUM>"),
        ("(active=50)", "(active=<NUM>)"),
        ("977ms", "<NUM>ms"),
        ("-3.5", "<NUM>"),
        ("blk_-6952295868487656571", "blk_<NUM>"),
        ("HTTP/1.1", "HTTP/<NUM>"),
        ("http-nio-8080-exec-12", "http-nio-<NUM>-exec-<NUM>"),
        ("tcpconn3.tencent.com:443", "tcpconn3.tencent.com:<NUM>"),  # digit inside a word stays
        ("reason=insufficient_funds", "reason=<VAL>"),
        ("user=u-123,retry=2", "user=<VAL>,retry=<NUM>"),
        ("?base=EUR&limit=5", "?base=<VAL>&limit=<NUM>"),
        ("YWJjZA==", "YWJjZA=="),  # padding is not a key=value
        ("msg=started", "msg=started"),  # that value is the message itself
        ("errmsg=timeout", "errmsg=<VAL>"),
        ("deadbeef", "deadbeef"),  # hex-looking words without a digit are words
        ("connection", "connection"),
    ],
)
def test_mask_token(token: str, masked: str) -> None:
    assert mask_token(token) == masked


def test_date_and_time_apart_are_masked_apart() -> None:
    assert mask("at 2024-03-01  12:00:01 UTC") == "at <DATE> <TIME> UTC"


@pytest.mark.parametrize("line", LINES)
def test_masking_per_token_equals_masking_the_whole_line(line: str) -> None:
    whole = template_miner._MASK_RE.sub(template_miner._placeholder, line)
    assert mask(line) == " ".join(whole.split())


def test_tokens_without_digit_at_or_equals_cannot_match() -> None:
    # mask_token skips the regex for such tokens; this is what makes that exact.
    words = ("deadbeef", "cafebabe", "ERROR", "a-b.c_d", "face", "x@y", "x@y.io", "k=v", "==")
    for word in words:
        found = {m.lastgroup for m in template_miner._MASK_RE.finditer(word)}
        assert found <= {"EMAIL", "VAL"}, word
        assert found == set() or "@" in word or "=" in word
    assert mask_token("x@y.io") == "<EMAIL>"
    assert {name for name, _ in MASKS} == {"UUID", "TIME", "DATE", "EMAIL", "IP", "NUM", "VAL"}


def test_masked_first_tokens_share_a_template() -> None:
    # Plain drain3 gives each distinct first token its own branch once masking removed digits.
    lines = [
        "proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS",
        "tcpconn.tencent.com:80 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS",
        "182.254.114.110:80 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS",
    ]
    plain = Drain(depth=template_miner.DEPTH, sim_th=template_miner.SIMILARITY)
    assert len({plain.add_log_message(mask(line))[0].cluster_id for line in lines}) == 3
    miner = TemplateMiner()
    assert len({miner.add(line) for line in lines}) == 1
    assert miner.template(miner.add(lines[0])) == (
        "<*> open through proxy proxy.cse.cuhk.edu.hk:<NUM> HTTPS"
    )


def test_different_events_of_one_component_stay_apart() -> None:
    miner = TemplateMiner()
    uuid = "b9000564-fe1a-409b-b8cc-1e88b294cd1d"
    terminating = miner.add(f"[instance: {uuid}] Terminating instance")
    creating = miner.add(f"[instance: {uuid}] Creating image")
    assert terminating != creating  # at drain3's default 0.4 these merge
    ending = miner.add("Ending TrustedInstaller initialization.")
    assert miner.add("Ending TrustedInstaller finalization.") != ending
    alice = miner.add("login accepted for alice from 10.0.0.1 via ssh")
    bob = miner.add("login accepted for bob from 10.0.0.2 via ssh")
    assert alice == bob
    assert miner.template(bob) == "login accepted for <*> from <IP> via ssh"
    assert len(miner) == 5


def test_logfmt_lines_differing_only_in_values_share_a_template() -> None:
    lines = [
        "charge pay_00d9929 declined order=ORD-GZMFFUPH reason=expired_card card=amex",
        "charge pay_19c1233 declined order=ORD-5T95HUG6 reason=do_not_honor card=visa",
    ]
    miner = TemplateMiner()
    assert miner.add(lines[0]) == miner.add(lines[1])
    assert miner.template(miner.add(lines[0])) == (
        "charge <*> declined order=<VAL> reason=<VAL> card=<VAL>"
    )


def _stream() -> list[str]:
    lines = []
    for i in range(300):
        lines.append(f"request {i % 7} to /api/orders took {i * 3}ms")
        lines.append(f"cache miss for key user:{i % 11} on node redis-{i % 3}")
        if i % 5 == 0:
            lines.append(f"payment declined order={i} reason=insufficient_funds")
        if i % 9 == 0:
            lines.append("payment service unavailable")
    return lines


def test_cache_keeps_the_grouping() -> None:
    lines = _stream()
    cached = template_ids(lines)
    assert cached == template_ids(lines, cache=False)
    assert len(set(cached)) == 4


def test_cache_limit_stops_remembering_not_mining(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _stream()
    monkeypatch.setattr(template_miner, "CACHE_LIMIT", 3)
    miner = TemplateMiner()
    assert [miner.add(line) for line in lines] == template_ids(lines, cache=False)
    assert len(miner._by_message) == len(miner._by_masked) == len(miner._tokens) == 3


def test_a_repeated_line_keeps_its_template() -> None:
    # Drain alone re-files the last line under the newer, now closer cluster; the cache does not.
    lines = [
        "a b c d e f g h i j",
        "a b c X1 X2 X3 g h i j",  # joins: template a b c <*> <*> <*> g h i j
        "a b c d e f g h X Y",  # 5/10 against that template: a new cluster
        "a b c d e f g h i j",  # 7/10 against the first, 8/10 against the second
    ]
    assert template_ids(lines, cache=False) == [1, 1, 2, 2]
    assert template_ids(lines) == [1, 1, 2, 1]


@pytest.mark.parametrize(
    ("predicted", "truth", "accuracy"),
    [
        ([1, 1, 2, 3], ["a", "a", "b", "c"], 1.0),
        ([7, 7, 9, 8], ["a", "a", "b", "c"], 1.0),  # only the grouping counts, not the ids
        ([1, 1, 1, 3], ["a", "a", "b", "c"], 0.25),  # merging spoils both groups
        ([1, 2, 3, 4], ["a", "a", "b", "c"], 0.5),  # so does splitting
        ([1, 1, 2, 2], ["a", "a", "a", "a"], 0.0),
    ],
)
def test_grouping_accuracy(predicted: list[int], truth: list[str], accuracy: float) -> None:
    assert grouping_accuracy(predicted, truth) == accuracy


def test_grouping_accuracy_needs_one_prediction_per_line() -> None:
    with pytest.raises(ValueError, match="3 predictions for 2 lines"):
        grouping_accuracy([1, 2, 3], ["a", "b"])
    with pytest.raises(ValueError, match="no lines"):
        grouping_accuracy([], [])
