"""Shingle near-duplicates of a batch of posts, with the LSH buckets kept in the database.

Second source of edges next to the vector index (see ``shingles`` for why). For one namespace's
batch: store each post's signature and band keys (conflict-free inserts, so a retried batch adds
nothing), then look up every band key of the batch in one query per chunk. The batch's keys are
written first, so posts of one campaign arriving together find each other, as they do through the
index. Nothing lives in worker memory: concurrent workers share the tables (posts of two
transactions still in flight at once do not see each other, as with the embedded index).

Fan-out is capped twice, because a very common short text ("ok", "sold") shares all its bands with
thousands of posts: each band key returns at most ``max_candidates`` of its most recent posts
(``ROW_NUMBER`` per key, on SQLite and PostgreSQL alike), and each post verifies at most
``max_candidates`` candidates, those sharing the most bands (then the most recent). Verified
neighbours (estimated Jaccard >= threshold) are kept best first, at most ``k`` per post like the
index path, with their similarity calibrated onto the cosine scale (``shingles.calibrated``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from detector.db.dialect import insert_for
from detector.posts.models import Post
from detector.similarity import shingles
from detector.similarity.models import ShingleBand, ShingleSignature
from detector.similarity.neighbours import Neighbour

CHUNK = 1_000  # bound parameters per IN list (SQLite allows 32,766 per statement)


def shingle_neighbours(session: Session, namespace: str, posts: list[Post], *, threshold: float,
                       cosine_threshold: float, window: timedelta, k: int, max_candidates: int
                       ) -> dict[int, list[Neighbour]]:
    """Index the batch's posts and return each one's verified shingle neighbours."""
    if not posts:
        return {}
    bands, rows = shingles.lsh_params(threshold)
    sigs = {p.id: shingles.signature(p.normalized_text or "") for p in posts}
    keys = {p.id: shingles.band_keys(sigs[p.id], bands, rows) for p in posts}
    session.execute(insert_for(session, ShingleSignature.__table__).on_conflict_do_nothing(
        index_elements=["post_id"]), [{"post_id": pid, "signature": shingles.to_bytes(s)} for pid, s in sigs.items()])
    session.execute(insert_for(session, ShingleBand.__table__).on_conflict_do_nothing(
        index_elements=["content_type", "band_key", "post_id"]),
        [{"content_type": namespace, "band_key": key, "post_id": p.id, "created_at": p.created_at}
         for p in posts for key in keys[p.id]])
    hits = _bucket_hits(session, namespace, sorted({key for ks in keys.values() for key in ks}),
                        min(p.created_at for p in posts) - window, max_candidates + 1)  # + the post itself
    wanted: dict[int, list[int]] = {}
    for p in posts:
        since, shared = p.created_at - window, Counter()
        for key in keys[p.id]:
            shared.update(other for other, created in hits.get(key, ()) if other != p.id and created >= since)
        wanted[p.id] = [o for o, _n in sorted(shared.items(), key=lambda kv: (-kv[1], -kv[0]))[:max_candidates]]
    stored = _signatures(session, sorted({o for ids in wanted.values() for o in ids}))
    out = {}
    for p in posts:
        found = []
        for other in wanted[p.id]:
            if other in stored:
                jaccard = shingles.estimated_jaccard(sigs[p.id], stored[other][0])
                if jaccard >= threshold:
                    found.append(Neighbour(other, stored[other][1],
                                           round(shingles.calibrated(jaccard, threshold, cosine_threshold), 6)))
        found.sort(key=lambda n: (-n.similarity, -n.post_id))
        out[p.id] = found[:k]
    return out


def _bucket_hits(session: Session, namespace: str, keys: list[int], since: datetime,
                 per_key: int) -> dict[int, list[tuple[int, datetime]]]:
    """Posts (id, created_at) under each key since ``since``: at most ``per_key`` most recent per key."""
    hits: dict[int, list[tuple[int, datetime]]] = {}
    for start in range(0, len(keys), CHUNK):
        ranked = (select(ShingleBand.band_key, ShingleBand.post_id, ShingleBand.created_at,
                         func.row_number().over(partition_by=ShingleBand.band_key,
                                                order_by=ShingleBand.post_id.desc()).label("rank"))
                  .where(ShingleBand.content_type == namespace, ShingleBand.band_key.in_(keys[start:start + CHUNK]),
                         ShingleBand.created_at >= since).subquery())
        for key, post_id, created in session.execute(
                select(ranked.c.band_key, ranked.c.post_id, ranked.c.created_at).where(ranked.c.rank <= per_key)):
            hits.setdefault(key, []).append((post_id, created))
    return hits


def _signatures(session: Session, post_ids: list[int]) -> dict[int, tuple[np.ndarray, int | None]]:
    out = {}
    for start in range(0, len(post_ids), CHUNK):
        for pid, raw, author in session.execute(
                select(ShingleSignature.post_id, ShingleSignature.signature, Post.author_id)
                .join(Post, Post.id == ShingleSignature.post_id)
                .where(ShingleSignature.post_id.in_(post_ids[start:start + CHUNK]))):
            out[pid] = (shingles.from_bytes(raw), author)
    return out


def purge_bands(session: Session, *, older_than: datetime) -> int:
    """Drop band keys of posts older than any window still looked at (they can no longer match)."""
    return session.execute(delete(ShingleBand).where(ShingleBand.created_at < older_than)).rowcount or 0
