"""Pure statistics: proportions with Wilson score intervals (honest at small sample sizes)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Proportion:
    hits: int
    total: int
    low: float | None
    high: float | None

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    def as_dict(self) -> dict:
        rnd = (lambda x: None if x is None else round(x, 4))
        return {"value": rnd(self.value), "low": rnd(self.low), "high": rnd(self.high), "n": self.total,
                "hits": self.hits}


def wilson(hits: int, total: int, z: float = 1.96) -> Proportion:
    """95 % Wilson interval by default; None bounds when there is no sample."""
    if total <= 0:
        return Proportion(hits, total, None, None)
    p = hits / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return Proportion(hits, total, max(0.0, centre - half), min(1.0, centre + half))
