"""The stored fitted priors (`priors/fitted/priors.json`): read, parsed into mixtures, cached.

Plain data and mixture math only (no design types), so the design layer can check a prior's name against
them without importing anything above it. The PyMC models that write the file are in
:mod:`planner.fitting` (`planner priors fit`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from planner.mixtures import BetaMixture, GammaMixture, NormalMixture
from planner.resources import priors_dir

__all__ = [
    "FittedArtifact",
    "load_fitted",
    "fitted_metadata",
    "fitted_prior_names",
    "fitted_prior_family",
    "mixture_from_components",
]

Mixture = BetaMixture | NormalMixture | GammaMixture


@dataclass(frozen=True)
class FittedArtifact:
    """One stored prior: its mixture approximation and what it was fitted from."""

    name: str
    family: str  # beta | normal | gamma
    mixture: Mixture
    description: str
    parameter: str
    initial: dict[str, float]  # the vague prior the evidence updated (for power-prior discounting)
    reference_sd: float | None  # normal priors: sd of one participant's outcome (unit information)
    info: dict[str, Any] = field(default_factory=dict)  # model, evidence, diagnostics, draws file


def mixture_from_components(family: str, components: list[list[float]]) -> Mixture:
    w, p1, p2 = (tuple(float(c[i]) for c in components) for i in range(3))
    kinds: dict[str, type[Mixture]] = {"beta": BetaMixture, "normal": NormalMixture, "gamma": GammaMixture}
    return kinds[family](w, p1, p2)


@cache
def _load(directory: str) -> tuple[dict[str, FittedArtifact], dict[str, Any]]:
    path = Path(directory) / "fitted" / "priors.json"
    if not path.exists():
        return {}, {}
    data = json.loads(path.read_text())
    artifacts = {}
    for name, entry in data["priors"].items():
        artifacts[name] = FittedArtifact(
            name=name,
            family=entry["family"],
            mixture=mixture_from_components(entry["family"], entry["components"]),
            description=entry["description"],
            parameter=entry["parameter"],
            initial=entry.get("initial", {}),
            reference_sd=entry.get("reference_sd"),
            info={
                k: v
                for k, v in entry.items()
                if k not in ("family", "components", "description", "parameter")
            },
        )
    return artifacts, data.get("metadata", {})


def load_fitted(directory: str | Path | None = None) -> dict[str, FittedArtifact]:
    """The stored fitted priors by name (empty if none were fitted yet)."""
    return _load(str(directory or priors_dir()))[0]


def fitted_metadata(directory: str | Path | None = None) -> dict[str, Any]:
    """Data hash, seed, versions and timings of the stored fit."""
    return _load(str(directory or priors_dir()))[1]


def fitted_prior_names() -> list[str]:
    return sorted(load_fitted())


def fitted_prior_family(name: str) -> str | None:
    art = load_fitted().get(name)
    return None if art is None else art.family
