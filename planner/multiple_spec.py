"""The specification of several endpoints compared at once (a design's [multiple] section), checked.

Plain data and its checks (names, correlation matrix, hypotheses, the graph of a graphical procedure) plus
the procedure applied to p-values; it belongs to the design layer, which builds one from a design file.
The simulation that uses it is :mod:`planner.multiple`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from planner.errors import DesignError
from planner.multiplicity import check_graph, fixed_sequence, graphical, holm

__all__ = ["EndpointSpec", "Composite", "MultipleEndpoints"]


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    kind: Literal["binary", "continuous", "count"]
    sd: float | None = None  # continuous
    better: Literal["higher", "lower"] = "higher"
    goal: float | None = None  # single arm: the performance goal
    exposure: float | None = None  # count: per participant
    dispersion: float = 0.0  # count: negative binomial (0: Poisson)
    baseline_correlation: float | None = (
        None  # continuous, with ancova: the outcome's correlation with its baseline
    )


@dataclass(frozen=True)
class Composite:
    name: str
    all_of: tuple[str, ...]  # binary components; success when all succeed


@dataclass(frozen=True)
class MultipleEndpoints:
    """Several endpoints with a multiple testing procedure: a randomized two-arm comparison (``sizes`` two
    arms), or a single arm (one size) testing each endpoint against its own goal."""

    endpoints: tuple[EndpointSpec, ...]
    correlation: tuple[tuple[float, ...], ...]  # latent (copula) correlation among the endpoints
    hypotheses: tuple[str, ...]  # endpoint or composite names, in the order of the procedure
    sizes: tuple[int, ...]  # participants per arm: (treatment, control), or (n,) for a single arm
    procedure: Literal["none", "fixed-sequence", "holm", "graphical"] = "holm"
    weights: tuple[float, ...] | None = None  # graphical
    transitions: tuple[tuple[float, ...], ...] | None = None  # graphical
    composites: tuple[Composite, ...] = ()
    alpha: float = 0.025
    binary_test: Literal["fisher", "z-pooled"] = "fisher"  # Fisher keeps its level at small counts
    ancova: bool = False  # randomized: continuous endpoints adjusted for their baselines
    _chol: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [e.name for e in self.endpoints]
        if len(set(names)) != len(names):
            raise DesignError(f"endpoints: names must be unique, got {names}")
        for e in self.endpoints:
            if e.kind == "continuous" and not (e.sd and e.sd > 0):
                raise DesignError(f"endpoints.{e.name}.sd: a continuous endpoint needs sd > 0, got {e.sd}")
            if self.single_arm and e.goal is None:
                raise DesignError(f"endpoints.{e.name}.goal: a single-arm design needs each endpoint's goal")
            if e.kind == "count" and not (e.exposure and e.exposure > 0):
                raise DesignError(f"endpoints.{e.name}.exposure: a count endpoint needs exposure > 0")
        r = np.asarray(self.correlation, dtype=float)
        if r.shape != (len(names), len(names)) or not np.allclose(r, r.T) or not np.allclose(np.diag(r), 1.0):
            raise DesignError(
                "correlation: needs a symmetric matrix with unit diagonal, one row per endpoint"
            )
        try:
            chol = np.linalg.cholesky(r)
        except np.linalg.LinAlgError:
            raise DesignError(f"correlation: not positive definite: {r.tolist()}") from None
        object.__setattr__(self, "_chol", chol)
        known = set(names) | {c.name for c in self.composites}
        for c in self.composites:
            bad = [x for x in c.all_of if x not in names or self._endpoint(x).kind != "binary"]
            if bad or not c.all_of:
                raise DesignError(f"composites.{c.name}.all_of: needs binary endpoints, got {list(c.all_of)}")
        unknown = [h for h in self.hypotheses if h not in known]
        if unknown or not self.hypotheses:
            raise DesignError(f"hypotheses: unknown names {unknown}; choose from {sorted(known)}")
        if min(self.sizes) < 2:
            raise DesignError(f"sizes: each arm needs at least 2 participants, got {self.sizes}")
        if not 0 < self.alpha <= 0.5:
            raise DesignError(f"alpha: must lie in (0, 0.5], got {self.alpha}")
        if self.procedure == "graphical":
            if self.weights is None or self.transitions is None:
                raise DesignError("weights, transitions: required by the graphical procedure")
            try:
                w, g = check_graph(self.weights, self.transitions)
            except ValueError as err:
                raise DesignError(str(err)) from None
            if w.size != len(self.hypotheses):
                raise DesignError(f"weights: need one per hypothesis ({len(self.hypotheses)}), got {w.size}")

    @property
    def single_arm(self) -> bool:
        return len(self.sizes) == 1

    def _endpoint(self, name: str) -> EndpointSpec:
        return next(e for e in self.endpoints if e.name == name)

    def adjust(self, p: np.ndarray) -> np.ndarray:
        """Rejections after the design's multiple testing procedure."""
        if self.procedure == "none":
            return p <= self.alpha
        if self.procedure == "fixed-sequence":
            return fixed_sequence(p, self.alpha)
        if self.procedure == "holm":
            return holm(p, self.alpha)
        assert self.weights is not None and self.transitions is not None  # checked in __post_init__
        return graphical(p, self.alpha, self.weights, self.transitions)
