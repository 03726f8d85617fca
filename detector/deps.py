"""The dependencies a process builds once: embedder, vector index. Passed to domain functions.

Built lazily on first use in each process (a Celery worker child, the CLI, the admin UI), never at
import time, so importing ``detector`` stays cheap and configuration errors surface where they
can be reported.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from detector.embedding.base import Embedder
from detector.settings import Settings, get_settings
from detector.similarity.index_sync import IndexCache


@dataclass
class Deps:
    settings: Settings
    embedder: Embedder
    index: IndexCache


_lock = threading.Lock()
_deps: dict[int, Deps] = {}


def build_deps(settings: Settings) -> Deps:
    from detector.embedding.models import make_embedder

    embedder = make_embedder(settings.embedder, threads=settings.embedder_threads)
    if settings.vector_index == "pinecone":
        from detector.index.pinecone_index import PineconeIndex

        if not (settings.pinecone_api_key and settings.pinecone_host):
            raise ValueError("DETECTOR_VECTOR_INDEX=pinecone needs DETECTOR_PINECONE_API_KEY and DETECTOR_PINECONE_HOST")
        index = IndexCache(PineconeIndex(api_key=settings.pinecone_api_key.get_secret_value(),
                                         host=settings.pinecone_host, dim=embedder.dim), embedder.name, local=False)
    elif settings.vector_index == "embedded":
        from detector.index.hnsw import HnswIndex

        index = IndexCache(HnswIndex(embedder.dim, expansion_search=settings.index_ef_search), embedder.name,
                           local=True)
    else:
        raise ValueError(f"unknown DETECTOR_VECTOR_INDEX {settings.vector_index!r}: embedded or pinecone")
    return Deps(settings=settings, embedder=embedder, index=index)


def get_deps() -> Deps:
    """This process's dependencies for the current settings (rebuilt if the settings object changed)."""
    settings = get_settings()
    with _lock:
        deps = _deps.get(id(settings))
        if deps is None:
            _deps.clear()
            deps = _deps[id(settings)] = build_deps(settings)
        return deps


def reset_deps() -> None:
    with _lock:
        _deps.clear()
