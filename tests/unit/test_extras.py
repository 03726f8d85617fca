import subprocess
import sys

import pytest

from detector.extras import MissingExtra, require


def test_missing_extra_names_the_install_command():
    with pytest.raises(MissingExtra, match=r"pip install 'sellerwatch\[embed\]'.*torch==2.13.0"):
        require("surely_not_installed_module_xyz", extra="embed", purpose="The MiniLM embedder")


def test_present_module_is_returned():
    assert require("json", extra="llm", purpose="x").dumps([1]) == "[1]"


def test_detector_imports_without_heavy_dependencies():
    """The domain package must not pull torch, Streamlit, Slack or an LLM SDK at import time."""
    code = ("import sys, detector, detector.settings, detector.db.registry, detector.posts.ingest;"
            "heavy = {'torch', 'streamlit', 'slack_sdk', 'openai', 'sentence_transformers', 'celery'};"
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
