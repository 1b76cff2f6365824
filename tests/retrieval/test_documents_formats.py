"""The format readers on small strings, and the heading → section keyword table."""

from __future__ import annotations

import pytest

from retrieval.formats import (
    Outline,
    clean_heading,
    parse_markdown,
    parse_text,
    split_labels,
)
from retrieval.html_outline import parse_html
from retrieval.sections import section_for_heading
from tools.postmortems import SectionName


def headings(outline: Outline) -> list[tuple[str, int]]:
    return [(block.heading, block.level) for block in outline.blocks[1:]]


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Summary", SectionName.SUMMARY),
        ("Overview", SectionName.SUMMARY),
        ("TL;DR", SectionName.SUMMARY),
        ("What happened", SectionName.SUMMARY),
        ("ISSUE SUMMARY", SectionName.SUMMARY),
        ("Impact", SectionName.IMPACT),
        ("Customer impact", SectionName.IMPACT),
        ("Summary of impact", SectionName.IMPACT),  # the head noun follows "of"
        ("DETAILED DESCRIPTION OF IMPACT", SectionName.IMPACT),
        ("Timeline", SectionName.TIMELINE),
        ("Chronology", SectionName.TIMELINE),
        ("Detection", SectionName.DETECTION),
        ("How we found out", SectionName.DETECTION),
        ("Could this have been detected earlier?", SectionName.DETECTION),
        ("Root cause", SectionName.ROOT_CAUSE),
        ("2. Root Causes", SectionName.ROOT_CAUSE),
        ("Cause", SectionName.ROOT_CAUSE),
        ("What went wrong", SectionName.ROOT_CAUSE),
        ("Why did it happen?", SectionName.ROOT_CAUSE),
        ("Root cause and mitigation", SectionName.ROOT_CAUSE),  # the first keyword wins
        ("Contributing factors", SectionName.CONTRIBUTING_FACTORS),
        ("Contributing Factors (findings)", SectionName.CONTRIBUTING_FACTORS),
        ("Lessons Learned", SectionName.CONTRIBUTING_FACTORS),
        ("What went well?", SectionName.CONTRIBUTING_FACTORS),
        ("Where did we get lucky?", SectionName.CONTRIBUTING_FACTORS),
        ("Mitigation", SectionName.MITIGATION),
        ("Resolution", SectionName.MITIGATION),
        ("Recovery", SectionName.MITIGATION),
        ("REMEDIATION AND PREVENTION", SectionName.MITIGATION),
        ("Workaround", SectionName.MITIGATION),
        ("Action items", SectionName.ACTION_ITEMS),
        ("Follow-ups", SectionName.ACTION_ITEMS),
        ("Next steps", SectionName.ACTION_ITEMS),
        ("Corrective actions", SectionName.ACTION_ITEMS),
        ("Actions to Prevent Recurrence", SectionName.ACTION_ITEMS),
        ("Attendees", SectionName.OTHER),
        ("Stats", SectionName.OTHER),
        ("Background", SectionName.OTHER),
        ("Multi-Factor Authentication", SectionName.OTHER),
        ("Service credit for affected customers", SectionName.OTHER),
        ("", SectionName.OTHER),
    ],
)
def test_section_for_heading(heading: str, expected: SectionName) -> None:
    assert section_for_heading(heading) is expected


def test_clean_heading_drops_markup() -> None:
    assert clean_heading("**Root cause**:") == "Root cause"
    assert clean_heading("[Status dashboard](/status)") == "Status dashboard"
    assert clean_heading("[![Logo](//x/logo-") == "Logo"
    assert clean_heading("`kube-proxy`  restarts") == "kube-proxy restarts"


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_atx_and_setext_levels() -> None:
    text = "# Title\nintro\n\nFirst\n=====\n\nSecond one\n----------\nbody\n\n### Third ###\nx\n"
    outline = parse_markdown(text)
    assert outline.title == "Title"
    assert headings(outline) == [("", 0), ("First", 1), ("Second one", 2), ("Third", 3)]
    assert outline.blocks[1].lines == ["intro", ""]


def test_markdown_rules_tables_comments_and_list_dashes() -> None:
    text = (
        "## Timeline\n<!-- fill in -->\n| Time  | Event  |\n| :---- | ------ |\n"
        "| 10:00 | Deploy |\n\n---\n\n- item one\n---\nafter\n"
    )
    outline = parse_markdown(text)
    assert headings(outline) == [("Timeline", 2)]  # neither "---" is a setext underline
    assert [line for line in outline.blocks[1].lines if line] == [
        "| Time | Event |",  # padding squeezed, the rule under the header dropped
        "| 10:00 | Deploy |",
        "- item one",
        "after",
    ]


def test_markdown_front_matter_title_keeps_a_different_h1_as_section() -> None:
    outline = parse_markdown("---\ntitle: Declared\n---\n# Summary\nText.\n")
    assert outline.title is None  # the caller uses the declared title
    assert outline.front_matter == {"title": "Declared"}
    assert headings(outline) == [("Summary", 1)]
    repeated = parse_markdown("---\ntitle: Declared\n---\n# Declared\nText.\n")
    assert repeated.title == "Declared"


def test_markdown_front_matter_problems() -> None:
    assert parse_markdown("---\n- a list\n---\nbody\n").warnings == [
        "front matter is not a mapping, ignored"
    ]
    unclosed = parse_markdown("---\ntitle: x\nno end\n")
    assert unclosed.front_matter == {} and unclosed.warnings == []


# --- plain text -----------------------------------------------------------------------------


def test_text_heading_rules() -> None:
    text = "\n".join(
        [
            "Database failover went wrong",  # title line
            "",
            "Opening paragraph of the report.",
            "",
            "ROOT CAUSE:",  # known keyword with colon
            "A bad config.",
            "",
            "SLA CREDITS",  # all caps after a blank line
            "Ask support.",
            "",
            "Things we tried:",  # short line ending in ':' after a blank line
            "Restarts.",
            "",
            "Where did we get lucky?",  # stand-alone question
            "",
            "Nobody was on holiday.",
            "",
            "Impact on the Storage Tier",  # Title Case, alone between blank lines
            "",
            "Writes stalled.",
            "",
            "Timeline",  # a known keyword on its own
            "10:00 deploy",
        ]
    )
    outline = parse_text(text)
    assert outline.title == "Database failover went wrong"
    assert headings(outline) == [
        ("ROOT CAUSE:", 0),
        ("SLA CREDITS", 0),
        ("Things we tried:", 0),
        ("Where did we get lucky?", 0),
        ("Impact on the Storage Tier", 0),
        ("Timeline", 0),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "We saw this:",  # not after a blank line (see below): part of a paragraph
        "Heartbeat and",  # a wrapped sentence ending in a function word
        "STONITH (Shoot The Other Node",  # unbalanced parenthesis
        "On the 27th of November",  # starts a word with a digit
        "Affected Services: Compute, Storage",  # a label with commas, read as metadata
        "Asher, could you give us a summary on that?",
        "- Root cause: a bullet is never a heading",
        "[1] <https://cloud.example.com/docs/overview#group>",
        "한국어로 읽기",  # no cased letters: not all caps
    ],
)
def test_text_lines_that_are_not_headings(line: str) -> None:
    text = f"Title line\n\nSome prose first\n{line}\n\nMore prose after it.\n"
    if not line.startswith("We saw"):
        text = f"Title line\n\nSome prose first.\n\n{line}\n\nMore prose after it.\n"
    assert headings(parse_text(text)) == []


def test_text_labels_open_sections_at_line_start_and_after_sentences() -> None:
    text = (
        "Storage - West Europe\n"
        "Summary of impact: Between 10:00 and 11:00 UTC writes failed. Root cause: a bad "
        "deployment at 10:00 UTC. Note: this is not a label.\n"
        "Mitigation: rolled back.\n"
    )
    outline = parse_text(text)
    assert [(b.heading, b.lines) for b in outline.blocks] == [
        ("", []),
        ("Summary of impact", ["Between 10:00 and 11:00 UTC writes failed."]),
        ("Root cause", ["a bad deployment at 10:00 UTC. Note: this is not a label."]),
        ("Mitigation", ["rolled back.", ""]),
    ]


def test_split_labels() -> None:
    assert split_labels("no labels here", inline=True) == [(None, "no labels here")]
    assert split_labels("Lead. Root cause: x. Next steps: y.", inline=True) == [
        (None, "Lead."),
        ("Root cause", "x."),
        ("Next steps", "y."),
    ]
    assert split_labels("Lead. Root cause: x.", inline=False) == [(None, "Lead. Root cause: x.")]
    assert split_labels("at 10:25 PM the cause: unknown", inline=True) == [
        (None, "at 10:25 PM the cause: unknown")
    ]


def test_text_markdown_headings_and_navigation_titles() -> None:
    text = (
        "# [![Logo](//cdn.example.com/logo-\nlogo.png)](//example.com)\n\nmenu\n\n"
        "# [Status Dashboard](/)\n\nchrome\n\n# Compute Incident #16002\n\nLead.\n\n"
        "## ROOT CAUSE\n\nA bug.\n"
    )
    outline = parse_text(text)
    assert outline.title == "Compute Incident #16002"
    assert [block.heading for block in outline.blocks] == [
        "",
        "[![Logo](//cdn.example.com/logo-",
        "[Status Dashboard](/)",
        "",
        "ROOT CAUSE",
    ]


def test_text_setext_underline() -> None:
    outline = parse_text("A sentence that is prose.\n\nSummary\n=======\nText.\n")
    assert headings(outline) == [("Summary", 1)]
    titled = parse_text("Disk full on db-3\n=================\n\nImpact\n------\nWrites failed.\n")
    assert titled.title == "Disk full on db-3"
    assert [(b.heading, b.lines) for b in titled.blocks] == [
        ("", [""]),
        ("Impact", ["Writes failed.", ""]),
    ]


# --- HTML -----------------------------------------------------------------------------------


def test_html_unclosed_paragraphs_breaks_and_entities() -> None:
    outline = parse_html("<h2>Impact</h2><p>one<br>two<p>three &lt;4&gt;<div>five</div>")
    assert outline.title is None
    assert headings(outline) == [("Impact", 2)]
    assert outline.blocks[1].lines == ["one", "two", "", "three <4>", "", "five", ""]


def test_html_skips_templates_and_svg() -> None:
    html = (
        "<nav><h2>Menu</h2><ul><li>Home</li></ul></nav><h1>T</h1><template><p>hidden</p>"
        "</template><svg><text>x</text></svg><p>shown</p>"
    )
    outline = parse_html(html)
    assert outline.title == "T"
    assert [block.heading for block in outline.blocks] == ["", ""]
    assert [line for block in outline.blocks for line in block.lines if line] == ["shown"]
