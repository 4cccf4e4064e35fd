"""A robust MAP prior for a control arm fitted to historical control data (issue 15, item 4): the PyMC fit
against the exact MAP predictive by quadrature over (mu, tau, z), the robust component, the design it goes
into, and bad input named.

Data: the eight placebo arms of the ankylosing spondylitis trials behind secukinumab's phase II MAP prior
(Baeten D et al. Lancet 2013;382:1705-13; RBesT's data set ``AS``, bayesmeta's ``BaetenEtAl2013``): ASAS20
responders of placebo patients at week 6."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import special, stats
from typer.testing import CliRunner

from planner import DesignError, parse_design
from planner.cli import app
from planner.historical import fit_control_map, load_studies, parse_studies

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

AS = [
    ("ATLAS", 23, 107),
    ("Canadian AS", 12, 44),
    ("Wyeth", 19, 51),
    ("Calin", 9, 39),
    ("Davis", 39, 139),
    ("Gorman", 6, 20),
    ("ASSERT", 9, 78),
    ("Braun", 10, 35),
]
AS_TOML = "".join(f'[[studies]]\nname = "{s}"\nresponders = {r}\nn = {n}\n' for s, r, n in AS)


def exact_map_predictive(studies, tau_scale=1.0, mu_sd=2.0, q=None):
    """The MAP predictive of a new study's rate by quadrature (independent of PyMC): the posterior of
    (mu, tau) on a Gauss-Legendre grid, each study's likelihood integrated over its random effect by
    Gauss-Hermite; returns (mean, sd, CDF at q)."""
    mu, w_mu = np.polynomial.legendre.leggauss(160)
    mu, w_mu = -4.0 + 3.5 * (mu + 1.0), 3.5 * w_mu  # [-4, 3] on the logit scale
    tau, w_tau = np.polynomial.legendre.leggauss(160)
    tau, w_tau = 2.5 * (tau + 1.0), 2.5 * w_tau  # [0, 5]
    z, w_z = np.polynomial.hermite_e.hermegauss(60)
    w_z = w_z / w_z.sum()
    lin = mu[:, None, None] + tau[None, :, None] * z[None, None, :]
    log_post = stats.norm.logpdf(mu, 0, mu_sd)[:, None] + stats.halfnorm.logpdf(tau, scale=tau_scale)[None, :]
    for _name, r, n in studies:
        log_lik = stats.binom.logpmf(r, n, special.expit(lin))
        log_post = log_post + np.log(np.exp(log_lik) @ w_z)
    post = np.exp(log_post - log_post.max()) * w_mu[:, None] * w_tau[None, :]
    post /= post.sum()
    p_new = special.expit(lin)  # the predictive's rate at each (mu, tau, z)
    mean = float(np.einsum("ij,ijk,k->", post, p_new, w_z))
    second = float(np.einsum("ij,ijk,k->", post, p_new**2, w_z))
    q = np.linspace(0.02, 0.7, 69) if q is None else q
    cdf = np.array(
        [
            np.sum(post * stats.norm.cdf((special.logit(v) - mu[:, None]) / np.maximum(tau[None, :], 1e-12)))
            for v in q
        ]
    )
    return mean, float(np.sqrt(second - mean**2)), q, cdf


def test_the_quadrature_reference_is_exact_for_a_known_heterogeneity():
    """With a tau prior concentrated near 0 the MAP predictive is the pooled posterior: Beta(1 + sum r, ...)
    approximately; check the reference code itself on that limit (logit-normal mu prior, so loose)."""
    mean, sd, _, _ = exact_map_predictive(AS, tau_scale=1e-3)
    r, n = sum(s[1] for s in AS), sum(s[2] for s in AS)
    assert mean == pytest.approx(r / n, abs=2e-3)
    assert sd == pytest.approx(np.sqrt(r / n * (1 - r / n) / n), rel=0.05)


@pytest.mark.slow
def test_the_pymc_map_prior_equals_the_exact_predictive_and_is_robustified():
    result = fit_control_map(parse_studies([{"name": s, "responders": r, "n": n} for s, r, n in AS]), seed=1)
    mean, sd, q, cdf = exact_map_predictive(AS)
    assert result.diagnostics["rhat_max"] < 1.01 and result.diagnostics["divergences"] == 0
    # NUTS draws (8000, bulk ESS > 400) and the mixture approximation of them
    assert result.draws_mean == pytest.approx(mean, abs=0.004)
    assert result.draws_sd == pytest.approx(sd, abs=0.004)
    assert result.map_mixture.mean() == pytest.approx(mean, abs=0.004)
    mix_cdf = sum(w * stats.beta.cdf(q, a, b) for w, a, b in result.map_mixture.components())
    assert np.max(np.abs(mix_cdf - cdf)) < 0.02
    # the robust prior: the MAP mixture at weight 0.8 and Beta(1, 1) at 0.2
    comps = result.prior.components()
    assert comps[-1] == (pytest.approx(0.2), 1.0, 1.0)
    assert [c[0] for c in comps[:-1]] == pytest.approx(
        [0.8 * w for w, _, _ in result.map_mixture.components()]
    )
    # a smaller heterogeneity scale borrows more: the exact predictive is narrower
    assert exact_map_predictive(AS, tau_scale=0.25)[1] < sd


@pytest.mark.slow
def test_the_cli_writes_a_design_with_the_map_control_prior(tmp_path):
    studies = tmp_path / "controls.csv"
    studies.write_text("study,responders,n\n" + "".join(f"{s},{r},{n}\n" for s, r, n in AS))
    design = tmp_path / "trial.toml"
    from planner.design import design_to_toml

    from .test_borrowing import _spec

    design.write_text(design_to_toml(parse_design(_spec())))
    out = tmp_path / "trial_map.toml"
    run = CliRunner().invoke(
        app,
        ["priors", "map", str(studies), "--design", str(design), "--out", str(out), "--seed", "2", "--json"],
    )
    assert run.exit_code == 0, run.output
    payload = json.loads(run.stdout)
    from planner import load_design
    from planner.priors import analysis_mixture

    written = load_design(out)
    prior = analysis_mixture(written.analysis.control_prior, "beta")
    want = [[c["weight"], c["a"], c["b"]] for c in payload["control_prior"]["components"]]
    assert np.allclose([list(c) for c in prior.components()], want, rtol=1e-12)
    assert payload["robust_weight"] == 0.2 and len(payload["studies"]) == 8
    drift = CliRunner().invoke(app, ["drift", str(out), "--controls", "0.25,0.5"])
    assert drift.exit_code == 0 and "0.25" in drift.stdout


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"name": "a", "responders": 3, "n": 10}], "at least 2 historical studies"),
        ([{"name": "a", "responders": 13, "n": 10}, {"responders": 1, "n": 5}], "studies[0].responders"),
        ([{"name": "a", "responders": 3, "n": -4}, {"responders": 1, "n": 5}], "studies[0].n"),
        ([{"name": "a", "responders": 3, "n": 10}, {"responders": 1}], "studies[1].n: missing"),
        ([{"name": "a", "responders": 2.5, "n": 10}, {"responders": 1, "n": 5}], "studies[0].responders"),
        ([{"name": "a", "responders": "x", "n": 10}, {"responders": 1, "n": 5}], "studies[0].responders"),
        ([], "non-empty list"),
        ("ATLAS", "non-empty list"),
    ],
)
def test_bad_studies_are_named(rows, message):
    with pytest.raises(DesignError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_studies(rows)


def test_bad_files_and_settings_are_named_in_the_cli(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("study,responders,n\nA,3,ten\nB,2,9\n")
    with pytest.raises(DesignError, match=r"studies\[0\].n: a whole number, got 'ten'"):
        load_studies(csv)
    good = tmp_path / "c.toml"
    good.write_text(AS_TOML)
    assert [s.n for s in load_studies(good)] == [n for _, _, n in AS]
    runner = CliRunner()
    out = runner.invoke(app, ["priors", "map", str(csv)])
    assert out.exit_code == 2 and "studies[0].n" in out.stderr and "Traceback" not in out.output
    out = runner.invoke(app, ["priors", "map", str(good), "--robust-weight", "1.3"])
    assert out.exit_code == 2 and "--robust-weight" in out.stderr and "1.3" in out.stderr
    out = runner.invoke(app, ["priors", "map", str(good), "--tau-scale", "-1"])
    assert out.exit_code == 2 and "--tau-scale" in out.stderr
