"""The review queue's detection items: reports and audit samples included, status from the decision in force."""

from datetime import timedelta

from detector.db.session import session_scope
from detector.review.queue import list_queue
from detector.review.service import record_decision, revert_decision
from tests.metrics.factory import author, detection, post


def test_decided_items_do_not_crowd_out_open_work(db_url):
    with session_scope(db_url) as s:
        items = [detection(s, post(s, author(s)), path, positive=path == "report", ago=timedelta(minutes=10 - i))
                 for i, path in enumerate(["audit", "report", "audit", "audit", "report"])]
        ids = [d.id for d in items]
        detection(s, post(s, author(s)), "llm", positive=False)  # a negative verdict is not review work
        for det_id, verdict in zip(ids[2:], ("benign", "confirm_abuse", "escalate"), strict=True):
            record_decision(s, subject_type="detection", subject_id=det_id, decision=verdict, moderator="m")
        changed = record_decision(s, subject_type="detection", subject_id=ids[1], decision="benign", moderator="m")
        revert_decision(s, changed.id, moderator="m")  # reverted: open again
    with session_scope(db_url) as s:
        open_work = list_queue(s, statuses=("open",), limit=2)
        benign = list_queue(s, statuses=("benign",))
        mixed = list_queue(s, statuses=("open", "escalated"))
        audits = list_queue(s, statuses=("open", "benign", "confirmed", "escalated"), paths=["audit"])
    assert [i["id"] for i in open_work] == [ids[1], ids[0]]  # the newest decided ones are skipped
    assert [(i["id"], i["status"]) for i in benign] == [(ids[2], "benign")]
    assert [(i["id"], i["status"]) for i in mixed] == [(ids[4], "escalated"), (ids[1], "open"), (ids[0], "open")]
    assert [i["id"] for i in audits] == [ids[3], ids[2], ids[0]] and {i["path"] for i in audits} == {"audit"}
