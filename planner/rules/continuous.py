"""Decision rules for continuous endpoints, vectorized over simulated trials.

All tests are one-sided in the direction of benefit (``endpoint.better``).

References
----------
Welch BL. The generalization of "Student's" problem when several different population
variances are involved. Biometrika 1947;34:28-35.
Senn S. Statistical Issues in Drug Development, 2nd ed. Wiley 2007, ch. 7 (ANCOVA on baseline).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from planner.design import Design
from planner.endpoints import AncovaSample, PooledNormalSample, TrialSample
from planner.mixtures import student_t_posterior_sf
from planner.priors import analysis_mixture
from planner.rules.look import StatisticRule
from planner.sequential import at_or_above, at_or_above_threshold

__all__ = ["ContinuousRule"]


class ContinuousRule(StatisticRule):
    """one-sample-t, t-pooled, welch, ancova, or posterior-probability on a normal endpoint."""

    def __init__(self, design: Design):
        an, ep = design.analysis, design.endpoint
        self.rule = an.rule
        self.alpha = an.alpha
        self.sign = -1.0 if ep.better == "lower" else 1.0
        # the null value of the estimate: the goal (single arm), or a difference of -margin in the direction of
        # benefit (randomized; 0 for superiority)
        self.null_value = (
            an.performance_goal if an.performance_goal is not None else -self.sign * design.margin
        )
        self.z = float(special.ndtri(1.0 - an.alpha))  # t tests: the t threshold equivalent to z, per df
        self.max_df = design.arms.n
        if self.rule == "posterior-probability":
            prior = analysis_mixture(an.prior, "normal", reference_sd=ep.sd)
            self.prior = prior.negated() if self.sign < 0 else prior
            self.threshold = an.threshold
            self.unknown_variance = an.variance != "plug-in"
            self.reference_sd = ep.sd
            # (value, probability) of every condition: the null value's and the further ones (a dual criterion)
            self.conditions = ((self.null_value, an.threshold),) + tuple(
                (c.value, c.probability) for c in an.conditions
            )

    def decide(self, sample) -> np.ndarray:
        if isinstance(sample, AncovaSample):
            return self._ancova(sample)
        if isinstance(sample, PooledNormalSample) and self.rule == "t-pooled" and np.ndim(sample.n1) == 0:
            return self._pooled_t(sample, (self.z,))[0]
        if self.rule == "posterior-probability":
            values = [value for value, _ in self.conditions]
            success, probabilities = self.beyond(sample, values)
            for prob, (_, probability) in zip(probabilities, self.conditions, strict=True):
                success = success & (prob > probability)  # every condition must hold
            return success
        estimate, se, df, ss = self._estimate(sample)
        if self.rule == "welch":
            with np.errstate(divide="ignore", invalid="ignore"):
                t = self.sign * (estimate - self.null_value) / se
                return (df > 0) & (special.stdtr(df, -t) <= self.alpha)
        t, df = self.statistic_from(estimate, se, df)
        return at_or_above(t, df, self.z, self.max_df)

    def beyond(self, sample: Any, values: list[float]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Per trial: whether it can be analysed (df >= 1), and for each value the posterior probability that
        the effect lies beyond it in the direction of benefit (posterior-probability rules; the Student-t
        posterior of an unknown variance, or the plug-in Normal one)."""
        estimate, se, df, ss = self._estimate(sample)
        out = []
        with np.errstate(divide="ignore", invalid="ignore"):
            c = (se / np.sqrt(ss / df)) ** 2  # 1/n or 1/n1 + 1/n2
            for value in values:
                if self.unknown_variance:
                    prob = student_t_posterior_sf(
                        self.prior, self.sign * value, self.sign * estimate, c, ss, df, self.reference_sd
                    )
                else:
                    prob = self.prior.posterior_sf(self.sign * value, self.sign * estimate, se)
                out.append(np.asarray(prob))
        return np.asarray(df >= 1), out

    def statistic(self, sample: TrialSample) -> tuple[np.ndarray, np.ndarray]:
        """one-sample-t, t-pooled: the t statistic in the direction of benefit (no test: -inf) and its df."""
        if self.rule not in ("one-sample-t", "t-pooled"):
            raise ValueError(f"{self.rule} has no t statistic for sequential looks")
        estimate, se, df, _ = self._estimate(sample)
        return self.statistic_from(estimate, se, df)

    def statistic_from(self, estimate, se, df):
        """t = sign (estimate - null) / se; where no test is possible (df < 1, or 0 / 0) it is -inf."""
        with np.errstate(divide="ignore", invalid="ignore"):
            t = estimate - self.null_value if self.null_value else estimate.copy()
            t /= se
            if self.sign < 0:
                np.negative(t, out=t)
        if np.ndim(df) == 0 and df >= 1:  # every trial has a test: no 0 / 0 (ss > 0 with probability 1)
            return t, df
        return np.nan_to_num(t, nan=-np.inf, copy=False), df

    def at_or_above(self, sample, bounds: tuple[float, ...]) -> list[np.ndarray]:
        if isinstance(sample, PooledNormalSample) and self.rule == "t-pooled" and np.ndim(sample.n1) == 0:
            return self._pooled_t(sample, bounds)
        return super().at_or_above(sample, bounds)

    def _pooled_t(self, s: PooledNormalSample, bounds: tuple[float, ...]) -> list[np.ndarray]:
        """t-pooled with the same sizes in every trial: t >= c (c the t value equivalent to the z bound at the
        df, as at_or_above) written as sign d - null >= c se, i.e. without a division or a square root per
        trial: x >= c se with se^2 = SS (1/n1 + 1/n2) / df, x = sign d - null; for c > 0 that is x >= 0 and
        x^2 >= c^2 se^2, for c <= 0 it is x >= 0 or x^2 <= c^2 se^2 (c = -inf: every trial, +inf: none)."""
        df = s.n1 + s.n2 - 2
        if df < 1:  # no test: the general path (every statistic -inf)
            return super().at_or_above(s, bounds)
        x = s.difference if self.sign > 0 else -s.difference
        if self.null_value:
            x = x - self.sign * self.null_value
        variance = s.ss * ((1.0 / s.n1 + 1.0 / s.n2) / df)  # se^2
        square = x * x
        positive = x >= 0
        out = []
        for z in bounds:
            c = float(at_or_above_threshold(z, df, self.max_df))
            if np.isinf(c):
                out.append(np.full(x.shape, c < 0))
            elif c > 0:
                out.append(positive & (square >= (c * c) * variance))
            else:
                out.append(positive | (square <= (c * c) * variance))
        return out

    def _estimate(self, sample):
        """(estimate, its standard error, df, the SS behind it) from per-arm or pooled statistics."""
        if isinstance(sample, PooledNormalSample):
            df = sample.n1 + sample.n2 - 2
            with np.errstate(divide="ignore", invalid="ignore"):
                se = sample.ss * ((1.0 / sample.n1 + 1.0 / sample.n2) / df)
                np.sqrt(se, out=se)
            return sample.difference, se, df, sample.ss
        if sample.control is None:
            return (*self._one_sample(sample), sample.treatment.ss)
        return (*self._two_sample(sample), sample.treatment.ss + sample.control.ss)

    def _one_sample(self, sample: TrialSample):
        arm = sample.treatment
        df = arm.n - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(arm.ss / df / arm.n)
        return arm.mean, se, df

    def _two_sample(self, sample: TrialSample):
        t, c = sample.treatment, sample.control
        estimate = t.mean - c.mean
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.rule == "welch":
                v1 = t.ss / (t.n - 1) / t.n
                v2 = c.ss / (c.n - 1) / c.n
                se2 = v1 + v2
                df = se2**2 / (v1**2 / (t.n - 1) + v2**2 / (c.n - 1))
                df = np.where((t.n >= 2) & (c.n >= 2), df, 0.0)
            else:
                df = t.n + c.n - 2
                se2 = (t.ss + c.ss) / df * (1.0 / t.n + 1.0 / c.n)
        return estimate, np.sqrt(se2), df

    def _ancova(self, s: AncovaSample) -> np.ndarray:
        df = s.n1 + s.n2 - 3
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = s.sxy / s.sxx
            resid_var = (s.syy - slope * s.sxy) / df
            dx = s.x1 - s.x2
            effect = (s.y1 - s.y2) - slope * dx
            se = np.sqrt(resid_var * (1.0 / s.n1 + 1.0 / s.n2 + dx**2 / s.sxx))
            t = self.sign * effect / se
        return at_or_above(np.nan_to_num(t, nan=-np.inf), df, self.z, self.max_df)
