"""Borrowing for a control arm (issue 15, item 4): type I error and power against drift (exact), Box's
prior-data conflict p-value and the information borrowed, against closed forms and direct computation with
scipy's Beta-binomial; the CLI flags a type I error above alpha."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from planner import DesignError, evaluate, parse_design
from planner.borrowing import borrowed_information, box_p_values, drift_table
from planner.cli import app
from planner.mixtures import BetaMixture

ROBUST = {
    "family": "beta",
    "components": [{"weight": 0.8, "a": 6.0, "b": 24.0}, {"weight": 0.2, "a": 1.0, "b": 1.0}],
}


def _spec(control_prior=ROBUST, n=120):
    return {
        "name": "borrowing",
        "arms": {"kind": "randomized", "n": n, "allocation": [2, 1]},
        "endpoint": {"kind": "binary"},
        "analysis": {
            "rule": "posterior-probability",
            "threshold": 0.975,
            "prior": {"family": "beta", "components": [{"weight": 1.0, "a": 1.0, "b": 1.0}]},
            "control_prior": control_prior,
        },
        "scenarios": [{"name": "a", "treatment": 0.45, "control": 0.2}],
    }


def test_box_p_values_equal_a_direct_beta_binomial_computation():
    prior = BetaMixture((0.8, 0.2), (6.0, 1.0), (24.0, 1.0))
    m = 40
    pmf = 0.8 * stats.betabinom.pmf(np.arange(m + 1), m, 6, 24) + 0.2 * stats.betabinom.pmf(
        np.arange(m + 1), m, 1, 1
    )
    direct = np.array([pmf[pmf <= pmf[x] * (1 + 1e-12)].sum() for x in range(m + 1)])
    assert np.allclose(box_p_values(prior, m), direct, atol=1e-12)
    # a uniform prior predicts every count equally: no count conflicts
    assert np.allclose(box_p_values(BetaMixture((1.0,), (1.0,), (1.0,)), m), 1.0)


def test_a_single_beta_prior_lends_exactly_its_a_plus_b():
    assert np.allclose(borrowed_information(BetaMixture((1.0,), (6.0,), (24.0,)), 40), 30.0, atol=1e-9)


def test_a_robust_prior_lends_less_as_the_data_move_away():
    borrowed = borrowed_information(BetaMixture((0.8, 0.2), (6.0, 1.0), (24.0, 1.0)), 40)
    assert borrowed[8] > 20 and borrowed[30] < 2  # 8 / 40 is the prior mean 0.2; 30 / 40 conflicts
    assert np.argmax(borrowed) in range(5, 12)


def test_drift_table_equals_exact_evaluation_and_direct_sums():
    d = parse_design(_spec())
    points = drift_table(d, [0.1, 0.2, 0.4], effect=0.25)
    prior = BetaMixture((0.8, 0.2), (6.0, 1.0), (24.0, 1.0))
    for p in points:
        scen = dict(_spec())
        scen["scenarios"] = [
            {"name": "null", "treatment": p.control, "control": p.control},
            {"name": "alt", "treatment": p.control + 0.25, "control": p.control},
        ]
        exact = evaluate(parse_design(scen), method="exact", type_one_error=False)
        assert p.type_one_error == pytest.approx(exact["null"].success.value, abs=1e-12)
        assert p.power == pytest.approx(exact["alt"].success.value, abs=1e-12)
        pmf = stats.binom.pmf(np.arange(41), 40, p.control)
        assert p.conflict == pytest.approx(float(pmf @ (box_p_values(prior, 40) <= 0.05)), abs=1e-15)
        assert p.borrowed == pytest.approx(float(pmf @ borrowed_information(prior, 40)), abs=1e-12)
    # borrowing from a prior centred at 0.2 inflates the type I error when the current control rate is higher
    assert points[2].type_one_error > 0.025 > points[0].type_one_error


def test_cli_flags_type_one_error_above_alpha_and_names_bad_input(tmp_path):
    import tomli_w

    path = tmp_path / "d.toml"
    path.write_bytes(tomli_w.dumps(_spec()).encode())
    runner = CliRunner()
    out = runner.invoke(app, ["drift", str(path), "--effect", "0.25", "--controls", "0.1,0.4"])
    assert out.exit_code == 0 and "TYPE I ERROR ABOVE ALPHA" in out.stdout and "0.4" in out.stdout
    js = runner.invoke(app, ["drift", str(path), "--effect", "0.25", "--controls", "0.1,0.4", "--json"])
    assert json.loads(js.stdout)["type_one_error_above_alpha_at"] == [0.4]
    bad = runner.invoke(app, ["drift", str(path), "--effect", "0.25", "--controls", "0.1,1.3"])
    assert bad.exit_code == 2 and "--controls" in bad.stderr and "1.3" in bad.stderr
    words = runner.invoke(app, ["drift", str(path), "--effect", "0.25", "--controls", "low"])
    assert words.exit_code == 2 and "--controls" in words.stderr


def test_designs_without_a_control_prior_are_refused_with_the_field_named():
    spec = _spec()
    del spec["analysis"]["control_prior"]
    spec["analysis"] = {"rule": "fisher"}
    with pytest.raises(DesignError, match="analysis.control_prior"):
        drift_table(parse_design(spec), [0.2], 0.2)


# --- the drift finding, in the CLI, the report and the app -----------------------------------------------------
def _listed_rates(sentence: str) -> list[float]:
    """The true control rates a finding lists as above alpha (between 'rates ' and ' (largest')."""
    listed = sentence.split("at true control rates ", 1)[1].split(" (largest", 1)[0]
    return [float(v) for v in listed.split(", ")]


def test_the_drift_finding_is_computed_from_the_points():
    from planner.borrowing import drift_defaults, drift_finding

    d = parse_design(_spec())
    controls, effect = drift_defaults(d)
    assert (
        effect == pytest.approx(0.25) and controls[0] == 0.05 and controls[-1] == 0.95 and len(controls) == 19
    )
    points = drift_table(d, controls, effect)
    sentence = drift_finding(d, points)
    above = [p.control for p in points if p.type_one_error > 0.025]
    assert sentence.startswith("TYPE I ERROR ABOVE ALPHA = 0.025") and _listed_rates(sentence) == above
    worst = max(points, key=lambda p: p.type_one_error)
    assert f"largest {worst.type_one_error:.4f}, at {worst.control:g}" in sentence
    assert "mean 0.260" in sentence  # 0.8 x 6 / 30 + 0.2 x 1 / 2
    # the 'above the prior mean' explanation only where every listed rate is above it
    assert ("where the current control rate is above it" in sentence) == all(c > 0.26 for c in above)
    only_high = [p for p in points if p.control >= 0.3]
    assert "where the current control rate is above it" in drift_finding(d, only_high)
    # a strict threshold and a vague control prior: no rate above alpha, and the sentence says so
    vague = _spec({"family": "beta", "components": [{"weight": 1.0, "a": 1.0, "b": 1.0}]})
    vague["analysis"]["threshold"] = 0.995
    d = parse_design(vague)
    points = drift_table(d, controls, None)
    assert all(p.power is None for p in points) and max(p.type_one_error for p in points) <= 0.025
    worst = max(points, key=lambda p: p.type_one_error)
    assert drift_finding(d, points) == (
        "The type I error is at most alpha = 0.025 at every true control rate from 0.05 to 0.95 "
        f"(largest {worst.type_one_error:.4f}, at {worst.control:g})."
    )


def test_the_cli_defaults_to_the_design_effect_and_prints_the_finding(tmp_path):
    import tomli_w

    from planner.borrowing import drift_finding

    path = tmp_path / "d.toml"
    path.write_bytes(tomli_w.dumps(_spec()).encode())
    out = CliRunner().invoke(app, ["drift", str(path), "--json"])
    payload = json.loads(out.stdout)
    d = parse_design(_spec())
    points = drift_table(d, [round(0.05 * k, 2) for k in range(1, 20)], 0.25)
    assert payload["effect"] == pytest.approx(0.25)
    assert payload["finding"] == drift_finding(d, points)
    assert [p["type_one_error"] for p in payload["points"]] == [p.type_one_error for p in points]


def test_the_report_shows_the_drift_table_chart_and_finding(tmp_path):
    import pandas as pd

    from planner.borrowing import drift_defaults, drift_finding
    from planner.report import build_report

    d = parse_design(_spec())
    out = build_report(d, tmp_path / "report", pdf=False, n_sims=2000)
    text = out.html.read_text()
    points = drift_table(d, *drift_defaults(d))
    finding = drift_finding(d, points)
    assert "Borrowing for the control arm against drift" in text
    assert finding.replace("'", "&#39;") in text or finding in text
    assert "power with the treatment rate +0.25 from the control" in text
    csv = pd.read_csv(tmp_path / "report" / "drift.csv")
    assert np.allclose(csv["type I error"], [p.type_one_error for p in points], atol=1e-15)
    assert text.count("<svg") >= 1


def test_the_app_shows_the_drift_panel_for_a_design_with_a_control_prior():
    from streamlit.testing.v1 import AppTest

    from planner.borrowing import drift_defaults, drift_finding
    from planner.design import design_to_toml

    from .test_app import APP, load_text

    d = parse_design(_spec())
    at = load_text(AppTest.from_file(APP, default_timeout=120).run(), design_to_toml(d))
    assert not at.exception
    finding = drift_finding(d, drift_table(d, *drift_defaults(d)))
    assert finding in [e.value for e in at.error]
    table = next(t.value for t in at.table if "true control rate" in t.value.columns)
    points = drift_table(d, *drift_defaults(d))
    assert list(table["type I error"]) == [f"{p.type_one_error:.4f}" for p in points]


# --- a published decision2S example: Schmidli et al. (2014), Table 2 ----------------------------------------------
# Schmidli H, Gsteiger S, Roychoudhury S, O'Hagan A, Spiegelhalter D, Neuenschwander B. Robust meta-analytic-
# predictive priors in clinical trials with historical control information. Biometrics 2014;70:1023-32,
# Table 2 (as transcribed in RBesT's tests/testthat/test-oc2S.R): 40 treated, uniform treatment prior,
# success when P(p_t - p_c > 0 | data) > 0.975; the control arm 40 - ESS of its prior: 20 with Beta(4, 16),
# 40 with the uniform prior (RBesT's test subtracts the uniform prior's Morita ESS of 2 and allows 2.5 points;
# the table's numbers are those of 40 controls, within 0.5 points, exactly enumerated below). In percent, at
# p_c = 0.1, ..., 0.6, delta 0 (type I error) and 0.3 (power).
def _schmidli():
    """The table from planner/validation/schmidli2014.toml (the file `planner validate` reads too)."""
    from planner.validation import load_references

    table: dict = {}
    for ref in load_references():
        if ref.file == "schmidli2014.toml":
            i = ref.inputs
            table.setdefault((int(i["n_control"]), (i["a"], i["b"])), []).append(ref.expected)
    return table


SCHMIDLI_TABLE_2 = _schmidli()


@pytest.mark.parametrize(("controls", "prior"), list(SCHMIDLI_TABLE_2))
def test_the_exact_operating_characteristics_equal_schmidli_table_2(controls, prior):
    from planner.exact import exact_power
    from planner.rules import rule_for
    from planner.validation import decision2s_design

    design = decision2s_design(40, controls, prior[0], prior[1])
    assert design.arms.sizes == (40, controls)
    rule = rule_for(design)
    got = [
        100 * float(exact_power(design, rule, pc + delta, pc)[0])
        for delta in (0.0, 0.3)
        for pc in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    ]
    assert np.max(np.abs(np.array(got) - SCHMIDLI_TABLE_2[(controls, prior)])) < 0.7
    # and through the drift table: the same type I errors
    points = drift_table(design, [0.1, 0.3, 0.5], 0.3)
    assert [round(100 * p.type_one_error, 1) for p in points] == [round(got[i], 1) for i in (0, 2, 4)]
