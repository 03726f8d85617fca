"""Mongo-style metadata filters, the subset Pinecone supports, evaluated in Python.

``{"author_id": {"$ne": "u1"}, "created_at": {"$gte": 1700000000}}``; operators ``$eq $ne $gt $gte
$lt $lte $in $nin $exists``, combinators ``$and $or``; a bare value means ``$eq``. Embedded
indexes post-filter their candidates with ``matches``; ``validate`` rejects unknown operators
early so a typo never silently matches everything.
"""

from __future__ import annotations

from typing import Any

_COMPARE = {
    "$eq": lambda v, a: v == a,
    "$ne": lambda v, a: v != a,
    "$gt": lambda v, a: v is not None and v > a,
    "$gte": lambda v, a: v is not None and v >= a,
    "$lt": lambda v, a: v is not None and v < a,
    "$lte": lambda v, a: v is not None and v <= a,
    "$in": lambda v, a: v in a,
    "$nin": lambda v, a: v not in a,
}


class InvalidFilter(ValueError):
    pass


def validate(flt: dict | None) -> None:
    if flt is None:
        return
    if not isinstance(flt, dict):
        raise InvalidFilter(f"a filter must be an object, got {type(flt).__name__}")
    for key, cond in flt.items():
        if key in ("$and", "$or"):
            if not isinstance(cond, list) or not cond:
                raise InvalidFilter(f"{key} takes a non-empty list of filters")
            for sub in cond:
                validate(sub)
        elif key.startswith("$"):
            raise InvalidFilter(f"unknown combinator {key}")
        elif isinstance(cond, dict):
            for op, arg in cond.items():
                if op not in _COMPARE and op != "$exists":
                    raise InvalidFilter(f"unknown operator {op} on {key}")
                if op in ("$in", "$nin") and not isinstance(arg, list):
                    raise InvalidFilter(f"{op} on {key} takes a list")


def matches(metadata: dict, flt: dict | None) -> bool:
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(metadata, sub) for sub in cond):
                return False
        elif key == "$or":
            if not any(matches(metadata, sub) for sub in cond):
                return False
        elif not _field_matches(metadata, key, cond):
            return False
    return True


def _field_matches(metadata: dict, key: str, cond: Any) -> bool:
    present = key in metadata
    value = metadata.get(key)
    if not isinstance(cond, dict):
        return present and value == cond
    for op, arg in cond.items():
        if op == "$exists":
            if present != bool(arg):
                return False
            continue
        if not present and op not in ("$ne", "$nin"):
            return False
        try:
            if not _COMPARE[op](value, arg):
                return False
        except TypeError:  # e.g. comparing a string with a number: no match, as in Pinecone
            return False
    return True
