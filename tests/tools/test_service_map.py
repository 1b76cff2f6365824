"""A declared service map (``service_map.csv``): who may call whom, read row by row, bad rows
skipped with their line, a file that cannot be one an error of the caller's kind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.errors import BundleError, ConfigError
from tools.service_map import MAX_EDGES, ServiceMap, read_service_map


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_map_reads_each_caller_s_callees(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "service_map.csv",
        "caller,callee\nfrontend,checkout\nfrontend,cart\ncheckout,payments\nfrontend,cart\n",
    )
    found, report = read_service_map(path)
    assert found.calls["frontend"] == {"checkout", "cart"}
    assert found.calls["checkout"] == {"payments"}
    assert "payments" not in found.calls
    assert len(found.pairs) == 3  # the repeated row counts once
    assert found.pairs == [("checkout", "payments"), ("frontend", "cart"), ("frontend", "checkout")]
    assert found.source == str(path)
    assert report.read == 4 and report.summary() == []


def test_columns_in_any_order_with_more_columns_and_a_capitalised_header(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.csv", "Weight,Callee,Caller\n1, checkout , frontend\n")
    found, _ = read_service_map(path)
    assert found.calls["frontend"] == {"checkout"}


def test_bad_rows_are_skipped_with_their_line(tmp_path: Path) -> None:
    long_name = "x" * 300
    path = _write(
        tmp_path / "service_map.csv",
        f"caller,callee\nfrontend,checkout\nfrontend,\nonly-one\ncart,cart\n{long_name},cart\n",
    )
    found, report = read_service_map(path)
    assert found.calls == {"frontend": {"checkout"}}
    assert report.skipped == 4
    assert report.summary() == [
        "service_map.csv:3: empty caller or callee",
        "service_map.csv:4: expected at least 2 columns",
        "service_map.csv:5: cart calling itself is no call between services",
        "service_map.csv:6: a service name over 256 characters",
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("source,target\nfrontend,checkout\n", "header must contain caller,callee"),
        ("", "header must contain caller,callee"),
        ("caller,callee\n", "no usable row"),
        ("caller,callee\nfrontend,frontend\n", "no usable row"),
    ],
)
def test_a_file_with_no_usable_edge_is_an_error_naming_it(
    tmp_path: Path, text: str, says: str
) -> None:
    path = _write(tmp_path / "service_map.csv", text)
    with pytest.raises(BundleError, match=says) as caught:
        read_service_map(path)
    assert str(path) in str(caught.value)


def test_the_caller_chooses_the_error(tmp_path: Path) -> None:
    """A bundle's map fails the bundle; the setting's map is a configuration error."""
    with pytest.raises(ConfigError, match="does not exist"):
        read_service_map(tmp_path / "absent.csv", error=ConfigError)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_service_map(tmp_path, error=ConfigError)
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.csv")
    with pytest.raises(ConfigError, match="dangling"):
        read_service_map(tmp_path / "dangling.csv", error=ConfigError)


def test_a_huge_map_is_read_up_to_its_limit(tmp_path: Path) -> None:
    rows = "".join(f"s{i},t{i}\n" for i in range(MAX_EDGES + 5))
    path = _write(tmp_path / "service_map.csv", "caller,callee\n" + rows)
    found, report = read_service_map(path)
    assert len(found.pairs) == MAX_EDGES
    assert any(f"over {MAX_EDGES} edges" in w for w in report.summary())


def test_a_map_of_edges_leaves_out_self_calls() -> None:
    found = ServiceMap.of([("a", "b"), ("a", "a"), ("b", "c")])
    assert found.calls == {"a": {"b"}, "b": {"c"}}
    assert ServiceMap().pairs == []
