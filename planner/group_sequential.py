"""The one simulation loop of every design: looks, each with its cumulative sample and its decision.

A fixed design is a one-look design: its one sample is the whole trial and its decision the rule's own test.
A design with interim looks draws stage increments of sufficient statistics and cumulates them; at each
look the decision (:func:`look_decision`: the rule's statistic against the spending boundaries of
:mod:`planner.looks`, the count-scale boundaries of :mod:`planner.multistage`, or the Bayesian posterior and
predictive probabilities) is applied to the trials still running. Each stage of each arm has its own random streams, so stage k's
data are the same whatever happened at other looks, and the same whatever the chunking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.design import Design
from planner.endpoints import TrialSample, simulate_trials
from planner.endpoints.binary import BinaryArm, simulate_binary_arm
from planner.endpoints.continuous import NormalArm, simulate_normal_arm
from planner.endpoints.count import CountArm, simulate_count_arm
from planner.looks import (
    BayesianLooks,
    bayesian_looks,
    beta_spending_inflation,
    boundaries_for,
)
from planner.multistage import multistage_for
from planner.randomness import BlockStreams
from planner.sequential import at_or_above

__all__ = ["SequentialTally", "BoundaryLooks", "describe_looks", "look_decision", "simulate_looks"]

ARMS = ("treatment", "control")


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


def describe_looks(design: Design) -> dict:
    """The rule at each look, for results and reports."""
    looks = design.look_sizes
    if design.analysis.rule == "exact-binomial":
        b = multistage_for(design).boundaries()
        fut = [f"fut x<{f}" if f > 0 else "" for f in b.futility]
        labels = [
            f"look {k + 1} (n={n}: x>={e}" + (f", {fut[k]}" if fut[k] and k < len(looks) - 1 else "") + ")"
            for k, (n, e) in enumerate(zip(b.analysed, b.efficacy, strict=True))
        ]
        return {
            "labels": labels,
            "participants": [sum(look) for look in looks],
            "efficacy_counts": list(b.efficacy),
            "futility_counts": list(b.futility[:-1]),
            "analysed": list(b.analysed),
        }
    if design.rule_info.bayesian:
        it, an = design.interim, design.analysis
        eff = it.efficacy_threshold if it.efficacy_threshold is not None else an.threshold
        fut = (
            f", futility if predictive probability < {it.futility_threshold:g}"
            if it.futility != "none"
            else ""
        )
        labels = [
            f"look {k + 1} (n={sum(look)}: P(benefit) > {eff if k < len(looks) - 1 else an.threshold:g}"
            + (fut if k < len(looks) - 1 else "")
            + ")"
            for k, look in enumerate(looks)
        ]
        return {"labels": labels, "participants": [sum(look) for look in looks]}
    b = boundaries_for(design)
    labels = []
    for k, (f, c, lo) in enumerate(zip(b.fractions, b.efficacy, b.futility, strict=True)):
        fut = "" if not np.isfinite(lo) else f", fut z<{lo:.2f}"
        labels.append(f"look {k + 1} (t={f:.2f}, z>={c:.2f}{fut})")
    out = {
        "labels": labels,
        "participants": [sum(look) for look in looks],
        "information_fractions": list(b.fractions),
        "efficacy_z": list(b.efficacy),
        "futility_z": [float(x) for x in b.futility],
        "cumulative_alpha": list(b.alpha_spent),
    }
    inflation = beta_spending_inflation(design)
    if inflation is not None:
        out["beta_spending_inflation_factor"] = inflation
    return out


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


class _FixedLook:
    """The one look of a fixed design: the rule's own test (no futility)."""

    def __init__(self, design: Design, rule):
        self.rule = rule

    def __call__(self, k: int, last: bool, look, sample) -> tuple[np.ndarray, np.ndarray]:
        success = self.rule.decide(sample)
        return success, np.zeros_like(success)


class BoundaryLooks:
    """The rule's statistic against z-scale boundaries (efficacy; futility where finite): the design's own
    spending boundaries, or ``bounds`` given (a one-look version of a fixed design, in the tests)."""

    def __init__(self, design: Design, rule, bounds=None):
        self.rule, self.max_df = rule, design.arms.n
        self.bounds = bounds if bounds is not None else boundaries_for(design)

    def __call__(self, k: int, last: bool, look, sample) -> tuple[np.ndarray, np.ndarray]:
        stat, df = self.rule.statistic(sample)
        cross = at_or_above(stat, df, self.bounds.efficacy[k], self.max_df)
        lower = self.bounds.futility[k]
        below = ~at_or_above(stat, df, lower, self.max_df) if np.isfinite(lower) else np.zeros_like(cross)
        return cross, below


class _CountLooks:
    """exact-binomial with interim looks: the count-scale boundaries of planner.multistage (they depend on the
    analysed counts at every look so far, hence the history; one instance per simulated chunk)."""

    def __init__(self, design: Design, rule):
        self.counts, self.history = multistage_for(design), []

    def __call__(self, k: int, last: bool, look, sample) -> tuple[np.ndarray, np.ndarray]:
        arm = sample.treatment
        self.history.append(np.broadcast_to(arm.n, arm.events.shape))
        return self.counts.decide(k, np.stack(self.history, axis=1), arm.events)


class _BayesianLooks:
    """Bayesian rules with interim looks: posterior efficacy, predictive-probability futility (planner.looks)."""

    def __init__(self, design: Design, rule):
        self.looks = bayesian_looks(design)

    def __call__(self, k: int, last: bool, look, sample) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(self.looks, BayesianLooks):
            return self.looks.decide(k, last, look[0], sample.treatment)
        return self.looks.decide(k, last, sum(look), [sample.treatment, sample.control])


def look_decision(design: Design, rule):
    """The decision at each look of ``design``: called as decide(k, last, look sizes, sample) -> (efficacy,
    futility). A fixed design has one look, decided by the rule's own test."""
    if design.interim is None:
        return _FixedLook(design, rule)
    if design.analysis.rule == "exact-binomial":
        return _CountLooks(design, rule)
    if design.rule_info.bayesian:
        return _BayesianLooks(design, rule)
    return BoundaryLooks(design, rule)


def _samples_at_looks(design: Design, scenario, streams: BlockStreams, size: int):
    """(k, cumulative participants per arm, cumulative sample) at each look. A fixed design has one look: the
    whole trial (simulate_trials). Otherwise each stage of each arm is drawn from its own streams, so stage
    k's data are the same whatever happened at other looks, and the same whatever the chunking."""
    if design.interim is None:
        yield 0, design.arms.sizes, simulate_trials(design, scenario, streams, size)
        return
    randomized = design.randomized
    truths = (scenario.treatment, scenario.control)
    sd = getattr(scenario, "sd", None) or getattr(design.endpoint, "sd", None)
    cumulative = [None, None]
    previous = (0, 0)
    for k, look in enumerate(design.look_sizes):
        for a in range(2 if randomized else 1):
            inc = _stage(design, ARMS[a], k, streams, size, look[a] - previous[a], truths[a], sd)
            cumulative[a] = _combine(cumulative[a], inc)
        previous = look if randomized else (look[0], 0)
        yield k, look, TrialSample(cumulative[0], cumulative[1])


def simulate_looks(design: Design, rule, scenario, streams: BlockStreams, size: int) -> SequentialTally:
    """Simulate ``size`` trials look by look; tally where each stopped and why (a fixed design: one look)."""
    decide = look_decision(design, rule)
    looks = design.look_sizes
    tally = SequentialTally.empty(len(looks))
    active = np.ones(size, dtype=bool)
    ever_crossed = np.zeros(size, dtype=bool)
    for k, look, sample in _samples_at_looks(design, scenario, streams, size):
        last = k == len(looks) - 1
        cross, below = decide(k, last, look, sample)
        ever_crossed |= cross
        stop_eff = active & cross
        stop_fut = active & ~cross & (below | last)
        tally.efficacy[k] = np.count_nonzero(stop_eff)
        tally.futility[k] = np.count_nonzero(stop_fut)
        stopped = int(np.count_nonzero(stop_eff | stop_fut))
        tally.enrolled += stopped * int(sum(look))
        tally.enrolled_sq += stopped * int(sum(look)) ** 2
        active &= ~(stop_eff | stop_fut)
    tally.reject_ignoring_futility = int(np.count_nonzero(ever_crossed))
    return tally
