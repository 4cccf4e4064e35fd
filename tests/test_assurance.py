"""Assurance: power averaged over the design prior, exact by quadrature for binary designs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from planner import DesignError, analytic, evaluate, load_design, parse_design
from planner.exact import exact_power
from planner.rules import make_rule
from tests.conftest import make_design, within_mcse

BETA_PRIOR = {
    "family": "beta",
    "components": [{"weight": 0.7, "a": 6.0, "b": 2.0}, {"weight": 0.3, "a": 1.0, "b": 1.0}],
}


def single_arm(design_prior, dropout=None):
    d = make_design(
        {"kind": "single-arm", "n": 50},
        {"kind": "binary"},
        {"rule": "exact-binomial", "performance_goal": 0.5},
        [{"name": "s", "treatment": 0.7}],
        dropout=dropout,
    )
    return d.with_changes({"design_prior": {"treatment": design_prior}})


def test_point_mass_assurance_is_power():
    d = single_arm({"family": "point", "value": 0.7})
    res = evaluate(d)
    assert res.assurance.exact and res.assurance.value == pytest.approx(res["s"].success.value, abs=1e-14)
    cont = make_design(
        {"kind": "randomized", "n": 60},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "t-pooled"},
        [{"name": "s", "treatment": 0.5, "control": 0.0}],
    )
    cont = cont.with_changes(
        {
            "design_prior": {
                "treatment": {"family": "point", "value": 0.5},
                "control": {"family": "point", "value": 0.0},
            }
        }
    )
    res = evaluate(cont, n_sims=50_000)
    # the same random streams drive the data: identical counts, not merely close
    assert res.assurance.value == res["s"].success.value and not res.assurance.exact


@pytest.mark.parametrize(
    "dropout", [None, {"rate": 0.1, "strategy": "failure"}, {"rate": 0.1, "strategy": "missing"}]
)
def test_binary_assurance_quadrature_equals_integration_and_simulation(dropout):
    d = single_arm(BETA_PRIOR, dropout)
    rule = make_rule(d)
    exact = evaluate(d).assurance
    assert exact.exact

    def integrand(p):
        density = 0.7 * stats.beta.pdf(p, 6, 2) + 0.3 * stats.beta.pdf(p, 1, 1)
        return density * exact_power(d, rule, p)[0]

    ref = integrate.quad(integrand, 0, 1, epsabs=1e-12, limit=200)[0]
    assert exact.value == pytest.approx(ref, abs=1e-9)
    sim = evaluate(d, method="simulate", n_sims=200_000).assurance
    assert within_mcse(sim.value, exact.value, sim.n_sims)


def test_randomized_binary_assurance_with_known_control():
    d = make_design(
        {"kind": "randomized", "n": 60},
        {"kind": "binary"},
        {"rule": "fisher"},
        [{"name": "s", "treatment": 0.6, "control": 0.3}],
    )
    d = d.with_changes(
        {"design_prior": {"treatment": BETA_PRIOR, "control": {"family": "point", "value": 0.3}}}
    )
    exact = evaluate(d).assurance
    sim = evaluate(d, method="simulate", n_sims=100_000).assurance
    assert exact.exact and within_mcse(sim.value, exact.value, sim.n_sims)


def test_continuous_assurance_matches_integrated_power():
    sd_prior = 0.3
    d = make_design(
        {"kind": "randomized", "n": 40},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "t-pooled"},
        [{"name": "s", "treatment": 0.6, "control": 0.0}],
    )
    d = d.with_changes(
        {
            "design_prior": {
                "treatment": {
                    "family": "normal",
                    "components": [{"weight": 1.0, "mean": 0.6, "sd": sd_prior}],
                },
                "control": {"family": "point", "value": 0.0},
            }
        }
    )
    sim = evaluate(d, n_sims=200_000).assurance
    ref = integrate.quad(
        lambda delta: (
            stats.norm.pdf(delta, 0.6, sd_prior) * analytic.power_t_two_sample(delta, 1.0, 20, 20, 0.025)
        ),
        -3,
        4,
    )[0]
    assert within_mcse(sim.value, ref, sim.n_sims)


def test_count_assurance_runs_with_gamma_prior():
    d = make_design(
        {"kind": "randomized", "n": 100},
        {"kind": "count", "exposure": 1.0, "dispersion": 0.5},
        {"rule": "nb-wald"},
        [{"name": "s", "treatment": 1.0, "control": 4.0}],
    )
    d = d.with_changes(
        {
            "design_prior": {
                "treatment": {
                    "family": "gamma",
                    "components": [{"weight": 1.0, "shape": 10.0, "rate": 10.0}],
                },
                "control": {"family": "point", "value": 4.0},
            }
        }
    )
    res = evaluate(d, n_sims=50_000)
    assert 0.5 < res.assurance.value < res["s"].success.value + 4 * res.assurance.mcse


def test_shipped_example_reports_assurance_beside_power(examples_dir):
    d = load_design(examples_dir / "zimislecel_single_arm.toml")
    assert d.design_prior.treatment.family == "fitted" and d.design_prior.treatment.a0 < 1
    res = evaluate(d)
    assert res.assurance is not None and res.assurance.exact
    powers = [r.success.value for r in res.results if not r.is_null]
    assert min(powers) < res.assurance.value < max(powers)
    assert res.priors["design prior (treatment)"]["ess"]["moment"] < 14


@pytest.mark.parametrize(
    ("prior", "message"),
    [
        (
            {"family": "normal", "components": [{"weight": 1.0, "mean": 0.5, "sd": 0.1}]},
            "'beta' prior is needed",
        ),
        ({"family": "fitted", "name": "no_such_prior"}, "design_prior.treatment.name"),
        ({"family": "fitted", "name": "insulin_independence", "a0": 1.5}, "a0"),
        ({"family": "point", "value": 1.2}, "design_prior.treatment.value"),
    ],
)
def test_bad_design_priors_are_named(prior, message):
    base = single_arm({"family": "point", "value": 0.5}).model_dump(mode="json")
    base["design_prior"] = {"treatment": prior}
    with pytest.raises(DesignError) as info:
        parse_design(base)
    assert message in str(info.value)


def test_randomized_design_prior_needs_control():
    d = make_design(
        {"kind": "randomized", "n": 60},
        {"kind": "binary"},
        {"rule": "fisher"},
        [{"name": "s", "treatment": 0.6, "control": 0.3}],
    )
    data = d.model_dump(mode="json")
    data["design_prior"] = {"treatment": BETA_PRIOR}
    with pytest.raises(DesignError, match="design_prior.control"):
        parse_design(data)


def test_assurance_grows_with_n():
    values = [
        evaluate(single_arm(BETA_PRIOR).with_changes({"arms.n": n})).assurance.value for n in (20, 50, 100)
    ]
    assert np.all(np.diff(values) > 0)
