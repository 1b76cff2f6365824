from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.rca_args import MAX_TARGET, MAX_WINDOW, RcaArgs, RcaUsageError, parse_rca
from tools.errors import InvestigationError

NOW = datetime(2024, 5, 1, 12, 0, 30, tzinfo=UTC)
TODAY = NOW.replace(hour=0, minute=0, second=0)


def test_a_target_alone_has_no_window() -> None:
    assert parse_rca("  checkout  ", NOW) == RcaArgs("checkout", None, "")


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("90s", timedelta(seconds=90)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("1H30M", timedelta(minutes=90)),
    ],
)
def test_a_duration_is_the_last_stretch_up_to_now(text: str, length: timedelta) -> None:
    args = parse_rca(f"HighErrorRate {text}", NOW)
    assert args.target == "HighErrorRate"
    assert args.window_text == text
    assert args.window is not None
    assert args.window.end == NOW
    assert args.window.duration == length


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T10:00:00Z/2024-05-01T11:30:00Z",
        "2024-05-01T10:00Z..2024-05-01T11:30Z",
        "2024-05-01T12:00+02:00/2024-05-01T13:30+02:00",
        "2024-05-01T10:00/2024-05-01T11:30",  # no offset: UTC
    ],
)
def test_iso_ranges_in_any_offset_are_read_as_utc(text: str) -> None:
    window = parse_rca(f"checkout {text}", NOW).window
    assert window is not None
    assert window.start == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert window.end == datetime(2024, 5, 1, 11, 30, tzinfo=UTC)


def test_an_iso_range_may_end_now() -> None:
    window = parse_rca("checkout 2024-05-01T11:00Z..now", NOW).window
    assert window is not None
    assert (window.start, window.end) == (datetime(2024, 5, 1, 11, 0, tzinfo=UTC), NOW)


def test_a_clock_range_is_today_utc() -> None:
    window = parse_rca("checkout 9:05-11:00", NOW).window
    assert window is not None
    assert window.start == TODAY + timedelta(hours=9, minutes=5)
    assert window.end == TODAY + timedelta(hours=11)


def test_a_naive_now_is_utc() -> None:
    window = parse_rca("checkout 1h", NOW.replace(tzinfo=None)).window
    assert window is not None
    assert window.end == NOW


@pytest.mark.parametrize(
    "target",
    [
        "checkout",
        "api.example.com",
        "kube-system/api",
        "job:http_errors:rate5m",
        "svc_1",
        "a" * 100,
    ],
)
def test_plausible_names_are_targets(target: str) -> None:
    assert parse_rca(target, NOW).target == target


def test_slack_escaping_is_undone_before_checking() -> None:
    # Slack auto-links a domain the user typed; the plain word is the target.
    assert parse_rca("<http://api.example.com|api.example.com> 1h", NOW).target == "api.example.com"
    with pytest.raises(RcaUsageError, match="not an alert or service name") as error:
        parse_rca("a&amp;b", NOW)
    assert "&amp;" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "say what to investigate"),
        ("   \n ", "say what to investigate"),
        ("checkout 1h extra", "at most 2 words, got 3"),
        ("check out the database now", "at most 2 words, got 5"),
        ("x" * 2000, "characters long"),
        ("a" * (MAX_TARGET + 1), "not an alert or service name"),
        ("check$out", "not an alert or service name"),
        ("---", "not an alert or service name"),
        ("<@U0123ABC>", "mention or a link"),
        ("<@U0123ABC|ann>", "mention or a link"),
        ("<#C0123ABC|incidents>", "mention or a link"),
        ("<!here>", "mention or a link"),
        ("<mailto:ann@example.com|ann@example.com>", "mention or a link"),
        ("<https://grafana.example.com/d/x|dashboard>", "mention or a link"),
        ("<https://grafana.example.com/d/x>", "mention or a link"),
        ("&lt;!channel&gt;", "not an alert or service name"),
        ("30m", "before the window"),
        ("10:00-11:00", "before the window"),
        ("checkout <https://x.example.com|1h>", "window is a mention or a link"),
        ("checkout soon", "not a duration"),
        ("checkout 1w", "not a duration"),
        ("checkout 0m", "is empty"),
        ("checkout 8d", "longer than 7 days"),
        ("checkout 169h", "longer than 7 days"),
        ("checkout 99999999m", "longer than 7 days"),
        ("checkout 24:00-25:00", "hours go to 23"),
        ("checkout 11:00-10:00", "ends before it starts"),
        ("checkout 11:00-12:30", "ends in the future"),
        ("checkout 2024-05-01T11:00Z/2024-05-01T10:00Z", "ends before it starts"),
        ("checkout 2024-05-01T11:00Z/2024-05-01T11:00Z", "ends before it starts"),
        ("checkout 2024-05-01T11:00Z/2024-05-01T13:00Z", "ends in the future"),
        ("checkout 2024-05-02T11:00Z..now", "ends before it starts"),
        ("checkout 2024-04-01T00:00Z/2024-04-09T00:00Z", "longer than 7 days"),
        ("checkout yesterday/today", "not an ISO-8601 time"),
        ("checkout 2024-05-01T10:00Z/", "START/END"),
        ("checkout a/b/c", "START/END"),
        ("checkout 1960-01-01T00:00Z/1960-01-01T01:00Z", "outside 1970..2100"),
        ("checkout 9999-12-31T23:00-05:00/now", "outside 1970..2100"),
    ],
)
def test_unusable_arguments_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(RcaUsageError, match=message) as error:
        parse_rca(text, NOW)
    assert isinstance(error.value, InvestigationError)
    assert "\n" not in str(error.value)


def test_errors_never_echo_markup_that_could_ping() -> None:
    for text in ["&lt;!here&gt;", "x &lt;!channel&gt;", "<@U1>x", "x <!subteam^S1|@oncall>x"]:
        with pytest.raises(RcaUsageError) as error:
            parse_rca(text, NOW)
        assert "<" not in str(error.value) and "@" not in str(error.value)


def test_the_longest_window_is_allowed() -> None:
    days = MAX_WINDOW.days
    window = parse_rca(f"checkout {days}d", NOW).window
    assert window is not None and window.duration == MAX_WINDOW


# -- property: only RcaUsageError, and any window lies in the past -----------------------------

_WORD = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A[0-9]{1,8}[dhms]([0-9]{1,3}[hms])?\Z"),
    st.from_regex(r"\A[0-9]{1,2}:[0-9]{2}-[0-9]{1,2}:[0-9]{2}\Z"),
    st.builds(
        lambda a, b, sep: f"{a.isoformat()}{sep}{b.isoformat()}",
        st.datetimes(timezones=st.none() | st.timezones()),
        st.datetimes(timezones=st.none() | st.timezones()),
        st.sampled_from(["/", ".."]),
    ),
    st.sampled_from(["now", "<@U1>", "<http://a.b|a.b>", "&amp;", "&lt;", "..", "/", "-"]),
)


@given(
    st.lists(_WORD, max_size=4).map(" ".join) | st.text(max_size=60),
    st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
    ),
)
@settings(max_examples=500, deadline=None)
def test_parse_rca_only_raises_usage_errors_and_windows_end_by_now(
    text: str, now: datetime
) -> None:
    args: RcaArgs | None = None
    try:
        args = parse_rca(text, now)
    except RcaUsageError as exc:
        message = str(exc)
    if args is None:
        assert message and "\n" not in message
        return
    assert args.target and len(args.target) <= MAX_TARGET
    if args.window is not None:
        assert args.window.start < args.window.end <= now
        assert args.window.duration <= MAX_WINDOW
        assert args.window_text
    else:
        assert args.window_text == ""
