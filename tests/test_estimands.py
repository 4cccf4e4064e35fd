"""Estimands (issue 16, item 1): intercurrent events with their strategies against hand-computed exact values,
the estimand table in the report and the app, multiple imputation against closed-form limits and an
independent participant-level implementation, tipping points against enumeration with scipy, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special, stats
from typer.testing import CliRunner

from planner import DesignError, evaluate, load_design, parse_design
from planner.cli import app
from planner.missing import (
    impute_binary,
    impute_continuous,
    tipping_delta_binary,
    tipping_delta_continuous,
    tipping_point_binary,
)

ROOT = Path(__file__).resolve().parent.parent
SINGLE_ARM = ROOT / "examples" / "zimislecel_single_arm.toml"
EVENTS = [
    {"name": "resuming insulin", "probability": 0.1, "strategy": "composite"},
    {
        "name": "stopping immunosuppression",
        "probability": 0.05,
        "strategy": "treatment-policy",
        "response": 0.2,
    },
    {"name": "death", "probability": 0.04, "strategy": "hypothetical", "imputation": "mar"},
]


def _design(events=EVENTS, dropout=None, n=50):
    return parse_design(
        {
            "name": "estimand",
            "arms": {"kind": "single-arm", "n": n},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "exact-binomial", "performance_goal": 0.5},
            "estimand": {"population": "adults with type 1 diabetes", "intercurrent_events": events},
            **({"dropout": dropout} if dropout else {}),
            "scenarios": [{"name": "p 0.8", "treatment": 0.8}, {"name": "p 0.6", "treatment": 0.6}],
        }
    )


def _exact_power(theta, n_analysed_pmf, alpha=0.025, goal=0.5):
    """Hand computation: the exact binomial test at each number analysed, weighted."""
    total = 0.0
    for m, w in n_analysed_pmf:
        crit = min(c for c in range(m + 2) if c == m + 1 or stats.binom.sf(c - 1, m, goal) <= alpha)
        total += w * stats.binom.sf(crit - 1, m, theta)
    return total


def test_composite_and_treatment_policy_equal_hand_computed_exact_values():
    """Composite (0.1, a non-responder) and treatment policy (0.05, responds with 0.2): every participant is
    analysed and responds with 0.85 p + 0.05 x 0.2, exactly binomial."""
    d = _design(events=EVENTS[:2])
    result = evaluate(d)
    for r, p in zip(result.results, (0.8, 0.6), strict=True):
        theta = 0.85 * p + 0.01
        assert r.estimand == pytest.approx((theta,), abs=1e-12)
        assert r.success.exact and r.success.value == pytest.approx(
            _exact_power(theta, [(50, 1.0)]), abs=1e-12
        )
        assert r.scenario.treatment == p  # the user's scenario is reported


def test_a_hypothetical_strategy_analyses_the_others_and_dropouts_combine():
    """Hypothetical (0.04): those outcomes are set aside (imputed under MAR from the analysed, whose limit is
    their analysis); the analysed number is Binomial(50, 0.96), each responding with (0.81 p + 0.01) / 0.96. With
    dropouts as failures (0.1) too: responding with 0.9 of that."""
    d = _design()
    result = evaluate(d)
    pmf = [(m, stats.binom.pmf(m, 50, 0.96)) for m in range(1, 51)]
    for r, p in zip(result.results, (0.8, 0.6), strict=True):
        theta = (0.81 * p + 0.01) / 0.96
        assert r.success.value == pytest.approx(_exact_power(theta, pmf), abs=1e-10)
    failures = evaluate(_design(dropout={"rate": 0.1, "strategy": "failure"}))
    for r, p in zip(failures.results, (0.8, 0.6), strict=True):
        theta = 0.9 * (0.81 * p + 0.01) / 0.96
        assert r.success.value == pytest.approx(_exact_power(theta, pmf), abs=1e-10)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (
            [{**EVENTS[0], "probability": 0.7}, {**EVENTS[1], "probability": 0.5}],
            r"estimand\.intercurrent_events: the probabilities sum to 1\.2 > 1",
        ),
        (
            [{**EVENTS[2], "imputation": None}],
            r"intercurrent_events\[0\]\.imputation: the hypothetical strategy needs",
        ),
        (
            [{**EVENTS[1], "response": None}],
            r"intercurrent_events\[0\]\.response: the treatment-policy strategy",
        ),
        ([{**EVENTS[0], "response": 0.3}], r"intercurrent_events\[0\]\.response: only treatment-policy"),
        (
            [{**EVENTS[0], "probability": 1.3}],
            r"intercurrent_events\.0\.probability|intercurrent_events\[0\]\.probability",
        ),
    ],
)
def test_bad_intercurrent_events_are_named(events, message):
    with pytest.raises(DesignError, match=message):
        _design(events=[{k: v for k, v in e.items() if v is not None} for e in events])


def test_the_estimand_table_is_in_the_report_and_the_app(tmp_path):
    from streamlit.testing.v1 import AppTest

    from planner.design import design_to_toml
    from planner.estimands import estimand_rows
    from planner.report import build_report
    from tests.test_app import APP, load_text

    d = _design()
    rows = dict(estimand_rows(d))
    assert rows["population"] == "adults with type 1 diabetes"
    assert rows["intercurrent event: death"].startswith("probability 0.04; hypothetical")
    theta = (0.81 * 0.8 + 0.01) / 0.96
    assert f"{theta:.4f} when 'p 0.8' says 0.8" in rows["what the analysis estimates"]
    text = build_report(d, tmp_path / "r", pdf=False).html.read_text()
    assert "intercurrent event: stopping immunosuppression" in text and f"{theta:.4f}" in text
    at = load_text(AppTest.from_file(APP, default_timeout=120).run(), design_to_toml(d))
    assert not at.exception
    table = next(t.value for t in at.table if "attribute" in t.value.columns).set_index("attribute")
    assert table.loc["intercurrent event: death", "definition"] == rows["intercurrent event: death"]


# --- multiple imputation -------------------------------------------------------------------------------------
def test_binary_imputation_tends_to_its_closed_form_limit():
    """Many imputations: the combined estimate tends to (x + r E[expit(logit p* + delta)]) / n, p* ~ Beta(x + 1,
    m - x + 1) (quadrature here)."""
    x, m, r, delta = 30, 45, 5, -1.0
    res = impute_binary(x, m, r, 0.5, delta=delta, imputations=200_000, seed=3)
    shifted = integrate.quad(
        lambda p: special.expit(special.logit(p) + delta) * stats.beta.pdf(p, x + 1, m - x + 1), 0, 1
    )[0]
    want = (x + r * shifted) / (m + r)
    assert res.estimate == pytest.approx(want, abs=4 * math.sqrt(r * 0.25 / 200_000) / (m + r) * 3)


def _per_participant_mi(x, m, r, goal, delta, imputations, rng):
    """An independent implementation: each missing participant drawn one by one, Rubin's rules by hand."""
    n = m + r
    estimates, variances = [], []
    for _ in range(imputations):
        p = rng.beta(x + 1, m - x + 1)
        p = 1 / (1 + math.exp(-(math.log(p / (1 - p)) + delta)))
        y = sum(1 for _ in range(r) if rng.random() < p)
        q = (x + y) / n
        estimates.append(q)
        variances.append(q * (1 - q) / n)
    q_bar = float(np.mean(estimates))
    b = float(np.var(estimates, ddof=1))
    return q_bar, float(np.mean(variances)) + (1 + 1 / imputations) * b


def test_binary_imputation_equals_a_participant_level_implementation():
    """Over 300 repetitions of 20 imputations each: the mean combined estimate and the mean total variance agree
    within Monte Carlo error."""
    x, m, r, delta, reps = 20, 30, 8, -0.7, 300
    ours = [impute_binary(x, m, r, 0.5, delta=delta, imputations=20, seed=s) for s in range(reps)]
    rng = np.random.default_rng(99)
    theirs = [_per_participant_mi(x, m, r, 0.5, delta, 20, rng) for _ in range(reps)]
    for a, b in (
        (np.array([o.estimate for o in ours]), np.array([t[0] for t in theirs])),
        (np.array([o.variance for o in ours]), np.array([t[1] for t in theirs])),
    ):
        se = math.sqrt(a.var(ddof=1) / reps + b.var(ddof=1) / reps)
        assert abs(a.mean() - b.mean()) <= 4 * se, (a.mean(), b.mean(), se)


def test_continuous_imputation_tends_to_the_closed_form_and_the_tipping_delta_flips_it():
    mean, sd, m, r, goal = -1.6, 0.7, 45, 5, -1.0
    res = impute_continuous(mean, sd, m, r, goal, delta=0.5, imputations=50_000, seed=4, better="lower")
    assert res.estimate == pytest.approx(mean + r / (m + r) * 0.5, abs=0.002)
    n = m + r  # Rubin's total variance -> s^2 / m + m r delta^2 / (n^2 (n - 1))
    assert res.variance == pytest.approx(sd**2 / m + m * r * 0.25 / (n**2 * (n - 1)), rel=0.02)
    tp = tipping_delta_continuous(mean, sd, m, r, goal, better="lower")
    below = impute_continuous(
        mean, sd, m, r, goal, delta=tp.value - 0.3, imputations=50_000, seed=5, better="lower"
    )
    above = impute_continuous(
        mean, sd, m, r, goal, delta=tp.value + 0.3, imputations=50_000, seed=5, better="lower"
    )
    assert below.success and not above.success and tp.conclusion_at_mar


# --- tipping points -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("x", "m", "r"), [(30, 45, 5), (28, 45, 5), (34, 45, 5), (20, 45, 5)])
def test_the_binary_tipping_point_equals_enumeration_with_scipy(x, m, r):
    d = load_design(SINGLE_ARM)
    tp = tipping_point_binary(d, x, m, r)
    goal, alpha, n = d.analysis.performance_goal, d.analysis.alpha, m + r
    want = [(y, bool(stats.binom.sf(x + y - 1, n, goal) <= alpha)) for y in range(r + 1)]
    assert [(int(y), ok) for y, ok in tp.table] == want
    first = next((y for y, ok in want if ok), None)
    assert tp.value == first


def test_the_binary_delta_tipping_point_is_where_the_imputation_changes_and_bad_grids_are_named():
    tp = tipping_delta_binary(30, 45, 5, 0.5, deltas=np.linspace(-4, 0, 41), imputations=300, seed=2)
    assert tp.conclusion_at_mar and tp.value is not None
    assert not impute_binary(30, 45, 5, 0.5, delta=tp.value, imputations=300, seed=2).success
    assert impute_binary(30, 45, 5, 0.5, delta=tp.value + 0.1, imputations=300, seed=2).success
    with pytest.raises(DesignError, match="deltas: an empty grid"):
        tipping_delta_binary(30, 45, 5, 0.5, deltas=[])
    with pytest.raises(DesignError, match="observed: 50 responders of 45"):
        tipping_point_binary(load_design(SINGLE_ARM), 50, 45, 5)


def test_the_cli_prints_the_tipping_points():
    out = CliRunner().invoke(
        app, ["tipping", str(SINGLE_ARM), "--observed", "30/45", "--missing", "5", "--json"]
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    tp = tipping_point_binary(load_design(SINGLE_ARM), 30, 45, 5)
    assert (
        payload["tipping_points"][0]["value"] == tp.value
        and payload["tipping_points"][0]["sentence"] == tp.sentence
    )
    bad = CliRunner().invoke(app, ["tipping", str(SINGLE_ARM), "--observed", "30/45", "--missing", "-1"])
    assert bad.exit_code == 2 and "--missing" in bad.stderr and "Traceback" not in bad.output


def test_a_randomized_binary_design_takes_the_events_in_both_arms():
    """The same events in both arms: each arm's rate becomes its theta; the exact two-arm power equals the
    Fisher design evaluated at those rates with the hypothetical share missing (dropouts, 'missing')."""
    d = parse_design(
        {
            "name": "randomized estimand",
            "arms": {"kind": "randomized", "n": 80},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "fisher"},
            "estimand": {"intercurrent_events": EVENTS},
            "scenarios": [{"name": "a", "treatment": 0.8, "control": 0.4}],
        }
    )
    got = evaluate(d)["a"].success.value

    def theta(p):
        return (0.81 * p + 0.01) / 0.96

    plain = parse_design(
        {
            "name": "by hand",
            "arms": {"kind": "randomized", "n": 80},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "fisher"},
            "dropout": {"rate": 0.04, "strategy": "missing"},
            "scenarios": [{"name": "a", "treatment": theta(0.8), "control": theta(0.4)}],
        }
    )
    assert got == pytest.approx(evaluate(plain)["a"].success.value, abs=1e-12)
    with pytest.raises(
        DesignError, match="estimand.intercurrent_events: their strategies are computed for binary"
    ):
        load_design(ROOT / "examples" / "hba1c_randomized.toml").with_changes(
            {"estimand": {"intercurrent_events": EVENTS[:1]}}
        )
