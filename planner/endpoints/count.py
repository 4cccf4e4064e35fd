"""Count endpoints: one negative binomial total per arm and trial.

Each participant has Poisson events with a Gamma-distributed rate (mean lambda,
variance dispersion * lambda^2) over ``exposure``, so counts are negative
binomial with mean mu = lambda * exposure and variance mu + dispersion * mu^2.
The sum of M independent such counts is negative binomial with size M / dispersion
and the same success probability; dispersion 0 is the Poisson limit.
Dropouts (strategy ``"missing"``) leave the analysis: M ~ Binomial(n, 1 - d).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.design import Dropout
from planner.randomness import BlockStreams, binomial_draws

__all__ = ["CountArm", "simulate_count_arm"]


@dataclass(frozen=True)
class CountArm:
    n: np.ndarray  # participants analysed
    events: np.ndarray  # total events among them
    exposure: float  # per participant


def simulate_count_arm(
    streams: BlockStreams,
    arm: str,
    size: int,
    n: int,
    rate: float,
    exposure: float,
    dispersion: float,
    dropout: Dropout,
) -> CountArm:
    """Analysed participants and their total events in one arm of ``size`` simulated trials."""
    if dropout.rate > 0.0:
        m = binomial_draws(streams(f"{arm}.completers"), n, 1.0 - dropout.rate, size)
    else:
        m = np.full(size, n)
    mu = np.asarray(rate, dtype=float) * exposure  # a number, or one value per trial (design prior)
    gen = streams(f"{arm}.events")
    if dispersion == 0.0:
        events = gen.poisson(m * mu)
    else:
        shape = np.maximum(m, 1) / dispersion
        events = gen.negative_binomial(shape, 1.0 / (1.0 + dispersion * mu))
        events = np.where(m > 0, events, 0)
    return CountArm(m, events, exposure)
