"""Runs the vector-index contract against every implementation."""

import pytest

from detector.index.memory import MemoryIndex
from tests.contract.vector_index_contract import DIM, VectorIndexContract


class TestMemoryIndex(VectorIndexContract):
    @pytest.fixture
    def index(self):
        return MemoryIndex(DIM)


class TestHnswIndex(VectorIndexContract):
    @pytest.fixture
    def index(self):
        from detector.index.hnsw import HnswIndex

        return HnswIndex(DIM)
