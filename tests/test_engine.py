"""Engine properties: reproducibility whatever the chunking, monotone power, bounded memory, argument checks."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from planner import DesignError, evaluate, load_design
from planner.randomness import BLOCK_SIZE
from tests.conftest import make_design

DESIGNS = {
    "binary single, missing": (
        {"kind": "single-arm", "n": 50},
        {"kind": "binary"},
        {"rule": "exact-binomial", "performance_goal": 0.5},
        [{"name": "a", "treatment": 0.7}],
        {"rate": 0.1, "strategy": "missing"},
    ),
    "binary two-arm, boschloo": (
        {"kind": "randomized", "n": 40},
        {"kind": "binary"},
        {"rule": "boschloo"},
        [{"name": "a", "treatment": 0.6, "control": 0.3}],
        {"rate": 0.1, "strategy": "missing"},
    ),
    "welch, failure": (
        {"kind": "randomized", "n": 60},
        {"kind": "continuous", "sd": 1.0, "failure_value": 0.0},
        {"rule": "welch"},
        [{"name": "a", "treatment": 0.5, "control": 0.0}],
        {"rate": 0.1, "strategy": "failure"},
    ),
    "ancova": (
        {"kind": "randomized", "n": 60},
        {"kind": "continuous", "sd": 1.0, "baseline_correlation": 0.5},
        {"rule": "ancova"},
        [{"name": "a", "treatment": 0.5, "control": 0.0}],
        {"rate": 0.1, "strategy": "missing"},
    ),
    "count": (
        {"kind": "randomized", "n": 60},
        {"kind": "count", "exposure": 1.0, "dispersion": 0.5},
        {"rule": "nb-wald"},
        [{"name": "a", "treatment": 2.0, "control": 4.0}],
        {"rate": 0.1, "strategy": "missing"},
    ),
}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_same_seed_same_numbers_whatever_the_chunk_size(name):
    arms, endpoint, analysis, scenarios, dropout = DESIGNS[name]
    d = make_design(arms, endpoint, analysis, scenarios, dropout=dropout)
    n = 2 * BLOCK_SIZE + 4321  # crosses block boundaries
    runs = [
        evaluate(d, n_sims=n, seed=7, method="simulate", chunk_size=c).results[0].success.value
        for c in (1_000, 100_000, 4_097)
    ]
    assert runs[0] == runs[1] == runs[2]
    other_seed = evaluate(d, n_sims=n, seed=8, method="simulate").results[0].success.value
    assert other_seed != runs[0]


def test_progress_reports_every_trial():
    arms, endpoint, analysis, scenarios, dropout = DESIGNS["welch, failure"]
    d = make_design(arms, endpoint, analysis, scenarios, dropout=dropout)
    seen = []
    evaluate(d, n_sims=150_000, chunk_size=20_000, progress=seen.append)
    assert sum(seen) == 150_000 and max(seen) <= BLOCK_SIZE  # a block at a time (the threads' unit)


def test_power_grows_with_n_and_effect():
    def power(n, delta):
        d = make_design(
            {"kind": "randomized", "n": n},
            {"kind": "continuous", "sd": 1.0},
            {"rule": "t-pooled"},
            [{"name": "a", "treatment": delta, "control": 0.0}],
        )
        return evaluate(d, n_sims=50_000, seed=3).results[0].success.value

    by_n = [power(n, 0.4) for n in (20, 40, 80, 160)]
    by_delta = [power(60, delta) for delta in (0.0, 0.2, 0.4, 0.8)]
    assert np.all(np.diff(by_n) > 0) and np.all(np.diff(by_delta) > 0)


def test_exact_power_grows_with_effect_and_saw_tooth_with_n():
    def power(n, p):
        d = make_design(
            {"kind": "single-arm", "n": n},
            {"kind": "binary"},
            {"rule": "exact-binomial", "performance_goal": 0.5},
            [{"name": "a", "treatment": p}],
        )
        return evaluate(d).results[0].success.value

    assert np.all(np.diff([power(50, p) for p in (0.5, 0.6, 0.7, 0.8)]) > 0)
    assert power(100, 0.7) > power(50, 0.7) > power(20, 0.7)


def test_ten_million_trials_in_bounded_memory():
    d = make_design(
        {"kind": "randomized", "n": 100},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "t-pooled"},
        [{"name": "a", "treatment": 0.3, "control": 0.0}],
    )
    tracemalloc.start()
    res = evaluate(d, n_sims=10_000_000, seed=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 300 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert res.results[0].success.mcse < 2e-4


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_sims": 0}, "n_sims"),
        ({"n_sims": 10**12}, "n_sims"),
        ({"n_sims": 1.5e5}, "n_sims"),
        ({"seed": -1}, "seed"),
        ({"method": "magic"}, "method"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_arguments_are_named(kwargs, field, examples_dir):
    d = load_design(examples_dir / "zimislecel_single_arm.toml")
    with pytest.raises(DesignError) as info:
        evaluate(d, **kwargs)
    assert str(info.value).startswith(field) and str(list(kwargs.values())[0])[:3] in str(info.value)


def test_exact_method_refused_for_continuous(examples_dir):
    with pytest.raises(DesignError, match="method"):
        evaluate(load_design(examples_dir / "hba1c_randomized.toml"), method="exact")


def test_result_carries_its_provenance(examples_dir):
    d = load_design(examples_dir / "hba1c_randomized.toml")
    res = evaluate(d, n_sims=1000, seed=42)
    data = res.to_dict()
    assert data["seed"] == 42 and data["n_sims"] == 1000
    assert data["design"]["hash"] == d.hash()
    assert {"numpy", "scipy", "python"} <= set(data["versions"])
    assert [s["scenario"]["name"] for s in data["scenarios"]] == [s.name for s in d.scenarios]
    assert all(s["mcse"] > 0 or s["p_success"] in (0.0, 1.0) for s in data["scenarios"])


def test_blocks_can_be_split_between_workers():
    """Counting blocks separately and adding gives the single-run count (the unit a worker would take)."""
    from planner import count_successes
    from planner.rules import make_rule

    arms, endpoint, analysis, scenarios, dropout = DESIGNS["count"]
    d = make_design(arms, endpoint, analysis, scenarios, dropout=dropout)
    rule = make_rule(d)
    n = 3 * BLOCK_SIZE + 777
    whole = count_successes(d, rule, d.scenarios[0], seed=9, start=0, stop=n)
    parts = count_successes(d, rule, d.scenarios[0], seed=9, start=0, stop=2 * BLOCK_SIZE) + count_successes(
        d, rule, d.scenarios[0], seed=9, start=2 * BLOCK_SIZE, stop=n
    )
    assert whole == parts
    with pytest.raises(ValueError, match="BLOCK_SIZE"):
        count_successes(d, rule, d.scenarios[0], seed=9, start=5, stop=n)
