"""read_documents: every format from small files, metadata, ids, urls, hashes and warnings."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from retrieval.documents import ReadResult, decode, read_documents
from tools.postmortems import Document, SectionName

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "bot" / "demo" / "postmortems"

MARKDOWN = """\
---
title: Checkout outage after a config push
date: 2025-03-04
services: [checkout, payments]
root_cause: config
---
Checkout failed for twenty minutes.

TL;DR
=====
A rate-limit config push rejected every checkout call.

Root causes
-----------
The push set the limit to zero requests per second.

```
## not a heading inside a fence
```

### Day two
A follow-up push fixed the typo.

## How we found out
The error-rate page fired after four minutes.
"""

HTML = """\
<!DOCTYPE html>
<html><head><title>Wiki - Payments outage</title>
<style>.root-cause { color: red }</style>
<script>var note = "Root cause: not this";</script></head>
<body><nav><a href="/">Home</a></nav>
<h1>Payments outage</h1>
<p>Card payments failed  for
   half an hour.</p>
<h2>Customer impact</h2>
<ul><li>Checkout failed</li><li>Refunds were delayed</li></ul>
<h2>Timeline</h2>
<table><tr><th>Time</th><th>Event</th></tr>
<tr><td>10:00</td><td>Deploy &amp; alert</td></tr></table>
<h2>Resolution</h2>
<pre>kubectl rollout undo
  deploy/payments</pre>
</body></html>
"""

TEXT = """\
Inventory database ran out of disk

Services affected: inventory, inventory-db
Date: 2025-02-10

SUMMARY:
The inventory database stopped accepting writes when its volume filled up.

Root cause: WAL archiving was broken. Mitigation: the volume was grown and archiving fixed.

What went well?

- Failover worked.
"""


def record(title: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": title,
        "link": ["https://status.example.com/incident/1"],
        "time": "06/04/2011",
        "summary": f"Summary of {title}.",
        "details": (
            "Root cause: engineers found that a configuration change removed every route. "
            "Mitigation: engineers rolled the configuration change back in all regions."
        ),
        "service_name": ["Compute Engine", "Load Balancer"],
        "impact symptom": ["availability", "performance"],
        "duration": 42,
        "detection": {"method": "automate", "tool": ["monitoring"]},
        "manifestation": ["service unavailable", {"business kpi": ["error rate"]}],
        "root cause": {
            "label": [
                {"layer-1": "internal causes", "layer-2": "software bugs", "layer-3": "config"}
            ],
            "details": "Engineers found that a configuration change removed every route.",
        },
        "operation": ["deployment"],
        "human error": False,
        "mitigation": {
            "label": ["roll back"],
            "details": "Engineers rolled the configuration change back in all regions.",
            "troubleshooting": {"1": "roll back"},
        },
        "verification": "someone",
    }
    base.update(extra)
    return base


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def one(result: ReadResult) -> Document:
    assert len(result.documents) == 1, result.warnings
    return result.documents[0]


def outline(doc: Document) -> list[tuple[str, str]]:
    return [(section.name.value, section.heading) for section in doc.sections]


def text_of(doc: Document, heading: str) -> str:
    return next(section.text for section in doc.sections if section.heading == heading)


# --- formats --------------------------------------------------------------------------------


def test_markdown_front_matter_setext_and_nested_headings(tmp_path: Path) -> None:
    doc = one(read_documents([write(tmp_path / "checkout.md", MARKDOWN)]))
    assert doc.title == "Checkout outage after a config push"
    assert doc.date == date(2025, 3, 4)
    assert doc.services == ("checkout", "payments")
    assert doc.root_cause_category == "config"
    assert outline(doc) == [
        ("other", ""),  # the document has a TL;DR, so its opening line is not the summary
        ("summary", "TL;DR"),
        ("root_cause", "Root causes"),
        ("root_cause", "Day two"),  # inherits its parent heading's section
        ("detection", "How we found out"),
    ]
    assert "## not a heading inside a fence" in text_of(doc, "Root causes")


def test_markdown_first_h1_is_the_title_and_not_a_section(tmp_path: Path) -> None:
    path = write(tmp_path / "pm.md", "# DNS stalls\n\nCatalog pages stalled.\n\n## Impact\nSlow.\n")
    doc = one(read_documents([path]))
    assert doc.title == "DNS stalls"
    # the text under the title is the summary: there is no summary heading
    assert outline(doc) == [("summary", ""), ("impact", "Impact")]


def test_html_headings_lists_tables_and_no_script_or_style(tmp_path: Path) -> None:
    doc = one(read_documents([write(tmp_path / "payments.html", HTML)]))
    assert doc.title == "Payments outage"
    assert outline(doc) == [
        ("summary", ""),
        ("impact", "Customer impact"),
        ("timeline", "Timeline"),
        ("mitigation", "Resolution"),
    ]
    assert doc.sections[0].text == "Card payments failed for half an hour."
    assert text_of(doc, "Customer impact") == "- Checkout failed\n- Refunds were delayed"
    assert text_of(doc, "Timeline") == "Time | Event\n10:00 | Deploy & alert"
    assert text_of(doc, "Resolution") == "kubectl rollout undo\n  deploy/payments"
    everything = " ".join(section.text for section in doc.sections)
    assert "not this" not in everything and "color" not in everything and "Home" not in everything


def test_html_without_h1_uses_the_page_title(tmp_path: Path) -> None:
    page = "<html><head><title>Queue lag</title></head><body><h2>Impact</h2><p>Late.</p></body>"
    assert one(read_documents([write(tmp_path / "lag.htm", page)])).title == "Queue lag"


def test_text_title_line_labels_and_headings(tmp_path: Path) -> None:
    doc = one(read_documents([write(tmp_path / "disk.txt", TEXT)]))
    assert doc.title == "Inventory database ran out of disk"
    assert doc.services == ("inventory", "inventory-db")
    assert doc.date == date(2025, 2, 10)
    assert outline(doc) == [
        ("other", ""),
        ("summary", "SUMMARY"),
        ("root_cause", "Root cause"),
        ("mitigation", "Mitigation"),
        ("contributing_factors", "What went well?"),
    ]
    assert text_of(doc, "Root cause") == "WAL archiving was broken."
    assert text_of(doc, "Mitigation") == "the volume was grown and archiving fixed."


def test_text_without_a_title_line_is_named_by_its_first_sentence(tmp_path: Path) -> None:
    text = "The cache expired at once and the database melted. It took an hour.\n"
    doc = one(read_documents([write(tmp_path / "notes", text)]))
    assert doc.title == "The cache expired at once and the database melted."
    assert outline(doc) == [("summary", "")]


def test_untitled_text_lead_is_the_summary_and_the_rest_other(tmp_path: Path) -> None:
    lead = "The queue stopped draining at noon. " * 5
    text = f"Queue stall\n\n{lead}\n\n- 12:00 alert\n- 12:30 fixed\n\nLater we found the bug.\n"
    doc = one(read_documents([write(tmp_path / "stall.txt", text)]))
    assert [(s.name, s.text) for s in doc.sections] == [
        (SectionName.SUMMARY, lead.strip()),
        (SectionName.OTHER, "- 12:00 alert\n- 12:30 fixed\n\nLater we found the bug."),
    ]


def test_json_records_become_one_document_each(tmp_path: Path) -> None:
    data = {"gce-1": record("Network outage"), "gce-2": record("Disk outage", time="12/31/2019")}
    path = write(tmp_path / "Google" / "gce.json", json.dumps(data))
    result = read_documents([tmp_path])
    assert result.warnings == []
    first, second = result.documents
    assert (first.doc_id, second.doc_id) == ("Google/gce.json#gce-1", "Google/gce.json#gce-2")
    assert first.source == f"{path.resolve()}#gce-1"
    assert first.title == "Network outage"
    assert (first.date, second.date) == (date(2011, 6, 4), date(2019, 12, 31))
    assert first.url == "https://status.example.com/incident/1"
    assert first.services == ("Compute Engine", "Load Balancer")
    assert first.root_cause_category == "internal causes/software bugs"
    assert outline(first) == [
        ("summary", "Summary"),
        ("impact", "Impact"),
        ("detection", "Detection"),
        ("root_cause", "Root cause"),  # from the "Root cause:" label in details
        ("mitigation", "Mitigation"),
        ("root_cause", "Root cause"),  # the annotated fields; repeated details dropped
        ("mitigation", "Mitigation"),
    ]
    impact = text_of(first, "Impact")
    assert "Impact: availability, performance." in impact
    assert "Manifestation: service unavailable; business kpi: error rate." in impact
    assert "Duration: 42 minutes." in impact
    assert text_of(first, "Detection") == "Detection method: automated.\nDetected by: monitoring."
    annotated = first.sections[5].text
    assert annotated == (
        "Root cause category: internal causes / software bugs / config.\n"
        "Triggering operation: deployment."
    )
    assert "someone" not in json.dumps([s.text for s in first.sections])


def test_json_details_without_labels_are_other_or_timeline(tmp_path: Path) -> None:
    timeline = "At 10:00 a deploy began. At 10:05 errors rose. At 10:30 it was rolled back."
    data = {
        "a": record("Story", details="A long story without any labels at all, told plainly."),
        "b": record("Times", details=timeline),
    }
    story, times = read_documents([write(tmp_path / "r.json", json.dumps(data))]).documents
    assert ("other", "Details") in outline(story)
    assert ("timeline", "Details") in outline(times)


def test_json_single_record_and_unusable_json(tmp_path: Path) -> None:
    write(tmp_path / "single.json", json.dumps(record("Solo", link=[])))
    write(tmp_path / "package.json", json.dumps({"name": "x", "version": "1"}))
    write(tmp_path / "broken.json", "{not json")
    write(tmp_path / "mixed.json", json.dumps({"ok": record("Fine"), "junk": 3}))
    result = read_documents([tmp_path], url_base="https://wiki.example.com/pm")
    ids = [doc.doc_id for doc in result.documents]
    assert ids == ["mixed.json#ok", "single.json"]
    # a record's own link beats url_base; one without a link gets url_base + path
    assert result.documents[0].url == "https://status.example.com/incident/1"
    assert result.documents[1].url == "https://wiki.example.com/pm/single.json"
    assert result.warnings[0].startswith(f"{tmp_path / 'broken.json'}: skipped, invalid JSON")
    assert result.warnings[1] == (
        f"{tmp_path / 'mixed.json'}#junk: skipped, not an incident record (needs title and summary)"
    )
    assert result.warnings[2].startswith(f"{tmp_path / 'package.json'}: skipped, JSON but not")


def test_unknown_extensions_are_sniffed(tmp_path: Path) -> None:
    write(tmp_path / "notes.log", "Cache stampede\n\nImpact: pages were slow for an hour.\n")
    write(tmp_path / "page.xyz", "<!DOCTYPE html><html><body><h1>Web page</h1><p>x</p></body>")
    write(tmp_path / "blob.bin", bytes(range(128, 256)) * 8)
    result = read_documents([tmp_path])
    assert [(doc.doc_id, doc.title) for doc in result.documents] == [
        ("notes.log", "Cache stampede"),
        ("page.xyz", "Web page"),
    ]
    assert result.warnings == [f"{tmp_path / 'blob.bin'}: skipped, binary file"]


# --- metadata -------------------------------------------------------------------------------


def test_demo_postmortems_metadata_from_bullet_lines() -> None:
    result = read_documents([DEMO])
    assert result.warnings == []
    assert len(result.documents) == len(list(DEMO.glob("*.md")))
    dns = next(doc for doc in result.documents if doc.doc_id == "pm-2025-003-dns-timeouts.md")
    assert dns.title.startswith("PM-2025-003: Five-second stalls")
    assert dns.date == date(2025, 1, 21)
    assert dns.services == ("catalog", "catalog-db", "frontend", "coredns")
    assert dns.root_cause_category == "dns"
    for doc in result.documents:
        assert doc.date is not None and doc.services and doc.root_cause_category, doc.doc_id
        assert {s.name for s in doc.sections} >= {SectionName.SUMMARY, SectionName.ROOT_CAUSE}


def test_dates_are_read_conservatively(tmp_path: Path) -> None:
    write(tmp_path / "2024-05-01_db-failover.md", "## Summary\nThe primary failed over.\n")
    write(tmp_path / "20230102-cache.txt", "Cache outage\n\nIt broke.\n")
    write(tmp_path / "ambiguous.txt", "Outage of 03/04/2025\n\nIt broke on 03/04/2025.\n")
    write(tmp_path / "invalid.txt", "Outage of 2025-02-30\n\nIt broke.\n")
    write(tmp_path / "body.txt", "Outage\n\nIt began at 2022-11-09 10:00 UTC.\n")
    docs = {doc.doc_id: doc for doc in read_documents([tmp_path]).documents}
    assert docs["2024-05-01_db-failover.md"].date == date(2024, 5, 1)
    assert docs["2024-05-01_db-failover.md"].title == "Db failover"  # no H1: the file name
    assert docs["20230102-cache.txt"].date == date(2023, 1, 2)
    assert docs["ambiguous.txt"].date is None
    assert docs["invalid.txt"].date is None
    assert docs["body.txt"].date == date(2022, 11, 9)


@pytest.mark.parametrize(
    "line",
    [
        "Services: " + "all of the regional services that depend on the shared queue " * 2,
        "Affected services: Compute Engine, Kubernetes Engine, App\nEngine and Cloud Run.",
    ],
)
def test_services_line_that_is_prose_or_cut_is_ignored(tmp_path: Path, line: str) -> None:
    doc = one(read_documents([write(tmp_path / "a.txt", f"Queue outage\n\n{line}\n")]))
    assert doc.services == ()


# --- ids, urls, hashes ----------------------------------------------------------------------


def test_ids_are_relative_posix_paths_and_urls_follow_url_base(tmp_path: Path) -> None:
    write(tmp_path / "team a" / "pm 1.md", "# One\n\nText one.\n")
    write(tmp_path / "two.md", "# Two\n\nText two.\n")
    result = read_documents([tmp_path], url_base="https://wiki.example.com/pm/")
    assert [doc.doc_id for doc in result.documents] == ["team a/pm 1.md", "two.md"]
    assert result.documents[0].url == "https://wiki.example.com/pm/team%20a/pm%201.md"
    assert result.documents[0].source == str((tmp_path / "team a" / "pm 1.md").resolve())
    plain = read_documents([tmp_path])
    assert plain.documents[0].url == (tmp_path / "team a" / "pm 1.md").resolve().as_uri()
    assert plain.roots == [tmp_path.resolve()]


def test_a_file_given_directly_is_named_by_its_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "deep" / "pm.md", "# One\n\nText.\n")
    result = read_documents([path])
    assert one(result).doc_id == "pm.md"
    assert result.roots == [path.resolve()]


def test_ids_and_hashes_are_stable_across_runs_and_mtimes(tmp_path: Path) -> None:
    path = write(tmp_path / "pm.md", MARKDOWN)
    before = one(read_documents([tmp_path]))
    os.utime(path, (1_000_000_000, 1_000_000_000))
    after = one(read_documents([tmp_path]))
    assert (before.doc_id, before.content_hash) == (after.doc_id, after.content_hash)
    assert len(before.content_hash) == 64


def test_hash_changes_iff_content_changes(tmp_path: Path) -> None:
    path = write(tmp_path / "pm.md", MARKDOWN)
    original = one(read_documents([tmp_path])).content_hash
    # the same content with Windows line endings and trailing blanks: same document
    path.write_bytes(MARKDOWN.replace("\n", "   \r\n").encode())
    assert one(read_documents([tmp_path])).content_hash == original
    for changed in (
        MARKDOWN.replace("zero requests", "zero calls"),  # a section's text
        MARKDOWN.replace("date: 2025-03-04", "date: 2025-03-05"),  # metadata
        MARKDOWN.replace("Root causes", "Cause"),  # a heading
    ):
        path.write_text(changed, encoding="utf-8")
        assert one(read_documents([tmp_path])).content_hash != original
    path.write_text(MARKDOWN, encoding="utf-8")
    assert one(read_documents([tmp_path], url_base="https://w.example")).content_hash != original
    assert one(read_documents([tmp_path])).content_hash == original


# --- warnings, and nothing else lost --------------------------------------------------------


def test_duplicates_are_reported_and_skipped(tmp_path: Path) -> None:
    write(tmp_path / "a.md", MARKDOWN)
    write(tmp_path / "copy" / "a.md", MARKDOWN)
    write(tmp_path / "b.md", "# Other\n\nSomething else.\n")
    result = read_documents([tmp_path])
    assert [doc.doc_id for doc in result.documents] == ["a.md", "b.md"]
    assert result.warnings == [
        f"{tmp_path / 'copy' / 'a.md'}: duplicate of {tmp_path / 'a.md'} (same content)"
    ]


def test_same_relative_path_under_two_roots_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "one" / "pm.md", "# One\n\nFirst.\n")
    write(tmp_path / "two" / "pm.md", "# Two\n\nSecond.\n")
    result = read_documents([tmp_path / "one", tmp_path / "two"])
    assert [doc.title for doc in result.documents] == ["One"]
    assert result.warnings == [
        f"{tmp_path / 'two' / 'pm.md'}: skipped, id 'pm.md' is used by {tmp_path / 'one' / 'pm.md'}"
    ]


def test_binary_non_utf8_and_empty_files_warn_and_the_rest_is_read(tmp_path: Path) -> None:
    write(tmp_path / "a-diagram.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path / "b-legacy.txt", "Café outage\n\nThe café database failed.\n".encode("cp1252"))
    write(tmp_path / "c-empty.md", "")
    write(tmp_path / "d-blank.txt", "  \n\n\t\n")
    write(tmp_path / "e-headings-only.md", "# \n\n## Summary\n")
    write(tmp_path / "f-utf16.txt", "Queue lag\n\nConsumers fell behind.\n".encode("utf-16"))
    write(tmp_path / "g-good.md", "# Good\n\nA fine postmortem.\n")
    result = read_documents([tmp_path])
    assert [doc.doc_id for doc in result.documents] == ["b-legacy.txt", "f-utf16.txt", "g-good.md"]
    assert result.documents[0].title == "Café outage"
    assert result.documents[1].title == "Queue lag"
    assert result.warnings == [
        f"{tmp_path / 'a-diagram.png'}: skipped, binary file",
        f"{tmp_path / 'b-legacy.txt'}: not UTF-8, read as Windows-1252"
        " (undecodable bytes replaced)",
        f"{tmp_path / 'c-empty.md'}: empty",
        f"{tmp_path / 'd-blank.txt'}: empty",
        f"{tmp_path / 'e-headings-only.md'}: empty",
    ]


def test_bad_front_matter_is_reported_and_the_body_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "pm.md", "---\ntitle: [unclosed\n---\n# Real title\n\nBody.\n")
    result = read_documents([path])
    assert one(result).title == "Real title"
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(f"{path}: front matter is not valid YAML")


def test_directory_walk_is_sorted_recursive_and_skips_hidden_and_licence(tmp_path: Path) -> None:
    write(tmp_path / "b.md", "# B\n\nb text.\n")
    write(tmp_path / "a" / "z.txt", "Z outage\n\nz text.\n")
    write(tmp_path / "a" / "y" / "x.md", "# X\n\nx text.\n")
    write(tmp_path / ".git" / "HEAD.md", "# hidden dir\n\nno.\n")
    write(tmp_path / ".DS_Store", b"\x00\x01")
    write(tmp_path / "a" / ".notes.md", "# hidden file\n\nno.\n")
    write(tmp_path / "LICENSE", "MIT License\n\nPermission is hereby granted.\n")
    result = read_documents([tmp_path])
    assert [doc.doc_id for doc in result.documents] == ["a/y/x.md", "a/z.txt", "b.md"]
    assert result.warnings == [f"{tmp_path / 'LICENSE'}: skipped, licence file"]


def test_missing_path_is_reported_and_not_a_root(tmp_path: Path) -> None:
    write(tmp_path / "pm.md", "# One\n\nText.\n")
    missing = tmp_path / "gone"
    result = read_documents([missing, tmp_path, tmp_path])
    assert [doc.doc_id for doc in result.documents] == ["pm.md"]
    assert result.roots == [tmp_path.resolve()]  # given twice, walked once
    assert result.warnings == [f"{missing}: not found, skipped"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"plain ascii", "plain ascii"),
        ("naïve".encode(), "naïve"),
        (b"\xef\xbb\xbfwith bom", "with bom"),
        (b"nul\x00inside", None),
        (bytes(range(1, 32)) * 10, None),
    ],
)
def test_decode(data: bytes, expected: str | None) -> None:
    assert decode(data)[0] == expected
