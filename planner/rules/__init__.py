"""Analysis rules: each turns the sufficient statistics of simulated trials into success/failure.

``make_rule(design)`` returns an object with ``decide(sample) -> bool array``. Binary
rules also expose their critical values, which exact enumeration uses.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Union

from planner.rules.catalog import RULES, RuleInfo, rules_for

if TYPE_CHECKING:  # design.py reads the catalog, so the rule modules are imported lazily
    from planner.design import Design
    from planner.rules.binary import SingleArmBinaryRule, TwoArmBinaryRule
    from planner.rules.continuous import ContinuousRule
    from planner.rules.count import CountExactRule, CountWaldRule
    from planner.rules.survival import SurvivalRule

Rule = Union[
    "SingleArmBinaryRule",
    "TwoArmBinaryRule",
    "ContinuousRule",
    "CountWaldRule",
    "CountExactRule",
    "SurvivalRule",
]

__all__ = ["make_rule", "rule_for", "Rule", "RULES", "RuleInfo", "rules_for"]


def make_rule(design: Design) -> Rule:
    """The decision rule of ``design`` (already validated against the rule catalog)."""
    from planner.rules.binary import SingleArmBinaryRule, TwoArmBinaryRule
    from planner.rules.continuous import ContinuousRule
    from planner.rules.count import CountExactRule, CountWaldRule
    from planner.rules.survival import SurvivalRule

    kind = design.endpoint.kind
    if kind == "binary":
        return TwoArmBinaryRule(design) if design.randomized else SingleArmBinaryRule(design)
    if kind == "continuous":
        return ContinuousRule(design)
    if kind == "time-to-event":
        return SurvivalRule(design)
    return CountWaldRule(design) if design.randomized else CountExactRule(design)


@cache
def rule_for(design: Design) -> Rule:
    """The rule of ``design``, built once per design (its critical values are cached inside it)."""
    return make_rule(design)
