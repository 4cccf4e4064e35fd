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
        interim_prediction(load_design(EXAMPLES / "zimislecel_durability.toml"), "1/2")
    with pytest.raises(
        DesignError, match="interim: predictions for designs with interim looks are available"
    ):
        interim_prediction(
            _three_looks().with_changes({"dropout": {"rate": 0.1, "strategy": "missing"}}), "10/20"
        )
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


# --- continuous endpoints: closed form against brute-force integration --------------------------------------
def _randomized_continuous(rule="t-pooled", prior=None, design_prior=None, n=60, dropout=None):
    return parse_design(
        {
            "name": "interim, HbA1c",
            "arms": {"kind": "randomized", "n": n, "allocation": [2, 1]},
            "endpoint": {"kind": "continuous", "sd": 0.7, "better": "lower"},
            "analysis": {
                "rule": rule,
                **({"prior": prior, "variance": "plug-in", "threshold": 0.975} if prior else {}),
            },
            **({"dropout": dropout} if dropout else {}),
            **({"design_prior": design_prior} if design_prior else {}),
            "scenarios": [
                {"name": "null", "treatment": -0.3, "control": -0.3},
                {"name": "phase 1/2", "treatment": -1.0, "control": -0.3},
            ],
        }
    )


def _final_success_probability(mu_t, mu_c, obs, finals, critical):
    """P(sign-adjusted final difference at or below ``critical``) (lower is better) when the arms' true means
    are mu_t, mu_c (arrays): the final means are (m x + r Y) / N with Y ~ N(mu, sd^2 / r)."""
    (xt, st, mt), (xc, sc, mc) = obs
    (nt, nc) = finals
    rt, rc = nt - mt, nc - mc
    mean = (mt * xt + rt * mu_t) / nt - (mc * xc + rc * mu_c) / nc
    sd = math.sqrt(rt * st**2 / nt**2 + rc * sc**2 / nc**2)
    return stats.norm.cdf((critical - mean) / sd)


def _pooled_t_critical(obs, finals, alpha=0.025):
    """The final pooled t test's critical difference (lower better), the sd at its interim estimates."""
    (_, st, _), (_, sc, _) = obs
    nt, nc = finals
    df = nt + nc - 2
    se = math.sqrt(((nt - 1) * st**2 + (nc - 1) * sc**2) / df * (1 / nt + 1 / nc))
    return -stats.t.ppf(1 - alpha, df) * se


@pytest.mark.parametrize("obs", [((-0.9, 0.75, 24), (-0.35, 0.65, 11)), ((-0.5, 0.7, 30), (-0.4, 0.7, 15))])
def test_randomized_continuous_prediction_equals_integration_over_both_means(obs):
    """Flat priors (t-pooled rule, no analysis prior): the means are a posteriori independent N(x, s^2 / m);
    the predictive probability is the conditional power integrated over both (2-D Gauss-Hermite), with the
    critical difference from scipy's t quantile. Unequal fractions seen (24 of 40 and 11 of 20) exercise the
    control mean's part."""
    d = _randomized_continuous()
    out = interim_prediction(d, obs)
    finals = (40, 20)
    crit = _pooled_t_critical(obs, finals)
    z, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    (xt, st, mt), (xc, sc, mc) = obs
    mu_t = xt + st / math.sqrt(mt) * z[:, None]
    mu_c = xc + sc / math.sqrt(mc) * z[None, :]
    want = float(np.sum(w[:, None] * w[None, :] * _final_success_probability(mu_t, mu_c, obs, finals, crit)))
    assert out.predictive_analysis_prior == pytest.approx(want, abs=1e-9)
    assert out.conditional_power_trend == pytest.approx(
        float(_final_success_probability(xt, xc, obs, finals, crit)), abs=1e-12
    )
    assert out.conditional_power_planned["phase 1/2"] == pytest.approx(
        float(_final_success_probability(-1.0, -0.3, obs, finals, crit)), abs=1e-12
    )
    assert out.planned == finals


def test_randomized_continuous_with_a_mixture_prior_on_the_difference_equals_2d_integration():
    """A two-component analysis prior on the difference (posterior-probability rule, plug-in variance) and a
    flat control mean: the posterior density of (difference, control mean) on a grid, the final rule's
    critical difference from its own closed form (P(difference < 0 | final) > 0.975 under the mixture), both
    written here."""
    prior = {
        "family": "normal",
        "components": [{"weight": 0.7, "mean": -1.0, "sd": 0.5}, {"weight": 0.3, "mean": 0.0, "sd": 2.0}],
    }
    d = _randomized_continuous("posterior-probability", prior=prior)
    obs = ((-0.8, 0.7, 22), (-0.4, 0.6, 12))
    out = interim_prediction(d, obs)
    finals = (40, 20)
    (xt, st, mt), (xc, sc, mc) = obs
    # the rule's plug-in se: the pooled sd of the final data (each arm's SS at its interim sd)
    se_final = math.sqrt((39 * st**2 + 19 * sc**2) / 58 * (1 / 40 + 1 / 20))

    def posterior_below_zero(diff):
        comps = prior["components"]
        marg = [c["weight"] * stats.norm.pdf(diff, c["mean"], math.hypot(c["sd"], se_final)) for c in comps]
        tail = []
        for c in comps:
            v = 1 / (1 / c["sd"] ** 2 + 1 / se_final**2)
            m = v * (c["mean"] / c["sd"] ** 2 + diff / se_final**2)
            tail.append(stats.norm.cdf(-m / math.sqrt(v)))
        return sum(a * b for a, b in zip(marg, tail, strict=True)) / sum(marg)

    from scipy.optimize import brentq

    crit = brentq(lambda v: posterior_below_zero(v) - 0.975, -5, 5, xtol=1e-14)
    vt, vc = st**2 / mt, sc**2 / mc
    delta = np.linspace(-4.0, 3.0, 1401)
    mu_c = np.linspace(xc - 8 * math.sqrt(vc + vt), xc + 8 * math.sqrt(vc + vt), 1201)
    dd, cc = np.meshgrid(delta, mu_c, indexing="ij")
    prior_pdf = sum(c["weight"] * stats.norm.pdf(dd, c["mean"], c["sd"]) for c in prior["components"])
    dens = prior_pdf * stats.norm.pdf(xt, cc + dd, math.sqrt(vt)) * stats.norm.pdf(xc, cc, math.sqrt(vc))
    dens /= dens.sum()
    want = float(np.sum(dens * _final_success_probability(cc + dd, cc, obs, finals, crit)))
    assert out.predictive_analysis_prior == pytest.approx(want, abs=2e-6)


def test_single_arm_continuous_prediction_under_the_design_prior_equals_integration():
    """Single arm, one-sample t against a goal, a two-component design prior: the predictive probability under
    the design prior is the conditional power integrated over its posterior (quad), the critical mean from
    scipy's t quantile."""
    dp = {
        "treatment": {
            "family": "normal",
            "components": [
                {"weight": 0.6, "mean": -1.8, "sd": 0.3},
                {"weight": 0.4, "mean": -0.8, "sd": 0.6},
            ],
        }
    }
    d = parse_design(
        {
            "name": "single arm HbA1c",
            "arms": {"kind": "single-arm", "n": 30},
            "endpoint": {"kind": "continuous", "sd": 0.7, "better": "lower"},
            "analysis": {"rule": "one-sample-t", "performance_goal": -1.0},
            "design_prior": dp,
            "scenarios": [{"name": "goal", "treatment": -1.0}],
        }
    )
    x, s, m = -1.3, 0.8, 12
    out = interim_prediction(d, "-1.3/0.8/12")
    crit = -1.0 - stats.t.ppf(0.975, 29) * s / math.sqrt(30)
    r = 30 - m

    def cp(theta):
        mean = (m * x + r * theta) / 30
        return stats.norm.cdf((crit - mean) / (math.sqrt(r) * s / 30))

    def posterior_pdf(theta):
        return sum(
            c["weight"] * stats.norm.pdf(theta, c["mean"], c["sd"]) for c in dp["treatment"]["components"]
        ) * stats.norm.pdf(x, theta, s / math.sqrt(m))

    norm = integrate.quad(posterior_pdf, -6, 4, limit=400, epsabs=1e-14)[0]
    want = integrate.quad(lambda t: cp(t) * posterior_pdf(t), -6, 4, limit=400, epsabs=1e-14)[0] / norm
    assert out.predictive_design_prior == pytest.approx(want, abs=1e-9)
    flat = integrate.quad(lambda t: cp(t) * stats.norm.pdf(t, x, s / math.sqrt(m)), -8, 6, limit=400)[0]
    assert out.predictive_analysis_prior == pytest.approx(flat, abs=1e-9)
    assert out.conditional_power_planned["goal"] == pytest.approx(cp(-1.0), abs=1e-12)


def test_continuous_dropouts_lower_the_final_size_and_bad_observations_are_named():
    d = _randomized_continuous(dropout={"rate": 0.1, "strategy": "missing"})
    assert interim_prediction(d, "-0.8/0.7/20,-0.3/0.7/10").planned == (36, 18)
    with pytest.raises(
        DesignError, match=r"treatment 38 analysed of the 36 .*40 participants, dropout.rate 0.1"
    ):
        interim_prediction(d, "-0.8/0.7/38,-0.3/0.7/10")
    d = _randomized_continuous()
    for text, message in [
        ("-0.8/0/20,-0.3/0.7/10", "treatment sd 0.0: a positive number"),
        ("-0.8/0.7/1,-0.3/0.7/10", "treatment 1 analysed: at least 2"),
        ("-0.8/0.7/20", "give mean/sd/analysed for each"),
        ("-0.8/0.7,-0.3/0.7/10", "mean/sd/analysed per arm"),
        ("-0.8/0.7/20,nan/0.7/10", "control mean nan"),
    ]:
        with pytest.raises(DesignError, match=message):
            interim_prediction(d, text)
    with pytest.raises(DesignError, match="dropout.strategy"):
        interim_prediction(
            _randomized_continuous(dropout={"rate": 0.1, "strategy": "failure"}).with_changes(
                {"endpoint.failure_value": 0.0}
            ),
            "-0.8/0.7/20,-0.3/0.7/10",
        )


def test_the_cli_reads_continuous_observations(tmp_path):
    from planner.cli import app
    from planner.design import design_to_toml

    path = tmp_path / "hba1c.toml"
    d = _randomized_continuous()
    path.write_text(design_to_toml(d))
    js = CliRunner().invoke(app, ["interim", str(path), "--observed", "-0.9/0.75/24,-0.35/0.65/11", "--json"])
    assert js.exit_code == 0, js.output
    payload = json.loads(js.stdout)
    api = interim_prediction(d, "-0.9/0.75/24,-0.35/0.65/11")
    assert payload["predictive_probability"]["analysis_prior"] == api.predictive_analysis_prior
    assert payload["observed"][1] == {"mean": -0.35, "sd": 0.65, "analysed": 11}
    bad = CliRunner().invoke(app, ["interim", str(path), "--observed", "-0.9/0.75/50,-0.35/0.65/11"])
    assert bad.exit_code == 2 and "--observed: treatment 50 analysed of the 40" in bad.output


def test_the_app_page_predicts_a_continuous_design_and_names_bad_input():
    """The app's Interim data page on the shipped randomized HbA1c design with the t-pooled rule (ANCOVA has no
    prediction yet; set as the loaded design): mean, sd
    and analysed per arm give the API's numbers; an sd of 0 gives the message naming the arm's sd, the typed
    value kept."""
    from streamlit.testing.v1 import AppTest

    from planner.design import design_to_toml
    from tests.test_app import run_page

    design = load_design(EXAMPLES / "hba1c_randomized.toml").with_changes({"analysis.rule": "t-pooled"})
    at = AppTest.from_function(run_page, args=("interim_page",), default_timeout=120)
    at.session_state["base_toml"] = design_to_toml(design)
    at.session_state["base_name"] = "hba1c_t_pooled.toml"
    at.run()
    assert not at.exception
    for key, value in [
        ("w_interim_m_treatment", 12),
        ("w_interim_mean_treatment", -1.2),
        ("w_interim_sd_treatment", 0.8),
        ("w_interim_m_control", 10),
        ("w_interim_mean_control", -0.4),
        ("w_interim_sd_control", 0.6),
    ]:
        at.number_input(key=key).set_value(value).run()
    api = interim_prediction(design, "-1.2/0.8/12,-0.4/0.6/10")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Predictive probability (analysis prior)"] == f"{api.predictive_analysis_prior:.4f}"
    assert shown["Conditional power (current trend)"] == f"{api.conditional_power_trend:.4f}"
    table = next(t.value for t in at.table if "conditional power" in t.value.columns).set_index("scenario")
    for name, value in api.conditional_power_planned.items():
        assert table.loc[name, "conditional power"] == f"{value:.4f}"
    at.number_input(key="w_interim_sd_control").set_value(0.0).run()
    assert not at.exception
    assert any("observed: control sd 0.0: a positive number" in e.value for e in at.error)
    assert at.number_input(key="w_interim_sd_control").value == 0.0


# --- single-arm binary designs with interim looks: recursion against enumeration of the future stages --------
def _three_looks(futility="counts", prior=None, design_prior=True):
    spec = {
        "name": "three looks",
        "arms": {"kind": "single-arm", "n": 30},
        "endpoint": {"kind": "binary"},
        "analysis": {
            "rule": "exact-binomial",
            "performance_goal": 0.5,
            "alpha": 0.05,
            **({"prior": prior} if prior else {}),
        },
        "interim": {"fractions": [1 / 3, 2 / 3, 1.0], "spending": "obrien-fleming", "futility": futility},
        "scenarios": [{"name": "goal", "treatment": 0.5}, {"name": "0.75", "treatment": 0.75}],
    }
    if futility == "counts":
        spec["interim"]["futility_counts"] = [3, 9]
    if design_prior:
        spec["design_prior"] = {
            "treatment": {
                "family": "beta",
                "components": [{"weight": 0.6, "a": 11.0, "b": 3.0}, {"weight": 0.4, "a": 2.0, "b": 2.0}],
            }
        }
    return parse_design(spec)


def _enumerated_success(design, x, m, p):
    """P(success at a later look | x of m) at rates p (an array): every combination of the future stages'
    responders, each path stopped where the boundaries say (written here with itertools)."""
    import itertools

    from planner.multistage import multistage_for

    p = np.asarray(p, dtype=float)
    b = multistage_for(design).boundaries()
    looks = [(k, size) for k, size in enumerate(b.analysed) if size >= m]
    sizes = [size - prev for (_, size), prev in zip(looks, [m] + [s for _, s in looks[:-1]], strict=True)]
    total = np.zeros_like(p)
    for ys in itertools.product(*(range(s + 1) for s in sizes)):
        count = x
        for (k, _), y in zip(looks, ys, strict=True):
            count += y
            won = count >= b.efficacy[k]
            if won or (k < len(b.analysed) - 1 and count < b.futility[k]) or k == len(b.analysed) - 1:
                break
        if won:
            total += math.prod(stats.binom.pmf(y, s, p) for y, s in zip(ys, sizes, strict=True))
    return total


def _beta_expectation(f, a, b):
    """E[f(p)], p ~ Beta(a, b) with whole a, b: Gauss-Legendre with 64 nodes, exact for these polynomials."""
    t, w = np.polynomial.legendre.leggauss(64)
    p = (t + 1) / 2
    return float(np.sum(w / 2 * f(p) * stats.beta.pdf(p, a, b)))


@pytest.mark.parametrize(("x", "m"), [(6, 12), (4, 10), (8, 14), (13, 20), (3, 5)])
def test_sequential_prediction_equals_enumeration_and_integration(x, m):
    d = _three_looks()
    out = interim_prediction(d, f"{x}/{m}")
    assert out.conditional_power_trend == pytest.approx(_enumerated_success(d, x, m, x / m), abs=1e-12)
    assert out.conditional_power_planned["0.75"] == pytest.approx(
        _enumerated_success(d, x, m, 0.75), abs=1e-12
    )
    success = lambda p: _enumerated_success(d, x, m, p)  # noqa: E731
    assert out.predictive_analysis_prior == pytest.approx(
        _beta_expectation(success, 1 + x, 1 + m - x), abs=1e-10
    )
    comps = [(0.6, 11.0, 3.0), (0.4, 2.0, 2.0)]
    marg = [w * math.exp(stats.betabinom.logpmf(x, m, a, b)) for w, a, b in comps]
    design = sum(
        wm / sum(marg) * _beta_expectation(success, a + x, b + m - x)
        for wm, (_, a, b) in zip(marg, comps, strict=True)
    )
    assert out.predictive_design_prior == pytest.approx(design, abs=1e-10)


def test_sequential_prediction_at_a_look_applies_its_boundaries():
    from planner.multistage import multistage_for

    d = _three_looks()
    b = multistage_for(d).boundaries()
    assert b.analysed == (10, 20, 30)
    assert b.efficacy[0] > 10  # no efficacy stop is possible at the first look (O'Brien-Fleming spending)
    out = interim_prediction(d, f"{b.efficacy[1]}/20")
    assert out.decision.startswith("stop for efficacy at look 2") and out.conditional_power_trend == 1.0
    out = interim_prediction(d, f"{b.futility[1] - 1}/20")
    assert out.decision.startswith("stop for futility at look 2") and out.predictive_analysis_prior == 0.0
    with pytest.raises(DesignError, match="interim: predictions for designs with interim looks"):
        interim_prediction(d.with_changes({"dropout": {"rate": 0.1, "strategy": "missing"}}), "3/10")


def test_the_app_page_predicts_the_shipped_group_sequential_design():
    from streamlit.testing.v1 import AppTest

    from tests.test_app import run_page

    path = EXAMPLES / "zimislecel_group_sequential.toml"
    at = AppTest.from_function(run_page, args=("interim_page",), default_timeout=120)
    at.session_state["base_toml"] = path.read_text()
    at.session_state["base_name"] = path.name
    at.run()
    at.number_input(key="w_interim_m_treatment").set_value(30).run()
    at.number_input(key="w_interim_x_treatment").set_value(22).run()
    assert not at.exception
    api = interim_prediction(load_design(path), "22/30")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Predictive probability (analysis prior)"] == f"{api.predictive_analysis_prior:.4f}"
    assert shown["Conditional power (current trend)"] == f"{api.conditional_power_trend:.4f}"
    assert 0.0 < api.predictive_analysis_prior < 1.0
