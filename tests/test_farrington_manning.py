"""Non-inferiority of two proportions: Farrington and Manning's (1990) restricted estimates, score test and
sample size, against a numerical constrained maximum likelihood, a scalar reimplementation of the test,
exact enumeration and rpact 3.3.4 (Debian r-cran-rpact; each R call beside its values)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from planner import DesignError, evaluate, parse_design
from planner.analytic import farrington_manning_z, n_farrington_manning, restricted_proportions


def _constrained_mle(x1: int, n1: int, x2: int, n2: int, theta: float) -> float:
    """p1 maximizing the binomial likelihood with p2 = p1 - theta, by bounded numerical search."""
    lo, hi = max(0.0, theta), min(1.0, 1.0 + theta)

    def minus_loglik(p1: float) -> float:
        p2 = p1 - theta
        out = 0.0
        for x, n, p in ((x1, n1, p1), (x2, n2, p2)):
            if x > 0:
                out += x * math.log(max(p, 1e-300))
            if n - x > 0:
                out += (n - x) * math.log(max(1.0 - p, 1e-300))
        return -out

    res = optimize.minimize_scalar(minus_loglik, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    return float(res.x)


@pytest.mark.parametrize("theta", [-0.2, -0.1, -0.05, 0.0, 0.1])
def test_restricted_estimates_maximize_the_constrained_likelihood(theta):
    """Every table of 12 x 17 participants (zeros and full counts included): the closed-form root equals the
    numerical maximum to 1e-6, and satisfies the constraint exactly."""
    n1, n2 = 12, 17
    for x1 in range(n1 + 1):
        for x2 in range(n2 + 1):
            r1, r2 = restricted_proportions(x1, n1, x2, n2, theta)
            assert float(r1) - float(r2) == pytest.approx(theta, abs=1e-14)
            assert float(r1) == pytest.approx(_constrained_mle(x1, n1, x2, n2, theta), abs=1e-6), (x1, x2)


def test_with_no_margin_the_score_z_is_the_pooled_z():
    x1, x2 = np.meshgrid(np.arange(31), np.arange(26), indexing="ij")
    fm = farrington_manning_z(x1, 30, x2, 25, 0.0)
    pooled = (x1 + x2) / 55
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(
            pooled * (1 - pooled) > 0,
            (x1 / 30 - x2 / 25) / np.sqrt(pooled * (1 - pooled) * (1 / 30 + 1 / 25)),
            0.0,
        )
    assert np.allclose(fm, z, rtol=1e-9, atol=1e-12)


# rpact 3.3.4 getSampleSizeRates(thetaH0 = -margin) sample sizes, with the R calls:
# planner/validation/rpact_farrington_manning.toml -- the file `planner validate` reads too.
def _rpact_fm():
    from planner.validation import load_references

    cases: dict = {}
    for ref in load_references():
        if ref.file == "rpact_farrington_manning.toml":
            i = ref.inputs
            key = (i["p1"], i["p2"], -i["margin"], i["allocation"])
            cases.setdefault(key, [None, None])[int(i["arm"])] = ref.expected
    return [(*key, n1, n2) for key, (n1, n2) in cases.items()]


RPACT_FM = _rpact_fm()  # (pi1, pi2, thetaH0, allocation, n1, n2)


@pytest.mark.parametrize(("p1", "p2", "theta", "r", "n1", "n2"), RPACT_FM)
def test_sample_size_equals_rpact_get_sample_size_rates_with_theta_h0(p1, p2, theta, r, n1, n2):
    ours = n_farrington_manning(p1, p2, -theta, alpha=0.025, power=0.8, allocation=r)
    assert ours[0] == pytest.approx(n1, rel=1e-8) and ours[1] == pytest.approx(n2, rel=1e-8)


def _design(n=120, margin=0.1, **analysis):
    return parse_design(
        {
            "name": "non-inferiority",
            "arms": {"kind": "randomized", "n": n},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "farrington-manning", "margin": margin, **analysis},
            "scenarios": [
                {"name": "equal", "treatment": 0.8, "control": 0.8},
                {"name": "at the margin", "treatment": 0.7, "control": 0.8},
            ],
        }
    )


def _scalar_z(x1: int, n1: int, x2: int, n2: int, margin: float) -> float:
    """The test written out for one table, from the numerical restricted estimate."""
    r1 = _constrained_mle(x1, n1, x2, n2, -margin)
    r2 = r1 + margin
    var = r1 * (1 - r1) / n1 + r2 * (1 - r2) / n2
    return (x1 / n1 - x2 / n2 + margin) / math.sqrt(var) if var > 1e-15 else 0.0


def test_exact_operating_characteristics_equal_enumeration_of_a_scalar_test():
    """N = 60 (30 per arm), margin 0.1: the planner's exact success probabilities equal the sum of binomial
    probabilities over the tables where the scalar test rejects; 'at the margin' is in the null."""
    d = _design(n=60)
    result = evaluate(d)
    crit = special.ndtri(0.975)
    reject = np.array(
        [[_scalar_z(x1, 30, x2, 30, 0.1) >= crit for x2 in range(31)] for x1 in range(31)], dtype=float
    )
    for r in result.results:
        sc = r.scenario
        direct = (
            stats.binom.pmf(np.arange(31), 30, sc.treatment)
            @ reject
            @ stats.binom.pmf(np.arange(31), 30, sc.control)
        )
        assert r.success.value == pytest.approx(direct, abs=1e-12)
    assert d.is_null(d.scenarios[1]) and not d.is_null(d.scenarios[0])


def test_fm_sized_design_has_its_power_and_the_guard_looks_at_the_margin():
    """rpact's N for 0.8 vs 0.8 with margin 0.1 (508.4, rounded to 508): exact power 0.80; the guard's null
    points put the treatment 0.1 below the control, and its maximum is reported with its cause."""
    d = _design(n=508)
    result = evaluate(d)
    assert result["equal"].success.value == pytest.approx(0.80, abs=0.005)
    check = result.type_one_error
    assert check is not None and check.exact
    assert all(abs(g.control - g.treatment - 0.1) < 1e-12 for g in check.grid)
    assert abs(check.value - 0.025) < 0.002
    if check.exceeds:
        assert "Farrington-Manning" in check.message and "treatment 0.5933, control" in check.message


def test_simulation_agrees_with_exact_enumeration():
    d = _design(n=120)
    exact = evaluate(d, method="exact")
    sim = evaluate(d, method="simulate", n_sims=40_000, seed=5, type_one_error=False)
    for e, s in zip(exact.results, sim.results, strict=True):
        assert abs(e.success.value - s.success.value) <= 4 * s.success.mcse


@pytest.mark.parametrize(
    ("analysis", "words"),
    [
        ({"rule": "fisher", "margin": 0.1}, "analysis.margin"),
        ({"rule": "farrington-manning", "margin": 1.2}, "analysis.margin"),
        ({"rule": "farrington-manning", "margin": -0.1}, "analysis.margin"),
    ],
)
def test_bad_margins_are_named(analysis, words):
    spec = {
        "name": "bad",
        "arms": {"kind": "randomized", "n": 100},
        "endpoint": {"kind": "binary"},
        "analysis": analysis,
        "scenarios": [{"name": "a", "treatment": 0.8, "control": 0.8}],
    }
    with pytest.raises(DesignError, match=words):
        parse_design(spec)
