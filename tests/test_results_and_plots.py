"""Result objects (planner.results) and the charts (planner.plots): what they state is what they hold."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from planner.mixtures import BetaMixture, NormalMixture
from planner.plots import curve_chart, curve_frame, prior_chart, prior_frame
from planner.results import Estimate, json_ready
from planner.search import CurvePoint


def test_estimate_from_a_count_carries_the_binomial_mcse():
    e = Estimate.from_count(250, 10_000)
    assert (e.value, e.exact, e.n_sims) == (0.025, False, 10_000)
    assert e.mcse == pytest.approx(math.sqrt(0.025 * 0.975 / 10_000), rel=1e-15)
    exact = Estimate.exactly(1.0000000000000002)  # rounding above 1 is clipped, and exact means MCSE 0
    assert (exact.value, exact.mcse, exact.exact, exact.n_sims) == (1.0, 0.0, True, None)


def test_json_ready_makes_valid_json():
    data = {"a": [1.0, float("nan"), float("inf")], "b": (2, {"c": -float("inf")})}
    text = json.dumps(json_ready(data), allow_nan=False)
    assert json.loads(text) == {"a": [1.0, None, None], "b": [2, {"c": None}]}


def test_the_curve_band_is_the_95_percent_monte_carlo_interval_clipped_to_0_1():
    points = (
        CurvePoint(20, 0.5, 0.01, False),
        CurvePoint(40, 0.99, 0.01, False),
        CurvePoint(60, 1.0, 0.0, True),
    )
    frame = curve_frame(points, "power")
    assert frame["low"].tolist() == pytest.approx([0.5 - 0.0196, 0.99 - 0.0196, 1.0])
    assert frame["high"].tolist() == pytest.approx([0.5 + 0.0196, 1.0, 1.0])  # 0.99 + 0.0196 clipped to 1
    spec = curve_chart(frame, "power", target=0.8, current_n=40).to_dict()
    marks = [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]
    ]
    assert marks == ["area", "line", "rule", "rule"]  # band, curve, target line, current N


def test_prior_densities_are_the_mixtures_densities():
    priors = {
        "design": BetaMixture((1.0,), (11.0,), (3.0,)),
        "analysis": NormalMixture((1.0,), (0.0,), (2.0,)),
    }
    frame = prior_frame(priors)
    beta = frame[frame["prior"] == "design"]
    from scipy import stats

    assert np.allclose(beta["density"], stats.beta.pdf(beta["value"], 11, 3))
    normal = frame[frame["prior"] == "analysis"]
    assert normal["value"].min() == pytest.approx(-10.0, abs=1e-6) and normal["value"].max() == pytest.approx(
        10.0
    )
    spec = prior_chart(frame, "response rate").to_dict()
    assert spec["mark"]["type"] == "line" and spec["encoding"]["color"]["field"] == "prior"
    assert spec["encoding"]["x"]["title"] == "response rate"
