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

import numpy as np
from scipy import special, stats

from planner.design import Design
from planner.endpoints import CountArm, TrialSample
from planner.rules.look import StatisticRule

__all__ = ["CountWaldRule", "CountExactRule", "log_rate_ratio_z", "NB_VARIANCES"]

NB_VARIANCES = ("true-rates", "control-rate", "restricted")


def log_rate_ratio_z(
    t: CountArm, c: CountArm, dispersion: float, variance: str = "true-rates", null_ratio: float = 1.0
) -> np.ndarray:
    """The Wald z statistic of log(rate_t / rate_c) - log(null_ratio) with one of Zhu and Lakkis's variances
    (module docstring; a non-inferiority margin: ``null_ratio`` the rate ratio at the null, with 'true-rates')."""
    yt, yc = np.maximum(t.events, 0.5), np.maximum(c.events, 0.5)
    mt, mc = np.maximum(t.n, 1), np.maximum(c.n, 1)
    if t.total_exposure is not None and c.total_exposure is not None:  # variable exposure (true-rates)
        # log(Y_t / T_t) - log(Y_c / T_c), T the arm's total exposure; Var(log(Y / T)) = 1 / (mu T) + k sum t^2 /
        # T^2 for participants' exposures t (Zhu and Lakkis 2014, sec. 2, with unequal exposures), at mu = Y / T
        log_ratio = np.log(yt / t.total_exposure) - np.log(yc / c.total_exposure)
        var = (
            1.0 / yt
            + dispersion * t.exposure_concentration
            + 1.0 / yc
            + dispersion * c.exposure_concentration
        )
        return (log_ratio - math.log(null_ratio)) / np.sqrt(var)
    log_ratio = np.log(yt / mt) - np.log(yc / mc)  # the exposure per participant cancels
    if variance == "true-rates":
        var = 1.0 / yt + dispersion / mt + 1.0 / yc + dispersion / mc
    elif variance == "control-rate":
        var = (mc / yc + dispersion) * (1.0 / mt + 1.0 / mc)
    else:
        pooled = np.maximum(t.events + c.events, 0.5) / (mt + mc)
        var = (1.0 / pooled + dispersion) * (1.0 / mt + 1.0 / mc)
    return (log_ratio - math.log(null_ratio)) / np.sqrt(var)


class CountWaldRule(StatisticRule):
    """nb-wald: one-sided Wald z test of log(rate ratio) against 0 (or the log of a rate-ratio margin)."""

    def __init__(self, design: Design):
        self.sign = -1.0 if design.endpoint.better == "lower" else 1.0
        self.dispersion = design.endpoint.dispersion
        self.variance = design.analysis.nb_variance or "true-rates"
        self.null_ratio = design.null_treatment(1.0)  # the rate ratio at the null: 1, or the margin
        self.z = float(special.ndtri(1.0 - design.analysis.alpha))

    def statistic(self, sample: TrialSample) -> tuple[np.ndarray, None]:
        """The Wald z of the log rate ratio in the direction of benefit (an arm without participants: -inf)."""
        z = log_rate_ratio_z(
            sample.treatment, sample.control, self.dispersion, self.variance, self.null_ratio
        )
        ok = (sample.treatment.n > 0) & (sample.control.n > 0)
        return np.where(ok, np.nan_to_num(self.sign * z, nan=-np.inf), -np.inf), None

    def decide(self, sample: TrialSample) -> np.ndarray:
        return self.statistic(sample)[0] >= self.z


class CountExactRule:
    """nb-exact: one-sided exact test of a single arm's event total against the goal rate."""

    def __init__(self, design: Design):
        ep = design.endpoint
        self.lower_better = ep.better == "lower"
        self.mean_per_participant = design.analysis.performance_goal * ep.exposure
        self.dispersion = ep.dispersion
        self.alpha = design.analysis.alpha
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
        return arm.events <= crit if self.lower_better else arm.events >= crit
