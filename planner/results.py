"""Result objects: every estimate with its Monte Carlo standard error and provenance.

A result carries the design, scenario, seed, number of simulations, package
versions and the design's hash, so it can be reproduced and reported as it is.
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from typing import Any

from planner.design import Design, Scenario

__all__ = ["Estimate", "StageSummary", "ScenarioResult", "Evaluation", "package_versions", "json_ready"]


def json_ready(obj: Any) -> Any:
    """A copy of nested dicts/lists with non-finite floats as None, so that the JSON is valid (no NaN)."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    versions = {"python": platform.python_version()}
    for name in ("zimislecel-planner", "numpy", "scipy", "pydantic"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return tuple(versions.items())


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that made a result (read once per process)."""
    return dict(_versions())


@dataclass(frozen=True)
class Estimate:
    """A probability with its Monte Carlo standard error (0 when computed exactly)."""

    value: float
    mcse: float
    exact: bool
    n_sims: int | None = None  # None when exact

    @classmethod
    def from_count(cls, successes: int, n_sims: int) -> Estimate:
        p = successes / n_sims
        return cls(p, math.sqrt(p * (1.0 - p) / n_sims), False, n_sims)

    @classmethod
    def exactly(cls, value: float) -> Estimate:
        return cls(float(min(max(value, 0.0), 1.0)), 0.0, True, None)

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "mcse": self.mcse, "exact": self.exact, "n_sims": self.n_sims}


@dataclass(frozen=True)
class StageSummary:
    """What happens at the looks of a group sequential design, each figure with its MCSE."""

    efficacy_stop: tuple[Estimate, ...]  # per look; the last is final success
    futility_stop: tuple[Estimate, ...]  # per look; the last is final failure
    early_success: Estimate
    final_success: Estimate
    futility_stop_early: Estimate
    final_failure: Estimate
    reject_ignoring_futility: Estimate  # the non-binding type I error / power
    expected_n_mcse: float
    boundaries: dict[str, list[float]]  # z-scale efficacy and futility bounds, information fractions

    def to_dict(self) -> dict[str, Any]:
        return {
            "efficacy_stop": [e.to_dict() for e in self.efficacy_stop],
            "futility_stop": [e.to_dict() for e in self.futility_stop],
            "early_success": self.early_success.to_dict(),
            "final_success": self.final_success.to_dict(),
            "futility_stop_early": self.futility_stop_early.to_dict(),
            "final_failure": self.final_failure.to_dict(),
            "reject_ignoring_futility": self.reject_ignoring_futility.to_dict(),
            "expected_n_mcse": self.expected_n_mcse,
            "boundaries": self.boundaries,
        }


@dataclass(frozen=True)
class SurvivalSummary:
    """Time-to-event designs: what the analysis (where each trial stopped) is expected to see, with MCSEs."""

    expected_events: float
    expected_events_mcse: float
    expected_time: float  # calendar time of the analysis, in the endpoint's time unit
    expected_time_mcse: float
    expected_enrolled: float  # participants entered by then
    expected_enrolled_mcse: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ScenarioResult:
    """Operating characteristics of one design under one scenario."""

    scenario: Scenario
    estimand: tuple[float, ...]  # true estimand value per arm (see Design.estimand_truth)
    is_null: bool  # the estimand lies in H0, so success is a type I error
    success: Estimate  # probability that the analysis declares success (rejects H0)
    expected_n: float  # expected number enrolled
    stages: StageSummary | None = None  # group sequential designs only
    multiple: Any = None  # planner.multiple.MultipleResult for designs with a [multiple] section
    survival: SurvivalSummary | None = None  # time-to-event designs only
    reestimation: Any = None  # planner.adaptive.ReestimationResult for designs with [reestimation]

    @property
    def label(self) -> str:
        return "type I error" if self.is_null else "power"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.model_dump(mode="json", exclude_none=True),
            "estimand": list(self.estimand),
            "is_null": self.is_null,
            "measure": self.label,
            "p_success": self.success.value,
            "mcse": self.success.mcse,
            "exact": self.success.exact,
            "n_sims": self.success.n_sims,
            "expected_n": self.expected_n,
            "stages": None if self.stages is None else self.stages.to_dict(),
            "multiple": None if self.multiple is None else self.multiple.to_dict(),
            "survival": None if self.survival is None else self.survival.to_dict(),
            "reestimation": None if self.reestimation is None else self.reestimation.to_dict(),
        }


@dataclass(frozen=True)
class Evaluation:
    """Operating characteristics of a design over its scenarios, with what made them."""

    design: Design
    results: tuple[ScenarioResult, ...]
    seed: int
    n_sims: int
    method: str  # as requested: "auto", "exact" or "simulate"
    elapsed_seconds: float
    assurance: Estimate | None = None  # P(success) averaged over the design prior
    priors: dict[str, dict[str, Any]] = field(default_factory=dict)  # every prior of the design, described
    versions: dict[str, str] = field(default_factory=package_versions)
    type_one_error: Any = None  # planner.type_one_error.TypeOneErrorCheck (None for [multiple] designs)
    precision: dict[str, Any] | None = None  # planner.engine.evaluate_to_precision: target, met, largest MCSE
    assurance_stages: Any = (
        None  # (StageSummary, expected N) under the design prior, when simulated with looks
    )

    @property
    def design_hash(self) -> str:
        return self.design.hash()

    def __getitem__(self, name: str) -> ScenarioResult:
        for r in self.results:
            if r.scenario.name == name:
                return r
        raise KeyError(f"no scenario named {name!r}; have {[r.scenario.name for r in self.results]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": {"name": self.design.name, "hash": self.design_hash},
            "rule": self.design.analysis.rule,
            "alpha": self.design.analysis.alpha,
            "method": self.method,
            "seed": self.seed,
            "n_sims": self.n_sims,
            "elapsed_seconds": self.elapsed_seconds,
            "versions": self.versions,
            "scenarios": [r.to_dict() for r in self.results],
            "assurance": None if self.assurance is None else self.assurance.to_dict(),
            "priors": self.priors,
            "type_one_error": None if self.type_one_error is None else self.type_one_error.to_dict(),
            "precision": self.precision,
        }

    def to_json(self) -> str:
        return json.dumps(json_ready(self.to_dict()), indent=2, allow_nan=False)
