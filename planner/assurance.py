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
    durable: tuple[np.ndarray, ...] | None = None  # time to event: durable fraction per arm
    responders: np.ndarray | None = None  # time to event from the response: probability of responding


class DesignPriorSampler:
    """Draws each simulated trial's truth from the design's design prior.

    Time-to-event designs (:class:`planner.design.DesignPrior`): hazards are drawn and turned into medians,
    log 2 / hazard (a piecewise-exponential endpoint: the hazard is the scale of its relative hazards, and the
    median H_0^-1(log 2 / hazard); :class:`planner.time_to_event.models.HazardScale`); randomized, the treatment's median follows from the control's and the hazard ratio under
    proportional hazards within the endpoint's model, S_t = S_c^HR."""

    name = "Assurance (design prior)"

    def __init__(self, design: Design):
        dp = design.design_prior
        if dp is None:
            raise ValueError("the design has no design_prior")
        self.endpoint = design.endpoint
        self.survival = design.endpoint.kind == "time-to-event"
        if self.survival:
            from planner.priors import hazard_prior

            unit = design.endpoint.time_unit

            def part(spec, hazard: bool = False):
                if spec is None:
                    return None
                if hazard and spec.family != "point":
                    return hazard_prior(spec, unit)
                return resolve(spec)

            self.treatment = part(dp.treatment, hazard=True)
            self.control = part(dp.control, hazard=True)
            self.log_hazard_ratio = part(dp.log_hazard_ratio)
            self.durable = part(dp.durable)
            self.responders = part(dp.responders)
            return
        ref = getattr(design.endpoint, "sd", None)
        self.treatment = resolve(dp.treatment, reference_sd=ref)
        self.control = resolve(dp.control, reference_sd=ref) if design.randomized else None

    def draw(self, streams: BlockStreams, size: int) -> Truth:
        def arm(prior, name):
            return prior.sample(
                streams(f"design_prior.{name}.component"), streams(f"design_prior.{name}.value"), size
            )

        if self.survival:
            return self._draw_survival(arm)
        control = None if self.control is None else arm(self.control, "control")
        return Truth(arm(self.treatment, "treatment"), control)

    def _draw_survival(self, arm) -> Truth:
        from planner.time_to_event.models import endpoint_model, hazard_scale

        scale = hazard_scale(self.endpoint)  # median log 2 / hazard; piecewise: H_0^-1(log 2 / hazard)
        responders = None if self.responders is None else arm(self.responders, "responders")
        if self.control is None:  # single arm
            durable = None if self.durable is None else (arm(self.durable, "durable"),)
            return Truth(
                scale.median(arm(self.treatment, "treatment")), durable=durable, responders=responders
            )
        control = scale.median(arm(self.control, "control"))
        ratio = np.exp(arm(self.log_hazard_ratio, "log_hazard_ratio"))
        # the treatment's median: S_c(m_t)^HR = 1/2, i.e. H_1(m_t) = H_1(m_c) / HR for the median-1 model H_1
        unit = endpoint_model(self.endpoint, 1.0)
        treatment = unit.inverse_cumulative_hazard(unit.cumulative_hazard(control) / ratio)
        return Truth(treatment, control)


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
