"""Non-inferiority margins for means (issue 15, item 5): t-pooled and welch with analysis.margin, against the
noncentral t and against scipy's t tests on per-participant data shifted by the margin; the null at the margin
(in the direction of benefit) for is_null and the type I error guard."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from planner import DesignError, evaluate, parse_design


def _design(rule="t-pooled", better="higher", margin=0.3, treatment=0.0, n=200, **extra):
    return parse_design(
        {
            "name": "non-inferiority, means",
            "arms": {"kind": "randomized", "n": n},
            "endpoint": {"kind": "continuous", "sd": 1.0, "better": better},
            "analysis": {"rule": rule, "margin": margin},
            "scenarios": [{"name": "x", "treatment": treatment, "control": 0.0, **extra}],
        }
    )


@pytest.mark.parametrize("better", ["higher", "lower"])
def test_pooled_t_power_is_the_noncentral_t_with_the_margin_added(better):
    """Equal means, margin 0.3, 100 per arm: P(T'(198, 0.3 / sqrt(2 / 100)) > t_{0.975, 198}), within 4 MCSE."""
    r = evaluate(_design(better=better), n_sims=200_000, seed=2, type_one_error=False).results[0].success
    expected = stats.nct.sf(stats.t.isf(0.025, 198), 198, 0.3 / math.sqrt(2 / 100))
    assert abs(r.value - expected) <= 4 * max(r.mcse, 1e-4)


@pytest.mark.parametrize(("better", "at_margin"), [("higher", -0.3), ("lower", 0.3)])
def test_the_null_is_at_the_margin_in_the_direction_of_benefit(better, at_margin):
    d = _design(better=better, treatment=at_margin)
    assert d.is_null(d.scenarios[0])
    assert not d.is_null(_design(better=better, treatment=at_margin * 0.9).scenarios[0])
    result = evaluate(d, n_sims=200_000, seed=4)
    r = result.results[0].success
    assert abs(r.value - 0.025) <= 3 * r.mcse
    check = result.type_one_error
    assert check is not None and all(g.treatment - g.control == pytest.approx(at_margin) for g in check.grid)


@pytest.mark.parametrize(("rule", "equal_var"), [("t-pooled", True), ("welch", False)])
def test_rejection_rates_equal_scipy_on_data_shifted_by_the_margin(rule, equal_var):
    """Treatment 0.1 below control, margin 0.3, unequal sds for welch: the planner against scipy's one-sided
    t test of (treatment + margin) vs control on 20,000 per-participant trials."""
    extra = {"control_sd": 1.5} if rule == "welch" else {}
    d = _design(rule=rule, treatment=-0.1, **extra)
    r = evaluate(d, n_sims=100_000, seed=6, type_one_error=False).results[0].success
    rng = np.random.default_rng(12)
    t = rng.normal(-0.1, 1.0, (20_000, 100)) + 0.3
    c = rng.normal(0.0, 1.5 if rule == "welch" else 1.0, (20_000, 100))
    q = float(
        np.mean(stats.ttest_ind(t, c, axis=1, equal_var=equal_var, alternative="greater").pvalue <= 0.025)
    )
    assert abs(r.value - q) <= 4 * math.sqrt(r.mcse**2 + q * (1 - q) / 20_000)


def test_margins_only_where_a_rule_takes_them():
    with pytest.raises(DesignError, match="analysis.margin"):
        _design(rule="ancova")
    with pytest.raises(DesignError, match="analysis.margin"):
        _design(margin=-0.1)


def _count_design(margin=1.5, better="lower", treatment=2.0, **analysis):
    return parse_design(
        {
            "name": "non-inferiority, counts",
            "arms": {"kind": "randomized", "n": 300},
            "endpoint": {"kind": "count", "exposure": 1.0, "dispersion": 0.5, "better": better},
            "analysis": {"rule": "nb-wald", "margin": margin, **analysis},
            "scenarios": [{"name": "x", "treatment": treatment, "control": 2.0}],
        }
    )


def test_rate_ratio_margin_power_is_zhu_and_lakkis_with_the_margin():
    """Equal rates 2 per year, dispersion 0.5, 150 per arm, margin 1.5: the simulated power against
    Phi((log 1.5 - z sqrt(V)) / sqrt(V)) (Zhu and Lakkis's normal approximation), within 0.005 + 4 MCSE."""
    from planner.analytic import power_nb_rate_ratio

    r = evaluate(_count_design(), n_sims=200_000, seed=1, type_one_error=False).results[0].success
    formula = power_nb_rate_ratio(2.0, 2.0, 150, 150, 1.0, 0.5, 0.025, margin=1.5)
    assert abs(r.value - formula) <= 0.005 + 4 * r.mcse
    plain = (
        evaluate(_count_design(margin=None), n_sims=20_000, seed=1, type_one_error=False).results[0].success
    )
    assert plain.value < 0.05  # without the margin equal rates are the null


@pytest.mark.parametrize(("better", "null_rate"), [("lower", 3.0), ("higher", 2.0 / 1.5)])
def test_rate_ratio_null_is_the_margin_times_the_control(better, null_rate):
    d = _count_design(better=better, treatment=null_rate)
    assert d.is_null(d.scenarios[0])
    result = evaluate(d, n_sims=200_000, seed=5)
    r = result.results[0].success
    assert abs(r.value - 0.025) <= 3 * r.mcse + 0.002  # a Wald test: near alpha at 150 per arm
    check = result.type_one_error
    assert check is not None and all(
        g.treatment == pytest.approx(g.control * null_rate / 2.0) for g in check.grid
    )


@pytest.mark.parametrize(
    ("margin", "analysis", "words"),
    [(0.8, {}, "analysis.margin"), (1.5, {"nb_variance": "restricted"}, "analysis.nb_variance")],
)
def test_bad_rate_ratio_margins_are_named(margin, analysis, words):
    with pytest.raises(DesignError, match=words):
        _count_design(margin=margin, **analysis)


def test_the_report_states_the_non_inferiority_null(tmp_path):
    """The report's null hypothesis is computed from the margin: a difference for means, a ratio for counts,
    'no difference' without a margin."""
    from planner.report import build_report

    assert "worse than the control by 0.3 or more" in _design().null_hypothesis()
    assert "1.5 or more times the control's" in _count_design().null_hypothesis()
    assert _design(margin=None).null_hypothesis() == "no difference between the arms"
    out = build_report(_design(), tmp_path, n_sims=2_000, pdf=False)
    assert "worse than the control by 0.3 or more" in out.html.read_text()
