"""Probability of success and conditional power given observed interim data (binary designs, exact).

At an interim look with x responders of m analysed (per arm), the final analysis of the design succeeds when
the final counts meet the design's rule at its planned sizes (its critical counts, :mod:`planner.rules`):
x + Y >= c(N) in one arm, and x_1 + Y_1 >= c(N_1, N_2, x_2 + Y_2) with two, Y the responders among the r = N - m
participants still to be analysed. Then

* conditional power: P(final success | data, p), Y ~ Binomial(r, p), under the current trend (p = x / m per
  arm) and under each scenario of the design (its planned effect);
* predictive probability (probability of success given the data): the conditional power averaged over the
  posterior of p, Y ~ Beta-binomial mixtures, under the analysis prior (uniform where the design has none)
  and, when the design has one, under the design prior updated with the data.

Dropouts are taken as the final analysis counts them: with the 'failure' strategy a planned response rate is
thinned to p (1 - d), and the observed counts are those of the analysis (dropouts so far as non-responders).
Spiegelhalter DJ, Freedman LS, Blackburn PR. Control Clin Trials 1986;7:8-17 (predictive power);
Lan KKG, Simon R, Halperin M. Commun Stat Sequential Anal 1982;1:207-19 (conditional power).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from planner.design import Design
from planner.errors import DesignError

__all__ = ["InterimPrediction", "interim_prediction", "parse_observed"]

DEFAULT_FUTILITY = 0.1  # stop for futility below this predictive probability, unless the design sets one


@dataclass(frozen=True)
class InterimPrediction:
    """What the observed interim data say about the final analysis."""

    observed: tuple[tuple[int, int], ...]  # (responders, analysed) per arm
    planned: tuple[int, ...]  # the final analysis' participants per arm
    predictive_analysis_prior: float
    predictive_design_prior: float | None
    conditional_power_trend: float
    conditional_power_planned: dict[str, float]
    futility_threshold: float
    decision: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "observed": [{"responders": x, "analysed": m} for x, m in self.observed],
            "planned": list(self.planned),
            "predictive_probability": {
                "analysis_prior": self.predictive_analysis_prior,
                "design_prior": self.predictive_design_prior,
            },
            "conditional_power": {
                "current_trend": self.conditional_power_trend,
                **self.conditional_power_planned,
            },
            "futility_threshold": self.futility_threshold,
            "decision": self.decision,
        }


def parse_observed(text: str) -> tuple[tuple[int, int], ...]:
    """'12/20' (one arm) or '12/20,6/20' (treatment, control) -> ((12, 20),) or ((12, 20), (6, 20))."""
    arms = []
    for part in str(text).split(","):
        pieces = part.strip().split("/")
        try:
            x, m = (int(p) for p in pieces)
        except ValueError:
            raise DesignError(
                f"observed: give responders/analysed per arm, e.g. 12/20 or 12/20,6/20 (treatment, control); "
                f"got {text!r}"
            ) from None
        arms.append((x, m))
    return tuple(arms)


def _check(design: Design, observed: tuple[tuple[int, int], ...]) -> None:
    if design.endpoint.kind != "binary":
        raise DesignError(
            f"endpoint.kind: interim predictions are available for binary endpoints, not {design.endpoint.kind}"
        )
    if design.interim is not None:
        raise DesignError(
            "interim: the prediction is for the final analysis of a fixed design; designs with interim looks "
            "are not available yet"
        )
    if design.analysis.conditions:
        raise DesignError(
            "analysis.conditions: interim predictions of a dual-criterion rule are not available yet"
        )
    arms = len(design.arms.sizes)
    if len(observed) != arms:
        raise DesignError(f"observed: the design has {arms} arm(s); give {arms} responders/analysed pair(s)")
    for (x, m), n, name in zip(observed, design.arms.sizes, ("treatment", "control"), strict=False):
        if m < 0 or x < 0:
            raise DesignError(f"observed: {name} {x}/{m}: counts cannot be negative")
        if x > m:
            raise DesignError(
                f"observed: {name} {x} responders of {m} analysed: more responders than analysed"
            )
        if m > n:
            raise DesignError(
                f"observed: {name} {m} analysed of the {n} planned: more than the arm's participants"
            )


def _tail(need: np.ndarray, r: int, p: float) -> np.ndarray:
    """P(Y >= need), Y ~ Binomial(r, p), elementwise over ``need``."""
    return np.asarray(stats.binom.sf(np.asarray(need) - 1, r, p))


def _predictive_pmf(mix: Any, x: int, m: int, r: int) -> np.ndarray:
    """P(Y = y | x of m), y = 0..r, under a Beta mixture prior updated with the data (Beta-binomial mixture)."""
    y = np.arange(r + 1)
    weights = np.asarray(mix.posterior_weights(np.array([x]), m))[0]
    pmf = np.zeros(r + 1)
    for w, a, b in zip(weights, mix.a, mix.b, strict=True):
        pmf += w * stats.betabinom.pmf(y, r, a + x, b + m - x)
    return pmf


def _binomial_pmf(p: float, r: int) -> np.ndarray:
    return np.asarray(stats.binom.pmf(np.arange(r + 1), r, p))


def interim_prediction(
    design: Design, observed: tuple[tuple[int, int], ...] | str, *, futility_threshold: float | None = None
) -> InterimPrediction:
    """Predictive probability of final success and conditional power given ``observed`` (responders,
    analysed) per arm (or the text '12/20,6/20'), and the decision they imply: stop for futility when the
    predictive probability under the analysis prior is below ``futility_threshold`` (default 0.1); final
    success assured or no longer possible when the data decide. The design prior's predictive probability is
    given when its parts are Beta mixtures or points and dropouts are not counted as failures (the composite
    counts then do not update the prior of the rate among those who stay)."""
    from planner.priors import analysis_mixture, resolve
    from planner.rules import make_rule

    if isinstance(observed, str):
        observed = parse_observed(observed)
    observed = tuple((int(x), int(m)) for x, m in observed)
    _check(design, observed)
    threshold = DEFAULT_FUTILITY if futility_threshold is None else float(futility_threshold)
    if not 0.0 < threshold < 1.0:
        raise DesignError(f"futility_threshold: a probability strictly between 0 and 1, got {threshold}")
    rule = make_rule(design)
    sizes = design.arms.sizes
    dropout = design.dropout
    thin = 1.0 - dropout.rate if dropout.rate > 0.0 and dropout.strategy == "failure" else 1.0
    an = design.analysis

    def success_probability(pmfs: list[np.ndarray]) -> float:
        """P(final success) when the remaining responders have these distributions (per arm)."""
        if len(sizes) == 1:
            (x, _m), n = observed[0], sizes[0]
            need = rule.critical(n) - x
            return float(pmfs[0][max(need, 0) :].sum()) if need <= pmfs[0].size - 1 else 0.0
        (x1, _), (x2, _) = observed
        crit = rule.critical(sizes[0], sizes[1])
        need = crit[x2 + np.arange(pmfs[1].size)] - x1  # per final control count
        tail1 = np.concatenate([np.cumsum(pmfs[0][::-1])[::-1], [0.0]])  # P(Y1 >= k), k = 0..r1 + 1
        return float(pmfs[1] @ tail1[np.clip(need, 0, pmfs[0].size)])

    remaining = [n - m for (_, m), n in zip(observed, sizes, strict=False)]
    trend = success_probability(
        [_binomial_pmf(x / m if m > 0 else 0.0, r) for (x, m), r in zip(observed, remaining, strict=True)]
    )
    planned = {
        sc.name: success_probability(
            [
                _binomial_pmf(min(p * thin, 1.0), r)
                for p, r in zip((sc.treatment, sc.control), remaining, strict=False)
            ]
        )
        for sc in design.scenarios
    }
    priors = [analysis_mixture(an.prior, "beta"), analysis_mixture(an.control_prior, "beta")][: len(sizes)]
    predictive = success_probability(
        [_predictive_pmf(mix, x, m, r) for mix, (x, m), r in zip(priors, observed, remaining, strict=True)]
    )
    by_design = None
    if design.design_prior is not None and thin == 1.0:
        from planner.mixtures import BetaMixture

        dp = design.design_prior
        parts = [resolve(dp.treatment)] + ([resolve(dp.control)] if len(sizes) == 2 else [])
        pmfs = []
        for part, (x, m), r in zip(parts, observed, remaining, strict=True):
            pmfs.append(
                _predictive_pmf(part, x, m, r)
                if isinstance(part, BetaMixture)
                else _binomial_pmf(part.value, r)
            )
        by_design = success_probability(pmfs)
    if trend >= 1.0 - 1e-15 and predictive >= 1.0 - 1e-15 and all(v >= 1.0 - 1e-15 for v in planned.values()):
        decision = "final success assured: the data already meet the final rule"
    elif predictive == 0.0 and trend == 0.0:
        decision = "stop: final success is no longer possible"
    elif predictive < threshold:
        decision = f"stop for futility: predictive probability {predictive:.4f} < {threshold:g}"
    else:
        decision = f"continue: predictive probability {predictive:.4f} >= {threshold:g}"
    return InterimPrediction(
        observed, tuple(sizes), predictive, by_design, trend, planned, threshold, decision
    )
