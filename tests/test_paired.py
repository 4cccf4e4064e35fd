"""A paired count endpoint (issue 16, item 4): the exact conditional test of the within-patient rate ratio --
its level on 10^6 simulated null trials, its exact power against a participant-level simulation written here,
the critical counts against scipy, the defaults' sources, the CLI and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from planner import DesignError
from planner.cli import app
from planner.paired import PairedCounts, critical_counts, paired_defaults, power, simulate, smallest_n


def _per_participant(design: PairedCounts, trials: int, seed: int) -> float:
    """Each participant: a Gamma frailty (mean 1, variance k), Poisson events before and after; dropouts (before
    the after period) leave the analysis; the test conditional on the total, with scipy's binomial cdf."""
    rng = np.random.default_rng(seed)
    n, k = design.n, design.dispersion
    frailty = rng.gamma(1 / k, k, (trials, n)) if k > 0 else np.ones((trials, n))
    before = rng.poisson(frailty * design.baseline_rate * design.baseline_exposure)
    after = rng.poisson(frailty * design.baseline_rate * design.rate_ratio * design.exposure)
    kept = rng.random((trials, n)) >= design.dropout
    t = np.where(kept, before + after, 0).sum(axis=1)
    a = np.where(kept, after, 0).sum(axis=1)
    pi0 = (
        design.null_ratio * design.exposure / (design.baseline_exposure + design.null_ratio * design.exposure)
    )
    p_values = stats.binom.cdf(a, t, pi0)
    return float(np.mean((kept.sum(axis=1) > 0) & (p_values <= design.alpha)))


@pytest.mark.parametrize(
    "design",
    [
        PairedCounts(n=30, baseline_rate=4.0, rate_ratio=0.7),
        PairedCounts(n=20, baseline_rate=8.9, rate_ratio=0.3, null_ratio=0.5, dispersion=1.0),
        PairedCounts(n=15, baseline_rate=2.0, rate_ratio=0.6, dispersion=0.0, exposure=0.5, dropout=0.15),
    ],
    ids=["k 0.5", "k 1, null 0.5", "Poisson, dropout"],
)
def test_exact_power_equals_a_participant_level_simulation(design):
    trials = 40_000
    ref = _per_participant(design, trials, seed=3)
    exact = power(design)
    assert abs(exact - ref) <= 4 * math.sqrt(max(exact * (1 - exact), 1e-4) / trials), (exact, ref)
    sim = simulate(design, 200_000, seed=4)
    assert abs(sim.value - exact) <= 4 * max(sim.mcse, 1e-4)


@pytest.mark.parametrize(
    "design",
    [
        PairedCounts(n=50, baseline_rate=8.9, rate_ratio=1.0),
        PairedCounts(n=30, baseline_rate=4.0, rate_ratio=0.5, null_ratio=0.5, dispersion=2.0),
    ],
    ids=["null 1", "null 0.5, k 2"],
)
def test_the_level_holds_on_a_million_null_trials(design):
    sim = simulate(design, 1_000_000, seed=5)
    assert sim.value <= design.alpha + 3 * sim.mcse, sim
    assert power(design) <= design.alpha  # exact: conditional on the total, at most alpha


def test_critical_counts_equal_a_scipy_search():
    totals = np.arange(0, 60)
    crit = critical_counts(totals, 0.4, 0.025)
    for t, c in zip(totals, crit, strict=True):
        want = max([a for a in range(t + 1) if stats.binom.cdf(a, t, 0.4) <= 0.025], default=-1)
        assert c == want, (t, c, want)


def test_the_defaults_come_from_the_evidence_file_with_sources():
    d = paired_defaults()
    assert d["baseline_rate"] == 8.9 and "HypoCOMPaSS" in d["baseline_rate_source"]
    assert (
        d["dispersion"] == 0.5
        and d["baseline_rate_range"] == [4.0, 9.0]
        and "Judgment" in d["judgment_source"]
    )


def test_smallest_n_reaches_the_target_and_the_one_before_does_not():
    design = PairedCounts(n=2, baseline_rate=4.0, rate_ratio=0.7)
    n, curve = smallest_n(design, 0.9)
    assert n is not None and curve[-1] == (n, power(PairedCounts(**{**design.__dict__, "n": n})))
    assert curve[-1][1] >= 0.9 > curve[-2][1]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"n": 0}, "n"),
        ({"baseline_rate": -1.0}, "baseline_rate"),
        ({"rate_ratio": float("nan")}, "rate_ratio"),
        ({"dispersion": -0.1}, "dispersion"),
        ({"alpha": 0.0}, "alpha"),
        ({"dropout": 1.0}, "dropout"),
        ({"null_ratio": 0.0}, "null_ratio"),
    ],
)
def test_bad_input_is_named(changes, field):
    args = {"n": 20, "baseline_rate": 4.0, "rate_ratio": 0.5} | changes
    with pytest.raises(DesignError, match=f"{field}:"):
        PairedCounts(**args)


def test_the_cli_prints_the_exact_power_and_names_bad_input():
    out = CliRunner().invoke(
        app, ["paired", "--n", "30", "--rate-ratio", "0.7", "--baseline-rate", "4", "--json"]
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["power"] == power(PairedCounts(n=30, baseline_rate=4.0, rate_ratio=0.7))
    assert payload["sources"]["baseline_rate"] == "given" and "judgment" in payload["sources"]["dispersion"]
    bad = CliRunner().invoke(app, ["paired", "--n", "-3", "--rate-ratio", "0.7"])
    assert (
        bad.exit_code == 2 and "--n:" in bad.stderr and "-3" in bad.stderr and "Traceback" not in bad.output
    )
