"""Shared helpers for the tests: small design builders and the Monte Carlo tolerance."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from planner import parse_design

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def make_design(
    arms: dict,
    endpoint: dict,
    analysis: dict,
    scenarios: list[dict],
    dropout: dict | None = None,
    n_sims: int = 100_000,
    seed: int = 12345,
):
    data = {
        "name": "test design",
        "arms": arms,
        "endpoint": endpoint,
        "analysis": analysis,
        "scenarios": scenarios,
        "simulation": {"n_sims": n_sims, "seed": seed},
    }
    if dropout is not None:
        data["dropout"] = dropout
    return parse_design(data)


def within_mcse(simulated: float, reference: float, n_sims: int, k: float = 4.0) -> bool:
    """|simulated - reference| <= k Monte Carlo SEs of a proportion estimated from n_sims trials."""
    p = min(max(reference, 1e-12), 1 - 1e-12)
    return abs(simulated - reference) <= k * math.sqrt(p * (1 - p) / n_sims)


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES
