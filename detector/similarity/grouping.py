"""Pure grouping of posts into campaigns from near-duplicate edges (no database here).

Why this shape (measured in issue #4 on this machine): HDBSCAN over raw or PCA-reduced vectors of
a whole window splits campaigns into pieces and is slow past 20k posts; connected components of
the near-duplicate graph recover campaigns but chain unrelated groups through single weak links.
So: connected components first (linear), then HDBSCAN on each large component that has weak
edges (a component whose edges are all tight cannot be a chain, and skipping those keeps a
100k-post window near a minute) on its own sparse distance graph (1 - similarity; connected by construction, which HDBSCAN's sparse mode needs) to
cut it where the density drops. Points HDBSCAN calls noise stay with the group of their strongest
edge, so a campaign's stragglers are not lost from its alert.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class GroupingParams:
    min_group_size: int = 2
    split_min_size: int = 30  # components at least this large are checked for chaining
    hdbscan_min_cluster_size: int = 5
    hdbscan_min_samples: int = 2
    tight_similarity: float = 0.92  # a component whose every edge is this close cannot be a chain


def group(n: int, src: np.ndarray, dst: np.ndarray, sim: np.ndarray, params: GroupingParams = GroupingParams()
          ) -> list[np.ndarray]:
    """Groups of node indices (each sorted), largest first; nodes without edges are left out.

    A pair may come with several edges (one per method: embedding, shingle); it counts once, at its
    highest similarity, so a pair found twice is neither closer nor denser to HDBSCAN.
    """
    if n == 0 or len(src) == 0:
        return []
    src, dst, sim = unique_pairs(src, dst, sim)
    adjacency = sparse.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    _n_comp, labels = connected_components(adjacency, directed=False)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    # Edges grouped by component once (not scanned again per component: that was quadratic).
    edge_comp = labels[src]
    edge_order = np.argsort(edge_comp, kind="stable")
    edge_starts = np.searchsorted(edge_comp[edge_order], np.arange(labels.max() + 2))
    groups = []
    for members in np.split(order, bounds):
        if len(members) < params.min_group_size:
            continue
        comp = labels[members[0]]
        mine = edge_order[edge_starts[comp]:edge_starts[comp + 1]]
        if len(members) >= params.split_min_size and sim[mine].min() < params.tight_similarity:
            groups.extend(_split(members, src[mine], dst[mine], sim[mine], params))
        else:
            groups.append(np.sort(members))
    groups = [g for g in groups if len(g) >= params.min_group_size]
    return sorted(groups, key=lambda g: (-len(g), int(g[0])))


def unique_pairs(src: np.ndarray, dst: np.ndarray, sim: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One edge per unordered pair, keeping the highest similarity."""
    a, b, sim = np.minimum(src, dst), np.maximum(src, dst), np.asarray(sim)
    order = np.lexsort((-sim, b, a))
    a, b, sim = a[order], b[order], sim[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], sim[first]


def _split(members: np.ndarray, src, dst, sim, params: GroupingParams) -> list[np.ndarray]:
    """HDBSCAN on one component's own edges (given already restricted to the component)."""
    import hdbscan

    s = np.searchsorted(members, src) if _is_sorted(members) else _positions(members, src)
    d = np.searchsorted(members, dst) if _is_sorted(members) else _positions(members, dst)
    dist = np.clip(1.0 - sim, 1e-6, None)  # 0 would read as "no edge" in a sparse matrix
    m = len(members)
    matrix = sparse.coo_matrix((np.concatenate([dist, dist]), (np.concatenate([s, d]), np.concatenate([d, s]))),
                               shape=(m, m)).tocsr()
    matrix.sum_duplicates()
    try:
        labels_local = hdbscan.HDBSCAN(metric="precomputed", min_cluster_size=params.hdbscan_min_cluster_size,
                                       min_samples=params.hdbscan_min_samples,
                                       allow_single_cluster=True).fit(matrix).labels_
    except (ValueError, MemoryError):
        return [np.sort(members)]  # keep the component whole rather than lose it
    if labels_local.max() < 1:
        return [np.sort(members)]
    labels_local = _attach_noise(labels_local, s, d, dist)
    return [np.sort(members[labels_local == k]) for k in np.unique(labels_local) if k >= 0]


def _is_sorted(a: np.ndarray) -> bool:
    return bool(np.all(a[:-1] <= a[1:]))


def _positions(members: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    order = np.argsort(members)
    return order[np.searchsorted(members[order], nodes)]


def _attach_noise(labels: np.ndarray, s: np.ndarray, d: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Give each noise point the label of its closest labelled neighbour, repeating along chains."""
    labels = labels.copy()
    order = np.argsort(dist, kind="stable")
    changed = True
    while changed and (labels < 0).any():
        changed = False
        for e in order:
            a, b = s[e], d[e]
            if labels[a] < 0 <= labels[b]:
                labels[a], changed = labels[b], True
            elif labels[b] < 0 <= labels[a]:
                labels[b], changed = labels[a], True
    return labels
