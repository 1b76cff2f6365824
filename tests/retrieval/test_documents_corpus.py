"""Reading and chunking the real public postmortems (../shared/datasets/postmortems.tar.xz).

The archive is unpacked and read once per module (about a second for ~1,100 documents).
"""

from __future__ import annotations

import tarfile
from collections import Counter
from pathlib import Path

import pytest

from retrieval.chunking import chunk_document
from retrieval.documents import ReadResult, read_documents
from tests.bundles import SHARED_DATASETS
from tools.postmortems import Document, SectionName

ARCHIVE = SHARED_DATASETS / "postmortems.tar.xz"
DEMO = Path(__file__).resolve().parents[2] / "bot" / "demo" / "postmortems"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not ARCHIVE.is_file(), reason=f"dataset {ARCHIVE} is not available"),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("postmortems")
    with tarfile.open(ARCHIVE, "r:xz") as tar:
        tar.extractall(root, filter="data")
    return root


@pytest.fixture(scope="module")
def result(corpus: Path) -> ReadResult:
    return read_documents([corpus])


def under(result: ReadResult, prefix: str) -> list[Document]:
    return [doc for doc in result.documents if doc.doc_id.startswith(prefix)]


def other_share(documents: list[Document]) -> float:
    names = [section.name for doc in documents for section in doc.sections]
    return names.count(SectionName.OTHER) / len(names)


def test_all_structured_reports_become_documents(result: ReadResult) -> None:
    reports = under(result, "anomaly_collection/")
    assert len(reports) == 356
    assert Counter(doc.doc_id.split("/")[1] for doc in reports) == {
        "AWS": 14,
        "Azure": 243,
        "Google": 99,
    }
    for doc in reports:
        assert doc.title and doc.date is not None and doc.services, doc.doc_id
        assert doc.url is not None and doc.url.startswith("http"), doc.doc_id
        assert doc.sections[0].name is SectionName.SUMMARY, doc.doc_id
    labelled = [doc for doc in reports if doc.root_cause_category]
    assert len(labelled) > 300  # the rest are labelled "unknown"
    aws = next(doc for doc in reports if doc.doc_id == "anomaly_collection/AWS/aws.json#aws-1")
    assert aws.date is not None and aws.date.isoformat() == "2011-06-04"


def test_every_dfds_file_reads(result: ReadResult, corpus: Path) -> None:
    files = sorted(
        path.relative_to(corpus).as_posix()
        for path in (corpus / "dfds").iterdir()
        if not path.name.startswith(".") and path.name != "LICENSE"
    )
    assert len(files) >= 38
    assert sorted(doc.doc_id for doc in under(result, "dfds/")) == files
    assert [w for w in result.warnings if "/dfds/" in w] == [
        f"{corpus / 'dfds' / 'LICENSE'}: skipped, licence file"
    ]
    titled = [doc for doc in under(result, "dfds/PM2") if doc.date is not None]
    assert len(titled) >= 35  # dates from the timelines; one postmortem has none


def test_only_empty_files_and_the_licence_are_skipped(result: ReadResult) -> None:
    assert len(result.warnings) <= 15
    assert all(w.endswith((": empty", ": skipped, licence file")) for w in result.warnings)
    texts = under(result, "raw-public/")
    assert len(texts) > 650
    assert all(doc.title for doc in texts)


def test_section_mapping_leaves_a_small_share_as_other(result: ReadResult) -> None:
    dfds = under(result, "dfds/")
    # what is "other" in the DFDS postmortems is their Attendees and Stats lists
    others = {s.heading for doc in dfds for s in doc.sections if s.name is SectionName.OTHER}
    assert others <= {"Attendees", "Atendees", "Stats"}
    assert other_share(dfds) < 0.3
    demo = read_documents([DEMO]).documents
    # the demo postmortems' only "other" text is the metadata list under the title
    assert all(s.heading == "" for doc in demo for s in doc.sections if s.name is SectionName.OTHER)
    assert other_share(demo) < 0.15
    assert other_share(under(result, "anomaly_collection/")) < 0.05
    assert other_share(under(result, "raw-public/azure/")) == 0
    assert other_share(result.documents) < 0.15
    # the Wikimedia reports lost their headings when scraped: their lead is the summary
    wikitech = under(result, "raw-public/wikitech/")
    with_summary = [d for d in wikitech if any(s.name is SectionName.SUMMARY for s in d.sections)]
    assert len(with_summary) > 0.9 * len(wikitech)


def test_whole_corpus_chunks_within_limits(result: ReadResult) -> None:
    chunks = [chunk for doc in result.documents for chunk in chunk_document(doc)]
    assert len(chunks) > 5000
    assert all(len(chunk.body.split()) <= 200 for chunk in chunks)
    assert len({chunk.chunk_id for chunk in chunks}) == len(chunks)


def test_reading_again_gives_the_same_ids_and_hashes(result: ReadResult, corpus: Path) -> None:
    again = read_documents([corpus])
    assert [(d.doc_id, d.content_hash) for d in again.documents] == [
        (d.doc_id, d.content_hash) for d in result.documents
    ]
