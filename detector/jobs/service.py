"""Recording and listing dead letters."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.jobs.models import DeadLetter
from detector.db.dialect import insert_for


def record_dead_letter(session: Session, *, task_name: str, task_id: str, args: dict, error: str,
                       attempts: int) -> None:
    """Once per task id: a redelivered poison message does not pile up rows."""
    stmt = insert_for(session, DeadLetter).values(task_name=task_name, task_id=task_id, args=args,
                                               error=error, attempts=attempts)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["task_id"]))


def open_dead_letters(session: Session, limit: int = 100) -> list[DeadLetter]:
    return list(session.scalars(select(DeadLetter).where(DeadLetter.resolved_at.is_(None))
                                .order_by(DeadLetter.created_at.desc()).limit(limit)))
