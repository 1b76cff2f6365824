"""similar_postmortems over a real index (real embedding model, embedded Chroma in tmp)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.demo import postmortems_dir
from retrieval.chunking import chunk_document
from retrieval.documents import read_documents
from retrieval.index import PostmortemIndex
from retrieval.settings import RetrievalSettings
from tools.deps import Deps
from tools.gateway import ToolGateway
from tools.postmortems import Hit
from tools.result import ToolStatus
from tools.similar_postmortems import similar_postmortems

POOL = "payments connections leaked after a release; the database pool was exhausted"


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[PostmortemIndex]:
    opened = await PostmortemIndex.open(RetrievalSettings(chroma_path=tmp_path / "index"))
    read = read_documents([postmortems_dir()])
    await opened.ingest(read.documents, read.roots, chunk_document)
    try:
        yield opened
    finally:
        opened.close()


async def test_the_resembling_postmortem_comes_first_with_its_section(
    index: PostmortemIndex,
) -> None:
    result = await ToolGateway(Deps(postmortems=index)).call(similar_postmortems, POOL, k=3)
    assert result.status is ToolStatus.OK
    assert result.data is not None and len(result.data) == 3
    top = result.evidence[0]
    assert "PM-2025-038" in top.title
    assert top.key == "postmortem:pm-2025-038-payments-pool-exhaustion.md"
    assert top.source.value == "postmortem"
    assert top.link is not None and top.link.startswith("file://")
    assert top.query.startswith('rcabot search "payments connections leaked')
    assert "section says" in top.summary and top.excerpt
    assert len({e.key for e in result.evidence}) == 3  # one hit per document


async def test_filters_narrow_the_search(index: PostmortemIndex) -> None:
    gateway = ToolGateway(Deps(postmortems=index))
    result = await gateway.call(similar_postmortems, POOL, services=("payments",), k=10)
    assert result.data
    assert all("payments" in h.document.services for h in result.data)
    future = await gateway.call(similar_postmortems, POOL, since=date(2100, 1, 1))
    assert future.status is ToolStatus.OK
    assert future.evidence == []
    assert future.warnings == ["no ingested postmortem matches"]


async def test_without_an_index_the_tool_says_why() -> None:
    deps = Deps(unavailable={"postmortems": "no postmortems ingested in X"})
    result = await ToolGateway(deps).call(similar_postmortems, POOL)
    assert result.status is ToolStatus.UNAVAILABLE
    assert result.error == "no postmortems ingested in X"


@pytest.mark.parametrize("query", ["", "   \n", "x" * 10_001])
async def test_a_blank_or_huge_query_is_refused_before_searching(query: str) -> None:
    class NeverSearched:
        async def search(self, *args: object, **kwargs: object) -> list[Hit]:
            raise AssertionError("the index was searched")

    result = await ToolGateway(Deps(postmortems=NeverSearched())).call(similar_postmortems, query)
    assert result.status is ToolStatus.ERROR
    assert result.error is not None and result.error.startswith("invalid arguments: query:")
