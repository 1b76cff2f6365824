"""Investigations in a child process, so the Slack-facing loop stays free to ack.

An investigation is seconds of CPU (template mining, change detection, ranking, embedding) in
steps the event loop cannot interrupt; on the process that acks Slack, every ack would wait
behind them (Slack's deadline is 3 s; rcabot aims at 0.1). So ``rcabot serve`` runs the
:class:`~bot.slack.investigator.Investigator` in one child process (``slack.worker:
process``, the default) with its own event loop, and the bot talks to it through a pipe:

- a request: ``(id, op, args)`` with ``op`` one of rca, alert, ask, record, cancel;
- answers: ``("progress", id, kind, stage, text)`` as the investigation runs, then
  ``("done", id, report JSON)`` or ``("error", id, exception class name, message)``.

One child, not a pool: the postmortem index (embedded Chroma) allows one process. If the child
dies, the investigations it was running fail with a clear error and the next one starts a new
child. ``slack.worker: inline`` runs investigations on the bot's own loop (tests, debugging).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.commands import OnProgress
from bot.config import Settings
from bot.investigation.conversation import Conversation
from bot.investigation.progress import Progress
from bot.investigation.report import Report
from bot.slack.investigator import Investigator, RecentAlerts
from bot.slack.logs import log_event
from tools import errors
from tools.bundle.reader import load_bundle
from tools.errors import InvestigationError, RcabotError
from tools.evidence import TimeWindow
from tools.postmortems import Document
from tools.records import Alert

Message = tuple[Any, ...]


def _alert_args(alert: Alert) -> dict[str, Any]:
    return {
        "name": alert.name,
        "status": alert.status,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "starts_at": alert.starts_at,
        "generator_url": alert.generator_url,
        "fingerprint": alert.fingerprint,
    }


def _alert(args: dict[str, Any]) -> Alert:
    return Alert(
        **(
            args
            | {
                "labels": MappingProxyType(args["labels"]),
                "annotations": MappingProxyType(args["annotations"]),
            }
        )
    )


@dataclass
class _Pending:
    future: asyncio.Future[Report | None]
    on_progress: OnProgress | None


class InvestigationProcess:
    """The :class:`~bot.slack.investigator.Investigator`'s methods, run in a child process."""

    def __init__(self, settings: Settings, bundle: Path | None) -> None:
        self.settings = settings
        self.bundle = bundle
        self._alerts = RecentAlerts()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_lock = asyncio.Lock()

    @classmethod
    async def open(cls, settings: Settings, bundle: Path | None = None) -> InvestigationProcess:
        worker = cls(settings, bundle)
        if bundle is not None:  # fails here, at start, like the inline investigator
            loaded = await asyncio.to_thread(load_bundle, bundle)
            worker._alerts = RecentAlerts(tuple(loaded.alerts or ()))
        await worker._ensure_started()
        return worker

    # -- what /rca can name (kept here: cheap, and needed before asking the child) -----------

    def remember_alert(self, alert: Alert) -> None:
        self._alerts.remember(alert)

    def known_alert(self, name: str) -> Alert | None:
        return self._alerts.get(name)

    # -- the investigations --------------------------------------------------------------------

    async def rca(
        self,
        target: str,
        *,
        window: TimeWindow | None = None,
        duration: timedelta | None = None,
        on_progress: OnProgress | None = None,
    ) -> Report:
        alert = self.known_alert(target)
        args: dict[str, Any] = {"target": target, "window": window, "duration": duration}
        args["alert"] = _alert_args(alert) if alert is not None else None
        return await self._report("rca", args, on_progress)

    async def alert(
        self,
        alert: Alert,
        *,
        window: TimeWindow | None = None,
        on_progress: OnProgress | None = None,
    ) -> Report:
        return await self._report(
            "alert", {"alert": _alert_args(alert), "window": window}, on_progress
        )

    async def ask(
        self,
        question: str,
        *,
        history: Conversation | None = None,
        service: str | None = None,
        on_progress: OnProgress | None = None,
    ) -> Report:
        args = {
            "question": question,
            "history": history.model_dump_json() if history is not None else None,
            "service": service,
        }
        return await self._report("ask", args, on_progress)

    async def record(self, document: Document) -> None:
        await self._call("record", {"document": document}, None)

    async def aclose(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send((0, "stop", {}))
        if process is not None:
            await asyncio.to_thread(process.join, 10)
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join, 5)
        if conn is not None:
            conn.close()
        self._fail_all("the investigation worker was stopped")

    # -- plumbing ------------------------------------------------------------------------------

    async def _report(
        self, op: str, args: dict[str, Any], on_progress: OnProgress | None
    ) -> Report:
        report = await self._call(op, args, on_progress)
        assert report is not None
        return report

    async def _call(
        self, op: str, args: dict[str, Any], on_progress: OnProgress | None
    ) -> Report | None:
        await self._ensure_started()
        assert self._conn is not None and self._loop is not None
        request_id = next(self._ids)
        future: asyncio.Future[Report | None] = self._loop.create_future()
        self._pending[request_id] = _Pending(future, on_progress)
        try:
            self._conn.send((request_id, op, args))
            return await future
        except asyncio.CancelledError:  # the deadline passed: stop it there too
            with contextlib.suppress(OSError, AttributeError):
                self._conn.send((request_id, "cancel", {}))
            raise
        except OSError as exc:
            raise InvestigationError(f"the investigation worker is gone: {exc}") from exc
        finally:
            self._pending.pop(request_id, None)

    async def _ensure_started(self) -> None:
        async with self._start_lock:
            if self._process is not None and self._process.is_alive():
                return
            self._loop = asyncio.get_running_loop()
            context = multiprocessing.get_context("spawn")  # no inherited threads or sockets
            ours, theirs = context.Pipe()
            process = context.Process(
                target=child_main,
                args=(self.settings, self.bundle, theirs),
                name="rcabot-investigations",
                daemon=True,
            )
            await asyncio.to_thread(process.start)
            theirs.close()
            self._conn, self._process = ours, process
            threading.Thread(
                target=self._read, args=(ours, self._loop), name="rcabot-worker-reader", daemon=True
            ).start()
            log_event("worker_started", pid=process.pid)

    def _read(self, conn: Connection, loop: asyncio.AbstractEventLoop) -> None:
        """Pass each answer from the child to the loop (runs in a thread: recv blocks)."""
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                with contextlib.suppress(RuntimeError):  # the loop is closed: nothing waits
                    loop.call_soon_threadsafe(self._gone, conn)
                return
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._deliver, message)

    def _deliver(self, message: Message) -> None:
        kind, request_id = message[0], message[1]
        pending = self._pending.get(request_id)
        if pending is None or pending.future.done():
            return
        if kind == "progress":
            if pending.on_progress is not None:
                _, _, what, stage, text = message
                pending.on_progress(Progress(what, stage=stage, text=text))
        elif kind == "done":
            body = message[2]
            pending.future.set_result(None if body is None else Report.model_validate_json(body))
        elif kind == "error":
            pending.future.set_exception(_error(message[2], message[3]))

    def _gone(self, conn: Connection) -> None:
        if conn is self._conn:
            log_event("worker_failed", error="the investigation worker exited")
            self._process = None
            self._fail_all("the investigation worker stopped; the next request starts a new one")

    def _fail_all(self, why: str) -> None:
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(InvestigationError(why))


def _error(kind: str, message: str) -> BaseException:
    """The child's exception, as the same class of :mod:`tools.errors` when it is one."""
    found = getattr(errors, kind, None)
    if isinstance(found, type) and issubclass(found, RcabotError):
        return found(message)
    return RuntimeError(f"investigation worker: {kind}: {message}")


# -- the child ---------------------------------------------------------------------------------


def child_main(settings: Settings, bundle: Path | None, conn: Connection) -> None:
    """The child process: an Investigator on its own loop, serving requests from ``conn``."""
    asyncio.run(_serve(settings, bundle, conn))


async def _serve(settings: Settings, bundle: Path | None, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    requests: asyncio.Queue[Message | None] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                loop.call_soon_threadsafe(requests.put_nowait, None)
                return
            loop.call_soon_threadsafe(requests.put_nowait, message)

    threading.Thread(target=read, name="rcabot-requests", daemon=True).start()
    investigator = await Investigator.open(settings, bundle)
    running: dict[int, asyncio.Task[None]] = {}
    try:
        while (message := await requests.get()) is not None:
            request_id, op, args = message
            if op == "stop":
                break
            if op == "cancel":
                if (task := running.get(request_id)) is not None:
                    task.cancel()
                continue
            task = asyncio.create_task(_answer(investigator, conn, request_id, op, args))
            running[request_id] = task
            task.add_done_callback(_forget(running, request_id))
    finally:
        for task in list(running.values()):
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        await investigator.aclose()


def _forget(
    running: dict[int, asyncio.Task[None]], request_id: int
) -> Callable[[asyncio.Task[None]], None]:
    def forget(_: asyncio.Task[None]) -> None:
        running.pop(request_id, None)

    return forget


async def _answer(
    investigator: Investigator, conn: Connection, request_id: int, op: str, args: dict[str, Any]
) -> None:
    def progress(event: Progress) -> None:
        if event.kind != "report":
            conn.send(("progress", request_id, event.kind, event.stage, event.text))

    try:
        result = await _run(investigator, op, args, progress)
    except asyncio.CancelledError:
        return
    except Exception as exc:  # told to the bot, which shows or logs it
        conn.send(("error", request_id, type(exc).__name__, str(exc)))
        return
    conn.send(("done", request_id, result.model_dump_json() if result is not None else None))


async def _run(
    investigator: Investigator, op: str, args: dict[str, Any], progress: Callable[[Progress], None]
) -> Report | None:
    if op == "rca":
        if args["alert"] is not None:
            return await investigator.alert(
                _alert(args["alert"]), window=args["window"], on_progress=progress
            )
        return await investigator.rca(
            args["target"], window=args["window"], duration=args["duration"], on_progress=progress
        )
    if op == "alert":
        return await investigator.alert(
            _alert(args["alert"]), window=args["window"], on_progress=progress
        )
    if op == "ask":
        history = args["history"]
        return await investigator.ask(
            args["question"],
            history=Conversation.model_validate_json(history) if history else None,
            service=args["service"],
            on_progress=progress,
        )
    if op == "record":
        await investigator.record(args["document"])
        return None
    raise ValueError(f"unknown operation {op!r}")
