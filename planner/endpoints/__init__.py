"""Endpoint families: from a scenario's truth to the sufficient statistics of simulated trials.

``simulate_trials`` is the one entry point; each family's module states its model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.design import BinaryEndpoint, ContinuousEndpoint, Design, TimeToEventEndpoint
from planner.endpoints.binary import BinaryArm, simulate_binary_arm
from planner.endpoints.continuous import (
    AncovaSample,
    NormalArm,
    PooledNormalSample,
    simulate_ancova,
    simulate_normal_arm,
    simulate_pooled_normal,
)
from planner.endpoints.count import CountArm, simulate_count_arm, simulate_count_arm_accrued
from planner.randomness import BlockStreams

__all__ = [
    "TrialSample",
    "simulate_trials",
    "BinaryArm",
    "NormalArm",
    "CountArm",
    "AncovaSample",
    "PooledNormalSample",
]

ARM_NAMES = ("treatment", "control")
# two-arm continuous rules that read only the difference of means and the pooled SS (minimal statistics)
POOLED_RULES = ("t-pooled", "posterior-probability")


def pooled_normal(design: Design, rules: tuple[str, ...] = POOLED_RULES) -> bool:
    """True when ``design`` is simulated through pooled two-arm normal statistics: continuous, randomized, a
    rule in ``rules``, and completers analysed (no dropout, or dropouts missing)."""
    dropout = design.dropout
    return (
        design.endpoint.kind == "continuous"
        and design.randomized
        and design.analysis.rule in rules
        and (dropout.rate == 0.0 or dropout.strategy == "missing")
    )


@dataclass(frozen=True)
class TrialSample:
    """Per-arm sufficient statistics of ``size`` simulated trials (control is None for single-arm)."""

    treatment: Any
    control: Any = None


def simulate_trials(design: Design, scenario: Any, streams: BlockStreams, size: int) -> Any:
    """Simulate ``size`` trials of ``design`` under ``scenario``; returns what the design's rule reads.

    ``scenario`` may be a :class:`~planner.design.Scenario` or anything with the same
    attributes (``treatment``, ``control``, ``sd``; optionally ``control_sd``) holding one value per trial, such as
    the truths drawn from a design prior (:class:`planner.assurance.Truth`).
    """
    ep, dropout = design.endpoint, design.dropout
    sizes = design.arms.sizes
    truths = (scenario.treatment, scenario.control)
    if isinstance(ep, TimeToEventEndpoint):
        from planner.endpoints.time_to_event import simulate_survival_design

        return simulate_survival_design(design, scenario, streams, size)
    pair = (sizes[0], sizes[-1])  # the two arms' sizes (a randomized design)
    if isinstance(ep, ContinuousEndpoint) and design.analysis.rule == "ancova":
        sd = scenario.sd or ep.sd
        return simulate_ancova(streams, size, pair, truths, sd, ep.baseline_correlation, dropout)
    given_control_sd = getattr(scenario, "control_sd", None)  # a scenario's own (scalar), else None
    spread: Any = getattr(scenario, "sd", None) or getattr(ep, "sd", None)  # per trial under a design prior
    control_spread: Any = spread if given_control_sd is None else given_control_sd
    if (
        isinstance(ep, ContinuousEndpoint)
        and pooled_normal(design)
        and (given_control_sd is None or given_control_sd == spread)
    ):
        return simulate_pooled_normal(streams, size, pair, truths, spread, dropout)
    arms: list[BinaryArm | NormalArm | CountArm] = []
    for name, n, truth, arm_sd in zip(ARM_NAMES, sizes, truths, (spread, control_spread), strict=False):
        if isinstance(ep, BinaryEndpoint):
            arms.append(simulate_binary_arm(streams, name, size, n, truth, dropout))
        elif isinstance(ep, ContinuousEndpoint):
            arms.append(simulate_normal_arm(streams, name, size, n, truth, arm_sd, dropout, ep.failure_value))
        else:
            arms.append(
                simulate_count_arm(streams, name, size, n, truth, ep.exposure, ep.dispersion, dropout)
                if ep.accrual_time is None
                else simulate_count_arm_accrued(
                    streams, name, size, n, truth, ep.exposure, ep.accrual_time, ep.dispersion
                )
            )
    return TrialSample(*arms)
