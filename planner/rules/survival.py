"""Rules on time-to-event endpoints. Each computes its statistic on the participant arrays of the simulation
(:meth:`participant_statistic`, called by :mod:`planner.endpoints.time_to_event` at every analysis) and decides
on it, z >= z_{1-alpha}, one-sided in the direction of benefit:

* ``logrank`` (randomized): the log-rank z (:func:`~planner.endpoints.time_to_event.logrank_z`);
* ``cox`` (randomized): the Wald z of the Cox partial-likelihood log hazard ratio
  (:func:`~planner.endpoints.time_to_event.cox_wald_z`);
* ``one-sample-logrank`` (single arm): against the reference distribution with the endpoint's model and the
  performance goal as its median (:func:`~planner.endpoints.time_to_event.one_sample_logrank_z`);
* ``km-landmark`` (single arm): the Kaplan-Meier survival at ``analysis.landmark`` against the performance
  goal, a survival probability, on the complementary log-log scale
  (:func:`~planner.endpoints.time_to_event.landmark_z`);
* ``exponential-posterior`` (single arm, Bayesian): the probit of the posterior probability that the
  exponential hazard is below log 2 / goal (the goal a median), Gamma mixture prior
  (:func:`~planner.endpoints.time_to_event.exponential_posterior_z`), decided against Phi^-1(threshold).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from planner.design import Design
from planner.rules.look import StatisticRule

__all__ = ["SurvivalRule"]


class SurvivalRule(StatisticRule):
    """A time-to-event rule: the z of its test at the analysis, benefit positive."""

    def __init__(self, design: Design):
        from planner.endpoints.time_to_event import statistic_for

        an = design.analysis
        self.z = float(special.ndtri(an.threshold if an.rule == "exponential-posterior" else 1.0 - an.alpha))
        self.participant_statistic = statistic_for(design)  # what the simulation computes at each analysis

    def statistic(self, sample: Any) -> tuple[np.ndarray, None]:
        return sample.z, None

    def decide(self, sample: Any) -> np.ndarray:
        return self.at_or_above(sample, (self.z,))[0]
