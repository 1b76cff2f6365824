"""The embedding model: offline resolution, vectors, truncation, precision, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.embeddings import DEFAULT_MODEL, Embedder, resolve_model
from tests.retrieval.index_support import shared_embedder
from tools.errors import RetrievalError

REPO = Path(__file__).resolve().parents[2]


def test_model_names_resolve_to_local_directories(tmp_path: Path) -> None:
    name, path = resolve_model(DEFAULT_MODEL)
    assert name == DEFAULT_MODEL
    assert (path / "modules.json").is_file()
    assert resolve_model(f"sentence-transformers/{DEFAULT_MODEL}") == (name, path)
    assert resolve_model(str(path)) == (path.name, path)


@pytest.mark.parametrize("model", ["bert-base-uncased", "sentence-transformers/all-mpnet-base-v2"])
def test_a_hub_name_is_refused_with_an_explanation(model: str) -> None:
    with pytest.raises(RetrievalError, match="loaded offline from a local path") as caught:
        Embedder(model)
    assert DEFAULT_MODEL in str(caught.value)


def test_a_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RetrievalError, match=r"has no modules\.json"):
        resolve_model(str(tmp_path))


def test_vectors_are_normalised_float32() -> None:
    embedder = shared_embedder()
    before = embedder.documents_encoded
    vectors = embedder.encode_documents(["disk full on the inventory database", "dns timeouts"])
    assert vectors.shape == (2, embedder.dimension) == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert embedder.documents_encoded == before + 2
    assert embedder.encode_documents([]).shape == (0, 384)


def test_related_texts_are_closer_than_unrelated_ones() -> None:
    embedder = shared_embedder()
    query = embedder.encode_query("database connection pool exhausted")
    related, unrelated = embedder.encode_documents(
        [
            "HikariPool: connection is not available, all connections in use",
            "The TLS certificate of the CDN expired overnight",
        ]
    )
    assert float(query @ related) > float(query @ unrelated) + 0.1


def test_a_long_text_is_truncated_to_what_the_model_reads() -> None:
    embedder = shared_embedder()
    assert embedder.max_tokens == 256
    text = " ".join(f"service{i % 50} timed out" for i in range(2_000))  # ~10,000 words
    # Everything after the first 256 word pieces is ignored: cutting it changes nothing.
    full, prefix = embedder.encode_query(text), embedder.encode_query(text[:3_000])
    assert float(full @ prefix) > 0.999


def test_vectors_are_those_of_sentence_transformers_encode() -> None:
    """We batch and parallelise ourselves; the numbers must not change."""
    embedder = Embedder(precision="float32")
    texts = ["short", "a longer text about a payments outage " * 20, "CoreDNS dropped queries"]
    reference = embedder._model().model.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(embedder.encode_documents(texts), reference, atol=1e-5)
    np.testing.assert_allclose(embedder.encode_query(texts[1]), reference[1], atol=1e-5)


def test_the_model_is_loaded_once_per_process() -> None:
    first, second = shared_embedder(), Embedder()
    assert first._model() is second._model()


def test_bfloat16_and_float32_vectors_agree() -> None:
    texts = ["Checkout failed: payments pool exhausted", "CoreDNS dropped UDP queries"]
    wide = Embedder(precision="float32").encode_documents(texts)
    narrow = Embedder(precision="bfloat16").encode_documents(texts)
    assert np.all(np.sum(wide * narrow, axis=1) > 0.99)


async def test_async_methods_match_the_blocking_ones() -> None:
    embedder = shared_embedder()
    await embedder.warm_up()
    texts = ["cache stampede after a deploy"]
    np.testing.assert_allclose(
        await embedder.embed_documents(texts), embedder.encode_documents(texts), atol=1e-6
    )
    np.testing.assert_allclose(
        await embedder.embed_query(texts[0]), embedder.encode_query(texts[0]), atol=1e-6
    )


def test_model_and_index_work_without_network(tmp_path: Path) -> None:
    """Load the model, open Chroma, ingest and search in a process whose sockets all fail,
    with HF_HUB_OFFLINE unset: nothing may even try to connect or resolve a name."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_OFFLINE")}
    done = subprocess.run(
        [sys.executable, "-m", "tests.retrieval.ingest_child", "full", str(tmp_path / "db"),
         str(tmp_path / "pm")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    assert result["embedded"] > 0
    assert result["hits"][0] == "dns.md"
