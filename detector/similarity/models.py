"""Tables of the similar-content path.

The database is the source of truth: vector indexes (embedded or Pinecone) are caches rebuilt from
``embeddings``. Embeddings are keyed by model and normalized-text hash, because bulk posters repeat
texts and a repeat must cost no model call.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from detector.db.base import Base, BigIntPK, utcnow


class Embedding(Base):
    __tablename__ = "embeddings"
    __table_args__ = (UniqueConstraint("model", "text_sha256"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    model: Mapped[str] = mapped_column(String(128))
    text_sha256: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int]
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NearDuplicateEdge(Base):
    """Two posts found near each other; ``method`` says by embeddings or by shingles."""

    __tablename__ = "near_duplicate_edges"
    __table_args__ = (UniqueConstraint("src_post_id", "dst_post_id", "method"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64), index=True)
    src_post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    dst_post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    src_author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))
    dst_author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))
    cross_author: Mapped[bool] = mapped_column(Boolean, default=False)  # the strong signal
    similarity: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShingleSignature(Base):
    """A post's character-3-gram MinHash (``shingles.signature``), to verify LSH candidates by Jaccard."""

    __tablename__ = "shingle_signatures"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)  # uint32 little-endian, NUM_PERM values


class ShingleBand(Base):
    """One LSH band key of a post: posts sharing a key in a namespace are shingle candidates.

    The database, not worker memory, holds the LSH buckets, so concurrent workers share them. The
    primary key (namespace, key, post) is the lookup index and makes a retried batch add nothing;
    ``created_at`` is the post's, for the near-duplicate window.
    """

    __tablename__ = "shingle_bands"

    content_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    created_at: Mapped[datetime]


class Cluster(Base):
    """A tracked group of near-duplicate posts with a stable identity across reclustering runs."""

    __tablename__ = "clusters"
    __table_args__ = (Index("ix_clusters_content_type_status", "content_type", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="active")  # active | merged | dissolved
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"))
    size: Mapped[int] = mapped_column(default=0)
    distinct_authors: Mapped[int] = mapped_column(default=0)
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)
    label: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ClusterMember(Base):
    __tablename__ = "cluster_members"

    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClusterSnapshot(Base):
    """Size over time, so growth and velocity can be computed and charted."""

    __tablename__ = "cluster_snapshots"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    size: Mapped[int]
    distinct_authors: Mapped[int]
    new_account_share: Mapped[float | None] = mapped_column(Float)


class AllowlistEntry(Base):
    """A cluster moderators judged benign: posts near its centroid raise no alert until expiry."""

    __tablename__ = "allowlist_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64), index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"))
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ClusterEvent(Base):
    """A merge, split or dissolution found by reclustering, so a cluster's lineage can be followed."""

    __tablename__ = "cluster_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # merged_into | split_from | dissolved | created
    other_cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"))
    details: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
