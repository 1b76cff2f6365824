"""The critical path of a trace, computed the way Jaeger's UI does (jaeger-ui ``criticalPath``).

Why: a span's *self time* (duration not covered by its children) counts time whether or not it
delayed the request. A service called in parallel with a slower sibling adds self time that the
caller never waited for. The critical path keeps only the time the request actually waited on.

The walk, per root span:

1. **Clip** every child to its (already clipped) parent's interval, top-down. A child that lies
   entirely outside its parent (starts at or after the parent's end, or ends at or before the
   parent's start) is dropped together with its subtree: it ran asynchronously and did not
   delay the parent.
2. Starting from the root's end, the child that **finished last** is critical; the parent's time
   between that child's end and the current bound is the parent's critical section. Continue
   inside that child the same way; when a span has no child left before the bound, its time
   from its start to the bound is critical, and the walk returns to its parent with the bound
   moved to the span's start: the parent's next critical child is the one that finished last
   *strictly before* that start. Siblings overlapping a critical child are not on the path.

The sections of one root tile the root's interval exactly, so per root they sum to its duration.

Decisions on imperfect data:

- **Several roots / orphans**: a span whose parent is absent from the trace (or has none) is a
  root, and every root gets its own critical path, as Jaeger does. A trace missing its entry
  span (it was not sampled or not exported) still yields the waiting time of the subtrees we
  have, instead of losing them all by keeping only the longest root.
- **Cycles in parent ids** (bad data): spans not reachable from any root lie on, or hang off, a
  cycle. The earliest-starting of them (longest on ties) is promoted to a root, which breaks the
  cycle where a parent most plausibly is; repeated until every span is placed. A span that names
  itself as parent is treated as a root.
- **Duplicate span ids**: the first occurrence is the parent its children attach to; each span
  object is still walked at most once, so nothing loops.
- **Deep traces**: everything is iterative (explicit stacks and parent pointers), so a
  10,000-deep chain neither recurses nor is quadratic: each parent's children are sorted once
  by end time and consumed with a cursor, since the bound only moves backwards.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.records import Span


def critical_self_ms(spans: Sequence[Span]) -> list[float]:
    """Milliseconds of each span's own time on the critical path, aligned with ``spans``.

    A span off the critical path gets 0. For a span on it, this is its (clipped) duration minus
    the durations of its critical children: time the request waited on this span itself. The
    values of each root's tree sum to that root's duration.
    """
    n = len(spans)
    by_id: dict[str, int] = {}
    for i, span in enumerate(spans):
        by_id.setdefault(span.span_id, i)
    parent: list[int | None] = [None] * n
    children: list[list[int]] = [[] for _ in range(n)]
    for i, span in enumerate(spans):
        p = by_id.get(span.parent_id) if span.parent_id else None
        if p is not None and p != i:
            parent[i] = p
            children[p].append(i)
    out = [0.0] * n
    placed = [False] * n
    for root in range(n):
        if parent[root] is None:
            _walk_root(spans, root, children, placed, out)
    # whatever is still unplaced sits on or under a cycle: break each at its earliest span
    for root in sorted(range(n), key=lambda i: (spans[i].start, -spans[i].duration_ms, i)):
        if not placed[root]:
            _walk_root(spans, root, children, placed, out)
    return out


def _walk_root(
    spans: Sequence[Span],
    root: int,
    children: list[list[int]],
    placed: list[bool],
    out: list[float],
) -> None:
    """Clip ``root``'s tree, then walk its critical path, adding sections (ms) to ``out``."""
    lo: dict[int, float] = {root: spans[root].start}
    hi: dict[int, float] = {root: spans[root].end}
    kids: dict[int, list[int]] = {}
    up: dict[int, int] = {}
    placed[root] = True
    stack = [root]
    while stack:  # top-down clipping; unplaced guards against cycles and duplicate ids
        p = stack.pop()
        kept = []
        for c in children[p]:
            if placed[c]:
                continue
            placed[c] = True
            stack.append(c)
            if p not in lo:
                continue  # parent was dropped: so is its subtree (but it is placed)
            start, end = spans[c].start, spans[c].end
            if start >= hi[p] or (start < lo[p] and end <= lo[p]):
                continue  # entirely outside its parent: asynchronous, never waited on
            lo[c], hi[c] = max(start, lo[p]), min(end, hi[p])
            up[c] = p
            kept.append(c)
        # last finishing first; stable, so ties go to the earlier span as in Jaeger
        kids[p] = sorted(kept, key=lambda c: -hi[c])
    cursor = dict.fromkeys(kids, 0)
    current, bound, returning = root, hi[root], False
    while True:
        ordered, k = kids[current], cursor[current]
        while k < len(ordered) and (
            hi[ordered[k]] >= bound if returning else hi[ordered[k]] > bound
        ):
            k += 1
        cursor[current] = k
        if k < len(ordered):  # descend into the last child finishing before the bound
            child = ordered[k]
            cursor[current] = k + 1
            out[current] += (bound - hi[child]) * 1000.0
            current, bound, returning = child, hi[child], False
            continue
        out[current] += (bound - lo[current]) * 1000.0
        if current == root:
            return
        current, bound, returning = up[current], lo[current], True
