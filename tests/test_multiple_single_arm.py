"""Key secondaries of a single-arm trial (issue 16, item 3): each endpoint against its own goal (binary, continuous,
count), correlated within patients, with fixed-sequence, Holm and graphical procedures; the unadjusted power of
independent endpoints against exact closed forms, the adjusted power against an independent copula simulation
written here, the family-wise error under every null configuration with the least favourable one named."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats
from typer.testing import CliRunner

from planner import DesignError, load_design, parse_design
from planner.cli import app
from planner.multiple import familywise_error, least_favourable, simulate_multiple

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "zimislecel_key_secondaries_single_arm.toml"
N = 40
ENDPOINTS = [
    {"name": "HbA1c < 7%", "kind": "binary", "goal": 0.55},
    {"name": "time in range", "kind": "continuous", "sd": 10.0, "goal": 70.0},
    {
        "name": "severe hypoglycaemia",
        "kind": "count",
        "exposure": 1.0,
        "dispersion": 0.5,
        "goal": 1.0,
        "better": "lower",
    },
]
TRUTH = {"HbA1c < 7%": (0.75,), "time in range": (75.0,), "severe hypoglycaemia": (0.5,)}


def _design(procedure="holm", rho=0.0, endpoints=ENDPOINTS, truth=TRUTH, **multiple):
    k = len(endpoints)
    corr = [[1.0 if i == j else rho for j in range(k)] for i in range(k)]
    return parse_design(
        {
            "name": "single arm, key secondaries",
            "arms": {"kind": "single-arm", "n": N},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "exact-binomial", "performance_goal": 0.5},
            "multiple": {
                "procedure": procedure,
                "hypotheses": [e["name"] for e in endpoints],
                "correlation": corr,
                "endpoints": endpoints,
                **multiple,
            },
            "scenarios": [
                {"name": "a", "treatment": 0.8, "endpoints": {k: list(v) for k, v in truth.items()}}
            ],
        }
    )


def test_unadjusted_power_of_independent_endpoints_equals_exact_closed_forms():
    d = _design(procedure="none")
    res = simulate_multiple(d.multiple_spec(), TRUTH, n_sims=100_000, seed=1)
    # binary: the exact binomial test's critical count at the goal 0.55
    crit = int(stats.binom.isf(0.025, N, 0.55)) + 1
    while stats.binom.sf(crit - 2, N, 0.55) <= 0.025:
        crit -= 1
    binary = stats.binom.sf(crit - 1, N, 0.75)
    # continuous: the one-sample t test, noncentral t
    df, delta = N - 1, (75.0 - 70.0) / (10.0 / math.sqrt(N))
    continuous = stats.nct.sf(stats.t.ppf(0.975, df), df, delta)
    # count (lower is better): the total of 40 NB(k 0.5) counts is NB(size 80); exact test at the goal rate 1
    null = stats.nbinom(N / 0.5, 1 / (1 + 0.5 * 1.0))
    c = int(null.ppf(0.025))
    while null.cdf(c) > 0.025:
        c -= 1
    count = stats.nbinom(N / 0.5, 1 / (1 + 0.5 * 0.5)).cdf(c)
    for est, want in zip(res.unadjusted, (binary, continuous, count), strict=True):
        assert abs(est.value - want) <= 4 * max(est.mcse, 1e-4), (est.value, want)


def _copula_reference(rho, trials, seed, procedure):
    """Patients with a Gaussian copula (numpy), tests with scipy, the procedure written here."""
    rng = np.random.default_rng(seed)
    corr = np.full((3, 3), rho) + (1 - rho) * np.eye(3)
    z = rng.standard_normal((trials, N, 3)) @ np.linalg.cholesky(corr).T
    x = (z[:, :, 0] < special.ndtri(0.75)).sum(axis=1)
    p1 = stats.binom.sf(x - 1, N, 0.55)
    y = 75.0 + 10.0 * z[:, :, 1]
    p2 = stats.ttest_1samp(y, 70.0, axis=1, alternative="greater").pvalue
    u = special.ndtr(z[:, :, 2])
    counts = stats.nbinom.ppf(u, 2.0, 1 / (1 + 0.5 * 0.5)).sum(axis=1)
    p3 = stats.nbinom.cdf(counts, N / 0.5, 1 / (1 + 0.5))
    p = np.column_stack([p1, p2, p3])
    if procedure == "holm":
        order = np.argsort(p, axis=1)
        sorted_p = np.take_along_axis(p, order, axis=1)
        passed = np.cumprod(sorted_p <= 0.025 / np.array([3, 2, 1]), axis=1).astype(bool)
        rejected = np.zeros_like(passed)
        np.put_along_axis(rejected, order, passed, axis=1)
        return rejected.mean(axis=0)
    return np.cumprod(p <= 0.025, axis=1).astype(bool).mean(axis=0)  # fixed sequence


@pytest.mark.parametrize("procedure", ["holm", "fixed-sequence"])
def test_adjusted_power_of_correlated_endpoints_equals_an_independent_simulation(procedure):
    d = _design(procedure=procedure, rho=0.5)
    res = simulate_multiple(d.multiple_spec(), TRUTH, n_sims=100_000, seed=2)
    trials = 20_000
    ref = _copula_reference(0.5, trials, 3, procedure)
    for est, want in zip(res.power, ref, strict=True):
        both = math.sqrt(est.mcse**2 + max(want * (1 - want), 1e-4) / trials)
        assert abs(est.value - want) <= 4 * both, (est.value, want)


@pytest.mark.parametrize(
    ("procedure", "extra"),
    [
        ("holm", {}),
        ("fixed-sequence", {}),
        (
            "graphical",
            {"weights": [0.5, 0.5, 0.0], "transitions": [[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]},
        ),
    ],
)
def test_the_familywise_error_holds_under_every_null_configuration(procedure, extra):
    d = _design(procedure=procedure, rho=0.5, **extra)
    configs = familywise_error(d.multiple_spec(), TRUTH, n_sims=40_000, seed=4)
    assert len(configs) == 7
    for c in configs:
        assert c["fwer"].value <= 0.025 + 3 * c["fwer"].mcse, c
    worst = least_favourable(configs, 0.025)
    assert worst["configuration"]["fwer"].value == max(c["fwer"].value for c in configs)
    assert not worst["exceeds"] and ", ".join(worst["configuration"]["null_endpoints"]) in worst["finding"]


def test_an_unadjusted_family_exceeds_alpha_and_the_least_favourable_configuration_is_named():
    d = _design(procedure="none", rho=0.0)
    configs = familywise_error(d.multiple_spec(), TRUTH, n_sims=40_000, seed=5)
    worst = least_favourable(configs, 0.025)
    assert worst["exceeds"] and worst["finding"].startswith("FAMILY-WISE ERROR ABOVE ALPHA")
    assert set(worst["configuration"]["null_endpoints"]) == {e["name"] for e in ENDPOINTS}  # all three null


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda e: e[0].pop("goal"),
            r"multiple\.endpoints\[0\]\.goal: a single-arm design tests each endpoint",
        ),
        (
            lambda e: e[0].update(goal=1.2),
            r"multiple\.endpoints\[0\]\.goal: a response rate goal in \(0, 1\)",
        ),
        (lambda e: e[2].pop("exposure"), r"multiple\.endpoints\[2\]\.exposure: a count endpoint needs"),
        (
            lambda e: e[2].update(goal=-1.0),
            r"multiple\.endpoints\[2\]\.goal: an event rate goal must be positive",
        ),
    ],
)
def test_bad_single_arm_sections_are_named(change, message):
    endpoints = [dict(e) for e in ENDPOINTS]
    change(endpoints)
    with pytest.raises(DesignError, match=message):
        _design(endpoints=endpoints)


def test_scenario_values_and_composites_are_checked_for_a_single_arm():
    with pytest.raises(
        DesignError, match=r"scenarios\[0\]\.endpoints\.HbA1c < 7%: \(value,\) for a single-arm"
    ):
        _design(truth={**TRUTH, "HbA1c < 7%": (0.75, 0.5)})
    with pytest.raises(DesignError, match="multiple.composites: composites are available for randomized"):
        _design(composites=[{"name": "both", "all_of": ["HbA1c < 7%"]}])


def test_the_shipped_example_and_the_cli_name_the_least_favourable_configuration():
    design = load_design(EXAMPLE)
    out = CliRunner().invoke(app, ["evaluate", str(EXAMPLE), "--sims", "4000", "--fwer", "--json"])
    assert out.exit_code == 0, out.output
    fw = json.loads(out.stdout)["familywise_error"]
    assert fw["from_scenario"] == "CIT-07-like"  # the first scenario with an effect
    values = [c["fwer"]["value"] for c in fw["configurations"]]
    worst = fw["configurations"][int(np.argmax(values))]
    assert fw["least_favourable"] == worst["null_endpoints"]
    assert f"no effect on {', '.join(worst['null_endpoints'])}" in fw["finding"]
    assert len(fw["configurations"]) == 2 ** len(design.multiple.endpoints) - 1


def test_the_report_shows_the_secondaries_and_the_least_favourable_configuration(tmp_path):
    import pandas as pd

    from planner.report import build_report

    design = load_design(EXAMPLE)
    out = build_report(design, tmp_path / "r", pdf=False, n_sims=4000)
    text = out.html.read_text()
    frame = pd.read_csv(tmp_path / "r" / "familywise_error.csv")
    worst = frame.iloc[int(frame["FWER"].idxmax())]
    assert f"no effect on {worst['endpoints with no effect']}) has FWER {worst['FWER']:.4f}" in text
    assert "Several endpoints" in text and "HbA1c &lt; 7%" in text


def test_randomized_ancova_in_multiple_equals_a_participant_level_regression():
    """[multiple] with the ancova rule: each continuous endpoint adjusted for its own baseline (correlation rho
    with the outcome). The rejection probability equals an independent simulation: per trial, least squares of y
    on (1, arm, baseline) by the normal equations, the arm coefficient's t with n - 3 df."""
    design = parse_design(
        {
            "name": "ancova multiple",
            "arms": {"kind": "randomized", "n": 40},
            "endpoint": {"kind": "continuous", "sd": 1.0, "baseline_correlation": 0.6},
            "analysis": {"rule": "ancova"},
            "dropout": {"rate": 0.0, "strategy": "missing"},
            "multiple": {
                "procedure": "none",
                "hypotheses": ["y"],
                "correlation": [[1.0]],
                "endpoints": [{"name": "y", "kind": "continuous", "sd": 1.0, "baseline_correlation": 0.6}],
            },
            "scenarios": [{"name": "a", "treatment": 0.6, "control": 0.0, "endpoints": {"y": [0.6, 0.0]}}],
        }
    )
    me = design.multiple_spec()
    assert me.ancova
    res = simulate_multiple(me, {"y": (0.6, 0.0)}, n_sims=100_000, seed=8)
    rng = np.random.default_rng(9)
    trials, n = 20_000, 20
    z = rng.standard_normal((trials, 2 * n))
    x = 0.6 * z + 0.8 * rng.standard_normal((trials, 2 * n))
    arm = np.r_[np.ones(n), np.zeros(n)]
    y = 0.6 * arm + z
    design_matrix = np.stack([np.ones((trials, 2 * n)), np.broadcast_to(arm, (trials, 2 * n)), x], axis=2)
    xtx = np.einsum("tij,tik->tjk", design_matrix, design_matrix)
    beta = np.linalg.solve(xtx, np.einsum("tij,ti->tj", design_matrix, y)[..., None])[..., 0]
    resid = y - np.einsum("tij,tj->ti", design_matrix, beta)
    s2 = (resid**2).sum(axis=1) / (2 * n - 3)
    se = np.sqrt(s2 * np.linalg.inv(xtx)[:, 1, 1])
    ref = float(np.mean(stats.t.sf(beta[:, 1] / se, 2 * n - 3) <= 0.025))
    est = res.unadjusted[0]
    assert abs(est.value - ref) <= 4 * math.sqrt(est.mcse**2 + ref * (1 - ref) / trials), (est.value, ref)
    # and the design's own primary analysis (the ancova rule) agrees
    from planner import evaluate

    primary = evaluate(design, n_sims=100_000, seed=10, type_one_error=False)["a"].success
    assert abs(primary.value - est.value) <= 4 * math.sqrt(primary.mcse**2 + est.mcse**2)
