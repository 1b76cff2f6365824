"""What the Slack bot asks of an investigation, on a telemetry bundle or the live backends.

``rcabot serve --bundle DIR`` investigates a bundle (demos, tests, offline drills); without it,
the configured Elasticsearch/Prometheus/Jaeger. The postmortem index is opened once per
process and shared by every investigation and by confirmations (opening it reads the whole
index; embedded Chroma also locks its directory).

In bundle mode "now" is the bundle's end: a ``/rca x 30m`` means the bundle's last 30
minutes, and an alert that started outside the bundle's data is placed at the bundle's own
alert of that name (or its end), so drills work on recorded incidents.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from bot import ask_commands, commands
from bot.config import Settings
from bot.investigation.conversation import Conversation
from bot.investigation.report import Report
from bot.postmortems import index_exists
from retrieval.chunking import chunk_document
from retrieval.index import PostmortemIndex
from tools.bundle.reader import load_bundle
from tools.errors import InvestigationError, RetrievalError
from tools.evidence import TimeWindow
from tools.postmortems import Document
from tools.records import Alert

MAX_REMEMBERED_ALERTS = 200  # alert names /rca can refer to (this replica's recent alerts)


class Investigations(Protocol):
    """What the bot asks of investigations: :class:`Investigator` on the bot's loop, or
    ``bot.slack.worker.InvestigationProcess`` in a child process (the same methods)."""

    def remember_alert(self, alert: Alert) -> None: ...

    def known_alert(self, name: str) -> Alert | None: ...

    async def rca(
        self,
        target: str,
        *,
        window: TimeWindow | None = None,
        duration: timedelta | None = None,
        on_progress: commands.OnProgress | None = None,
    ) -> Report: ...

    async def alert(
        self,
        alert: Alert,
        *,
        window: TimeWindow | None = None,
        on_progress: commands.OnProgress | None = None,
    ) -> Report: ...

    async def ask(
        self,
        question: str,
        *,
        history: Conversation | None = None,
        service: str | None = None,
        on_progress: commands.OnProgress | None = None,
    ) -> Report: ...

    async def record(self, document: Document) -> None: ...

    async def aclose(self) -> None: ...


class RecentAlerts:
    """The alerts this replica saw lately, by name (what ``/rca <alert>`` can refer to), and
    the bundle's own alerts in bundle mode."""

    def __init__(self, recorded: tuple[Alert, ...] = ()) -> None:
        self._recorded = {a.name: a for a in recorded}
        self._seen: OrderedDict[str, Alert] = OrderedDict()

    def remember(self, alert: Alert) -> None:
        self._seen[alert.name] = alert
        self._seen.move_to_end(alert.name)
        while len(self._seen) > MAX_REMEMBERED_ALERTS:
            self._seen.popitem(last=False)

    def get(self, name: str) -> Alert | None:
        return self._recorded.get(name) or self._seen.get(name)


@dataclass(frozen=True, slots=True)
class BundleFacts:
    """What the bot needs to know about its bundle before investigating it."""

    path: Path
    window: TimeWindow
    services: tuple[str, ...]
    alerts: tuple[Alert, ...]


class Investigator:
    def __init__(
        self,
        settings: Settings,
        *,
        bundle: BundleFacts | None = None,
        index: PostmortemIndex | None = None,
    ) -> None:
        self.settings = settings
        self.bundle = bundle
        self.index = index
        self._alerts = RecentAlerts(bundle.alerts if bundle is not None else ())
        self._index_lock = asyncio.Lock()

    @classmethod
    async def open(cls, settings: Settings, bundle: Path | None = None) -> Investigator:
        """Read the bundle's facts (when given) and open the postmortem index (when there is
        one: an index that cannot be opened leaves investigations without past incidents)."""
        facts = None
        if bundle is not None:
            loaded = await asyncio.to_thread(load_bundle, bundle)
            facts = BundleFacts(
                bundle, loaded.window, tuple(loaded.services), tuple(loaded.alerts or ())
            )
        index = None
        if index_exists(settings.retrieval):
            try:
                index = await PostmortemIndex.open(settings.retrieval)
            except RetrievalError:
                index = None  # each report says why (postmortem_source opens it and fails)
        return cls(settings, bundle=facts, index=index)

    async def aclose(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None

    async def shared_index(self) -> PostmortemIndex:
        """The index, opened (created when there is none yet) on first need."""
        async with self._index_lock:
            if self.index is None:
                self.index = await PostmortemIndex.open(self.settings.retrieval)
            return self.index

    async def record(self, document: Document) -> None:
        """Add ``document`` (a confirmed cause) to the postmortem index; nothing is removed.
        :class:`~tools.errors.RetrievalError` when the index cannot take it."""
        index = await self.shared_index()
        await index.ingest([document], [], chunk_document)

    # -- what /rca can name -----------------------------------------------------------------

    def remember_alert(self, alert: Alert) -> None:
        self._alerts.remember(alert)

    def known_alert(self, name: str) -> Alert | None:
        return self._alerts.get(name)

    # -- investigations ---------------------------------------------------------------------

    async def rca(
        self,
        target: str,
        *,
        window: TimeWindow | None = None,
        duration: timedelta | None = None,
        on_progress: commands.OnProgress | None = None,
    ) -> Report:
        """``/rca <alert|service> [window]``: an alert name rcabot knows, else a service."""
        alert = self.known_alert(target)
        if self.bundle is not None and duration is not None:
            window = TimeWindow(start=self.bundle.window.end - duration, end=self.bundle.window.end)
        if alert is not None:
            return await self.alert(alert, window=window, on_progress=on_progress)
        if self.bundle is not None:
            if target not in self.bundle.services:
                known = ", ".join(self.bundle.services[:20])
                raise InvestigationError(
                    f"no alert or service named {target!r} here; known services: {known}"
                )
            return await commands.investigate_bundle(
                self.settings,
                self.bundle.path,
                service=target,
                window=window,
                on_progress=on_progress,
                index=self.index,
            )
        return await commands.investigate_live(
            self.settings, service=target, window=window, on_progress=on_progress, index=self.index
        )

    async def alert(
        self,
        alert: Alert,
        *,
        window: TimeWindow | None = None,
        on_progress: commands.OnProgress | None = None,
    ) -> Report:
        """An alert from Alertmanager or an alert bot."""
        if self.bundle is None:
            return await commands.investigate_live(
                self.settings, alert=alert, window=window, on_progress=on_progress, index=self.index
            )
        return await commands.investigate_bundle(
            self.settings,
            self.bundle.path,
            alert=self._in_bundle(alert),
            window=window,
            on_progress=on_progress,
            index=self.index,
        )

    async def ask(
        self,
        question: str,
        *,
        history: Conversation | None = None,
        service: str | None = None,
        on_progress: commands.OnProgress | None = None,
    ) -> Report:
        """A question (a mention, or a follow-up in a thread rcabot answered in)."""
        if self.bundle is not None:
            return await ask_commands.ask_bundle(
                self.settings,
                self.bundle.path,
                question,
                history=history,
                on_progress=on_progress,
                index=self.index,
            )
        return await ask_commands.ask_live(
            self.settings,
            question,
            service=service,
            history=history,
            on_progress=on_progress,
            index=self.index,
        )

    def _in_bundle(self, alert: Alert) -> Alert:
        assert self.bundle is not None
        window = self.bundle.window
        if window.start <= alert.starts_at <= window.end:
            return alert
        recorded = next((a for a in self.bundle.alerts if a.name == alert.name), None)
        if recorded is not None:
            return replace(alert, starts_at=recorded.starts_at)
        if not self.bundle.alerts and alert.service not in self.bundle.services:
            raise InvestigationError(
                f"alert {alert.name!r} is about {alert.service or 'no service'}, which is not "
                f"in the bundle; known: {', '.join(self.bundle.services[:20])}"
            )
        start = max(window.start, window.end - timedelta(minutes=10))
        return replace(alert, starts_at=start)
