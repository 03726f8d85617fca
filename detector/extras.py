"""Optional heavy dependencies, imported on first use with an install hint when missing.

``detector`` itself imports without torch, sentence-transformers, Streamlit, Slack or any LLM SDK;
a backend that needs one calls ``require`` at construction, so the error names the extra to
install instead of surfacing as a bare ``ModuleNotFoundError`` deep in a worker.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtra(ImportError):
    """An optional dependency is not installed."""


def require(module: str, *, extra: str, purpose: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtra(
            f"{purpose} needs the Python package providing '{module}', which is not installed. "
            f"Install it with: pip install 'sellerwatch[{extra}]'"
            + (" (install torch==2.13.0 first: a plain install pulls a multi-GB CUDA build)"
               if extra in ("embed", "all") else "")
        ) from err
