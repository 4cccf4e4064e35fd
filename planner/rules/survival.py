"""Rules on time-to-event endpoints: the one-sided log-rank test (z from
:func:`planner.endpoints.time_to_event.logrank_z`; success when z >= z_{1-alpha})."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from planner.design import Design
from planner.rules.look import StatisticRule

__all__ = ["LogRankRule"]


class LogRankRule(StatisticRule):
    """logrank: the log-rank z at the analysis, benefit positive."""

    def __init__(self, design: Design):
        self.z = float(special.ndtri(1.0 - design.analysis.alpha))

    def statistic(self, sample: Any) -> tuple[np.ndarray, None]:
        return sample.z, None

    def decide(self, sample: Any) -> np.ndarray:
        return self.at_or_above(sample, (self.z,))[0]
