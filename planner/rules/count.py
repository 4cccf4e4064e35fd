"""Decision rules for count endpoints.

Randomized (``nb-wald``): Wald test on the log rate ratio.
The variance of a log rate estimated from a negative binomial total Y over M
participants is 1/Y + dispersion/M (delta method), with the dispersion taken
at its design value, as in the sample-size formula of Zhu and Lakkis. A total
of zero events is replaced by 0.5 so that the log is defined.

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

import numpy as np
from scipy import special, stats

from planner.design import Design
from planner.endpoints import CountArm, TrialSample

__all__ = ["CountWaldRule", "CountExactRule"]


def _log_rate_and_var(arm: CountArm, dispersion: float):
    y = np.maximum(arm.events, 0.5)
    m = np.maximum(arm.n, 1)
    return np.log(y / (m * arm.exposure)), 1.0 / y + dispersion / m


class CountWaldRule:
    """nb-wald: one-sided Wald z test of log(rate ratio) against 0."""

    def __init__(self, design: Design):
        self.sign = -1.0 if design.endpoint.better == "lower" else 1.0
        self.dispersion = design.endpoint.dispersion
        self.z = float(special.ndtri(1.0 - design.analysis.alpha))

    def decide(self, sample: TrialSample) -> np.ndarray:
        log_t, var_t = _log_rate_and_var(sample.treatment, self.dispersion)
        log_c, var_c = _log_rate_and_var(sample.control, self.dispersion)
        ok = (sample.treatment.n > 0) & (sample.control.n > 0)
        return ok & (self.sign * (log_t - log_c) / np.sqrt(var_t + var_c) > self.z)


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
            lookup[m] = self.critical(int(m)) if m > 0 else (-1 if self.lower_better else np.iinfo(np.int64).max)
        crit = lookup[arm.n]
        return arm.events <= crit if self.lower_better else arm.events >= crit
