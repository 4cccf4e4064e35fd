"""Decision rule for count endpoints: Wald test on the log event rate (ratio).

The variance of a log rate estimated from a negative binomial total Y over M
participants is 1/Y + dispersion/M (delta method), with the dispersion taken
at its design value, as in the sample-size formula of Zhu and Lakkis. A total
of zero events is replaced by 0.5 so that the log is defined.

References
----------
Zhu H, Lakkis H. Sample size calculation for comparing two negative binomial rates.
Statistics in Medicine 2014;33:376-87.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from planner.design import Design
from planner.endpoints import CountArm, TrialSample

__all__ = ["CountWaldRule"]


def _log_rate_and_var(arm: CountArm, dispersion: float):
    y = np.maximum(arm.events, 0.5)
    m = np.maximum(arm.n, 1)
    return np.log(y / (m * arm.exposure)), 1.0 / y + dispersion / m


class CountWaldRule:
    """nb-wald: one-sided Wald z test of log(rate) against the goal, or of log(rate ratio) against 0."""

    def __init__(self, design: Design):
        self.sign = -1.0 if design.endpoint.better == "lower" else 1.0
        self.dispersion = design.endpoint.dispersion
        goal = design.analysis.performance_goal
        self.log_goal = np.log(goal) if goal is not None else None
        self.z = float(special.ndtri(1.0 - design.analysis.alpha))

    def decide(self, sample: TrialSample) -> np.ndarray:
        log_t, var_t = _log_rate_and_var(sample.treatment, self.dispersion)
        if sample.control is None:
            estimate, var, ok = log_t - self.log_goal, var_t, sample.treatment.n > 0
        else:
            log_c, var_c = _log_rate_and_var(sample.control, self.dispersion)
            estimate, var = log_t - log_c, var_t + var_c
            ok = (sample.treatment.n > 0) & (sample.control.n > 0)
        return ok & (self.sign * estimate / np.sqrt(var) > self.z)
