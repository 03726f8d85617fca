"""Character-3-gram MinHash with LSH banding: pure functions behind the pipeline's shingle edges.

Why a second source of near-duplicates: a short spam template whose filled-in parts (names, URLs,
numbers) change moves its sentence embedding below the cosine threshold, while most of its
character 3-grams stay shared. The Jaccard similarity of 3-gram sets sees that overlap directly.

* ``signature``: ``NUM_PERM`` minima of seeded 64-bit hash functions over a text's 3-gram set
  (each function is ``fmix64(blake2b64(shingle) XOR seed_i)``, MurmurHash3's finalizer, a bijection
  of 64-bit words), kept as their low 32 bits (512 bytes). Two signatures agree in a position with
  probability Jaccard(A, B) (plus 2^-32 for a truncation collision), so the share of equal positions
  estimates the Jaccard with standard error sqrt(J(1-J)/NUM_PERM), about 0.044 at J = 0.5.
* ``band_keys``: the signature cut into ``bands`` bands of ``rows`` positions; a pair becomes an LSH
  candidate when any band is equal, with probability 1 - (1 - J^rows)^bands. ``lsh_params`` picks the
  largest ``rows`` (fewest false candidates) for which a pair at exactly the threshold is still a
  candidate with probability >= ``MIN_CANDIDATE_PROBABILITY``: at the default Jaccard 0.5 that is 32
  bands of 4 rows, P = 0.873 at J = 0.5, 0.954 at 0.55, 0.988 at 0.6, 0.9998 at 0.7 (and 0.23 at
  J = 0.3, the false candidates verification then removes). datasketch's default choice for the same
  threshold (25 bands of 5, which weighs misses and false candidates equally) gives P = 0.55 at 0.5.
* Candidates are verified with ``estimated_jaccard`` from the stored signatures.

Band keys hash the band's index and ``rows`` with its values, so keys of different bands or of a
different banding never collide: changing the threshold changes the banding, and posts indexed under
the old banding are then no longer candidates (they age out of the window).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

SHINGLE_CHARS = 3
NUM_PERM = 128
SEED = 1
MIN_CANDIDATE_PROBABILITY = 0.85
_MASK32 = np.uint64(0xFFFFFFFF)


def shingles(text: str, k: int = SHINGLE_CHARS) -> set[str]:
    """The set of character k-grams; a text of k characters or fewer is its own single shingle."""
    if len(text) <= k:
        return {text}
    return {text[i:i + k] for i in range(len(text) - k + 1)}


@lru_cache(maxsize=8)
def _seeds(num_perm: int, seed: int) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 2**63 - 1, size=num_perm, dtype=np.int64).astype(np.uint64) \
        * np.uint64(2) + np.uint64(1)


def _fmix64(k: np.ndarray) -> np.ndarray:
    k = k ^ (k >> np.uint64(33))
    k = k * np.uint64(0xFF51AFD7ED558CCD)
    k = k ^ (k >> np.uint64(33))
    k = k * np.uint64(0xC4CEB9FE1A85EC53)
    return k ^ (k >> np.uint64(33))


def signature(text: str, num_perm: int = NUM_PERM, seed: int = SEED) -> np.ndarray:
    """MinHash of the text's character 3-grams: ``num_perm`` uint32 values."""
    hashed = np.fromiter((int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "little")
                          for g in shingles(text)), dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = _fmix64(hashed[:, None] ^ _seeds(num_perm, seed)[None, :])
    return (mixed.min(axis=0) & _MASK32).astype(np.uint32)


def to_bytes(sig: np.ndarray) -> bytes:
    return np.asarray(sig, dtype="<u4").tobytes()


def from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<u4")


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / len(a)


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """Chance that a pair with this Jaccard shares at least one band."""
    return 1.0 - (1.0 - jaccard ** rows) ** bands


def lsh_params(threshold: float, num_perm: int = NUM_PERM,
               min_probability: float = MIN_CANDIDATE_PROBABILITY) -> tuple[int, int]:
    """(bands, rows): the most rows per band that still makes a pair at ``threshold`` a candidate with
    probability >= ``min_probability`` (1 row, i.e. every position its own band, if none does)."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= min_probability:
            return bands, rows
    return num_perm, 1


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[int]:
    """One signed 64-bit key per band (fits a BigInteger column on every backend)."""
    raw = np.asarray(sig, dtype="<u4")
    keys = []
    for band in range(bands):
        h = hashlib.blake2b(raw[band * rows:(band + 1) * rows].tobytes(), digest_size=8,
                            person=f"b{band}r{rows}".encode()[:16])
        keys.append(int.from_bytes(h.digest(), "little", signed=True))
    return keys


def calibrated(jaccard: float, threshold: float, cosine_threshold: float) -> float:
    """A verified Jaccard on the cosine scale the clusterer reads (distance = 1 - similarity).

    Linear from (threshold -> cosine_threshold) to (1 -> 1): both sources call a pair near-duplicate
    exactly at their own threshold, so the weakest shingle edge weighs what the weakest embedding
    edge does, an identical shingle set weighs what an identical embedding does, and the order of
    shingle edges is kept. HDBSCAN's splitting of chained components and the "tight component"
    shortcut (``GroupingParams.tight_similarity``) then treat both kinds of edge alike. The raw
    Jaccard is not comparable: 0.5 means near-duplicate for 3-grams, while cosine 0.5 does not.
    """
    if threshold >= 1.0:
        return 1.0
    scaled = cosine_threshold + (1.0 - cosine_threshold) * (jaccard - threshold) / (1.0 - threshold)
    return float(min(1.0, max(cosine_threshold, scaled)))


def candidate_pairs(keys_of: Sequence[Iterable]) -> dict[int, set[int]]:
    """Earlier items sharing a band with each item (the in-memory LSH of the offline yardstick)."""
    buckets: dict[int, list[int]] = {}
    out: dict[int, set[int]] = {}
    for i, keys in enumerate(keys_of):
        found: set[int] = set()
        for key in keys:
            bucket = buckets.setdefault(key, [])
            found.update(bucket)
            bucket.append(i)
        out[i] = found
    return out
