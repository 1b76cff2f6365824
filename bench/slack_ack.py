"""The Slack bot's ack latency under load: ``rcabot serve`` on loopback while investigations run.

    python bench/slack_ack.py                    # 60 s at 20 events/s, the demo incident
    python bench/slack_ack.py --seconds 10       # a quick run
    python bench/slack_ack.py --bundle small --queue-size 200 --max-concurrent 8 --check

Slack gives an Events API request 3 s before it counts it failed and retries it, and delivers at
most 30,000 events per workspace an hour (8.3/s); 20/s is 2.4 times that. The bot runs as a
real ``rcabot serve`` subprocess, so its event loop is not shared with the load generator; its
Web API calls go to the Slack **stand-in** (tests/servers/slack.py: NOT Slack), which runs here
and records when each call arrived. ``app_mention`` events are signed as Slack signs them and sent
open-loop (the i-th at t0 + i/rate whatever the bot answers), spread over ``--channels``
channels (one channel would meet ``slack.channel_rate_per_min`` first); about 5% of the slots
re-send an event delivered a second earlier as Slack's retry (same ``event_id``,
``X-Slack-Retry-Num: 1``).

Per mention: the ack (the HTTP answer's latency and status); the first visible progress (the
first ``assistant.threads.setStatus``, ``chat.startStream`` or ``chat.postMessage`` in its thread,
stand-in clock minus send time; both ``time.monotonic()`` in this process); the bot's replies in
its thread once the bot is idle. One reply is an answer, or an honest refusal (the queue is full:
"busy"; the channel's rate: "rate-limited"); none is lost; more than one is duplicated. The CPU
line says who else used the machine meanwhile (a shared machine inflates every figure).
Goals (issue 10): ack p99 ≤ 100 ms, first progress p95 ≤ 1 s, nothing lost or duplicated.
Figures are printed; ``--check`` exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import platform
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.servers import free_port  # noqa: E402
from tests.servers.slack import Call, FakeSlack  # noqa: E402
from tests.servers.slack_messages import BOT_USER_ID  # noqa: E402
from tests.servers.slack_requests import JSON, app_mention, event_callback, json_body, sign  # noqa: E402

QUESTION = "why is checkout failing?"
SECRET = "bench-signing-secret-0123456789"
BOT_TOKEN = "xoxb-bench-token"
GOAL_ACK_P99_S = 0.100
GOAL_PROGRESS_P95_S = 1.0
SLACK_ACK_LIMIT_S = 3.0  # Slack counts a slower ack failed and retries the event
RETRY_AFTER_S = 1.0  # a retry re-sends the event delivered this long before
PROGRESS = frozenset({"assistant.threads.setStatus", "chat.startStream", "chat.postMessage"})
REPLY_STARTS = frozenset({"chat.startStream", "chat.postMessage"})
KINDS = ("answered", "busy", "rate-limited", "failed", "unfinished", "lost", "duplicated")
SLOW_CALLBACK = re.compile(r"Executing <(.*?)> took (\d+\.\d+) seconds")


@dataclass
class Delivery:
    """One POST to /slack/events: an event, or Slack's retry of one (same body, same id)."""

    offset_s: float  # when, after t0
    event_id: str
    channel: str
    ts: str
    body: bytes
    retry: bool
    sent: float = math.nan  # time.monotonic()
    acked: float = math.nan
    status: int | None = None  # None: no HTTP answer (``error`` says why)
    error: str = ""

    @property
    def ack_s(self) -> float:
        return self.acked - self.sent


def plan(args: argparse.Namespace, rng: random.Random) -> list[Delivery]:
    """The open-loop schedule: ``rate × seconds`` slots, ~``retry_share`` of them retries."""
    channels = [f"C{n:06d}" for n in range(1, args.channels + 1)]
    back = round(RETRY_AFTER_S * args.rate)
    slots: list[Delivery] = []
    fresh = itertools.count()
    for i in range(round(args.rate * args.seconds)):
        earlier = slots[i - back] if i >= back else None
        if earlier is not None and not earlier.retry and rng.random() < args.retry_share:
            slots.append(replace(earlier, offset_s=i / args.rate, retry=True))
            continue
        channel = channels[next(fresh) % len(channels)]
        event = app_mention(f"<@{BOT_USER_ID}> {QUESTION}", channel=channel)
        payload = event_callback(event)
        body, event_id = json_body(payload), payload["event_id"]
        slots.append(Delivery(i / args.rate, event_id, channel, event["ts"], body, False))
    return slots


# --- the bot -----------------------------------------------------------------------------------


def make_bundle(choice: str, out: Path) -> tuple[Path, str]:
    """The bundle to investigate, and its name for the printout."""
    if choice == "demo":
        from bot.demo import DEFAULT_FAULT, DEFAULT_SEED, generate_case

        return generate_case(out, DEFAULT_FAULT, DEFAULT_SEED).bundle_dir, f"demo {DEFAULT_FAULT}"
    if choice == "small":
        from tests.bundles import small_incident

        return small_incident(out / "small"), "small_incident (tests/bundles.py)"
    return Path(choice), choice


def bot_env(args: argparse.Namespace, api_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCABOT_")}
    slack = {
        "BOT_TOKEN": BOT_TOKEN,
        "SIGNING_SECRET": SECRET,
        "API_URL": api_url,
        "STATE_URL": f"sqlite:///{tmp / 'state.db'}",
        "QUEUE_SIZE": str(args.queue_size),
        "MAX_CONCURRENT": str(args.max_concurrent),
        "CHANNEL_RATE_PER_MIN": str(args.channel_rate),
    }
    env |= {f"RCABOT_SLACK__{key}": value for key, value in slack.items()}
    env["RCABOT_RETRIEVAL__CHROMA_PATH"] = str(tmp / "postmortems")
    if args.asyncio_debug:  # asyncio logs every callback that holds the event loop ≥ 100 ms
        env["PYTHONASYNCIODEBUG"] = "1"
    return env


@dataclass(frozen=True)
class Bot:
    url: str
    log: Path
    ready_s: float
    pid: int


@asynccontextmanager
async def serving(
    args: argparse.Namespace, bundle: Path, api_url: str, tmp: Path, http: httpx.AsyncClient
) -> AsyncIterator[Bot]:
    """``rcabot serve`` in its own process, once it answers /healthz; stopped (SIGTERM) after."""
    port = free_port()
    url, log, started = f"http://127.0.0.1:{port}", tmp / "bot.log", time.monotonic()
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(REPO / ".venv" / "bin" / "rcabot"),
            *("serve", "--port", str(port), "--bundle", str(bundle)),
            cwd=tmp,
            env=bot_env(args, api_url, tmp),
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        while True:
            if process.returncode is not None or time.monotonic() - started > 120:
                sys.exit(f"rcabot serve did not start:\n{log.read_text()[-3000:]}")
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        yield Bot(url, log, time.monotonic() - started, process.pid)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


def cpu_seconds(pid: int) -> tuple[float, float, float]:
    """CPU seconds used so far by the bot (all its threads), by this process (the load and the
    stand-in) and by every process on the machine (Linux's /proc; NaN elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        bot = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        machine = [int(n) for n in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return math.nan, time.process_time(), math.nan
    busy = sum(machine) - machine[3] - machine[4]  # all but idle and iowait
    return (int(bot[11]) + int(bot[12])) / tick, time.process_time(), busy / tick


async def wait_idle(http: httpx.AsyncClient, url: str, slack: FakeSlack, limit_s: float) -> bool:
    """Until nothing runs or waits and the stand-in heard nothing for a second (listeners run
    after the ack: their work arrives late); False when ``limit_s`` passed first."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            health = (await http.get(f"{url}/healthz")).json()
        except httpx.TransportError:  # the bot died: the threads show what it left undone
            return False
        calls = slack.calls()
        quiet = not calls or time.monotonic() - calls[-1].at > 1.0
        if health["running"] == 0 and health["waiting"] == 0 and quiet:
            return True
        await asyncio.sleep(0.2)
    return False


# --- the load ----------------------------------------------------------------------------------


async def deliver(http: httpx.AsyncClient, url: str, delivery: Delivery) -> None:
    headers = {"Content-Type": JSON, **sign(delivery.body, SECRET)}
    if delivery.retry:
        headers |= {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    delivery.sent = time.monotonic()
    try:
        answer = await http.post(f"{url}/slack/events", content=delivery.body, headers=headers)
        delivery.status = answer.status_code
    except httpx.HTTPError as exc:
        delivery.error = type(exc).__name__
    delivery.acked = time.monotonic()


async def send_all(http: httpx.AsyncClient, url: str, deliveries: Sequence[Delivery]) -> float:
    """Send each delivery at its slot whatever came back before; returns t0."""
    t0 = time.monotonic() + 0.2
    tasks = []
    for delivery in deliveries:
        await asyncio.sleep(max(0.0, t0 + delivery.offset_s - time.monotonic()))
        tasks.append(asyncio.create_task(deliver(http, url, delivery)))
    await asyncio.gather(*tasks)
    return t0


# --- the figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # one of KINDS
    first_progress_s: float | None
    first_reply_s: float | None


def outcome(slack: FakeSlack, calls: Sequence[Call], mention: Delivery) -> Outcome:
    """What the mention's thread shows once the bot is idle, and how soon it showed it."""
    first = min((c.at - mention.sent for c in calls if c.method in PROGRESS), default=None)
    starts = [c.at - mention.sent for c in calls if c.method in REPLY_STARTS and c.ok]
    replies = [m for m in slack.thread(mention.channel, mention.ts) if m.bot and m.ts != mention.ts]
    first_reply = min(starts, default=None)
    if not replies:
        return Outcome("lost", first, first_reply)
    if len(replies) > 1 or len(starts) > 1:
        return Outcome("duplicated", first, first_reply)
    reply = replies[0]
    if "rcabot is busy" in reply.shown_text:
        kind = "busy"
    elif "Too many investigations" in reply.shown_text:
        kind = "rate-limited"
    elif reply.blocks:  # the report's blocks (candidates, evidence, feedback)
        kind = "answered"
    else:
        kind = "unfinished" if reply.streamed and not reply.stopped else "failed"
    return Outcome(kind, first, first_reply)


def by_thread(slack: FakeSlack) -> dict[tuple[str, str], list[Call]]:
    found: dict[tuple[str, str], list[Call]] = {}
    for call in slack.calls():
        channel = call.args.get("channel") or call.args.get("channel_id")
        thread_ts = call.args.get("thread_ts")
        if isinstance(channel, str) and isinstance(thread_ts, str):
            found.setdefault((channel, thread_ts), []).append(call)
    return found


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] if values else math.nan


def spread(values: Sequence[float], scale: float, unit: str) -> str:
    if not values:
        return "—"
    digits = 0 if scale > 1 else 2
    cells = [f"p{q * 100:g} {pct(values, q) * scale:,.{digits}f}" for q in (0.5, 0.9, 0.95, 0.99)]
    return f"{'  '.join(cells)}  max {max(values) * scale:,.{digits}f} {unit}  (n={len(values)})"


def bot_log(path: Path) -> tuple[Counter[str], list[tuple[float, str]]]:
    """The bot's structured events (``skipped`` by reason) and asyncio's slow-callback lines."""
    events: Counter[str] = Counter()
    slow: list[tuple[float, str]] = []
    for line in path.read_text(errors="replace").splitlines():
        _, found, rest = line.partition("rcabot.slack ")
        if found and rest.startswith("{"):
            fields = json.loads(rest)
            reason = f": {fields['reason']}" if fields["event"] == "skipped" else ""
            events[f"{fields['event']}{reason}"] += 1
        elif match := SLOW_CALLBACK.search(line):
            slow.append((float(match.group(2)), match.group(1)[:100]))
    return events, slow


def report(deliveries: Sequence[Delivery], slack: FakeSlack) -> bool:
    """Print the per-event figures and the goals; True when every goal is met."""
    threads = by_thread(slack)
    mentions = [d for d in deliveries if not d.retry]
    outcomes = [outcome(slack, threads.get((m.channel, m.ts), []), m) for m in mentions]
    answered = [d for d in deliveries if d.status is not None]
    acks = [d.ack_s for d in answered]
    kinds = Counter(o.kind for o in outcomes)
    firsts = [o.first_progress_s for o in outcomes if o.first_progress_s is not None]
    replies = [o.first_reply_s for o in outcomes if o.first_reply_s is not None]
    statuses = Counter(str(d.status) if d.status is not None else d.error for d in deliveries)
    slow_acks = sum(a > SLACK_ACK_LIMIT_S for a in acks)
    auth_tests = len(slack.calls("auth.test"))
    print(f"\nack latency        {spread(acks, 1000, 'ms')}")
    print(f"  first request    {deliveries[0].ack_s * 1000:,.0f} ms ({auth_tests} auth.test calls)")
    print(f"  retries          {spread([d.ack_s for d in answered if d.retry], 1000, 'ms')}")
    print(f"  HTTP             {dict(statuses)}; over {SLACK_ACK_LIMIT_S:g} s: {slow_acks}")
    print(f"first progress     {spread(firsts, 1, 's')}")
    print(f"first reply        {spread(replies, 1, 's')}")
    print(f"mentions           {len(mentions)}: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS))
    pairs = zip(outcomes, mentions, strict=True)
    unacked = sum(o.kind == "lost" and m.status is None for o, m in pairs)
    if unacked:
        print(f"  lost unanswered  {unacked} (no HTTP answer: Slack would retry these)")
    print(f"retries sent       {sum(d.retry for d in deliveries)} (one reply per thread expected)")
    lost, duplicated = kinds["lost"], kinds["duplicated"]
    missing = [math.inf] * (len(deliveries) - len(acks))  # no answer: slower than any
    p99 = pct(acks + missing, 0.99)
    p95 = pct(firsts + [math.inf] * (len(mentions) - len(firsts)), 0.95)
    goals = [
        ("ack p99 ≤ 100 ms", f"{p99 * 1000:,.0f} ms", p99 <= GOAL_ACK_P99_S),
        ("first progress p95 ≤ 1 s", f"{p95:,.2f} s", p95 <= GOAL_PROGRESS_P95_S),
        ("lost = 0", str(lost), lost == 0),
        ("duplicated = 0", str(duplicated), duplicated == 0),
    ]
    print(f"\n{'goal':<28}{'measured':>10}")
    for name, value, met in goals:
        print(f"  {name:<26}{value:>10}    {'PASS' if met else 'FAIL'}")
    return all(met for _, _, met in goals)


def print_run(
    args: argparse.Namespace,
    bundle: str,
    bot: Bot,
    deliveries: Sequence[Delivery],
    cpu: Sequence[float],  # CPU seconds while sending: bot, this process, the machine
    timing: tuple[float, float, float, bool],  # t0, sending s, idle after s, idle in time
) -> None:
    """The machine, the settings, and how the run went."""
    t0, sent_s, drained_s, idle = timing
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    retries = sum(d.retry for d in deliveries)
    lag = [(d.sent - t0 - d.offset_s) * 1000 for d in deliveries]
    bot_s, bench_s, others_s = cpu[0], cpu[1], max(0.0, cpu[2] - cpu[0] - cpu[1])
    print(
        f"machine            {platform.machine()}, {cores} cores (bench and bot share them), "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}\n"
        f"load               {args.seconds:g} s at {args.rate:g}/s: {len(deliveries)} deliveries "
        f"({len(deliveries) - retries} mentions, {retries} Slack retries), {args.channels} "
        f"channels\n"
        f"bot                rcabot serve --bundle ({bundle}), ready in {bot.ready_s:.1f} s; "
        f"slack.max_concurrent={args.max_concurrent} queue_size={args.queue_size} "
        f"channel_rate_per_min={args.channel_rate}"
        + (" (PYTHONASYNCIODEBUG=1)" if args.asyncio_debug else "")
        + f"\nsending            {sent_s:.1f} s to the last ack; the load generator's lag p99 "
        f"{pct(lag, 0.99):.1f} ms, max {max(lag):.1f} ms\n"
        f"CPU while sending  bot {bot_s / sent_s:.0%} of a core, this process "
        f"{bench_s / sent_s:.0%}, other processes {others_s / sent_s:.0%}\n"
        f"bot idle           {drained_s:.1f} s after the last event"
        + ("" if idle else f": NOT idle after {args.drain:g} s (--drain)")
    )


def print_log(events: Counter[str], slow: Sequence[tuple[float, str]], debug: bool) -> None:
    print("\nbot log            " + ", ".join(f"{k} {v}" for k, v in sorted(events.items())))
    if debug:  # what held the bot's event loop ≥ 100 ms (asyncio debug mode)
        print(f"event loop held    {len(slow)} times ≥ 100 ms, {sum(s for s, _ in slow):.1f} s")
        for seconds, what in sorted(slow, reverse=True)[:8]:
            print(f"  {seconds * 1000:7,.0f} ms  {what}")


# --- main --------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="rcabot-ack-") as tmp_dir:
        tmp = Path(tmp_dir)
        bundle, bundle_name = make_bundle(args.bundle, tmp / "bundles")
        deliveries = plan(args, random.Random(args.seed))
        # idle connections dropped before uvicorn's 5 s keep-alive drops them: no request races
        # the server's close (a ReadError a client retries, not the bot's answer)
        limits = httpx.Limits(max_connections=1000, keepalive_expiry=4.0)
        async with (
            FakeSlack() as slack,
            httpx.AsyncClient(timeout=30, limits=limits) as http,
            serving(args, bundle, slack.api_url, tmp, http) as bot,
        ):
            before = cpu_seconds(bot.pid)
            t0 = await send_all(http, bot.url, deliveries)
            sent_s = time.monotonic() - t0
            cpu = [end - start for start, end in zip(before, cpu_seconds(bot.pid), strict=True)]
            idle = await wait_idle(http, bot.url, slack, args.drain)
            drained_s = time.monotonic() - t0 - sent_s
        timing = (t0, sent_s, drained_s, idle)
        print_run(args, bundle_name, bot, deliveries, cpu, timing)
        met = report(deliveries, slack)
        print_log(*bot_log(bot.log), args.asyncio_debug)
    return met


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--seconds", type=float, default=60.0, help="how long to send (60)")
    add("--rate", type=float, default=20.0, help="deliveries per second (20)")
    add("--retry-share", type=float, default=0.05, help="share of slots re-sent (0.05)")
    add("--channels", type=int, default=200, help="channels the mentions are spread over (200)")
    add("--bundle", default="demo", help="demo (default) | small | a bundle directory")
    add("--queue-size", type=int, default=32, help="slack.queue_size (32)")
    add("--max-concurrent", type=int, default=4, help="slack.max_concurrent (4)")
    add("--channel-rate", type=int, default=10, help="slack.channel_rate_per_min (10)")
    add("--drain", type=float, default=300.0, help="wait at most this long for the bot (s)")
    add("--seed", type=int, default=7)
    add("--asyncio-debug", action="store_true", help="list what held the bot's event loop")
    add("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    met = asyncio.run(run(args))
    if args.check and not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
