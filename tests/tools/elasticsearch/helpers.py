"""Building an :class:`ElasticsearchLogs` for a test (against the noida-db stand-in of
tests/servers/elasticsearch.py, or the canned-answer stand-in of tests/servers/canned.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tools.elasticsearch.logs import ElasticsearchLogs, make_client
from tools.elasticsearch.settings import LogsSettings
from tools.links import Links
from tools.resilience import Resilience
from tools.settings import LinksSettings


@asynccontextmanager
async def connect(
    settings: LogsSettings, *, links: Links | None = None, resilience: Resilience | None = None
) -> AsyncIterator[ElasticsearchLogs]:
    """The backend for ``settings`` on a fresh read-only client, closed when the block ends."""
    es = make_client(settings)
    try:
        yield ElasticsearchLogs(
            es, settings, links or Links(LinksSettings()), resilience or Resilience("elasticsearch")
        )
    finally:
        await es.close()
