"""What every rule with a statistic offers a look: its statistic against z-scale bounds, one tie convention.

A rule's ``statistic(sample) -> (stat, df)`` is a z statistic (df None) or a t statistic with its df; a
bound z is crossed when the statistic is at or above it (a t statistic: at or above the t value equivalent
to z at its df; :func:`planner.sequential.at_or_above`). Fixed tests and the looks of a sequential design
both decide through :meth:`StatisticRule.at_or_above`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from planner.sequential import at_or_above

__all__ = ["StatisticRule"]


class StatisticRule:
    """Base of the rules that have a statistic; ``max_df`` is the largest df a t statistic can have."""

    max_df: int = 0

    def statistic(self, sample: Any) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def at_or_above(self, sample: Any, bounds: tuple[float, ...]) -> list[np.ndarray]:
        """For each z-scale bound, whether each trial's statistic is at or above it (the statistic computed
        once)."""
        stat, df = self.statistic(sample)
        return [at_or_above(stat, df, z, self.max_df) for z in bounds]
