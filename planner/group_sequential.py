"""Simulation of group sequential trials: stage increments of sufficient statistics, cumulated.

At each look the cumulative statistic of the design's rule is put on the z scale and
compared with the spending boundaries of :mod:`planner.sequential`. A t statistic is
mapped to z through its p-value, z = Phi^-1(F_t(t; df)), as rpact does for group
sequential designs. Each stage of each arm has its own random streams, so stage k's
data are the same whatever happened at other looks, and the same whatever the chunking.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import special

from planner.design import Design
from planner.endpoints import TrialSample
from planner.endpoints.binary import BinaryArm, simulate_binary_arm
from planner.endpoints.continuous import NormalArm, simulate_normal_arm
from planner.endpoints.count import CountArm, simulate_count_arm
from planner.randomness import BlockStreams
from planner.sequential import Boundaries, conditional_power_futility, efficacy_boundaries

__all__ = ["SequentialTally", "boundaries_for", "simulate_sequential", "look_statistic", "z_statistic"]

ARMS = ("treatment", "control")


@cache
def _boundaries(fractions, alpha, spending, gamma, cumulative, futility, threshold, binding) -> Boundaries:
    plain = efficacy_boundaries(fractions, alpha, spending, gamma=gamma, cumulative=cumulative)
    if futility == "none":
        return plain
    lower = conditional_power_futility(plain, threshold)
    if binding:
        # iterate: futility bounds depend on the final boundary, which depends on them
        b = plain
        for _ in range(50):
            new = efficacy_boundaries(fractions, alpha, spending, gamma=gamma, cumulative=cumulative, futility=lower)
            lower = conditional_power_futility(new, threshold)
            if abs(new.efficacy[-1] - b.efficacy[-1]) < 1e-10:
                break
            b = new
        return Boundaries(new.fractions, new.efficacy, lower, new.alpha_spent, True)
    return Boundaries(plain.fractions, plain.efficacy, lower, plain.alpha_spent, False)


def boundaries_for(design: Design) -> Boundaries:
    """The z-scale boundaries of a design's looks, at the information fractions of its planned stage sizes."""
    it = design.interim
    looks = np.array(design.look_sizes, dtype=float)
    # information is proportional to 1 / (sum over arms of 1 / n_arm)
    info = 1.0 / np.sum(1.0 / looks, axis=1)
    fractions = tuple(float(x) for x in info / info[-1])
    return _boundaries(fractions, design.analysis.alpha, it.spending, it.gamma, it.cumulative_alpha,
                       it.futility, it.futility_threshold, it.binding)


def _combine(a, b):
    """Cumulative statistics of one arm after adding a stage."""
    if a is None:
        return b
    if isinstance(b, BinaryArm):
        return BinaryArm(a.n + b.n, a.events + b.events)
    if isinstance(b, CountArm):
        return CountArm(a.n + b.n, a.events + b.events, b.exposure)
    n = a.n + b.n
    safe = np.maximum(n, 1)
    mean = (a.n * a.mean + b.n * b.mean) / safe
    ss = a.ss + b.ss + a.n * b.n / safe * (a.mean - b.mean) ** 2
    return NormalArm(n, mean, ss)


def _stage(design: Design, arm: str, k: int, streams: BlockStreams, size: int, n: int, truth, sd):
    ep, name = design.endpoint, f"{arm}.stage{k}"
    if ep.kind == "binary":
        return simulate_binary_arm(streams, name, size, n, truth, design.dropout)
    if ep.kind == "continuous":
        return simulate_normal_arm(streams, name, size, n, truth, sd, design.dropout, ep.failure_value)
    return simulate_count_arm(streams, name, size, n, truth, ep.exposure, ep.dispersion, design.dropout)


def look_statistic(design: Design, sample: TrialSample) -> tuple[np.ndarray, np.ndarray | None]:
    """The cumulative statistic of the design's rule (larger = more benefit) and, for t tests, its df.

    z-type rules return (z, None). t-type rules return (t, df): the boundary z >= c is then
    applied as t >= F_t^-1(Phi(c); df), the same test without a special function per trial.
    """
    rule, an = design.analysis.rule, design.analysis
    sign = -1.0 if getattr(design.endpoint, "better", "higher") == "lower" else 1.0
    t, c = sample.treatment, sample.control
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule == "z-score":
            p0 = an.performance_goal
            return np.nan_to_num((t.events / t.n - p0) / np.sqrt(p0 * (1 - p0) / t.n), nan=-np.inf), None
        if rule == "z-pooled":
            pooled = (t.events + c.events) / (t.n + c.n)
            var = pooled * (1 - pooled) * (1 / t.n + 1 / c.n)
            z = np.where(var > 0, (t.events / t.n - c.events / c.n) / np.sqrt(var), 0.0)
            return np.nan_to_num(z, nan=-np.inf), None
        if rule == "one-sample-t":
            df = t.n - 1
            stat = sign * (t.mean - an.performance_goal) / np.sqrt(t.ss / df / t.n)
            return np.nan_to_num(stat, nan=-np.inf), df
        if rule == "t-pooled":
            df = t.n + c.n - 2
            stat = sign * (t.mean - c.mean) / np.sqrt((t.ss + c.ss) / df * (1 / t.n + 1 / c.n))
            return np.nan_to_num(stat, nan=-np.inf), df
        from planner.rules.count import _log_rate_and_var

        lt, vt = _log_rate_and_var(t, design.endpoint.dispersion)
        lc, vc = _log_rate_and_var(c, design.endpoint.dispersion)
        return np.nan_to_num(sign * (lt - lc) / np.sqrt(vt + vc), nan=-np.inf), None


def z_statistic(design: Design, sample: TrialSample) -> np.ndarray:
    """The cumulative statistic on the z scale; t statistics mapped by z = Phi^-1(F_t(t; df)) as rpact does."""
    stat, df = look_statistic(design, sample)
    if df is None:
        return stat
    with np.errstate(invalid="ignore"):
        return np.where(df >= 1, special.ndtri(special.stdtr(np.maximum(df, 1), stat)), -np.inf)


@cache
def _t_thresholds(z: float, max_df: int) -> np.ndarray:
    """t values equivalent to the z boundary for df = 0..max_df (df 0: no test, +inf)."""
    if not np.isfinite(z):
        return np.full(max_df + 1, z)
    out = np.empty(max_df + 1)
    out[0] = np.inf
    out[1:] = special.stdtrit(np.arange(1, max_df + 1), special.ndtr(z))
    return out


def _at_or_above(stat, df, z: float, max_df: int) -> np.ndarray:
    if df is None:
        return stat >= z
    return stat >= _t_thresholds(float(z), max_df)[np.clip(df, 0, max_df)]


@dataclass
class SequentialTally:
    """Integer counts over simulated trials, per look (so results do not depend on chunking)."""

    efficacy: np.ndarray  # stopped for efficacy at look k (the last look: final success)
    futility: np.ndarray  # stopped for futility at look k (the last look: final failure)
    reject_ignoring_futility: int  # efficacy crossed at some look if futility were never obeyed
    enrolled: int  # total participants enrolled, summed over trials
    enrolled_sq: int  # sum of squares, for the Monte Carlo SE of the expected sample size

    @classmethod
    def empty(cls, looks: int) -> SequentialTally:
        return cls(np.zeros(looks, dtype=np.int64), np.zeros(looks, dtype=np.int64), 0, 0, 0)

    def add(self, other: SequentialTally) -> None:
        self.efficacy += other.efficacy
        self.futility += other.futility
        self.reject_ignoring_futility += other.reject_ignoring_futility
        self.enrolled += other.enrolled
        self.enrolled_sq += other.enrolled_sq


def simulate_sequential(design: Design, scenario, streams: BlockStreams, size: int) -> SequentialTally:
    """Simulate ``size`` group sequential trials; tally where each stopped and why."""
    b = boundaries_for(design)
    looks = design.look_sizes
    randomized = design.randomized
    truths = (scenario.treatment, scenario.control)
    sd = getattr(scenario, "sd", None) or getattr(design.endpoint, "sd", None)
    tally = SequentialTally.empty(len(looks))
    active = np.ones(size, dtype=bool)
    ever_crossed = np.zeros(size, dtype=bool)
    cumulative = [None, None]
    previous = (0, 0)
    for k, look in enumerate(looks):
        for a in range(2 if randomized else 1):
            inc = _stage(design, ARMS[a], k, streams, size, look[a] - previous[a], truths[a], sd)
            cumulative[a] = _combine(cumulative[a], inc)
        previous = look if randomized else (look[0], 0)
        stat, df = look_statistic(design, TrialSample(cumulative[0], cumulative[1]))
        cross = _at_or_above(stat, df, b.efficacy[k], design.arms.n)
        ever_crossed |= cross
        last = k == len(looks) - 1
        stop_eff = active & cross
        below = ~_at_or_above(stat, df, b.futility[k], design.arms.n) if np.isfinite(b.futility[k]) else False
        stop_fut = active & ~cross & (below | last)
        tally.efficacy[k] = np.count_nonzero(stop_eff)
        tally.futility[k] = np.count_nonzero(stop_fut)
        stopped = int(np.count_nonzero(stop_eff | stop_fut))
        tally.enrolled += stopped * int(sum(look))
        tally.enrolled_sq += stopped * int(sum(look)) ** 2
        active &= ~(stop_eff | stop_fut)
    tally.reject_ignoring_futility = int(np.count_nonzero(ever_crossed))
    return tally
