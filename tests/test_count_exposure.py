"""Count endpoints with variable exposure (issue 15, item 5): staggered entry over endpoint.accrual_time, each
participant followed to accrual end + exposure. The planner's nb-wald rejection rates against an independent
per-participant simulation (entry times, Gamma frailties, Poisson counts per participant, the Wald z of the
log ratio of the arms' events per person-time with the delta-method variance), and bad combinations named."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from planner import DesignError, evaluate, parse_design


def _spec(accrual_time=2.0, **extra):
    endpoint = {"kind": "count", "exposure": 1.0, "dispersion": 0.5, "accrual_time": accrual_time}
    spec = {
        "name": "variable exposure",
        "arms": {"kind": "randomized", "n": 120},
        "endpoint": endpoint,
        "analysis": {"rule": "nb-wald"},
        "scenarios": [
            {"name": "null", "treatment": 2.0, "control": 2.0},
            {"name": "rr 0.7", "treatment": 1.4, "control": 2.0},
        ],
    }
    for key, value in extra.items():
        spec[key] = value
    return spec


def _per_participant(rate_t: float, rate_c: float, trials: int, seed: int) -> float:
    """60 per arm, entry U(0, 2), follow-up to 3 (t = 3 - entry), frailty Gamma(2, 0.5), Poisson per person."""
    rng = np.random.default_rng(seed)
    parts = []
    for rate in (rate_t, rate_c):
        t = 3.0 - 2.0 * rng.random((trials, 60))
        y = rng.poisson(rate * t * rng.gamma(2.0, 0.5, (trials, 60))).sum(axis=1)
        y = np.maximum(y, 0.5)
        total = t.sum(axis=1)
        parts.append((np.log(y / total), 1.0 / y + 0.5 * (t**2).sum(axis=1) / total**2))
    (lt, vt), (lc, vc) = parts
    z = -(lt - lc) / np.sqrt(vt + vc)  # lower rates are better
    return float(np.mean(z >= special.ndtri(0.975)))


def test_rejection_rates_equal_a_per_participant_simulation():
    result = evaluate(parse_design(_spec()), n_sims=100_000, seed=3, type_one_error=False)
    for r, (rt, rc) in zip(result.results, ((2.0, 2.0), (1.4, 2.0)), strict=True):
        q = _per_participant(rt, rc, 40_000, seed=int(rt * 10))
        se = math.sqrt(r.success.mcse**2 + q * (1 - q) / 40_000)
        assert abs(r.success.value - q) <= 4 * se, (r.scenario.name, r.success.value, q)


def test_longer_exposure_gives_more_power_and_a_vanishing_accrual_is_the_fixed_exposure():
    staggered = evaluate(parse_design(_spec()), n_sims=50_000, seed=1, type_one_error=False)["rr 0.7"].success
    tiny = evaluate(parse_design(_spec(1e-9)), n_sims=50_000, seed=1, type_one_error=False)["rr 0.7"].success
    fixed_spec = _spec()
    del fixed_spec["endpoint"]["accrual_time"]
    fixed = evaluate(parse_design(fixed_spec), n_sims=50_000, seed=1, type_one_error=False)["rr 0.7"].success
    assert staggered.value > fixed.value + 10 * fixed.mcse
    assert abs(tiny.value - fixed.value) <= 4 * math.hypot(tiny.mcse, fixed.mcse)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"analysis": {"rule": "nb-wald", "nb_variance": "restricted"}}, "analysis.nb_variance"),
        ({"dropout": {"rate": 0.1, "strategy": "missing"}}, "dropout.rate"),
        ({"endpoint": {"kind": "count", "exposure": 1.0, "accrual_time": -2.0}}, "endpoint.accrual_time"),
    ],
)
def test_bad_variable_exposure_designs_are_named(change, words):
    with pytest.raises(DesignError, match=words):
        parse_design(_spec(**change))


def test_single_arm_exact_test_refuses_variable_exposure():
    spec = _spec()
    spec["arms"] = {"kind": "single-arm", "n": 60}
    spec["analysis"] = {"rule": "nb-exact", "performance_goal": 2.0}
    spec["scenarios"] = [{"name": "x", "treatment": 1.4}]
    with pytest.raises(DesignError, match="endpoint.accrual_time"):
        parse_design(spec)
