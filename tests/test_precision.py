"""Precision-based sizing (issue 16, item 2): interval limits against Newcombe's (1998) published table, exact
probabilities and widths against enumeration with scipy written here, the search over N, the CLI and the app."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy import stats
from typer.testing import CliRunner

from planner import DesignError, load_design
from planner.cli import app
from planner.design import Dropout
from planner.precision import (
    clopper_pearson,
    precision,
    precision_of_design,
    smallest_n_for_precision,
    wilson,
)

ROOT = Path(__file__).resolve().parent.parent
SINGLE_ARM = ROOT / "examples" / "zimislecel_single_arm.toml"


# Newcombe RG. Stat Med 1998;17:857-72, Table II: 95% limits, Wilson (method 3) and exact (method 5):
# planner/validation/newcombe1998.toml -- the file `planner validate` reads too.
def _newcombe():
    from planner.validation import load_references

    cases: dict = {}
    for ref in load_references():
        if ref.file == "newcombe1998.toml":
            i = ref.inputs
            limits = cases.setdefault(
                (i["x"], i["n"]), {"interval.wilson": [0, 0], "interval.clopper-pearson": [0, 0]}
            )
            limits[ref.method][int(i["side"])] = ref.expected
    return [
        (x, n, tuple(v["interval.wilson"]), tuple(v["interval.clopper-pearson"]))
        for (x, n), v in cases.items()
    ]


NEWCOMBE = _newcombe()  # x, n, (Wilson lower, upper), (Clopper-Pearson lower, upper)


@pytest.mark.parametrize(("x", "n", "wil", "cp"), NEWCOMBE)
def test_the_intervals_equal_newcombes_table(x, n, wil, cp):
    assert [round(float(v), 4) for v in wilson(x, n)] == list(wil)
    assert [round(float(v), 4) for v in clopper_pearson(x, n)] == list(cp)


def _enumerate(n, q, threshold, interval, level=0.95):
    """P(lower > threshold), E[width] by a loop over x with scipy's Beta quantiles / the Wilson formula."""
    z = stats.norm.ppf(1 - (1 - level) / 2)
    above = width = 0.0
    for x in range(n + 1):
        if interval == "clopper-pearson":
            lo = stats.beta.ppf((1 - level) / 2, x, n - x + 1) if x > 0 else 0.0
            hi = stats.beta.ppf(1 - (1 - level) / 2, x + 1, n - x) if x < n else 1.0
        else:
            p = x / n
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            lo, hi = max(centre - half, 0.0), min(centre + half, 1.0)
        pmf = stats.binom.pmf(x, n, q)
        above += pmf * (lo > threshold)
        width += pmf * (hi - lo)
    return above, width


@pytest.mark.parametrize("interval", ["clopper-pearson", "wilson"])
@pytest.mark.parametrize(
    ("n", "rate", "threshold"), [(50, 0.8, 0.6), (48, 0.875, 0.7), (12, 10 / 12, 0.5), (80, 0.6, 0.5)]
)
def test_probabilities_and_widths_equal_enumeration(interval, n, rate, threshold):
    got = precision(n, rate, threshold, interval=interval)
    above, width = _enumerate(n, rate, threshold, interval)
    assert got.p_lower_above == pytest.approx(above, abs=1e-12)
    assert got.expected_width == pytest.approx(width, abs=1e-12)


def test_dropouts_thin_the_rate_or_mix_over_the_number_analysed():
    failure = precision(40, 0.8, 0.55, dropout=Dropout(rate=0.1, strategy="failure"))
    assert failure.p_lower_above == pytest.approx(_enumerate(40, 0.72, 0.55, "clopper-pearson")[0], abs=1e-12)
    missing = precision(40, 0.8, 0.55, dropout=Dropout(rate=0.1, strategy="missing"))
    want = sum(
        stats.binom.pmf(m, 40, 0.9) * _enumerate(m, 0.8, 0.55, "clopper-pearson")[0] for m in range(1, 41)
    )
    assert missing.p_lower_above == pytest.approx(want, abs=1e-12)


def test_the_search_finds_the_smallest_and_the_stable_n():
    search = smallest_n_for_precision(0.8, 0.6, 0.8, n_max=120)
    values = [_enumerate(n, 0.8, 0.6, "clopper-pearson")[0] for n in range(1, 121)]
    ok = [v >= 0.8 for v in values]
    assert search.smallest_n == 1 + ok.index(True)
    stable = max(i for i in range(120) if not ok[i]) + 2
    assert search.stable_n == stable and search.stable_n >= search.smallest_n
    width = smallest_n_for_precision(0.8, 0.0, 0.2, quantity="expected_width", n_max=200)
    assert (
        width.points[width.smallest_n - 1].expected_width
        <= 0.2
        < width.points[width.smallest_n - 2].expected_width
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rate": 1.3}, "rate"),
        ({"threshold": -0.1}, "threshold"),
        ({"level": 1.0}, "level"),
        ({"interval": "wald"}, "interval"),
        ({"n": -4}, "n"),
    ],
)
def test_bad_input_is_named(kwargs, field):
    args = {"n": 40, "rate": 0.8, "threshold": 0.5} | kwargs
    n, rate, threshold = args.pop("n"), args.pop("rate"), args.pop("threshold")
    with pytest.raises(DesignError, match=f"^{field}:"):
        precision(n, rate, threshold, **args)


def test_randomized_designs_are_refused_with_the_field_named():
    design = load_design(ROOT / "examples" / "hba1c_randomized.toml")
    with pytest.raises(DesignError, match="endpoint.kind: precision-based sizing is for single-arm binary"):
        precision_of_design(design, 0.5)


def test_the_cli_sizes_for_precision_and_names_bad_input():
    design = load_design(SINGLE_ARM)
    out = CliRunner().invoke(
        app,
        [
            "size",
            str(SINGLE_ARM),
            "--target-precision",
            "0.8",
            "--threshold",
            "0.5",
            "--scenario",
            "Phase 1/2 estimate",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    rate = next(s.treatment for s in design.scenarios if s.name == "Phase 1/2 estimate")
    want = smallest_n_for_precision(rate, 0.5, 0.8, dropout=design.dropout)
    assert payload["smallest_n"] == want.smallest_n and payload["stable_n"] == want.stable_n
    runner = CliRunner()
    bad = runner.invoke(app, ["size", str(SINGLE_ARM), "--target-precision", "0.8"])
    assert bad.exit_code == 2 and "--threshold: required" in bad.stderr
    bad = runner.invoke(app, ["size", str(SINGLE_ARM), "--target-precision", "1.3", "--threshold", "0.5"])
    assert bad.exit_code == 2 and "--target-precision" in bad.stderr and "1.3" in bad.stderr
    bad = runner.invoke(
        app,
        ["size", str(SINGLE_ARM), "--target-precision", "0.8", "--threshold", "0.5", "--interval", "wald"],
    )
    assert bad.exit_code == 2 and "--interval" in bad.stderr and "Traceback" not in bad.output


def test_the_app_panel_shows_the_apis_smallest_n():
    from streamlit.testing.v1 import AppTest

    from tests.test_app import run_page

    at = AppTest.from_function(run_page, args=("size_page",), default_timeout=120).run()
    at.radio(key="w_metric").set_value("precision").run()
    at.selectbox(key="w_prec_scenario").set_value("Phase 1/2 estimate").run()
    at.number_input(key="w_prec_threshold").set_value(0.6).run()
    assert not at.exception
    design = load_design(SINGLE_ARM)
    rate = next(s.treatment for s in design.scenarios if s.name == "Phase 1/2 estimate")
    n_max = max(4 * design.arms.n, 100)
    want = smallest_n_for_precision(rate, 0.6, 0.8, dropout=design.dropout, n_max=n_max)
    shown = {m.label: m.value for m in at.metric}
    label = "Smallest N with P(lower limit > 0.6) >= 0.8"
    assert want.smallest_n is not None and shown[label] == str(want.smallest_n)
    at.number_input(key="w_prec_threshold").set_value(1.5).run()
    assert not at.exception and any("threshold" in e.value and "1.5" in e.value for e in at.error)
