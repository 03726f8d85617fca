"""Near-duplicate lookup: for each new post, its closest earlier posts in the same namespace.

Edges above the threshold are stored with both authors, because one seller reposting their own
item is normal marketplace behaviour while the same text from several accounts is the signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from detector.db.dialect import insert_for
from detector.similarity.models import NearDuplicateEdge


@dataclass(frozen=True)
class Neighbour:
    post_id: int
    author_id: int | None
    similarity: float


def window_filter(created_at: datetime, window: timedelta) -> dict:
    return {"created_at": {"$gte": int((created_at - window).timestamp())}}


def neighbours_from(matches, post_id: int, *, k: int, threshold: float) -> list[Neighbour]:
    """Keep matches above the threshold, other than the post itself."""
    out = []
    for match in matches:
        other = int(match.metadata.get("post_id", match.id))
        if other != post_id and match.score >= threshold:
            author = match.metadata.get("author_id") or None
            out.append(Neighbour(other, int(author) if author else None, round(match.score, 6)))
    return out[:k]


def merged(*sources: list[Neighbour]) -> list[Neighbour]:
    """One neighbour per post across sources (embedding, shingle), at its highest similarity."""
    best: dict[int, Neighbour] = {}
    for source in sources:
        for n in source:
            if n.post_id not in best or n.similarity > best[n.post_id].similarity:
                best[n.post_id] = n
    return sorted(best.values(), key=lambda n: -n.similarity)


def edge_rows(namespace: str, post_id: int, author_id: int | None, neighbours: list[Neighbour],
              method: str = "embedding") -> list[dict]:
    """One undirected edge per pair (smaller id first), so a retried batch adds nothing."""
    rows = []
    for n in neighbours:
        (src, src_author), (dst, dst_author) = sorted([(post_id, author_id), (n.post_id, n.author_id)],
                                                      key=lambda pair: pair[0])
        rows.append({"content_type": namespace, "src_post_id": src, "dst_post_id": dst,
                     "src_author_id": src_author, "dst_author_id": dst_author, "similarity": n.similarity,
                     "cross_author": bool(src_author and dst_author and src_author != dst_author),
                     "method": method})
    return rows


def store_edges(session: Session, rows: list[dict]) -> None:
    """Insert edge rows in one statement; existing pairs are left alone."""
    if rows:
        session.execute(insert_for(session, NearDuplicateEdge.__table__).on_conflict_do_nothing(
            index_elements=["src_post_id", "dst_post_id", "method"]), rows)
