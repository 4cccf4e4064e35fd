"""Exact operating characteristics of binary designs by enumeration: no Monte Carlo error.

P(success) = sum over analysed counts m (from the dropout model) and responder
counts x of P(m) P(x | m) 1[x >= critical(m)]; the inner sum is a binomial tail.
For two arms: sum over (m1, m2) and x2 of P(m1) P(m2) P(x2 | m2) P(X1 >= c(m1, m2, x2)).
Completer counts with probability below 1e-15 are skipped (total below 1e-13).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from planner.design import Design, Scenario
from planner.endpoints.binary import analysed_count_distribution

__all__ = ["exact_available", "exact_power", "exact_success_probability"]

# Work allowed for "auto" to choose enumeration: analysed-count pairs x table cells x rule weight.
EXACT_BUDGET = 5e7
_RULE_WEIGHT = {"boschloo": 40.0, "posterior-probability": 40.0}


def exact_available(design: Design) -> bool:
    """True when enumeration is possible and cheap enough for this design."""
    if design.endpoint.kind != "binary":
        return False
    if design.interim is not None:
        from planner.multistage import multistage_available

        return multistage_available(design)
    pairs, cells = 1.0, 1.0
    for n in design.arms.sizes:
        ms, _, _ = analysed_count_distribution(n, 0.5, design.dropout)
        pairs *= ms.size
        cells *= n + 1
    if not design.randomized:
        return True
    weight = _RULE_WEIGHT.get(design.analysis.rule, 1.0)
    return pairs * cells * weight <= EXACT_BUDGET


def _upper_tails(m: int, p: np.ndarray) -> np.ndarray:
    """P(X >= c) for c = 0..m+1 (last axis), X ~ Binomial(m, p), for each p (first axis)."""
    return stats.binom.sf(np.arange(-1, m + 1)[None, :], m, np.atleast_1d(p)[:, None])


def exact_power(design: Design, rule, treatment, control: float | None = None) -> np.ndarray:
    """P(success) by enumeration, vectorized over treatment response rates (an array or a number)."""
    if design.endpoint.kind != "binary":
        raise ValueError("exact enumeration is available for binary endpoints only")
    treatment = np.atleast_1d(np.asarray(treatment, dtype=float))
    if design.interim is not None:
        from planner.multistage import multistage_for

        return multistage_for(design).success_probability(treatment, control)
    sizes = design.arms.sizes
    ms1, w1, _ = analysed_count_distribution(sizes[0], 0.5, design.dropout)
    p1 = treatment * (1.0 - design.dropout.rate) if _thinned(design) else treatment
    total = np.zeros(treatment.shape)
    if not design.randomized:
        for m, w in zip(ms1, w1, strict=True):
            total += w * _upper_tails(int(m), p1)[:, rule.critical(int(m))]
        return total
    ms2, w2, _ = analysed_count_distribution(sizes[1], 0.5, design.dropout)
    p2 = control * (1.0 - design.dropout.rate) if _thinned(design) else control
    pmf2 = {int(m): stats.binom.pmf(np.arange(m + 1), m, p2) for m in ms2}
    for m1, weight1 in zip(ms1, w1, strict=True):
        tails1 = _upper_tails(int(m1), p1)
        for m2, weight2 in zip(ms2, w2, strict=True):
            crit = rule.critical(int(m1), int(m2))
            total += weight1 * weight2 * (tails1[:, crit] @ pmf2[int(m2)])
    return total


def _thinned(design: Design) -> bool:
    """Dropouts counted as failures thin the response rate to p (1 - d)."""
    return design.dropout.rate > 0.0 and design.dropout.strategy == "failure"


def exact_success_probability(design: Design, rule, scenario: Scenario) -> float:
    """P(the design's rule declares success) under ``scenario``, by enumeration."""
    return float(exact_power(design, rule, scenario.treatment, scenario.control)[0])
