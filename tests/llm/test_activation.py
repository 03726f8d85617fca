"""One active prompt version per content type is a database fact; the loser of a race gets a typed error."""

import threading
import time

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from detector.audit.models import AuditLog
from detector.db.session import session_scope
from detector.llm.models import PromptVersion
from detector.llm.profiles import ActivationConflict, activate

TEMPLATE = "<!-- system -->\nsys {{profile}}\n<!-- user -->\n<post>{{post}}</post>"


def versions(url, *names, active=None) -> list[int]:
    with session_scope(url) as session:
        rows = [PromptVersion(content_type="listing", version=name, text=f"profile {name}", sha256=name * 8,
                              provenance={"classify_template": TEMPLATE}, eval_scores={}, is_active=name == active)
                for name in names]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def test_the_partial_unique_index_refuses_a_second_active_row_on_sqlite(sqlite_url):
    indexes = {i["name"]: i for i in inspect(create_engine(sqlite_url)).get_indexes("prompt_versions")}
    assert indexes["uq_prompt_versions_one_active"]["unique"]
    _, b = versions(sqlite_url, "a", "b", active="a")
    versions(sqlite_url, "other")  # inactive rows are not limited
    with pytest.raises(IntegrityError, match="UNIQUE"), session_scope(sqlite_url) as session:
        session.get(PromptVersion, b).is_active = True
    with session_scope(sqlite_url) as session:  # activate() itself switches cleanly
        activate(session, b, actor="t", force=True)
    with session_scope(sqlite_url) as session:
        assert session.scalars(select(PromptVersion.id).where(PromptVersion.is_active.is_(True))).all() == [b]


def _wait_for_lock_waiter(url: str, timeout: float = 15.0) -> None:
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.scalar(text("select count(*) from pg_stat_activity where datname = current_database() "
                                    "and wait_event_type = 'Lock'")):
                    return
            time.sleep(0.05)
        raise AssertionError("the second activation never blocked on the first")
    finally:
        engine.dispose()


@pytest.mark.parametrize("loser", ["domain", "cli", "admin_ui"])
@pytest.mark.parametrize("previous", [False, True])
def test_two_concurrent_activations_one_wins_the_other_gets_a_typed_error(pg_url, use_settings, loser, previous):
    _, first_id, second_id = versions(pg_url, "old", "v1", "v2", active="old" if previous else None)
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def first():
        with session_scope(pg_url) as session:
            activate(session, first_id, actor="first", force=True)
            holding.set()  # flushed, not committed: the second transaction runs into it
            release.wait(20)

    def second():
        try:
            if loser == "domain":
                with session_scope(pg_url) as session:
                    activate(session, second_id, actor="second", force=True)
                outcome["result"] = "activated"
            elif loser == "cli":
                from typer.testing import CliRunner

                from detector.cli.prompts import app

                result = CliRunner().invoke(app, ["activate", "v2", "--force"])
                outcome["result"] = (result.exit_code, result.output, result.exception)
            else:
                from admin_ui import data

                data.activate_prompt_version(pg_url, second_id, "admin", force=True)
                outcome["result"] = "activated"
        except Exception as err:  # noqa: BLE001 - the test inspects what came out
            outcome["result"] = err

    use_settings(database_url=pg_url)
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert holding.wait(20)
    threads[1].start()
    _wait_for_lock_waiter(pg_url)
    release.set()
    for thread in threads:
        thread.join(30)
    result = outcome["result"]
    if loser == "domain":
        assert isinstance(result, ActivationConflict) and "committed first" in str(result)
    elif loser == "cli":
        code, output, exc = result
        assert code == 1 and "another activation of 'listing' committed first" in output
        assert exc is None or isinstance(exc, SystemExit)  # a clean exit, no traceback
    else:
        from admin_ui import data

        assert isinstance(result, data.DecisionError) and "committed first" in str(result)
    with session_scope(pg_url) as session:
        active = session.scalars(select(PromptVersion.id).where(PromptVersion.is_active.is_(True))).all()
        assert active == [first_id]
        audited = session.scalars(select(AuditLog.actor).where(AuditLog.action == "prompt.activate")).all()
        assert audited == ["first"]  # the loser's audit row was rolled back with it
