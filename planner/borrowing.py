"""Borrowing for a control arm: operating characteristics against drift, prior-data conflict and the
information borrowed, for randomized binary designs whose analysis puts an informative (e.g. robust
meta-analytic-predictive) prior on the control rate (``analysis.control_prior``, rule posterior-probability).

For each true control rate p_c on a grid (the drift between the historical and the current control rate, as
RBesT's ``oc2S`` plots it):

* the type I error, P(success) with the treatment rate equal to p_c, and the power at p_c + ``effect``: exact
  by enumeration (:func:`planner.exact.exact_power`);
* prior-data conflict: the probability that Box's (1980) prior predictive p-value of the control count,
  P(m(X) <= m(x)) with m the Beta-binomial mixture pmf of the prior predictive, is at most ``conflict_level``;
* the information borrowed: the expected moment ESS of the control rate's posterior minus the participants
  analysed, E[ESS(posterior | X) - n_c] (for a single Beta(a, b) prior exactly a + b at every drift; a robust
  mixture borrows less as the data move away from the prior).

All three are exact sums over the control count (and the analysed count, with dropout).

References: Box GEP. Sampling and Bayes' inference in scientific modelling and robustness. JRSS A
1980;143:383-430. Schmidli H et al. Robust meta-analytic-predictive priors in clinical trials with
historical control information. Biometrics 2014;70:1023-32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from planner.design import Design
from planner.errors import DesignError
from planner.mixtures import BetaMixture

__all__ = [
    "DriftPoint",
    "box_p_values",
    "borrowed_information",
    "drift_table",
    "drift_defaults",
    "drift_finding",
    "has_drift",
]

DEFAULT_CONTROLS = tuple(round(0.05 * k, 2) for k in range(1, 20))  # 0.05, 0.10, ..., 0.95


@dataclass(frozen=True)
class DriftPoint:
    """The design's exact characteristics at one true control rate (module docstring)."""

    control: float
    type_one_error: float
    power: float | None  # None where control + effect is not a rate
    conflict: float
    borrowed: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _predictive_pmf(prior: BetaMixture, m: int) -> np.ndarray:
    """The prior predictive pmf of the count of m Bernoulli draws: a mixture of Beta-binomials."""
    x = np.arange(m + 1)
    log_choose = special.gammaln(m + 1) - special.gammaln(x + 1) - special.gammaln(m - x + 1)
    pmf = np.zeros(m + 1)
    for w, a, b in prior.components():
        pmf += w * np.exp(log_choose + special.betaln(a + x, b + m - x) - special.betaln(a, b))
    return pmf


def box_p_values(prior: BetaMixture, m: int) -> np.ndarray:
    """Box's prior predictive p-value for each count x = 0..m of m: the predictive probability of the counts
    at most as probable as x (ties within a relative 1e-12 included)."""
    pmf = _predictive_pmf(prior, m)
    as_rare = pmf[None, :] <= pmf[:, None] * (1 + 1e-12)
    return np.asarray(np.minimum(as_rare @ pmf, 1.0))


def borrowed_information(prior: BetaMixture, m: int) -> np.ndarray:
    """For each count x = 0..m: the moment ESS of the posterior Beta mixture minus m."""
    x = np.arange(m + 1, dtype=float)
    weights = prior.posterior_weights(x, m)  # (m + 1, K)
    a = np.asarray(prior.a)[None, :] + x[:, None]
    b = np.asarray(prior.b)[None, :] + m - x[:, None]
    means = a / (a + b)
    mean = np.sum(weights * means, axis=1)
    second = np.sum(weights * means * (a + 1) / (a + b + 1), axis=1)
    return np.asarray(mean * (1 - mean) / (second - mean**2) - 1.0 - m)


def has_drift(design: Design) -> bool:
    """True for the designs :func:`drift_table` serves: randomized, binary, fixed, with a control prior."""
    return (
        design.randomized
        and design.endpoint.kind == "binary"
        and design.analysis.control_prior is not None
        and design.interim is None
    )


def drift_defaults(design: Design) -> tuple[tuple[float, ...], float | None]:
    """The grid of true control rates (0.05, 0.10, ..., 0.95) and the effect for the power column that the app
    and the report use: the treatment-minus-control difference of the design's first scenario outside the
    null (None when every scenario is null)."""
    effect = next(
        (
            sc.treatment - sc.control
            for sc in design.scenarios
            if not design.is_null(sc) and sc.control is not None
        ),
        None,
    )
    return DEFAULT_CONTROLS, None if effect is None else float(effect)


def drift_finding(design: Design, points: list[DriftPoint]) -> str:
    """The sentence the CLI, the app and the report print about the type I error over the drift grid,
    computed from ``points``: where it exceeds alpha (its largest value, and on which side of the control
    prior's mean), or that it never does."""
    from planner.priors import analysis_mixture

    alpha = design.analysis.alpha
    prior_mean = analysis_mixture(design.analysis.control_prior, "beta").mean()
    worst = max(points, key=lambda r: r.type_one_error)
    above = [r.control for r in points if r.type_one_error > alpha * (1 + 1e-9)]
    lo, hi = points[0].control, points[-1].control
    if not above:
        return (
            f"The type I error is at most alpha = {alpha:g} at every true control rate from {lo:g} to {hi:g} "
            f"(largest {worst.type_one_error:.4f}, at {worst.control:g})."
        )
    why = f"the control prior (mean {prior_mean:.3f}) pulls the control estimate towards its mean"
    if all(c > prior_mean for c in above):
        why += (
            ", so where the current control rate is above it a null treatment looks better than it is; "
            "weigh it against the power gained"
        )
    return (
        f"TYPE I ERROR ABOVE ALPHA = {alpha:g} at true control rates {', '.join(f'{c:g}' for c in above)} "
        f"(largest {worst.type_one_error:.4f}, at {worst.control:g}): {why}."
    )


def drift_table(
    design: Design, controls: Any, effect: float | None, conflict_level: float = 0.05
) -> list[DriftPoint]:
    """Exact type I error, power at ``effect``, conflict probability and borrowed information at each true
    control rate in ``controls`` (no power column when ``effect`` is None)."""
    from planner.endpoints.binary import analysed_count_distribution
    from planner.exact import exact_power
    from planner.priors import analysis_mixture
    from planner.rules import rule_for

    an = design.analysis
    if not (design.randomized and design.endpoint.kind == "binary" and an.control_prior is not None):
        raise DesignError(
            "analysis.control_prior: drift analysis needs a randomized binary design with a control prior "
            f"(rule posterior-probability), got {design.arms.kind} {design.endpoint.kind}, "
            f"control_prior {'set' if an.control_prior is not None else 'absent'}"
        )
    if design.interim is not None:
        raise DesignError("interim: drift analysis is available for fixed designs (no [interim]) only")
    controls = np.atleast_1d(np.asarray(controls, dtype=float))
    bad = [c for c in controls if not 0.0 < c < 1.0]
    if bad:
        raise DesignError(f"controls: true control rates strictly between 0 and 1, got {bad[0]}")
    if effect is not None and (not np.isfinite(effect) or not -1.0 < effect < 1.0):
        raise DesignError(f"effect: a difference of rates between -1 and 1, got {effect}")
    if not 0.0 < conflict_level < 1.0:
        raise DesignError(f"conflict_level: a probability strictly between 0 and 1, got {conflict_level}")
    prior = analysis_mixture(an.control_prior, "beta")
    assert isinstance(prior, BetaMixture)  # a binary design's control prior (the design checks the family)
    rule = rule_for(design)
    n_c = design.arms.sizes[1]
    out = []
    for pc in controls:
        ms, weights, thinned = analysed_count_distribution(n_c, float(pc), design.dropout)
        conflict = borrowed = 0.0
        for m, w in zip(ms, weights, strict=True):
            pmf = stats.binom.pmf(np.arange(m + 1), m, thinned)
            conflict += w * float(pmf @ (box_p_values(prior, int(m)) <= conflict_level))
            borrowed += w * float(pmf @ borrowed_information(prior, int(m)))
        treated = None if effect is None else pc + effect
        power = (
            float(exact_power(design, rule, treated, float(pc))[0])
            if treated is not None and 0.0 <= treated <= 1.0
            else None
        )
        level = float(exact_power(design, rule, pc, float(pc))[0])
        out.append(DriftPoint(float(pc), level, power, float(conflict), float(borrowed)))
    return out
