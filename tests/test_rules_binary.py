"""Binary rules against scipy's implementations of the same tests (independent code)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from planner.rules import make_rule
from planner.rules.binary import boschloo_pvalue, boschloo_reject_table, fisher_pvalues
from tests.conftest import make_design


def test_fisher_pvalues_match_scipy_on_every_table():
    m1, m2 = 9, 7
    pf = fisher_pvalues(m1, m2)
    for x1 in range(m1 + 1):
        for x2 in range(m2 + 1):
            ref = stats.fisher_exact([[x1, x2], [m1 - x1, m2 - x2]], alternative="greater").pvalue
            assert pf[x1, x2] == pytest.approx(ref, rel=1e-10, abs=1e-15)


@pytest.mark.parametrize(
    ("x1", "m1", "x2", "m2"), [(9, 12, 3, 10), (12, 12, 0, 10), (7, 12, 2, 10), (20, 30, 10, 28)]
)
def test_boschloo_pvalue_matches_scipy(x1, m1, x2, m2):
    ref = stats.boschloo_exact([[x1, x2], [m1 - x1, m2 - x2]], alternative="greater").pvalue
    assert boschloo_pvalue(x1, m1, x2, m2) == pytest.approx(ref, rel=1e-6)


def test_boschloo_region_equals_scipy_decisions():
    m1, m2, alpha = 8, 7, 0.05
    region = boschloo_reject_table(m1, m2, alpha)
    for x1 in range(m1 + 1):
        for x2 in range(m2 + 1):
            p = stats.boschloo_exact([[x1, x2], [m1 - x1, m2 - x2]], alternative="greater").pvalue
            if abs(p - alpha) > 1e-6:  # scipy's optimizer is accurate to about 1e-8
                assert region[x1, x2] == (p <= alpha), (x1, x2, p)


def test_exact_binomial_critical_value_matches_binomtest():
    design = make_design(
        {"kind": "single-arm", "n": 50},
        {"kind": "binary"},
        {"rule": "exact-binomial", "performance_goal": 0.5},
        [{"name": "s", "treatment": 0.5}],
    )
    rule = make_rule(design)
    for m in (10, 37, 50):
        pvals = [stats.binomtest(x, m, 0.5, alternative="greater").pvalue for x in range(m + 1)]
        expected = next(x for x in range(m + 1) if pvals[x] <= 0.025)
        assert rule.critical(m) == expected
    # published: n = 50, p0 = 0.5, one-sided 2.5%: reject with 33 or more responders (P(X>=33) = 0.0164)
    assert rule.critical(50) == 33


def test_z_pooled_region_matches_direct_formula():
    design = make_design(
        {"kind": "randomized", "n": 60},
        {"kind": "binary"},
        {"rule": "z-pooled", "alpha": 0.025},
        [{"name": "s", "treatment": 0.5, "control": 0.5}],
    )
    rule = make_rule(design)
    m1, m2 = 30, 30
    table = rule.reject_table(m1, m2)
    for x1 in range(m1 + 1):
        for x2 in range(m2 + 1):
            p1, p2, pb = x1 / m1, x2 / m2, (x1 + x2) / (m1 + m2)
            se = np.sqrt(pb * (1 - pb) * (1 / m1 + 1 / m2))
            z = (p1 - p2) / se if se > 0 else 0.0
            assert table[x1, x2] == (stats.norm.sf(z) < 0.025)
