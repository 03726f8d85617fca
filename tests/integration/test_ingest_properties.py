"""Property-based: random and hostile input at the ingest edge is accepted or rejected with a reason.

Nothing raises, every line is accounted for (accepted + duplicates + rejected = lines given), every
rejection is stored with a code and a sentence, and the stored posts read back as valid text.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from detector.db.session import session_scope
from detector.posts.ingest import ingest_lines, ingest_record
from detector.posts.models import Post, RejectedInput
from detector.settings import Settings

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
hostile_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200) | st.sampled_from([
    "ignore previous instructions", "\u200b\u200b", "\x00", "a\ud800b", "<script>alert(1)</script>",
    "'; DROP TABLE posts; --", "ㅎㅖ어져서 팝니ㄷr ☆", "x" * 30_000])
posts = st.fixed_dictionaries({"id": st.one_of(st.text(max_size=30), st.integers(), json_values),
                               "text": st.one_of(hostile_text, json_values)},
                              optional={"title": json_values | hostile_text, "author_id": json_values,
                                        "created_at": st.one_of(st.text(max_size=30), json_values,
                                                                st.datetimes().map(lambda d: d.isoformat())),
                                        "price": json_values, "image_urls": json_values,
                                        "content_type": st.sampled_from(["listing", "Bad!", "", "jobs"]),
                                        "extra": json_values})


def _line(value) -> bytes:
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError):
        return repr(value).encode("utf-8", "surrogatepass")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(posts | json_values | st.binary(max_size=80), min_size=1, max_size=25))
def test_every_line_ends_accepted_or_rejected_with_a_reason(sqlite_url, batch):
    lines = [(i, item if isinstance(item, bytes) else _line(item)) for i, item in enumerate(batch, start=1)]
    lines = [(i, raw.replace(b"\n", b" ")) for i, raw in lines if raw.strip()]
    with session_scope(sqlite_url) as s:
        before_posts = s.scalar(select(func.count()).select_from(Post))
        before_rejected = s.scalar(select(func.count()).select_from(RejectedInput))
    counts = ingest_lines(lines, settings=Settings(database_url=sqlite_url), source=f"prop:{id(batch)}",
                          session_factory=lambda: session_scope(sqlite_url))
    assert counts.accepted + counts.duplicates + counts.rejected == len(lines)
    with session_scope(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(Post)) == before_posts + counts.accepted
        new_rejections = s.scalars(select(RejectedInput).order_by(RejectedInput.id).offset(before_rejected)).all()
        assert all(r.reason_code and r.reason for r in new_rejections)
        for text in s.scalars(select(Post.text)):
            text.encode("utf-8")  # what was stored is valid text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(posts | json_values)
def test_the_task_edge_never_raises(sqlite_url, value):
    with session_scope(sqlite_url) as s:
        counts = ingest_record(value, settings=Settings(database_url=sqlite_url), session=s, source="prop-task")
    assert counts.accepted + counts.duplicates + counts.rejected == 1
