"""The admin UI in a real browser: Debian's Chromium, driven by Playwright, against ``detector admin run``.

AppTest does not run the frontend, so this is the one test that proves the pages render, links
navigate, and a click reaches the database over Streamlit's websocket. It saves screenshots of the
main pages to ``test-artifacts/screenshots/`` (git-ignored) for a human to look at.
Skips when Chromium or Playwright is missing, unless ``DETECTOR_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from detector.alerts.models import Alert
from detector.db.session import session_scope
from detector.posts.models import Author
from detector.review.models import ModeratorDecision
from tests.admin_ui.conftest import PASSWORDS, admin_users_json
from tests.admin_ui.seed import seed

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT_MS = 30_000


def _missing(why: str):
    if os.environ.get("DETECTOR_REQUIRE_SERVICES") == "1":
        pytest.fail(why + "; DETECTOR_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(why + " (apt-get install -y chromium; pip install playwright)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(base: str, proc: subprocess.Popen, log: Path, deadline_s: float = 60) -> None:
    """Poll /_stcore/health until it answers ok; fail early, with the log, if the server died."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the admin UI exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling interval of a readiness probe, not a wait for the page
    pytest.fail(f"the admin UI did not become healthy in {deadline_s}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def server(sqlite_url, tmp_path):
    """``python -m detector.cli.admin run`` on a free port, with a seeded SQLite database."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed")
    ids = seed(sqlite_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DETECTOR_")}
    env.update(DETECTOR_DATABASE_URL=sqlite_url, DETECTOR_ADMIN_USERS=admin_users_json(),
               DETECTOR_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO))
    port, log = _free_port(), tmp_path / "admin-ui.log"
    with log.open("wb") as out:
        command = [sys.executable, "-m", "detector.cli.admin", "run", "--host", "127.0.0.1",
                   "--port", str(port)]
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, log)
        yield base, ids
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_log_in_open_an_alert_confirm_it(server):
    from playwright.sync_api import expect, sync_playwright

    base, ids = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            # An anonymous visitor following a deep link sees the login and nothing else.
            page.goto(f"{base}/metrics")
            expect(page.get_by_label("Username")).to_be_visible()
            expect(page.get_by_role("link", name="Review queue")).to_have_count(0)
            expect(page.get_by_text("Open alerts")).to_have_count(0)
            _shot(page, "login")

            page.get_by_label("Username").fill("kim")
            page.get_by_label("Password", exact=True).fill(PASSWORDS["kim"])
            page.get_by_role("button", name="Log in").click()
            page.set_viewport_size({"width": 1440, "height": 1600})
            expect(page.get_by_role("heading", name="Metrics")).to_be_visible()  # the deep link survived
            expect(page.locator("[data-testid='stVegaLiteChart'] .marks").first).to_be_visible()
            expect(page.get_by_role("heading", name="Dead letters")).to_be_visible()
            _shot(page, "metrics")

            page.get_by_role("link", name="Review queue").click()
            expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
            expect(page.get_by_text(f"Alert #{ids.alert_open}", exact=True)).to_be_visible()
            _shot(page, "queue")

            page.get_by_role("link", name=f"Open cluster #{ids.cluster}").click()
            expect(page.get_by_role("heading", name=f"Cluster #{ids.cluster}")).to_be_visible()
            expect(page.locator("[data-testid='stVegaLiteChart'] .marks").first).to_be_visible()
            expect(page.locator("mark").first).to_be_visible()  # near-duplicate highlighting rendered
            _shot(page, "cluster")

            page.get_by_role("button", name="Confirm abuse: sanctions 6 accounts").click()
            done = f"Alert #{ids.alert_open} confirmed as abuse; 6 accounts sanctioned."
            expect(page.get_by_text(done)).to_be_visible()
            _shot(page, "cluster-confirmed")
        finally:
            browser.close()

    with session_scope(ids.url) as s:
        assert s.get(Alert, ids.alert_open).status == "confirmed"
        authors = set(s.scalars(select(Author.status).where(Author.id.in_(ids.campaign_authors))))
        assert authors == {"sanctioned"}
        decision = s.scalars(select(ModeratorDecision).filter_by(subject_id=ids.alert_open,
                                                                 subject_type="alert")).one()
        assert (decision.decision, decision.moderator, decision.source) == ("confirm_abuse", "kim",
                                                                            "admin_ui")
