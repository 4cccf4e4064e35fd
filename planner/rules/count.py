"""Decision rules for count endpoints.

Randomized (``nb-wald``): Wald z test on the log rate ratio, log(Y_t / (M_t e)) - log(Y_c / (M_c e)),
with the dispersion k at its design value and one of the three variances of Zhu and Lakkis (2014, sec. 2),
chosen by ``analysis.nb_variance``:

* ``"true-rates"`` (default; their approach 2, V0 = V1): each arm's rate at its estimate,
  V = (1 / mu_t + k) / M_t + (1 / mu_c + k) / M_c with mu = Y / M, i.e. 1 / Y_t + k / M_t + 1 / Y_c + k / M_c;
* ``"control-rate"`` (approach 1): both arms at the control arm's estimated rate,
  V = (1 / mu_c + k) (1 / M_t + 1 / M_c);
* ``"restricted"`` (approach 3): both arms at the rate restricted to H0, the maximum-likelihood common rate
  (Y_t + Y_c) / ((M_t + M_c) e) (for a known k the NB maximum-likelihood mean is the sample mean),
  V = (1 / mu_0 + k) (1 / M_t + 1 / M_c).

A total of zero events is replaced by 0.5 so that the log is defined.

Single arm (``nb-exact``): under H0 the total over M participants is exactly
negative binomial with size M / dispersion and mean M * exposure * goal (Poisson
when the dispersion is 0), so the test compares the observed total with that
distribution's tail: exact, with the dispersion at its design value. (A Wald test
on the log of one rate is noticeably liberal at phase 3 sizes: the log of a
skewed count has a heavy lower tail.)

References
----------
Zhu H, Lakkis H. Sample size calculation for comparing two negative binomial rates.
Statistics in Medicine 2014;33:376-87.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special, stats

from planner.design import Design
from planner.endpoints import CountArm, TrialSample
from planner.rules.look import StatisticRule

__all__ = [
    "CountWaldRule",
    "CountExactRule",
    "log_rate",
    "log_rate_ratio_z",
    "posterior_beyond",
    "NB_VARIANCES",
]

NB_VARIANCES = ("true-rates", "control-rate", "restricted")


def log_rate(arm: CountArm, dispersion: float) -> tuple[np.ndarray, np.ndarray]:
    """An arm's log event rate per unit exposure, log(Y / T), and its large-sample variance at the estimated
    rate, 1 / Y + k sum t^2 / T^2 (T the arm's total exposure, t the participants'; k / n with equal exposures)
    (Zhu and Lakkis 2014, sec. 2). A total of zero events counts as 0.5."""
    y = np.maximum(arm.events, 0.5)
    if arm.total_exposure is not None and arm.exposure_concentration is not None:  # variable exposure
        total, concentration = arm.total_exposure, arm.exposure_concentration
    else:
        m = np.maximum(arm.n, 1)
        total, concentration = m * arm.exposure, 1.0 / m
    return np.log(y / total), 1.0 / y + dispersion * concentration


def posterior_beyond(sample: TrialSample, values: Any, dispersion: float, lower: bool) -> list[np.ndarray]:
    """Per trial and value: the approximate posterior probability that the event rate (single arm) or the rate
    ratio (treatment over control) lies beyond ``value`` in the direction of benefit (below it when lower is
    better): a flat prior on the log rate (ratio) and the normal likelihood of its Wald estimate (:func:`log_rate`),
    so P(log effect < log value | data) = Phi((log value - estimate) / se)."""
    estimate, var = log_rate(sample.treatment, dispersion)
    if sample.control is not None:
        control, control_var = log_rate(sample.control, dispersion)
        estimate, var = estimate - control, var + control_var
    se = np.sqrt(var)
    out = []
    for value in values:
        below = special.ndtr((math.log(value) - estimate) / se)
        out.append(below if lower else 1.0 - below)
    return out


def _conditions_hold(design_conditions: Any, sample: TrialSample, dispersion: float, lower: bool) -> Any:
    """Every further condition of a count rule (a dual criterion) on the approximate posterior."""
    holds: Any = True
    if design_conditions:
        values = [c.value for c in design_conditions]
        for prob, c in zip(
            posterior_beyond(sample, values, dispersion, lower), design_conditions, strict=True
        ):
            holds = holds & (prob > c.probability)
    return holds


def log_rate_ratio_z(
    t: CountArm, c: CountArm, dispersion: float, variance: str = "true-rates", null_ratio: float = 1.0
) -> np.ndarray:
    """The Wald z statistic of log(rate_t / rate_c) - log(null_ratio) with one of Zhu and Lakkis's variances
    (module docstring; a non-inferiority margin: ``null_ratio`` the rate ratio at the null, with 'true-rates')."""
    (lt, vt), (lc, vc) = log_rate(t, dispersion), log_rate(c, dispersion)
    if variance == "true-rates" or t.total_exposure is not None:  # variable exposure: true-rates only
        var = vt + vc
    else:
        mt, mc = np.maximum(t.n, 1), np.maximum(c.n, 1)
        if variance == "control-rate":
            var = (mc / np.maximum(c.events, 0.5) + dispersion) * (1.0 / mt + 1.0 / mc)
        else:
            pooled = np.maximum(t.events + c.events, 0.5) / (mt + mc)
            var = (1.0 / pooled + dispersion) * (1.0 / mt + 1.0 / mc)
    return (lt - lc - math.log(null_ratio)) / np.sqrt(var)


class CountWaldRule(StatisticRule):
    """nb-wald: one-sided Wald z test of log(rate ratio) against 0 (or the log of a rate-ratio margin)."""

    def __init__(self, design: Design):
        self.sign = -1.0 if design.endpoint.better == "lower" else 1.0
        self.dispersion = design.endpoint.dispersion
        self.variance = design.analysis.nb_variance or "true-rates"
        self.null_ratio = design.null_treatment(1.0)  # the rate ratio at the null: 1, or the margin
        self.z = float(special.ndtri(1.0 - design.analysis.alpha))
        self.conditions = design.analysis.conditions

    def statistic(self, sample: TrialSample) -> tuple[np.ndarray, None]:
        """The Wald z of the log rate ratio in the direction of benefit (an arm without participants: -inf)."""
        z = log_rate_ratio_z(
            sample.treatment, sample.control, self.dispersion, self.variance, self.null_ratio
        )
        ok = (sample.treatment.n > 0) & (sample.control.n > 0)
        return np.where(ok, np.nan_to_num(self.sign * z, nan=-np.inf), -np.inf), None

    def decide(self, sample: TrialSample) -> np.ndarray:
        significant = self.statistic(sample)[0] >= self.z
        return np.asarray(
            significant & _conditions_hold(self.conditions, sample, self.dispersion, self.sign < 0)
        )


class CountExactRule:
    """nb-exact: one-sided exact test of a single arm's event total against the goal rate."""

    def __init__(self, design: Design):
        ep = design.endpoint
        self.lower_better = ep.better == "lower"
        self.mean_per_participant = design.analysis.performance_goal * ep.exposure
        self.dispersion = ep.dispersion
        self.alpha = design.analysis.alpha
        self.conditions = design.analysis.conditions
        self._critical: dict[int, int] = {}

    def _null(self, m: int):
        mu = m * self.mean_per_participant
        if self.dispersion == 0.0:
            return stats.poisson(mu)
        return stats.nbinom(m / self.dispersion, 1.0 / (1.0 + self.dispersion * self.mean_per_participant))

    def critical(self, m: int) -> int:
        """Lower-better: the largest total that means success (-1 if none); higher-better: the smallest."""
        if m not in self._critical:
            null = self._null(m)
            tol = self.alpha * (1 + 1e-9)
            if self.lower_better:  # largest y with P(Y <= y) <= alpha
                y = int(null.ppf(self.alpha))
                while y >= 0 and null.cdf(y) > tol:
                    y -= 1
                while null.cdf(y + 1) <= tol:
                    y += 1
            else:  # smallest y with P(Y >= y) <= alpha
                y = int(null.isf(self.alpha)) + 1
                while y > 0 and null.sf(y - 2) <= tol:
                    y -= 1
                while null.sf(y - 1) > tol:
                    y += 1
            self._critical[m] = y
        return self._critical[m]

    def decide(self, sample: TrialSample) -> np.ndarray:
        arm = sample.treatment
        ms = np.unique(arm.n)
        lookup = np.zeros(int(ms.max()) + 1, dtype=np.int64)
        for m in ms:
            lookup[m] = (
                self.critical(int(m)) if m > 0 else (-1 if self.lower_better else np.iinfo(np.int64).max)
            )
        crit = lookup[arm.n]
        significant = arm.events <= crit if self.lower_better else arm.events >= crit
        return np.asarray(
            significant & _conditions_hold(self.conditions, sample, self.dispersion, self.lower_better)
        )
