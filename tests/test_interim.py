"""Probability of success and conditional power given interim data (planner.interim): against brute-force
integration over the posterior and direct binomial sums written here."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats
from typer.testing import CliRunner

from planner import DesignError, load_design, parse_design
from planner.interim import interim_prediction
from planner.rules import make_rule

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BAYES = EXAMPLES / "zimislecel_single_arm_bayes.toml"


def _single_arm(prior=None, n=40):
    return parse_design(
        {
            "name": "interim, single arm",
            "arms": {"kind": "single-arm", "n": n},
            "endpoint": {"kind": "binary"},
            "analysis": {
                "rule": "exact-binomial",
                "performance_goal": 0.5,
                **({"prior": prior} if prior else {}),
            },
            "design_prior": {
                "treatment": {"family": "beta", "components": [{"weight": 1.0, "a": 11.0, "b": 3.0}]}
            },
            "scenarios": [{"name": "goal", "treatment": 0.5}, {"name": "0.75", "treatment": 0.75}],
        }
    )


@pytest.mark.parametrize("observed", [(9, 16), (12, 20), (5, 20), (20, 24)])
def test_single_arm_predictive_probability_equals_integration_over_the_posterior(observed):
    """PP = integral over p of P(Binomial(r, p) >= c - x) times the Beta(1 + x, 1 + m - x) posterior density
    (uniform analysis prior), and under the design prior Beta(11 + x, 3 + m - x)."""
    d = _single_arm()
    x, m = observed
    c, r = make_rule(d).critical(40), 40 - m
    out = interim_prediction(d, (observed,))

    def pp(a, b):
        def f(p):
            return stats.binom.sf(c - x - 1, r, p) * stats.beta.pdf(p, a + x, b + m - x)

        return integrate.quad(f, 0.0, 1.0, epsabs=1e-13, limit=200)[0]

    assert out.predictive_analysis_prior == pytest.approx(pp(1.0, 1.0), abs=1e-10)
    assert out.predictive_design_prior == pytest.approx(pp(11.0, 3.0), abs=1e-10)
    # conditional power: direct sums over the remaining responders
    for p, got in [(x / m, out.conditional_power_trend), (0.75, out.conditional_power_planned["0.75"])]:
        want = sum(stats.binom.pmf(y, r, p) for y in range(r + 1) if x + y >= c)
        assert got == pytest.approx(want, abs=1e-12)


def test_a_mixture_analysis_prior_weights_its_components_by_the_data():
    """The Bayesian example's robust prior 0.5 Beta(11, 3) + 0.5 Beta(1, 1): the posterior weights follow the
    marginal likelihoods of the data; the predictive probability by integration over the mixture posterior."""
    d = load_design(BAYES)
    out = interim_prediction(d, "12/20")
    c, r, x, m = make_rule(d).critical(d.arms.n), d.arms.n - 20, 12, 20
    prior = [(0.5, 11.0, 3.0), (0.5, 1.0, 1.0)]
    marginal = [w * stats.betabinom.pmf(x, m, a, b) for w, a, b in prior]
    weights = [v / sum(marginal) for v in marginal]

    def f(p):
        density = sum(
            w * stats.beta.pdf(p, a + x, b + m - x) for w, (_, a, b) in zip(weights, prior, strict=True)
        )
        return stats.binom.sf(c - x - 1, r, p) * density

    want = integrate.quad(f, 0.0, 1.0, epsabs=1e-13, limit=200)[0]
    assert out.predictive_analysis_prior == pytest.approx(want, abs=1e-10)


def test_two_arm_predictive_probability_equals_a_double_integral():
    d = parse_design(
        {
            "name": "interim, two arms",
            "arms": {"kind": "randomized", "n": 40},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "fisher"},
            "scenarios": [{"name": "0.6 vs 0.3", "treatment": 0.6, "control": 0.3}],
        }
    )
    (x1, m1), (x2, m2) = (8, 12), (4, 12)
    r1, r2 = 8, 8
    crit = make_rule(d).critical(20, 20)
    out = interim_prediction(d, "8/12,4/12")

    def cp(p1, p2):
        return sum(
            stats.binom.pmf(y2, r2, p2) * stats.binom.sf(crit[x2 + y2] - x1 - 1, r1, p1)
            for y2 in range(r2 + 1)
        )

    want = integrate.dblquad(
        lambda p2, p1: (
            cp(p1, p2) * stats.beta.pdf(p1, 1 + x1, 1 + m1 - x1) * stats.beta.pdf(p2, 1 + x2, 1 + m2 - x2)
        ),
        0.0,
        1.0,
        0.0,
        1.0,
        epsabs=1e-11,
    )[0]
    assert out.predictive_analysis_prior == pytest.approx(want, abs=1e-8)
    assert out.conditional_power_trend == pytest.approx(cp(x1 / m1, x2 / m2), abs=1e-12)
    assert out.conditional_power_planned["0.6 vs 0.3"] == pytest.approx(cp(0.6, 0.3), abs=1e-12)


def test_the_decision_follows_the_data():
    d = _single_arm()
    c = make_rule(d).critical(40)
    assert interim_prediction(d, "9/20").decision.startswith("stop for futility")
    assert interim_prediction(d, "14/20").decision.startswith("continue")
    assert interim_prediction(d, f"{c}/{c}").decision.startswith("final success assured")
    assert interim_prediction(d, f"0/{40 - c + 1}").decision.startswith(
        "stop: final success is no longer possible"
    )
    assert math.isclose(interim_prediction(d, "14/20", futility_threshold=0.99).futility_threshold, 0.99)
    assert interim_prediction(d, "14/20", futility_threshold=0.999).decision.startswith("stop for futility")


@pytest.mark.parametrize(
    ("observed", "message"),
    [
        ("25/20", "observed: treatment 25 responders of 20 analysed"),
        ("12/50", "observed: treatment 50 analysed of the 40 planned"),
        ("-1/20", "observed: treatment -1/20: counts cannot be negative"),
        ("12/20,5/20", "observed: the design has 1 arm(s)"),
        ("twelve", "observed: give responders/analysed per arm"),
    ],
)
def test_bad_observed_counts_name_the_field(observed, message):
    with pytest.raises(DesignError, match=message.replace("(", r"\(").replace(")", r"\)")):
        interim_prediction(_single_arm(), observed)


def test_designs_the_prediction_does_not_cover_are_refused_with_a_message():
    with pytest.raises(DesignError, match="endpoint.kind: interim predictions are available for binary"):
        interim_prediction(load_design(EXAMPLES / "hba1c_randomized.toml"), "1/2,1/2")
    with pytest.raises(
        DesignError, match="interim: the prediction is for the final analysis of a fixed design"
    ):
        interim_prediction(load_design(EXAMPLES / "zimislecel_group_sequential.toml"), "10/20")
    with pytest.raises(DesignError, match="futility_threshold"):
        interim_prediction(_single_arm(), "10/20", futility_threshold=1.5)


def test_the_cli_prints_the_prediction_and_names_bad_input():
    from planner.cli import app

    out = CliRunner().invoke(app, ["interim", str(BAYES), "--observed", "12/20"])
    assert out.exit_code == 0, out.output
    api = interim_prediction(load_design(BAYES), "12/20")
    assert f"{api.predictive_analysis_prior:.4f}" in out.output and "Decision: continue" in out.output
    js = json.loads(CliRunner().invoke(app, ["interim", str(BAYES), "--observed", "12/20", "--json"]).output)
    assert js["predictive_probability"]["analysis_prior"] == api.predictive_analysis_prior
    bad = CliRunner().invoke(app, ["interim", str(BAYES), "--observed", "25/20"])
    assert bad.exit_code == 2 and "--observed: treatment 25 responders of 20 analysed" in bad.output
    assert "Traceback" not in bad.output
    bad = CliRunner().invoke(app, ["interim", str(BAYES), "--observed", "12/20", "--futility", "2"])
    assert bad.exit_code == 2 and "--futility:" in bad.output


def test_interim_probabilities_are_probabilities():
    d = _single_arm()
    for x in range(0, 21, 4):
        out = interim_prediction(d, f"{x}/20")
        values = [out.predictive_analysis_prior, out.predictive_design_prior, out.conditional_power_trend]
        values += list(out.conditional_power_planned.values())
        assert all(0.0 <= v <= 1.0 + 1e-12 for v in values)
    assert np.diff([interim_prediction(d, f"{x}/20").predictive_analysis_prior for x in range(21)]).min() >= 0


def test_the_app_page_shows_the_apis_prediction_and_keeps_bad_input():
    from tests.test_app import page

    at = page("interim_page")
    assert not at.exception
    design = load_design(EXAMPLES / "zimislecel_single_arm.toml")
    at.number_input(key="w_interim_m_treatment").set_value(20).run()
    at.number_input(key="w_interim_x_treatment").set_value(12).run()
    api = interim_prediction(design, "12/20")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Predictive probability (analysis prior)"] == f"{api.predictive_analysis_prior:.4f}"
    assert shown["Conditional power (current trend)"] == f"{api.conditional_power_trend:.4f}"
    table = next(t.value for t in at.table if "conditional power" in t.value.columns).set_index("scenario")
    for name, value in api.conditional_power_planned.items():
        assert table.loc[name, "conditional power"] == f"{value:.4f}"
    assert any(api.decision in s.value for s in at.success)
    at.number_input(key="w_interim_x_treatment").set_value(25).run()  # more responders than analysed
    assert not at.exception
    assert any("observed: treatment 25 responders of 20 analysed" in e.value for e in at.error)
    assert at.number_input(key="w_interim_x_treatment").value == 25  # what the user typed stays
