"""Binary endpoints: one Binomial draw per arm and trial (by inversion of the tabulated distribution,
:func:`planner.randomness.binomial_draws`, where n and p are the same in every trial).

With dropout at rate d, independent of outcome:

* strategy ``"failure"`` (composite estimand): every participant is analysed and a
  dropout is a non-responder, so the responder count is Binomial(n, p (1 - d));
* strategy ``"missing"``: the completers M ~ Binomial(n, 1 - d) are analysed and
  the responder count given M is Binomial(M, p).

:func:`analysed_count_distribution` states this model once; the simulation and the
exact enumeration both use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from planner.design import Dropout
from planner.randomness import BlockStreams, binomial_draws

__all__ = ["BinaryArm", "analysed_count_distribution", "simulate_binary_arm"]

# Completer counts less likely than this are left out of exact enumeration.
NEGLIGIBLE = 1e-15


@dataclass(frozen=True)
class BinaryArm:
    """Sufficient statistics of one arm across simulated trials."""

    n: np.ndarray  # participants analysed
    events: np.ndarray  # responders among them


def analysed_count_distribution(n: int, p: float, dropout: Dropout) -> tuple[np.ndarray, np.ndarray, float]:
    """Possible numbers analysed, their probabilities, and the per-participant response probability.

    Completer counts with probability below 1e-15 are dropped (their total is
    below 1e-13), which is what "exact" means for designs with dropout.
    """
    d = dropout.rate
    if d == 0.0 or dropout.strategy == "failure":
        return np.array([n]), np.array([1.0]), p * (1.0 - d)
    m = np.arange(n + 1)
    pmf = stats.binom.pmf(m, n, 1.0 - d)
    keep = pmf > NEGLIGIBLE
    return m[keep], pmf[keep], p


def simulate_binary_arm(
    streams: BlockStreams, arm: str, size: int, n: int, p: float, dropout: Dropout
) -> BinaryArm:
    """Analysed participants and responders of one arm in ``size`` simulated trials."""
    if dropout.rate > 0.0 and dropout.strategy == "missing":
        analysed = binomial_draws(streams(f"{arm}.completers"), n, 1.0 - dropout.rate, size)
        return BinaryArm(analysed, streams(f"{arm}.events").binomial(analysed, p))
    events = binomial_draws(streams(f"{arm}.events"), n, p * (1.0 - dropout.rate), size)
    return BinaryArm(np.full(size, n), events)
