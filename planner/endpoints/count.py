"""Count endpoints: one negative binomial total per arm and trial.

Each participant has Poisson events with a Gamma-distributed rate (mean lambda,
variance dispersion * lambda^2) over ``exposure``, so counts are negative
binomial with mean mu = lambda * exposure and variance mu + dispersion * mu^2.
The sum of M independent such counts is negative binomial with size M / dispersion
and the same success probability; dispersion 0 is the Poisson limit.
Dropouts (strategy ``"missing"``) leave the analysis: M ~ Binomial(n, 1 - d).
With staggered entry (``endpoint.accrual_time``) the exposures differ and the total is simulated through the
participants' exposures and frailties (:func:`simulate_count_arm_accrued`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.design import Dropout
from planner.randomness import BlockStreams, binomial_draws

__all__ = ["CountArm", "simulate_count_arm", "simulate_count_arm_accrued"]


@dataclass(frozen=True)
class CountArm:
    n: np.ndarray  # participants analysed
    events: np.ndarray  # total events among them
    exposure: float  # per participant (the least, with variable exposure)
    total_exposure: np.ndarray | None = None  # variable exposure: sum of the participants' t_i per trial
    exposure_concentration: np.ndarray | None = None  # and sum t_i^2 / (sum t_i)^2 (1 / n when all equal)


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
    """Analysed participants and their total events in one arm of ``size`` simulated trials (variable exposure:
    :func:`simulate_count_arm_accrued`)."""
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


def simulate_count_arm_accrued(
    streams: BlockStreams,
    arm: str,
    size: int,
    n: int,
    rate: float,
    exposure: float,
    accrual_time: float,
    dispersion: float,
) -> CountArm:
    """One arm of ``size`` trials with variable exposure: participant i enters at accrual_time U_i and is
    followed to accrual_time + exposure, t_i = exposure + accrual_time (1 - U_i); given a Gamma frailty
    lambda_i (mean 1, variance ``dispersion``; 1 when 0) its events are Poisson(rate t_i lambda_i), so the arm's
    total is Poisson(rate sum t_i lambda_i) -- one draw per trial after the n entry times and frailties."""
    t = streams(f"{arm}.entry").random((size, n))
    np.subtract(1.0, t, out=t)
    t *= accrual_time
    t += exposure
    if dispersion > 0.0:
        weight = streams(f"{arm}.frailty").standard_gamma(1.0 / dispersion, (size, n))
        weight *= dispersion * t
    else:
        weight = t
    events = streams(f"{arm}.events").poisson(np.asarray(rate, dtype=float) * weight.sum(axis=1))
    total = t.sum(axis=1)
    return CountArm(np.full(size, n), events, exposure, total, np.einsum("ij,ij->i", t, t) / total**2)
