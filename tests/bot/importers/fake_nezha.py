"""A tiny hand-written Nezha layout (rca_data/, optionally construct_data/) for importer tests.

Rows follow the real files' formats; the values are chosen by each test. Only what a test
needs is written, so each test states the input it judges.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

POD = "ts-foo-service-5f55b6cf68-77cfw"
GATEWAY = "ts-gateway-service-6f6cfc45b-h5m2n"
INJECT = datetime(2023, 1, 29, 8, 43, 4, tzinfo=UTC).timestamp()
LOG_HEADER = "Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log"
TRACE_HEADER = (
    "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration"
)
# the real per-pod header, every column (2023-01-29)
FULL_POD_HEADER = (
    "Time,TimeStamp,PodName,CpuUsage(m),CpuUsageRate(%),MemoryUsage(Mi),MemoryUsageRate(%),"
    "SyscallRead,SyscallWrite,NetworkReceiveBytes,NetworkTransmitBytes,PodClientLatencyP90(s),"
    "PodServerLatencyP90(s),PodClientLatencyP95(s),PodServerLatencyP95(s),"
    "PodClientLatencyP99(s),PodServerLatencyP99(s),PodWorkload(Ops),PodSuccessRate(%),"
    "NodeCpuUsageRate(%),NodeMemoryUsageRate(%),NodeNetworkReceiveBytes"
)
FRONT_HEADER = (
    "Time,TimeStamp,ServiceName,SuccessRate(%),LatencyP50(s),LatencyP90(s),"
    "LatencyP95(s),LatencyP99(s)"
)


def write_lines(path: Path, lines: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def log_row(clock: str, pod: str, span: str, level: str, text: str) -> str:
    """A log row at ``08:42:30.123456``-style UTC ``clock`` on 2023-01-29."""
    moment = datetime.fromisoformat(f"2023-01-29T{clock}+00:00")
    nanos = int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
    local = f"{moment.hour + 8:02d}{clock[2:12]}"
    line = f"{local} {level}  f.s.FooServiceImpl#42 TraceID: t1 SpanID: {span} {text}\\n"
    docker = f'{{""log"":""{line}"",""stream"":""stdout"",""time"":""x""}}'
    return f'2023-01-29T{clock}000Z,{nanos},10.0.0.1,{pod},server,t1,{span},"{docker}"'


def span_row(trace: str, span: str, parent: str, pod: str, op: str, clock: str, ms: int) -> str:
    start = int(datetime.fromisoformat(f"2023-01-29T{clock}+00:00").timestamp()) * 10**9
    end = start + ms * 10**6
    return f"{trace},{span},{parent},{pod},{op},{start},{end},{ms * 1000}"


def minute_stamp(hour: int, minute: int) -> tuple[str, int]:
    """(``Time``, ``TimeStamp``) of the sample taken at HH:MM:09 on 2023-01-29."""
    stamp = int(datetime(2023, 1, 29, hour, minute, 9, tzinfo=UTC).timestamp())
    return f"2023-01-29 {hour:02d}:{minute:02d}:09.000000001 +0000 UTC m=+1.0", stamp


def pod_row(pod: str, hour: int, minute: int, values: dict[str, object]) -> str:
    """A full-header row of ``pod``; columns missing from ``values`` are 0."""
    time, stamp = minute_stamp(hour, minute)
    head = {"Time": time, "TimeStamp": stamp, "PodName": pod}
    columns = FULL_POD_HEADER.split(",")
    return ",".join(str(head.get(c, values.get(c, 0))) for c in columns)


def fault_list(day: Path, pod: str = POD, when: str = "2023-01-29 08:43:04") -> None:
    entry = {
        "inject_time": when,
        "inject_pod": pod,
        "inject_type": "exception",
        "inject_timestamp": "1674953044",
    }
    write_lines(day / "2023-01-29-fault_list.json", [json.dumps({"08": [entry, {"x": 1}]})])


def phase_files(root: Path, clocks: Sequence[str], name: str = "08_50") -> Path:
    """``construct_data/2023-01-29/`` with one log and one trace file at ``clocks``."""
    phase = root / "construct_data" / "2023-01-29"
    write_lines(
        phase / "log" / f"{name}_log.csv",
        [LOG_HEADER, *(log_row(c, GATEWAY, f"r{i}", "INFO", "[ok]") for i, c in enumerate(clocks))],
    )
    write_lines(
        phase / "trace" / f"{name}_trace.csv",
        [
            TRACE_HEADER,
            *(
                span_row(f"h{i}", f"r{i}", "root", GATEWAY, "/*", c[:8], 20)
                for i, c in enumerate(clocks)
            ),
        ],
    )
    return phase
