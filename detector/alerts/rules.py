"""Alert rules: when a cluster deserves a human's attention. Pure functions, no database.

A cluster alerts when it reaches a size level (5, 20, 100, ... by default) with enough distinct
accounts, optionally only if it also grew fast enough within a window or is mostly new accounts.
Each level is crossed once, so an alert fires once per cluster per crossing; a crossing within the
dedupe window of the previous alert updates that alert instead of raising another.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field


class AlertRule(BaseModel):
    """One namespace's rule; configured with DETECTOR_ALERT_RULES as JSON {namespace: rule}."""

    size_levels: list[int] = Field(default_factory=lambda: [5, 20, 100, 500, 2000])
    min_distinct_authors: int = Field(2, ge=1, description="One seller reposting their own item is normal.")
    growth_window_minutes: int = Field(60, ge=1)
    min_growth: int = Field(0, ge=0, description="Posts added within the window; 0 disables the condition.")
    min_new_account_share: float | None = Field(None, ge=0, le=1, description="None disables the condition.")
    dedupe_minutes: int = Field(30, ge=0, description="A higher level within this time updates the last alert.")


@dataclass(frozen=True)
class ClusterFacts:
    size: int
    distinct_authors: int
    growth: int  # members added within the rule's growth window
    new_account_share: float | None


def level_reached(rule: AlertRule, facts: ClusterFacts) -> int | None:
    """The highest size level this cluster has reached and that the other conditions allow, if any."""
    levels = [lv for lv in sorted(rule.size_levels) if facts.size >= lv]
    if not levels or facts.distinct_authors < rule.min_distinct_authors:
        return None
    if rule.min_growth and facts.growth < rule.min_growth:
        return None
    if rule.min_new_account_share is not None and (facts.new_account_share or 0.0) < rule.min_new_account_share:
        return None
    return levels[-1]


def reason(rule: AlertRule, facts: ClusterFacts, level: int) -> str:
    parts = [f"size {facts.size} ≥ {level}", f"{facts.distinct_authors} accounts"]
    if rule.min_growth:
        parts.append(f"+{facts.growth} in {rule.growth_window_minutes} min")
    if facts.new_account_share is not None:
        parts.append(f"{facts.new_account_share:.0%} new accounts")
    return ", ".join(parts)
