"""Postmortem retrieval quality on the shared corpus: recall@1/5/10, MRR, nDCG@10, printed.

    python bench/retrieval_eval.py [ARCHIVE_OR_DIR] [--index DIR] [--show N]

Ingests the WHOLE corpus (356 structured cloud incident records in ``anomaly_collection``,
the full-text ``raw-public`` reports and the ``dfds`` Markdown postmortems: everything but
the records is a distractor) into a temporary index with the production code path
(``read_documents`` → ``PostmortemIndex.ingest(..., chunk_document)``), then asks one
known-item query per structured record, twice over (two query sets), in each search mode
(``bm25``, ``dense``, ``hybrid``) through ``PostmortemIndex.search``.

How the queries are built (from the record's JSON, never from its root-cause fields):

* **symptom**: what an on-call engineer knows during an incident. ``"<services>: <impact
  symptoms> problem; <manifestation values>"``, e.g. ``"Azure Active Directory: availability
  problem; service unavailable, service degradation, error rate"``. Services are the
  record's ``service_name`` list minus any name that occurs in the root-cause text but not in
  the title or summary (the annotators sometimes list the failed component, e.g. "diesel
  rotary uninterruptable power supply"); manifestation values are the labels without their
  kind (``business kpi:`` ...). Nothing else (no duration, date, detection, propagation path,
  operation or cause label). Caveat: ``retrieval.records`` indexes these same annotation
  labels as the record's "Impact" section ("Impact: availability. Manifestation: service
  unavailable; ..."), so the query is that section's words reordered. The labels are
  generic (hundreds of records say "service unavailable, error rate"), so the service names
  and free-text labels decide, but no raw-public copy has that section: this set favours
  word matching and the record over its copies.
* **summary**: what someone remembers of a past incident. The record's ``summary`` with its
  "Summary of impact:" label, URLs, tracking ids and every date, weekday, clock time and
  duration removed (an opening "Between 08:18 and 11:25 UTC on 06 Apr 2018," clause goes
  entirely), split into sentences; sentences that state a cause or a fix are dropped (cue
  words: caused, due to, because, stemmed, root cause, determined, identified, bug,
  misconfiguration, mitigated, rolled back, ... — see ``_CAUSE``; when a cue comes after a
  clause of 6 words or more, that clause is kept: "... connecting to resources due to a
  storage failure" keeps "... connecting to resources."), as are sentences 80 % or more of
  whose content words occur in the root-cause details. The remaining sentences are taken in
  order until the query has 15 words and cut at 40 words; records left with fewer than 5
  words get no summary query. This is a verbatim span of the record's summary (without
  dates), and the raw-public copies of the same report contain it too. The rules are cue
  words, not understanding: some cause wording survives (the 14 AWS summaries are
  narratives, e.g. "One of the PLCs that checks that generator power is in phase failed").

Relevance. The answer to a query is the record's own document
(``anomaly_collection/<file>.json#<key>``): "own doc" rows. Many records also exist as
full-text copies (the same report in ``raw-public``, or a second record of a multi-service
Google incident), which a retriever cannot tell apart from the record and which are correct
answers for a person: a document is a **copy** of a record when it contains at least 3 of 5
evenly spaced 12-word windows of the record's summary + details (lower-cased words). "own +
copies" rows take the first hit that is the record or a copy as the answer. Both kinds of row
have exactly one answer per query, so nDCG@10 = mean of 1/log2(rank + 1) (0 past rank 10),
MRR is MRR@10, recall@k the share of queries answered in the top k.

Root-cause-category agreement (second measure): the category of a document is its
``layer-1/layer-2`` cause labels (a set; structured records only). For each query, the hits
that are neither the record nor a copy and that have a category are taken in rank order from
the top 10: agree@1 counts queries whose first such hit has exactly the record's category,
maj@5 those whose majority category of the first five such hits is (ties: the better
ranked). Queries without a known category are left out. Two baselines are printed: the share
of the most common category (what always guessing it scores) and the chance that a random
other record has the same category.

Search depth: hybrid asks ``k=10`` (each retriever then hands fusion 100 chunks, as in
production for any k <= 5); bm25 and dense ask ``k=50`` so that the fusion variants printed at
the end have deep enough rankings (a document's place in a single retriever's top 10 does
not depend on the depth asked for; ms/q is therefore not comparable across modes, see
``bench/retrieval_perf.py`` for latency). The variants redo reciprocal rank fusion here, on
the two DOCUMENT rankings (each document at its best chunk's rank), with other constants,
weights and depths, to show what a change in ``retrieval.fusion``/``retrieval.index`` would
do; the index fuses CHUNK rankings, so its own k=60 row and the simulated one differ a
little. They are tuned on these queries: read them as a diagnosis, not a validated setting.

Deterministic: the same corpus gives the same queries and documents; with the same model
precision (bfloat16 with AMX, else float32) the figures repeat to within a few thousandths on
dense rows (bfloat16 kernels are not bit-exact run to run). Printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.datasets import unpacked  # noqa: E402
from retrieval.chunking import chunk_document  # noqa: E402
from retrieval.documents import read_documents  # noqa: E402
from retrieval.embeddings import Embedder  # noqa: E402
from retrieval.index import PostmortemIndex, SearchMode  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402
from tools.postmortems import Document  # noqa: E402

DEFAULT = REPO.parent / "shared" / "datasets" / "postmortems.tar.xz"
COLLECTION = "anomaly_collection"
MODES: tuple[SearchMode, ...] = ("bm25", "dense", "hybrid")
DEPTH = {"bm25": 50, "dense": 50, "hybrid": 10}
TOP = 10
QUERY_MIN_WORDS, QUERY_WORDS, QUERY_MAX_WORDS = 5, 15, 40
PROBES, PROBE_WORDS = 5, 12
CAUSE_HEAD_WORDS = 6  # words before a cause cue that make a sentence worth keeping
CAUSE_OVERLAP = 0.8  # a summary sentence this much made of root-cause words is a cause

# --- reading the corpus ---------------------------------------------------------------------


def dataset(path: Path) -> AbstractContextManager[Path]:
    return unpacked(path, "postmortems-")


def load_records(root: Path) -> dict[str, dict[str, Any]]:
    """``doc_id → raw JSON record`` of the structured collection (ids as read_documents gives)."""
    records: dict[str, dict[str, Any]] = {}
    for path in sorted((root / COLLECTION).rglob("*.json")):
        rel = path.relative_to(root).as_posix()
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, raw in data.items():
            records[f"{rel}#{key}"] = raw
    return records


def strings(value: object) -> list[str]:
    """Non-empty strings of a string, list, or ``{kind: [values]}`` object (values only)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    return []


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


# --- queries --------------------------------------------------------------------------------

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
_ZONE = r"(?:UTC|GMT|PST|PDT|EST|EDT|CST|CDT|CET|CEST|KST|JST|US/Pacific(?: Time)?|Pacific Time)"
_OPENING = re.compile(
    r"^\s*(?:On|Between|From|Beginning|Starting|Since|At|As of)\b[^,]*\d[^,]*,\s*", re.I
)
_LABEL = re.compile(
    r"^\s*(?:Summary of (?:impact|the incident)|Summary|Impact)\b\s*[:.-]?\s*", re.I
)
_TEMPORAL = [
    re.compile(r"\(?https?://[^\s)]*\)?"),
    re.compile(r"\bIncident (?:began|started) at .*?\(all times are [^)]*\)\.?", re.I),
    re.compile(r"\(?Tracking ID:?\s*[\w-]+\)?", re.I),
    re.compile(
        r"\b(?:(?:for|over|during) (?:a (?:total )?(?:duration|period) of |a total of )?"
        r"(?:approximately |about |roughly )?)?(?:an? )?\d+(?:\.\d+)?[\s-]*"
        r"(?:hours?|hrs?|minutes?|mins?)\b(?:,? (?:and )?\d+\s*(?:minutes?|mins?)\b)?"
        r"(?: period)?",
        re.I,
    ),
    re.compile(rf"\b{_WEEKDAY},?\s*", re.I),
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)? {_MONTH},? \d{{4}}\b", re.I),
    re.compile(rf"\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?\b"),
    re.compile(rf"\b\d{{1,2}}:\d{{2}}(?:\s*(?:AM|PM))?(?:\s*{_ZONE})?", re.I),
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b(?:19|20)\d{2}\b"),
]
_CAUSE = re.compile(
    r"\b(?:root[- ]caus\w*|caus(?:e|ed|es|ing)|due to|because|stemm(?:ed|ing)|as a result"
    r"|result(?:ed|ing|s)? (?:from|of)|attributed|triggered|determined|traced|prevent(?:ed|ing)"
    r"|identified(?! as a customer)|unknown (?:event|reason)"
    r"|investigat\w*|preliminary|underlying|bugs?|regression|misconfigur\w*|defect"
    r"|mitigat\w*|roll(?:ed|ing)? ?back|hotfix|failover|we (?:have|are|will)"
    r"|resolv\w*|recover\w*|restor\w*)\b",
    re.I,
)
_DANGLING = frozenset(
    words(
        "a an the and or but of to in on for with from by at as which that this who was were is "
        "are be been has have had after following when where while likely possibly"
    )
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_STOP = frozenset(
    words(
        "the a an and or of to in on for with from by at as is was were be been this that these "
        "those it its their our we you they some any all may have has had not which who when "
        "while into than then there also would could"
    )
)


def symptom_query(raw: Mapping[str, Any]) -> str | None:
    """``"<services>: <symptoms> problem; <manifestation>"``; see the module docstring."""
    cause = " ".join(words(" ".join(strings(raw.get("root cause")))))
    shown = " ".join(words(f"{raw.get('title', '')} {raw.get('summary', '')}"))
    services = []
    for name in dict.fromkeys(strings(raw.get("service_name", raw.get("service name")))):
        key = " ".join(words(name))
        if key and key in cause and key not in shown:
            continue  # the annotators named the failed component: that is the cause
        services.append(name)
    symptoms = list(dict.fromkeys(strings(raw.get("impact symptom"))))
    seen = {s.lower() for s in services + symptoms}
    manifestation = [
        m for m in dict.fromkeys(strings(raw.get("manifestation"))) if m.lower() not in seen
    ]
    parts = []
    if services:
        parts.append(", ".join(services) + ":")
    if symptoms:
        parts.append(" and ".join(symptoms) + " problem" + (";" if manifestation else ""))
    if manifestation:
        parts.append(", ".join(manifestation))
    text = " ".join(parts).strip(" :;")
    return text if len(words(text)) >= 2 else None


def _content(text: str) -> set[str]:
    return {w for w in words(text) if len(w) > 2 and w not in _STOP and not w.isdigit()}


def strip_temporal(sentence: str) -> str:
    """The sentence without its opening time clause, dates, times, durations, URLs, ids."""
    text = _LABEL.sub("", sentence)
    while (shorter := _OPENING.sub("", text, count=1)) != text:
        text = shorter
    for pattern in _TEMPORAL:
        text = pattern.sub(" ", text)
    text = re.sub(
        r"\b(?:between|from|on|at|and|to|until)(?:\s+approximately)?(?=\s*[,.;])",
        "",
        text,
        flags=re.I,
    )
    text = re.sub(r"\s+([,.;:])", r"\1", " ".join(text.split()))
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text).strip(" ,;:-")
    return text[:1].upper() + text[1:]


def summary_query(raw: Mapping[str, Any]) -> str | None:
    """The first cause-free sentences of the summary, dates removed; see the module docstring."""
    summary = raw.get("summary")
    if not isinstance(summary, str):
        return None
    root_cause = raw.get("root cause")
    cause = _content(
        " ".join(strings(root_cause.get("details"))) if isinstance(root_cause, dict) else ""
    )
    kept: list[str] = []
    count = 0
    for sentence in _SENTENCE.split(" ".join(summary.split())):
        if (cue := _CAUSE.search(sentence)) is not None:
            # "... connecting to resources due to a storage failure": keep what precedes the
            # cue when that is a clause of its own; a sentence that opens with a cause goes.
            head = sentence[: cue.start()].split()
            while head and head[-1].strip(",;:-").lower() in _DANGLING:
                head.pop()
            if len(head) < CAUSE_HEAD_WORDS:
                continue
            sentence = " ".join(head).rstrip(",;:-") + "."
        content = _content(sentence)
        if content and len(content & cause) >= CAUSE_OVERLAP * len(content):
            continue
        cleaned = strip_temporal(sentence)
        if len(words(cleaned)) < 3:
            continue
        kept.append(cleaned)
        count += len(cleaned.split())
        if count >= QUERY_WORDS:
            break
    text = " ".join(" ".join(kept).split()[:QUERY_MAX_WORDS])
    return text if len(words(text)) >= QUERY_MIN_WORDS else None


@dataclass(frozen=True, slots=True)
class Query:
    doc_id: str  # the record's document: the answer
    text: str
    copies: frozenset[str]  # other documents holding the same report
    category: frozenset[str] | None


def categories(value: str | None) -> frozenset[str] | None:
    return frozenset(value.split("; ")) if value else None


def find_copies(
    records: Mapping[str, Mapping[str, Any]], docs: Sequence[Document]
) -> dict[str, frozenset[str]]:
    """``doc_id → documents containing ≥ 3 of 5 of its 12-word windows`` (the module docstring)."""
    texts = {d.doc_id: " ".join(words(" ".join(s.text for s in d.sections))) for d in docs}
    copies = {}
    for doc_id, raw in records.items():
        source = words(" ".join(strings([raw.get("summary"), raw.get("details")])))
        if len(source) <= PROBE_WORDS:
            probes = [" ".join(source)]
        else:
            last = len(source) - PROBE_WORDS
            starts = sorted({round(i * last / (PROBES - 1)) for i in range(PROBES)})
            probes = [" ".join(source[s : s + PROBE_WORDS]) for s in starts]
        copies[doc_id] = frozenset(
            other
            for other, text in texts.items()
            if other != doc_id and sum(p in text for p in probes) * 2 > len(probes)
        )
    return copies


# --- evaluation -----------------------------------------------------------------------------

QUERY_SETS = {"symptom": symptom_query, "summary": summary_query}
Ranking = list[str]  # document ids, best first


def build_queries(
    records: Mapping[str, Mapping[str, Any]], docs: Sequence[Document]
) -> dict[str, list[Query]]:
    by_id = {d.doc_id: d for d in docs}
    copies = find_copies(records, docs)
    sets: dict[str, list[Query]] = {name: [] for name in QUERY_SETS}
    for doc_id, raw in records.items():
        doc = by_id.get(doc_id)
        if doc is None:  # read_documents skipped it, and said why
            continue
        for name, build in QUERY_SETS.items():
            if text := build(raw):
                category = categories(doc.root_cause_category)
                sets[name].append(Query(doc_id, text, copies[doc_id], category))
    return sets


@dataclass(frozen=True, slots=True)
class Scores:
    recall: dict[int, float]  # k → share of queries answered in the top k
    mrr: float  # MRR@10
    ndcg: float  # nDCG@10, one relevant document
    agree1: float  # cause category of the first other categorised hit
    maj5: float  # majority cause category of the first five


def rank_of(ranking: Ranking, relevant: frozenset[str]) -> int | None:
    return next((i for i, d in enumerate(ranking[:TOP], 1) if d in relevant), None)


def score(
    queries: Sequence[Query],
    rankings: Sequence[Ranking],
    cats: Mapping[str, frozenset[str] | None],
    *,
    with_copies: bool,
) -> Scores:
    ranks = [
        rank_of(r, frozenset({q.doc_id}) | (q.copies if with_copies else frozenset()))
        for q, r in zip(queries, rankings, strict=True)
    ]
    n = len(queries)
    agree1 = maj5 = judged = 0
    for q, ranking in zip(queries, rankings, strict=True):
        if q.category is None:
            continue
        judged += 1
        others = [
            c
            for d in ranking[:TOP]
            if d != q.doc_id and d not in q.copies and (c := cats.get(d)) is not None
        ]
        agree1 += bool(others) and others[0] == q.category
        votes = Counter(others[:5])
        if votes:
            best = max(votes.values())
            maj5 += next(c for c in others if votes[c] == best) == q.category
    return Scores(
        recall={k: sum(r is not None and r <= k for r in ranks) / n for k in (1, 5, 10)},
        mrr=sum(1 / r for r in ranks if r) / n,
        ndcg=sum(1 / math.log2(r + 1) for r in ranks if r) / n,
        agree1=agree1 / max(judged, 1),
        maj5=maj5 / max(judged, 1),
    )


def rrf(
    bm25: Ranking, dense: Ranking, *, k: int, weights: tuple[float, float] = (1.0, 1.0), depth: int
) -> Ranking:
    """Reciprocal rank fusion of two document rankings (each cut at ``depth``), best first.

    Ties are broken by the best single rank, then BM25 first, as ``retrieval.fusion`` does.
    """
    scores: dict[str, float] = {}
    best: dict[str, tuple[int, int]] = {}
    for which, (ranking, weight) in enumerate(zip((bm25, dense), weights, strict=True)):
        for rank, doc_id in enumerate(ranking[:depth], 1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
            best[doc_id] = min(best.get(doc_id, (rank, which)), (rank, which))
    return sorted(scores, key=lambda d: (-scores[d], best[d]))


async def search_all(
    index: PostmortemIndex, queries: Sequence[Query], mode: SearchMode
) -> tuple[list[Ranking], list[float]]:
    rankings, times = [], []
    for q in queries:
        started = time.perf_counter()
        hits = await index.search(q.text, k=DEPTH[mode], mode=mode)
        times.append((time.perf_counter() - started) * 1000)
        rankings.append([h.document.doc_id for h in hits])
    return rankings, times


def gain(hybrid: float, single: Mapping[str, float]) -> tuple[float, str]:
    """Relative gain of hybrid over the best single retriever, and which one that is."""
    name = max(single, key=lambda m: single[m])
    return (hybrid / single[name] - 1 if single[name] else math.inf), name


def print_set(
    name: str,
    queries: Sequence[Query],
    results: Mapping[str, tuple[list[Ranking], list[float]]],
    cats: Mapping[str, frozenset[str] | None],
) -> dict[str, dict[bool, Scores]]:
    distinct = len({q.text for q in queries})
    lengths = [len(q.text.split()) for q in queries]
    with_copies = sum(bool(q.copies) for q in queries)
    judged = [q.category for q in queries if q.category is not None]
    counts = Counter(judged)
    top_category, top_count = counts.most_common(1)[0]
    chance = sum((n / len(judged)) ** 2 for n in counts.values())
    print(
        f"\n== {name} queries: {len(queries)} ({distinct} distinct texts), "
        f"{statistics.median(lengths):.0f} words median (max {max(lengths)}); "
        f"{with_copies} records have copies"
    )
    print(
        f"   cause category known for {len(judged)}; base rate (always "
        f"{' + '.join(sorted(top_category))!r}): {top_count / len(judged):.3f}; "
        f"a random other record agrees with chance {chance:.3f}"
    )
    head = f"{'R@1':>7}{'R@5':>7}{'R@10':>7}{'MRR':>7}{'nDCG10':>8}"
    print(f"{'':<8}{'own doc':^36}  {'own doc + copies':^36}  {'cause category':^16} {'ms/q':>6}")
    print(f"{'mode':<8}{head}  {head}  {'agree@1':>8}{'maj@5':>8} {'mean':>6}")
    table: dict[str, dict[bool, Scores]] = {}
    for mode in MODES:
        rankings, times = results[mode]
        table[mode] = {c: score(queries, rankings, cats, with_copies=c) for c in (False, True)}
        cells = []
        for c in (False, True):
            s = table[mode][c]
            cells.append(
                "".join(f"{s.recall[k]:>7.3f}" for k in (1, 5, 10)) + f"{s.mrr:>7.3f}{s.ndcg:>8.3f}"
            )
        s = table[mode][False]
        print(
            f"{mode:<8}{cells[0]}  {cells[1]}  {s.agree1:>8.3f}{s.maj5:>8.3f} "
            f"{statistics.fmean(times):>6.1f}"
        )
    for c, label in ((False, "own doc"), (True, "own doc + copies")):
        g, best = gain(table["hybrid"][c].ndcg, {m: table[m][c].ndcg for m in ("bm25", "dense")})
        r5 = table["hybrid"][c].recall[5]
        verdict = "met" if g >= 0.05 else "NOT met"
        if table[best][c].ndcg * 1.05 > 1:
            verdict += f", and unattainable: {best} is at {table[best][c].ndcg:.3f}"
        print(
            f"   {label}: hybrid nDCG@10 {g:+.1%} vs best single ({best}) "
            f"[goal ≥ +5 %: {verdict}]; "
            f"hybrid R@5 {r5:.3f} [goal ≥ 0.9: {'met' if r5 >= 0.9 else 'NOT met'}]"
        )
    return table


FUSIONS: list[tuple[str, dict[str, Any]]] = [
    ("RRF k=60 (the usual default)", {"k": 60}),
    ("RRF k=30", {"k": 30}),
    ("RRF k=10 (production: FUSION_K)", {"k": 10}),
    ("RRF k=1", {"k": 1}),
    ("RRF k=120", {"k": 120}),
    ("RRF k=60, dense weight 2", {"k": 60, "weights": (1.0, 2.0)}),
    ("RRF k=60, bm25 weight 2", {"k": 60, "weights": (2.0, 1.0)}),
    ("RRF k=60, depth 20 each", {"k": 60, "depth": 20}),
    ("RRF k=10, bm25 weight 2", {"k": 10, "weights": (2.0, 1.0)}),
    ("RRF k=10, bm25 weight 3", {"k": 10, "weights": (3.0, 1.0)}),
]


def print_fusions(
    sets: Mapping[str, Sequence[Query]],
    results: Mapping[str, Mapping[str, tuple[list[Ranking], list[float]]]],
    cats: Mapping[str, frozenset[str] | None],
) -> None:
    print(
        "\n== fusion variants, redone here on the document rankings of bm25 and dense "
        f"({DEPTH['bm25']} documents each unless said), own doc + copies, nDCG@10 / R@5"
    )
    print(f"{'variant':<34}" + "".join(f"{name:>22}" for name in sets))
    rows: list[tuple[str, list[Scores]]] = [
        (
            f"{mode} (index, as run above)",
            [score(q, results[n][mode][0], cats, with_copies=True) for n, q in sets.items()],
        )
        for mode in MODES
    ]
    for label, options in FUSIONS:
        scores = []
        for name, queries in sets.items():
            bm25, dense = results[name]["bm25"][0], results[name]["dense"][0]
            fused = [
                rrf(
                    b,
                    d,
                    k=options["k"],
                    weights=options.get("weights", (1.0, 1.0)),
                    depth=options.get("depth", DEPTH["bm25"]),
                )
                for b, d in zip(bm25, dense, strict=True)
            ]
            scores.append(score(queries, fused, cats, with_copies=True))
        rows.append((label, scores))
    for label, scores in rows:
        print(f"{label:<34}" + "".join(f"{s.ndcg:>14.3f} / {s.recall[5]:.3f}" for s in scores))


def overlap(
    results: Mapping[str, tuple[list[Ranking], list[float]]], queries: Sequence[Query]
) -> str:
    """How often each single retriever alone answers in its top 10 (own doc + copies)."""
    both = only_b = only_d = neither = 0
    for q, b, d in zip(queries, results["bm25"][0], results["dense"][0], strict=True):
        relevant = frozenset({q.doc_id}) | q.copies
        rb, rd = rank_of(b, relevant) is not None, rank_of(d, relevant) is not None
        both += rb and rd
        only_b += rb and not rd
        only_d += rd and not rb
        neither += not (rb or rd)
    return (
        f"answer (own doc or copy) in the top 10 of both bm25 and dense {both}, "
        f"bm25 only {only_b}, dense only {only_d}, neither {neither}"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_header(embedder: Embedder) -> None:
    cores = len(os.sched_getaffinity(0))
    print("command: " + shlex.join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {cpu_model()}, {cores} cores available; Python {platform.python_version()}")
    print(
        "versions: "
        + ", ".join(
            f"{p} {version(p)}" for p in ("torch", "sentence-transformers", "chromadb", "bm25s")
        )
        + f"; model {embedder.name} ({embedder.dtype})"
    )


async def evaluate(root: Path, index_dir: Path, show: int) -> None:
    read = read_documents([root])
    records = load_records(root)
    sets = build_queries(records, read.documents)
    cats = {d.doc_id: categories(d.root_cause_category) for d in read.documents}
    embedder = Embedder()
    settings = RetrievalSettings(chroma_path=index_dir)
    async with await PostmortemIndex.open(settings, embedder=embedder) as index:
        await index.warm_up()
        print_header(embedder)
        groups = Counter(
            "/".join(d.doc_id.split("/")[: 2 if d.doc_id.startswith("raw-") else 1])
            for d in read.documents
        )
        print(
            f"corpus: {len(read.documents)} documents ("
            + ", ".join(f"{g} {n}" for g, n in sorted(groups.items()))
            + f"), {len(read.warnings)} files skipped or noted by read_documents"
        )
        report = await index.ingest(read.documents, read.roots, chunk_document)
        stats = await index.stats()
        rate = report.chunks_embedded / report.seconds if report.chunks_embedded else 0.0
        print(
            f"ingest: {stats.documents} documents, {stats.chunks} chunks; "
            f"{report.chunks_embedded} embedded in {report.seconds:.1f} s "
            f"({rate:.0f} chunks/s, chunking + embedding + Chroma writes; model loaded before)"
        )
        for name, queries in sets.items():
            print(f"examples of {name} queries:")
            for q in queries[:: max(1, len(queries) // show)][:show]:
                print(f"   {q.doc_id.rsplit('#', 1)[1]:<22} {q.text!r}")
        results: dict[str, dict[str, tuple[list[Ranking], list[float]]]] = {}
        for name, queries in sets.items():
            results[name] = {m: await search_all(index, queries, m) for m in MODES}
    print(
        "\nrelevance: 'own doc' = the record's document only; '+ copies' = the record or a "
        "document holding the same report (first of them counts).\nR@k recall@k, MRR@10, "
        "nDCG@10 (one relevant document); cause category: share of queries with a known "
        "category whose\nbest other categorised hit (agree@1) / majority of the first five "
        "(maj@5) in the top 10 has the same layer-1/layer-2 labels; ms/q: mean search time\n"
        f"(hybrid asks k={DEPTH['hybrid']}, bm25 and dense k={DEPTH['bm25']}: not comparable "
        "across modes; see bench/retrieval_perf.py)"
    )
    for name, queries in sets.items():
        print_set(name, queries, results[name], cats)
        print(f"   {overlap(results[name], queries)}")
    print_fusions(sets, results, cats)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT, help="archive or folder")
    parser.add_argument(
        "--index", type=Path, help="Chroma directory to use and keep (default: a temporary one)"
    )
    parser.add_argument("--show", type=int, default=3, help="example queries shown per set")
    args = parser.parse_args()
    started = time.perf_counter()
    with dataset(args.path) as root, tempfile.TemporaryDirectory(prefix="rcabot-eval-") as tmp:
        asyncio.run(evaluate(root, args.index or Path(tmp), args.show))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
