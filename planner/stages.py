"""How a group sequential trial can end, under each scenario and averaged over the design prior (assurance by
stage and outcome): the probability of stopping for efficacy and for futility at each interim look, of final
success and of final failure (they sum to 1), the expected N, and the "flip-flop" rates -- the probability of
stopping for futility at a look when the trial would have succeeded had it continued to the end, and of
stopping for efficacy when the final analysis would have failed.

Single-arm binary designs (dropouts as failures, or none) are exact: a recursion over the stage counts from
the multi-stage boundaries (:mod:`planner.multistage`); the flip-flops add, for each stopped count x at look
k, the probability that the remaining N - n_k participants bring the count to the final critical count (a
binomial tail). Under a Beta-mixture design prior the rates are averaged by the quadrature of
:func:`planner.assurance.exact_assurance`. Other designs are simulated with :func:`planner.engine.evaluate`'s
streams (its stage counts, with MCSEs; the design prior's from the same simulation); the flip-flops are not
counted there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.design import Design
from planner.errors import DesignError
from planner.results import Estimate

__all__ = ["StageOutcomes", "stage_outcomes", "outcomes_of", "PRIOR_ROW"]

PRIOR_ROW = "Assurance (design prior)"


@dataclass(frozen=True)
class StageOutcomes:
    """How the trial ends under one scenario (or the design prior); ``efficacy[k]`` and ``futility[k]`` are the
    stops at look k, the last look's the final success and failure."""

    name: str
    efficacy: tuple[Estimate, ...]
    futility: tuple[Estimate, ...]
    expected_n: float
    futility_then_success: tuple[float, ...] | None  # per interim look; None where not counted
    efficacy_then_failure: tuple[float, ...] | None

    @property
    def total(self) -> float:
        return sum(e.value for e in self.efficacy) + sum(f.value for f in self.futility)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "efficacy_stop": [e.to_dict() for e in self.efficacy],
            "futility_stop": [f.to_dict() for f in self.futility],
            "expected_n": self.expected_n,
            "futility_stop_then_success": None
            if self.futility_then_success is None
            else list(self.futility_then_success),
            "efficacy_stop_then_failure": None
            if self.efficacy_then_failure is None
            else list(self.efficacy_then_failure),
        }


def _exact_available(design: Design) -> bool:
    return (
        design.interim is not None
        and design.endpoint.kind == "binary"
        and not design.randomized
        and not (design.dropout.rate > 0.0 and design.dropout.strategy == "missing")
    )


def _exact_rows(design: Design) -> list[StageOutcomes]:
    from planner.assurance import DesignPriorSampler
    from planner.mixtures import BetaMixture, quadrature_01
    from planner.multistage import forward, multistage_for
    from planner.priors import Point

    failure = design.dropout.strategy == "failure"
    thin = 1.0 - design.dropout.rate if failure else 1.0
    enrolled = np.array([look[0] for look in design.look_sizes], dtype=float)

    def row(name: str, weights: np.ndarray, rates: np.ndarray) -> StageOutcomes:
        r = forward(multistage_for(design).boundaries(), np.clip(rates * thin, 0.0, 1.0), flips=True)
        avg = {k: weights @ v for k, v in r.items()}
        expected_n = float((avg["eff"] + avg["fut"]) @ enrolled)
        return StageOutcomes(
            name,
            tuple(Estimate.exactly(float(v)) for v in avg["eff"]),
            tuple(Estimate.exactly(float(v)) for v in avg["fut"]),
            expected_n,
            tuple(float(v) for v in avg["flip_fut"]),
            tuple(float(v) for v in avg["flip_eff"]),
        )

    rows = [row(sc.name, np.array([1.0]), np.array([sc.treatment])) for sc in design.scenarios]
    if design.design_prior is not None:
        prior = DesignPriorSampler(design).treatment
        if isinstance(prior, Point):
            rows.append(row(PRIOR_ROW, np.array([1.0]), np.array([prior.value])))
        elif isinstance(prior, BetaMixture):
            nodes, w = quadrature_01(64 * math.ceil((200 + 2 * design.arms.n) / 64))
            rows.append(row(PRIOR_ROW, w * prior.pdf(nodes), nodes))
    return rows


def stage_outcomes(
    design: Design, *, n_sims: int | None = None, seed: int | None = None
) -> tuple[StageOutcomes, ...]:
    """How the trial ends per scenario and under the design prior (module docstring)."""
    if design.interim is None:
        raise DesignError(
            "interim: outcomes by stage are for designs with interim looks; this design has none"
        )
    if _exact_available(design):
        return tuple(_exact_rows(design))
    from planner.engine import evaluate

    return outcomes_of(evaluate(design, n_sims=n_sims, seed=seed, type_one_error=False))


def outcomes_of(result: Any) -> tuple[StageOutcomes, ...]:
    """The outcomes by stage of an evaluation of a design with interim looks: exact for single-arm binary
    designs (recomputed, cheap), otherwise read from the evaluation's simulated stage counts."""
    design = result.design
    if _exact_available(design):
        return tuple(_exact_rows(design))
    rows = []
    for r in result.results:
        s = r.stages
        assert s is not None
        rows.append(
            StageOutcomes(r.scenario.name, s.efficacy_stop, s.futility_stop, r.expected_n, None, None)
        )
    if result.assurance_stages is not None:
        s, expected_n = result.assurance_stages
        rows.append(StageOutcomes(PRIOR_ROW, s.efficacy_stop, s.futility_stop, expected_n, None, None))
    return tuple(rows)
