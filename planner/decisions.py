"""Go / Consider / No-Go decision zones: how likely each decision is after the trial.

A design's ``[decision]`` section (:class:`planner.design.Decision`) states the zones on the analysis prior's
posterior of the effect (the scale of the performance goal; randomized designs: the difference of the arms):
Go when every ``go`` condition holds, P(effect beyond value | data) > probability; No-Go when the trial is
not Go and every ``no_go`` condition holds, P(effect short of value | data) > probability; Consider otherwise.
Lalonde RL et al. Clin Pharmacol Ther 2007;82:21-32 (model-based drug development, Go/No-Go criteria);
Frewer P et al. Pharm Stat 2016;15:255-263 (decision-making in early clinical drug development).

The probability of each zone is given per scenario and averaged over the design prior (the assurance of
Go). Binary designs are enumerated: every outcome's zone is decided once, and each arm's outcome has its
exact distribution (a binomial for a scenario; under a Beta-mixture design prior, the binomial averaged by
Gauss-Legendre quadrature, exact for these polynomials), so the figures carry no Monte Carlo error.
Continuous designs are simulated with the streams :func:`planner.engine.evaluate` uses (the same trials).
Count designs too, with an approximate posterior: a flat prior on the log event rate (single arm) or the log
rate ratio (treatment over control), and the normal likelihood of its Wald estimate (the nb-wald variance,
:func:`planner.rules.count.posterior_beyond`); the conditions are on the rate or the rate ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from planner.design import Design
from planner.errors import DesignError
from planner.results import Estimate

__all__ = ["ZoneRow", "decision_zones", "ZONES"]

ZONES = ("Go", "Consider", "No-Go")
PRIOR_ROW = "Assurance (design prior)"


@dataclass(frozen=True)
class ZoneRow:
    """The probability of each decision under one scenario (or averaged over the design prior)."""

    name: str
    go: Estimate
    consider: Estimate
    no_go: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "go": self.go.to_dict(),
            "consider": self.consider.to_dict(),
            "no_go": self.no_go.to_dict(),
        }


def decision_zones(
    design: Design, *, n_sims: int | None = None, seed: int | None = None, threads: int | None = None
) -> tuple[ZoneRow, ...]:
    """P(Go), P(Consider) and P(No-Go) per scenario and, with a design prior, averaged over it."""
    if design.decision is None:
        raise DesignError("decision: the design has no [decision] section (go and no_go conditions)")
    n_sims, seed = design.simulation_settings(n_sims, seed)
    if design.endpoint.kind == "binary":
        return _binary_zones(design)
    return _simulated_zones(design, n_sims, seed, threads)  # continuous and time to event


def _row(name: str, go: float, no_go: float) -> ZoneRow:
    consider = max(1.0 - go - no_go, 0.0)
    return ZoneRow(name, Estimate.exactly(go), Estimate.exactly(consider), Estimate.exactly(no_go))


# --- binary: every outcome's zone, exact distributions -------------------------------------------------------
def _posterior_design(design: Design) -> Design:
    """The design analysed by a posterior (the zones' posterior: the analysis prior, uniform or flat if none)."""
    if design.analysis.rule == "posterior-probability":
        return design
    return design.with_changes({"analysis.rule": "posterior-probability", "analysis.threshold": 0.5})


def _binary_tables(design: Design, m1: int, m2: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(Go, No-Go) over the outcomes: x = 0..m1 (single arm) or (x1, x2) tables (randomized)."""
    from planner.mixtures import prob_greater
    from planner.priors import analysis_mixture

    an, decision = design.analysis, design.decision
    assert decision is not None
    first = analysis_mixture(an.prior, "beta")
    if m2 is None:
        x = np.arange(m1 + 1)

        def beyond(value: float) -> np.ndarray:
            return np.asarray(first.posterior_sf(value, x, m1))
    else:
        second = analysis_mixture(an.control_prior, "beta")

        def beyond(value: float) -> np.ndarray:
            return prob_greater(first, np.arange(m1 + 1), m1, second, np.arange(m2 + 1), m2, margin=value)

    go = np.ones((m1 + 1,) if m2 is None else (m1 + 1, m2 + 1), dtype=bool)
    for c in decision.go:
        go &= beyond(c.value) > c.probability
    no_go = ~go
    for c in decision.no_go:
        no_go &= 1.0 - beyond(c.value) > c.probability
    return go, no_go


def _arm_pmfs(design: Design, truth: Any, n: int) -> list[tuple[float, np.ndarray]]:
    """The arm's outcome distribution as (probability of m analysed, pmf of x = 0..m) over its analysed counts;
    ``truth`` a response rate or a prior (Beta mixture or point) of it."""
    from planner.endpoints.binary import analysed_count_distribution
    from planner.mixtures import BetaMixture, quadrature_01

    dropout = design.dropout
    thin = 1.0 - dropout.rate if dropout.rate > 0.0 and dropout.strategy == "failure" else 1.0
    ms, weights, _ = analysed_count_distribution(n, 0.5, dropout)
    if isinstance(truth, BetaMixture):
        nodes, w = quadrature_01(64 * math.ceil((200 + 2 * n) / 64))
        rates, rate_weights = nodes, w * truth.pdf(nodes)
    else:
        rates, rate_weights = np.array([float(getattr(truth, "value", truth))]), np.array([1.0])
    out = []
    for m, weight in zip(ms, weights, strict=True):
        pmf = stats.binom.pmf(np.arange(m + 1)[None, :], m, (rates * thin)[:, None])
        out.append((float(weight), rate_weights @ pmf))
    return out


def _binary_probabilities(design: Design, treatment: Any, control: Any) -> tuple[float, float]:
    """(P(Go), P(No-Go)) with the arms' outcomes drawn from ``treatment`` and ``control``."""
    sizes = design.arms.sizes
    first = _arm_pmfs(design, treatment, sizes[0])
    go = no_go = 0.0
    if not design.randomized:
        for w, pmf in first:
            zone_go, zone_no = _binary_tables(design, pmf.size - 1, None)
            go += w * float(pmf @ zone_go)
            no_go += w * float(pmf @ zone_no)
        return go, no_go
    second = _arm_pmfs(design, control, sizes[1])
    for w1, pmf1 in first:
        for w2, pmf2 in second:
            zone_go, zone_no = _binary_tables(design, pmf1.size - 1, pmf2.size - 1)
            go += w1 * w2 * float(pmf1 @ zone_go @ pmf2)
            no_go += w1 * w2 * float(pmf1 @ zone_no @ pmf2)
    return go, no_go


def _binary_zones(design: Design) -> tuple[ZoneRow, ...]:
    rows = [
        _row(sc.name, *_binary_probabilities(design, sc.treatment, sc.control)) for sc in design.scenarios
    ]
    if design.design_prior is not None:
        from planner.assurance import DesignPriorSampler

        sampler = DesignPriorSampler(design)
        rows.append(_row(PRIOR_ROW, *_binary_probabilities(design, sampler.treatment, sampler.control)))
    return tuple(rows)


# --- continuous: simulated with evaluate's streams ----------------------------------------------------------
def _simulated_zones(design: Design, n_sims: int, seed: int, threads: int | None) -> tuple[ZoneRow, ...]:
    from planner.assurance import DesignPriorSampler
    from planner.engine import DEFAULT_CHUNK_SIZE
    from planner.parallel import map_in_threads
    from planner.randomness import BLOCK_SIZE

    posterior = _posterior_design(design) if design.endpoint.kind == "continuous" else design
    sources: list[Any] = list(design.scenarios)
    if design.design_prior is not None:
        sources.append(DesignPriorSampler(design))
    tasks = [
        (i, lo, min(lo + BLOCK_SIZE, n_sims))
        for i in range(len(sources))
        for lo in range(0, n_sims, BLOCK_SIZE)
    ]

    def run(task: tuple[int, int, int]) -> tuple[int, int]:
        i, lo, hi = task
        return _zone_counts(posterior, sources[i], seed, lo, hi, DEFAULT_CHUNK_SIZE)

    counts = np.zeros((len(sources), 2), dtype=np.int64)
    for (i, _, _), (go, no_go) in zip(tasks, map_in_threads(run, tasks, threads), strict=True):
        counts[i] += (go, no_go)
    names = [sc.name for sc in design.scenarios] + ([PRIOR_ROW] if design.design_prior is not None else [])
    return tuple(
        ZoneRow(
            name,
            Estimate.from_count(int(go), n_sims),
            Estimate.from_count(n_sims - int(go) - int(no_go), n_sims),
            Estimate.from_count(int(no_go), n_sims),
        )
        for name, (go, no_go) in zip(names, counts, strict=True)
    )


def _zone_counts(
    design: Design, source: Any, seed: int, start: int, stop: int, chunk: int
) -> tuple[int, int]:
    """Go and No-Go counts of simulated trials start..stop-1 (one block)."""
    from planner.endpoints import simulate_trials
    from planner.randomness import BLOCK_SIZE, BlockStreams
    from planner.rules.continuous import ContinuousRule

    decision = design.decision
    assert decision is not None
    streams = BlockStreams(seed, start // BLOCK_SIZE)
    go_count = no_go_count = 0
    if design.endpoint.kind == "time-to-event":  # the zone of each trial is its analysis' statistic
        from planner.endpoints.time_to_event import simulate_survival_design, zone_statistic

        statistic = zone_statistic(design)
        for lo in range(start, stop, chunk):
            size = min(chunk, stop - lo)
            truth = source.draw(streams, size) if hasattr(source, "draw") else source
            zone = simulate_survival_design(design, truth, streams, size, statistic=statistic).z
            go_count += int(np.count_nonzero(zone > 0.5))
            no_go_count += int(np.count_nonzero(zone < -0.5))
        return go_count, no_go_count
    if design.endpoint.kind == "count":
        return _count_zone_counts(design, source, streams, start, stop, chunk)
    rule = ContinuousRule(design)
    for lo in range(start, stop, chunk):
        size = min(chunk, stop - lo)
        truth = source.draw(streams, size) if hasattr(source, "draw") else source
        sample = simulate_trials(design, truth, streams, size)
        ok, go_probs = rule.beyond(sample, [c.value for c in decision.go])
        ok = np.broadcast_to(ok, (size,))
        go = ok.copy()
        for prob, c in zip(go_probs, decision.go, strict=True):
            go &= prob > c.probability
        _, no_probs = rule.beyond(sample, [c.value for c in decision.no_go])
        no_go = ok & ~go
        for prob, c in zip(no_probs, decision.no_go, strict=True):
            no_go &= 1.0 - prob > c.probability
        go_count += int(np.count_nonzero(go))
        no_go_count += int(np.count_nonzero(no_go))
    return go_count, no_go_count


def _count_zone_counts(
    design: Design, source: Any, streams: Any, start: int, stop: int, chunk: int
) -> tuple[int, int]:
    from planner.endpoints import simulate_trials
    from planner.rules.count import posterior_beyond

    decision = design.decision
    assert decision is not None
    k, lower = design.endpoint.dispersion, design.endpoint.better == "lower"

    def count_beyond(sample: Any, values: list[float]) -> list[np.ndarray]:
        return posterior_beyond(sample, values, k, lower)

    go_count = no_go_count = 0
    for lo in range(start, stop, chunk):
        size = min(chunk, stop - lo)
        truth = source.draw(streams, size) if hasattr(source, "draw") else source
        sample = simulate_trials(design, truth, streams, size)
        ok = sample.treatment.n > 0
        if sample.control is not None:
            ok = ok & (sample.control.n > 0)
        go = np.broadcast_to(ok, (size,)).copy()
        for prob, c in zip(count_beyond(sample, [c.value for c in decision.go]), decision.go, strict=True):
            go &= prob > c.probability
        no_go = np.broadcast_to(ok, (size,)) & ~go
        for prob, c in zip(
            count_beyond(sample, [c.value for c in decision.no_go]), decision.no_go, strict=True
        ):
            no_go &= 1.0 - prob > c.probability
        go_count += int(np.count_nonzero(go))
        no_go_count += int(np.count_nonzero(no_go))
    return go_count, no_go_count
