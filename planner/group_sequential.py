"""The one simulation loop of every design: looks, each with its cumulative sample and its decision.

A fixed design is a one-look design: its one sample is the whole trial and its decision the rule's own test.
A design with interim looks draws stage increments of sufficient statistics and cumulates them; at each
look the decision (:func:`look_decision`: the rule's statistic against the spending boundaries of
:mod:`planner.looks`, the count-scale boundaries of :mod:`planner.multistage`, or the Bayesian posterior and
predictive probabilities) is applied to the trials still running (:class:`_Stages` draws the stages).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from planner.design import BinaryEndpoint, ContinuousEndpoint, CountEndpoint, Design
from planner.endpoints import TrialSample, pooled_normal, simulate_trials
from planner.endpoints.binary import BinaryArm, simulate_binary_arm
from planner.endpoints.continuous import NormalArm, PooledNormalSample, simulate_normal_arm
from planner.endpoints.count import CountArm, simulate_count_arm
from planner.endpoints.time_to_event import SurvivalSample, simulate_survival_design
from planner.looks import (
    BayesianLooks,
    bayesian_looks,
    beta_spending_inflation,
    boundaries_for,
)
from planner.multistage import multistage_for
from planner.randomness import BlockStreams, binomial_draws

__all__ = ["SequentialTally", "BoundaryLooks", "describe_looks", "look_decision", "simulate_looks"]

ARMS = ("treatment", "control")
TIME_QUANTUM = 2.0**-20  # analysis times are summed in these units (about 1e-6 time units)
TIME_QUANTUM_SQ = 2.0**-10  # and squared in these (for the MCSE of the expected time)


def _combine(a: Any, b: Any) -> Any:
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


def _stage(
    design: Design, arm: str, k: int, streams: BlockStreams, size: int, n: int, truth: Any, sd: Any
) -> BinaryArm | NormalArm | CountArm:
    ep, name = design.endpoint, f"{arm}.stage{k}"
    if isinstance(ep, BinaryEndpoint):
        return simulate_binary_arm(streams, name, size, n, truth, design.dropout)
    if isinstance(ep, ContinuousEndpoint):
        return simulate_normal_arm(streams, name, size, n, truth, sd, design.dropout, ep.failure_value)
    assert isinstance(ep, CountEndpoint)
    return simulate_count_arm(streams, name, size, n, truth, ep.exposure, ep.dispersion, design.dropout)


def describe_looks(design: Design) -> dict[str, Any]:
    """The rule at each look, for results and reports."""
    looks = design.look_sizes
    if design.analysis.rule == "exact-binomial":
        b = multistage_for(design).boundaries()
        count_fut = [f"fut x<{f}" if f > 0 else "" for f in b.futility]
        count_labels = [
            f"look {k + 1} (n={n}: x>={e}"
            + (f", {count_fut[k]}" if count_fut[k] and k < len(looks) - 1 else "")
            + ")"
            for k, (n, e) in enumerate(zip(b.analysed, b.efficacy, strict=True))
        ]
        return {
            "labels": count_labels,
            "participants": [sum(look) for look in looks],
            "efficacy_counts": list(b.efficacy),
            "futility_counts": list(b.futility[:-1]),
            "analysed": list(b.analysed),
        }
    if design.rule_info.bayesian:
        it, an = design.interim, design.analysis
        assert it is not None
        eff = it.efficacy_threshold if it.efficacy_threshold is not None else an.threshold
        futility_text = (
            f", futility if predictive probability < {it.futility_threshold:g}"
            if it.futility != "none"
            else ""
        )
        bayes_labels = [
            f"look {k + 1} (n={sum(look)}: P(benefit) > {eff if k < len(looks) - 1 else an.threshold:g}"
            + (futility_text if k < len(looks) - 1 else "")
            + ")"
            for k, look in enumerate(looks)
        ]
        return {"labels": bayes_labels, "participants": [sum(look) for look in looks]}
    b = boundaries_for(design)
    labels: list[str] = []
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
    # time-to-event designs: events and calendar time at the analysis where each trial stopped; times are
    # summed as whole multiples of TIME_QUANTUM (squares of TIME_QUANTUM_SQ), integers, so that the sums
    # do not depend on the chunking
    events: int = 0
    events_sq: int = 0
    time: int = 0
    time_sq: int = 0

    @classmethod
    def empty(cls, looks: int) -> SequentialTally:
        return cls(np.zeros(looks, dtype=np.int64), np.zeros(looks, dtype=np.int64), 0, 0, 0)

    def add(self, other: SequentialTally) -> None:
        self.efficacy += other.efficacy
        self.futility += other.futility
        self.reject_ignoring_futility += other.reject_ignoring_futility
        self.enrolled += other.enrolled
        self.enrolled_sq += other.enrolled_sq
        self.events += other.events
        self.events_sq += other.events_sq
        self.time += other.time
        self.time_sq += other.time_sq

    def add_survival(self, sample: SurvivalSample, stopped: np.ndarray) -> None:
        """Participants entered, events and analysis time of the trials that stopped at this look."""
        enrolled, events = sample.enrolled[stopped], sample.events[stopped]
        self.enrolled += int(enrolled.sum())
        self.enrolled_sq += int((enrolled * enrolled).sum())
        self.events += int(events.sum())
        self.events_sq += int((events * events).sum())
        time = sample.time[stopped]
        self.time += int(np.rint(time / TIME_QUANTUM).astype(np.int64).sum())
        coarse = np.rint(time / TIME_QUANTUM_SQ).astype(np.int64)
        self.time_sq += int((coarse * coarse).sum())


class _Look:
    """A decision at the looks of a design; ``keep`` drops trials that are decided (no state by default)."""

    def __call__(self, k: int, last: bool, look: Any, sample: Any) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def keep(self, mask: np.ndarray) -> None:
        pass


class _FixedLook(_Look):
    """The one look of a fixed design: the rule's own test (no futility)."""

    def __init__(self, design: Design, rule: Any):
        self.rule = rule

    def __call__(self, k: int, last: bool, look: Any, sample: Any) -> tuple[np.ndarray, np.ndarray]:
        success: np.ndarray = self.rule.decide(sample)
        return success, np.zeros_like(success)


class BoundaryLooks(_Look):
    """The rule's statistic against z-scale boundaries (efficacy; futility where finite): the design's own
    spending boundaries, or ``bounds`` given (a one-look version of a fixed design, in the tests)."""

    def __init__(self, design: Design, rule: Any, bounds: Any = None):
        self.rule = rule
        self.bounds = bounds if bounds is not None else boundaries_for(design)

    def __call__(self, k: int, last: bool, look: Any, sample: Any) -> tuple[np.ndarray, np.ndarray]:
        lower = self.bounds.futility[k]
        if not np.isfinite(lower):
            (cross,) = self.rule.at_or_above(sample, (self.bounds.efficacy[k],))
            return cross, np.zeros_like(cross)
        cross, above_lower = self.rule.at_or_above(sample, (self.bounds.efficacy[k], lower))
        return cross, ~above_lower


class _CountLooks(_Look):
    """exact-binomial with interim looks: the count-scale boundaries of planner.multistage (they depend on the
    analysed counts at every look so far, hence the history; one instance per simulated chunk)."""

    def __init__(self, design: Design, rule: Any):
        self.counts = multistage_for(design)
        self.history: list[np.ndarray] = []

    def __call__(self, k: int, last: bool, look: Any, sample: Any) -> tuple[np.ndarray, np.ndarray]:
        arm = sample.treatment
        self.history.append(np.broadcast_to(arm.n, arm.events.shape))
        efficacy, futility = self.counts.decide(k, np.stack(self.history, axis=1), arm.events)
        return np.asarray(efficacy), np.asarray(futility)

    def keep(self, mask: np.ndarray) -> None:
        self.history = [h[mask] for h in self.history]


class _BayesianLooks(_Look):
    """Bayesian rules with interim looks: posterior efficacy, predictive-probability futility (planner.looks)."""

    def __init__(self, design: Design, rule: Any):
        self.looks = bayesian_looks(design)

    def __call__(self, k: int, last: bool, look: Any, sample: Any) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(self.looks, BayesianLooks):
            efficacy, futility = self.looks.decide(k, last, look[0], sample.treatment)
        else:
            efficacy, futility = self.looks.decide(k, last, sum(look), [sample.treatment, sample.control])
        return np.asarray(efficacy), np.asarray(futility)


def look_decision(design: Design, rule: Any) -> _Look:
    """The decision at each look of ``design``: called as decide(k, last, look sizes, sample) -> (efficacy,
    futility). A fixed design has one look, decided by the rule's own test."""
    if design.interim is None:
        return _FixedLook(design, rule)
    if design.analysis.rule == "exact-binomial":
        return _CountLooks(design, rule)
    if design.rule_info.bayesian:
        return _BayesianLooks(design, rule)
    return BoundaryLooks(design, rule)


def _stages_in_ratio(design: Design) -> bool:
    """Whether every stage adds participants to the two arms in the ratio of the arms so far."""
    previous: tuple[int, ...] = (0, 0)
    for look in design.look_sizes:
        m1, m2 = look[0] - previous[0], look[1] - previous[1]
        if m1 < 1 or m2 < 1 or m1 * previous[1] != m2 * previous[0]:
            return False
        previous = look
    return True


class _Stages:
    """The cumulative statistics, look by look, of the trials still simulated.

    Each stage of each arm is drawn from its own streams, for the trials still simulated, in trial order, so
    stage k's data are the same whatever the chunking. Trials that crossed an efficacy bound are dropped from
    later looks (:meth:`keep`): they are decided, and drawing their later stages would only cost time.
    Two-arm normal designs analysed with the pooled t test carry their pooled statistics. In general (dropout,
    or stages not in the arms' ratio) per arm the analysed count and mean: per stage one normal draw per arm
    and one chi-square for the within-stage sums of squares of both arms, the between-stage terms following
    exactly from the means, SS_k = SS_{k-1} + W_k + sum over arms of N_{k-1} m_k / N_k (mean_{k-1} - mean of
    stage k)^2. When every stage adds participants in the ratio of the arms so far (and nobody drops out),
    only the difference of means D_k is carried: per stage one normal for the difference of the stage means
    s_k and one chi-square with m_1 + m_2 - 1 df (k > 1). The two arms' gaps g_a = mean_{k-1,a} - stage
    mean are independent normals, independent of every earlier gap and of the means from look k on (the
    Helmert decomposition); their standardized squares add to a chi-square with 2 df, which splits into the
    part along the difference, (D_{k-1} - s_k)^2 / (1/N_{k-1,1} + 1/m_1 + 1/N_{k-1,2} + 1/m_2), and an
    orthogonal part independent of all the D_j exactly when m_1 N_{k-1,2} = m_2 N_{k-1,1}; that part joins
    the within-stage chi-square.
    """

    def __init__(self, design: Design, scenario: Any, streams: BlockStreams):
        self.design, self.streams = design, streams
        self.truths: list[Any] = [scenario.treatment, scenario.control]
        self.sd: Any = getattr(scenario, "sd", None) or getattr(design.endpoint, "sd", None)
        self.arms = 2 if design.randomized else 1
        self.pooled = pooled_normal(design, ("t-pooled",))  # Bayesian looks read per-arm statistics
        self.difference_only = self.pooled and design.dropout.rate == 0.0 and _stages_in_ratio(design)
        self.cumulative: list[Any] = [None, None]
        self.difference: Any = None
        self.pooled_ss: Any = None
        self.previous: tuple[int, ...] = (0, 0)

    def advance(self, k: int, look: tuple[int, ...], size: int) -> TrialSample | PooledNormalSample:
        """Draw stage k for the ``size`` trials still simulated; the cumulative sample at look k (its arrays
        may be updated in place by the next stage)."""
        if self.difference_only:
            return self._advance_difference(k, look, size)
        if self.pooled:
            return self._advance_pooled(k, look, size)
        for a in range(self.arms):
            inc = _stage(
                self.design,
                ARMS[a],
                k,
                self.streams,
                size,
                look[a] - self.previous[a],
                self.truths[a],
                self.sd,
            )
            self.cumulative[a] = _combine(self.cumulative[a], inc)
        self.previous = look if self.arms == 2 else (look[0], 0)
        return TrialSample(self.cumulative[0], self.cumulative[1])

    def _advance_difference(self, k: int, look: tuple[int, ...], size: int) -> PooledNormalSample:
        (old1, old2), (n1, n2) = self.previous, look
        m1, m2 = n1 - old1, n2 - old2
        stage = self.streams(f"stage{k}.difference").standard_normal(size)
        stage *= self.sd * np.sqrt(1.0 / m1 + 1.0 / m2)
        stage += self.truths[0] - self.truths[1]
        within = self.streams(f"stage{k}.pooled_ss").standard_gamma(
            (m1 + m2 - (2 if k == 0 else 1)) / 2.0, size
        )
        within *= 2.0 * self.sd**2
        if self.difference is None:
            self.difference, self.pooled_ss = stage, within
        else:
            gap = self.difference - stage
            gap *= gap
            gap *= 1.0 / (1.0 / old1 + 1.0 / m1 + 1.0 / old2 + 1.0 / m2)
            within += gap
            self.pooled_ss += within
            stage *= m1 / n1
            self.difference *= old1 / n1
            self.difference += stage
        self.previous = look
        return PooledNormalSample(n1, n2, self.difference, self.pooled_ss)

    def _advance_pooled(self, k: int, look: tuple[int, ...], size: int) -> PooledNormalSample:
        within_df: Any = 0
        between: Any = 0.0
        missing = self.design.dropout.rate > 0.0
        for a in range(2):
            name = f"{ARMS[a]}.stage{k}"
            stage = look[a] - self.previous[a]
            # without dropout every count is the same in every trial: scalars, and no 0 / 0 to guard
            m = (
                binomial_draws(
                    self.streams(f"{name}.completers"), stage, 1.0 - self.design.dropout.rate, size
                )
                if missing
                else stage
            )
            mean = self.streams(f"{name}.mean").standard_normal(size)
            mean *= self.sd / np.sqrt(np.maximum(m, 1))
            mean += self.truths[a]
            if missing:
                mean = np.where(m > 0, mean, 0.0)
            within_df = within_df + np.maximum(m - 1, 0)
            old = self.cumulative[a]
            if old is None:
                self.cumulative[a] = (m, mean)
                continue
            n_old, mean_old = old
            n = n_old + m
            safe = np.maximum(n, 1)
            gap = mean_old - mean
            gap *= gap
            gap *= n_old * m / safe
            between = between + gap
            mean *= m / safe
            mean += n_old / safe * mean_old
            self.cumulative[a] = (n, mean)
        within = self.streams(f"stage{k}.pooled_ss").standard_gamma(within_df / 2.0, size)
        within *= 2.0 * self.sd**2
        within += between
        self.pooled_ss = within if self.pooled_ss is None else self.pooled_ss + within
        self.previous = look
        (n1, mean1), (n2, mean2) = self.cumulative
        return PooledNormalSample(n1, n2, mean1 - mean2, self.pooled_ss)

    def keep(self, mask: np.ndarray) -> None:
        """Go on with the trials where ``mask`` is True only."""

        def cut(x: Any) -> Any:
            return x[mask] if np.ndim(x) > 0 else x

        self.truths = [cut(t) for t in self.truths]
        self.sd = cut(self.sd)
        if self.difference_only:
            self.difference, self.pooled_ss = cut(self.difference), cut(self.pooled_ss)
            return
        if self.pooled:
            self.cumulative = [
                tuple(cut(v) for v in arm) if arm is not None else None for arm in self.cumulative
            ]
            self.pooled_ss = cut(self.pooled_ss)
            return
        self.cumulative = [
            None if arm is None else replace(arm, **{f.name: cut(getattr(arm, f.name)) for f in fields(arm)})
            for arm in self.cumulative
        ]


class _SurvivalStages:
    """Time-to-event looks: every participant's times are drawn once (the first look), and each look is the
    analysis at its number of events (planner.endpoints.time_to_event), for the trials still simulated."""

    def __init__(self, design: Design, scenario: Any, streams: BlockStreams):
        self.design, self.scenario, self.streams = design, scenario, streams
        self.looks: SurvivalSample | None = None

    def advance(self, k: int, look: tuple[int, ...], size: int) -> SurvivalSample:
        if self.looks is None:
            self.looks = simulate_survival_design(self.design, self.scenario, self.streams, size, looks=True)
        return SurvivalSample(*(getattr(self.looks, f.name)[:, k] for f in fields(SurvivalSample)))

    def keep(self, mask: np.ndarray) -> None:
        assert self.looks is not None
        self.looks = SurvivalSample(*(getattr(self.looks, f.name)[mask] for f in fields(SurvivalSample)))


def simulate_looks(
    design: Design, rule: Any, scenario: Any, streams: BlockStreams, size: int
) -> SequentialTally:
    """Simulate ``size`` trials look by look; tally where each stopped and why (a fixed design: one look)."""
    decide = look_decision(design, rule)
    looks = design.look_sizes
    tally = SequentialTally.empty(len(looks))
    survival = design.endpoint.kind == "time-to-event"
    if design.interim is None:  # one look: the whole trial, decided by the rule's own test
        sample = simulate_trials(design, scenario, streams, size)
        success = decide(0, True, looks[0], sample)[0]
        wins, n = int(np.count_nonzero(success)), int(sum(looks[0]))
        tally.efficacy[0], tally.futility[0], tally.reject_ignoring_futility = wins, size - wins, wins
        if survival:
            tally.add_survival(sample, np.ones(size, dtype=bool))
        else:
            tally.enrolled, tally.enrolled_sq = size * n, size * n * n
        return tally
    stages = _SurvivalStages(design, scenario, streams) if survival else _Stages(design, scenario, streams)
    active = np.ones(size, dtype=bool)  # over the trials still simulated: not stopped yet
    crossed = 0  # trials whose statistic crossed an efficacy bound at some look (futility ignored)
    for k, look in enumerate(looks):
        last = k == len(looks) - 1
        sample = stages.advance(k, look, active.size)
        cross, below = decide(k, last, look, sample)
        stop_eff = active & cross
        stop_fut = active & ~cross & (below | last)
        tally.efficacy[k] = np.count_nonzero(stop_eff)
        tally.futility[k] = np.count_nonzero(stop_fut)
        if isinstance(sample, SurvivalSample):
            tally.add_survival(sample, stop_eff | stop_fut)
        else:
            stopped = int(tally.efficacy[k] + tally.futility[k])
            tally.enrolled += stopped * int(sum(look))
            tally.enrolled_sq += stopped * int(sum(look)) ** 2
        active &= ~(stop_eff | stop_fut)
        crossed += int(np.count_nonzero(cross))
        going_on = ~cross  # a trial that crossed is decided, also for "ignoring futility"
        if not last and not going_on.all():
            active = active[going_on]
            stages.keep(going_on)
            decide.keep(going_on)
            if active.size == 0:
                break
    tally.reject_ignoring_futility = crossed
    return tally
