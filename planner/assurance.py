"""Assurance: the probability of success averaged over the design prior of the true effects.

The design prior generates truths (what we believe the effect may be); the analysis
prior, if any, enters only the decision rule. Assurance = E_{design prior}[P(success | truth)].

For binary designs it is computed by quadrature of the exact power function against
the prior density (no Monte Carlo error); otherwise each simulated trial first draws
its truth from the design prior, then its data.

References
----------
O'Hagan A, Stevens JW, Campbell MJ. Assurance in clinical trial design.
Pharmaceutical Statistics 2005;4:187-201.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.design import Design
from planner.mixtures import BetaMixture, quadrature_01
from planner.priors import Point, resolve
from planner.randomness import BlockStreams

__all__ = ["Truth", "DesignPriorSampler", "exact_assurance"]


@dataclass(frozen=True)
class Truth:
    """True values per simulated trial (arrays) or shared by all (numbers); duck-types a Scenario."""

    treatment: np.ndarray | float
    control: np.ndarray | float | None = None
    sd: float | None = None


class DesignPriorSampler:
    """Draws each simulated trial's truth from the design's design prior."""

    name = "Assurance (design prior)"

    def __init__(self, design: Design):
        if design.design_prior is None:
            raise ValueError("the design has no design_prior")
        ref = getattr(design.endpoint, "sd", None)
        self.treatment = resolve(design.design_prior.treatment, reference_sd=ref)
        self.control = resolve(design.design_prior.control, reference_sd=ref) if design.randomized else None

    def draw(self, streams: BlockStreams, size: int) -> Truth:
        def arm(prior, name):
            return prior.sample(
                streams(f"design_prior.{name}.component"), streams(f"design_prior.{name}.value"), size
            )

        control = None if self.control is None else arm(self.control, "control")
        return Truth(arm(self.treatment, "treatment"), control)


def exact_assurance(design: Design, rule) -> float | None:
    """Assurance of a binary design by quadrature of its exact power; None where not available.

    Available when the treatment's design prior is a Beta mixture (or a point) and the
    control's, if any, is a point. Exact power is a polynomial in the response rate, so
    Gauss-Legendre quadrature (after the endpoint-clustering substitution of
    :func:`planner.mixtures.quadrature_01`) is exact up to rounding with enough nodes.
    """
    from planner.exact import exact_power

    sampler = DesignPriorSampler(design)
    control = sampler.control
    if design.randomized and not isinstance(control, Point):
        return None
    control_value = None if control is None else control.value
    prior = sampler.treatment
    if isinstance(prior, Point):
        return float(exact_power(design, rule, prior.value, control_value)[0])
    if not isinstance(prior, BetaMixture):
        return None
    # 200 + 2N nodes, rounded up to a multiple of 64 so that nearby N share one cached rule (more nodes only
    # add accuracy)
    nodes, weights = quadrature_01(64 * math.ceil((200 + 2 * max(design.arms.sizes)) / 64))
    return float(np.sum(weights * prior.pdf(nodes) * exact_power(design, rule, nodes, control_value)))
