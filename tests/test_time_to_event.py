"""Time-to-event endpoints: the event-time models, the closed-form sizing against rpact 3.3.4, the simulated
log-rank test against scipy's log-rank implementation, rpact's simulation and its null, and bad input.

rpact values come from Debian's r-cran-rpact 3.3.4 (R 4.2.2); each test gives the R call beside its values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from planner import DesignError, evaluate, parse_design
from planner.endpoints.time_to_event import (
    PerTrialModel,
    logrank_z,
    simulate_survival_design,
    simulate_survival_trials,
)
from planner.randomness import BlockStreams
from planner.time_to_event.models import (
    Accrual,
    Cured,
    Exponential,
    PiecewiseExponential,
    Weibull,
    dropout_hazard,
)
from planner.time_to_event.sizing import (
    events_freedman,
    events_schoenfeld,
    power_schoenfeld,
    size_survival,
    time_for_events,
)

# ---- models ---------------------------------------------------------------------------------------------


def test_the_models_have_their_closed_forms():
    e = Exponential.from_median(15.0)  # Edmonton: median duration of insulin independence 15 months
    assert e.median() == pytest.approx(15.0, rel=1e-14)
    assert float(e.survival(30.0)) == pytest.approx(0.25, rel=1e-14)
    w = Weibull.from_median(15.0, 1.7)
    assert w.median() == pytest.approx(15.0, rel=1e-13)
    assert float(w.survival(10.0)) == pytest.approx(math.exp(-((10.0 / w.scale) ** 1.7)), rel=1e-14)
    p = PiecewiseExponential((0.0, 6.0, 12.0), (0.05, 0.02, 0.01))
    # H(15) = 6 * 0.05 + 6 * 0.02 + 3 * 0.01 = 0.45
    assert float(p.cumulative_hazard(np.array([15.0]))[0]) == pytest.approx(0.45, rel=1e-14)
    c = Cured(0.3, e)
    assert float(c.survival(15.0)) == pytest.approx(0.3 + 0.7 * 0.5, rel=1e-14)
    assert float(c.survival(1e9)) == pytest.approx(0.3, rel=1e-12)  # the durable fraction never has the event


MODELS = {
    "exponential": Exponential(0.1),
    "weibull": Weibull(0.7, 20.0),
    "piecewise": PiecewiseExponential((0.0, 3.0, 10.0), (0.2, 0.05, 0.01)),
    "cured": Cured(0.25, Weibull(1.5, 12.0)),
}


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())
def test_simulated_event_times_follow_the_survival_function(model):
    """The inverse (S(t) = u) maps uniforms to event times whose empirical survival matches S: a roundtrip to
    1e-12, and a Kolmogorov-Smirnov test of 2 x 10^5 draws against S (the durable fraction at infinity)."""
    u = np.random.default_rng(4).random(200_000)
    t = model.quantile_of_survival(1.0 - u)
    finite = np.isfinite(t)
    assert np.allclose(model.survival(t[finite]), 1.0 - u[finite], rtol=1e-10, atol=1e-12)
    cdf_at_t = 1.0 - model.survival(np.sort(t[finite]))
    n = u.size
    ecdf = np.arange(1, finite.sum() + 1) / n
    assert np.max(np.abs(ecdf - cdf_at_t)) < 1.63 / math.sqrt(n)  # KS critical value at 1%
    if isinstance(model, Cured):
        assert abs((~finite).mean() - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n)


@pytest.mark.parametrize(
    "model",
    [
        *MODELS.values(),
        PerTrialModel(Exponential(math.log(2.0)), np.full((4, 1), 0.05), np.full((4, 1), 0.2)),
    ],
    ids=[*MODELS.keys(), "per-trial"],
)
def test_event_times_from_unit_exponentials_invert_the_survival_function(model):
    """What the simulation uses (u -> E = -log(1 - u) -> t with H(t) = E, written into a buffer) gives the
    same times as inverting S(t) = 1 - u directly, to 1e-12; u = 0 gives time +0.0 (the follow-up sort treats
    a negative zero as not in the analysis)."""
    u = np.random.default_rng(5).random((4, 3_000))
    u[0, 0] = 0.0
    direct = model.quantile_of_survival(1.0 - u)
    out = np.full(u.shape, np.nan)
    via = model.event_times(u.copy(), out=out)
    assert via is out
    finite = np.isfinite(direct)
    assert np.array_equal(finite, np.isfinite(via))
    assert np.allclose(via[finite], direct[finite], rtol=1e-12, atol=1e-13)
    assert via[0, 0] == 0.0 and not np.signbit(via[0, 0])


def test_all_exponential_arms_take_one_pass_with_the_same_numbers():
    """Two exponential arms (one multiplication by each participant's mean) against the same hazards as
    one-piece piecewise exponentials (the general per-arm path): the same events, analysis times and, to
    rounding, log-rank z for every simulated trial (dropout, random entry)."""
    args = dict(
        size=3_000,
        sizes=(60, 40),
        accrual=Accrual.uniform(10.0),
        dropout_hazards=(0.01, 0.01),
        events=50,
    )
    fast = simulate_survival_trials(BlockStreams(3, 0), models=(Exponential(0.04), Exponential(0.07)), **args)
    general = simulate_survival_trials(
        BlockStreams(3, 0),
        models=(PiecewiseExponential((0.0,), (0.04,)), PiecewiseExponential((0.0,), (0.07,))),
        **args,
    )
    assert np.array_equal(fast.events, general.events) and np.array_equal(fast.enrolled, general.enrolled)
    assert np.allclose(fast.time, general.time, rtol=1e-13)
    assert np.allclose(fast.z, general.z, rtol=1e-9, atol=1e-12)


def test_piecewise_accrual_enters_in_proportion_to_its_intensities():
    accrual = Accrual((0.0, 6.0, 12.0), (20.0, 40.0))  # 120 in the first 6 months, 240 in the next 6
    e = accrual.entry_quantile(np.random.default_rng(1).random(300_000))
    assert abs((e < 6.0).mean() - 1 / 3) < 4 * math.sqrt(2 / 9 / e.size)
    assert e.min() >= 0.0 and e.max() < 12.0
    assert stats.kstest(e[e < 6.0], stats.uniform(0, 6).cdf).pvalue > 1e-3


def test_bad_model_parameters_are_refused():
    with pytest.raises(ValueError, match="cut points must increase"):
        PiecewiseExponential((0.0, 6.0, 3.0), (0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="times must increase"):
        Accrual((0.0, 6.0, 6.0), (1.0, 1.0))


# ---- sizing against rpact --------------------------------------------------------------------------------
# R: library(rpact); d <- getDesignGroupSequential(kMax = 1, alpha = 0.025, beta = 0.2, sided = 1)
# A: getSampleSizeSurvival(d, hazardRatio = 0.6, lambda2 = log(2)/12, accrualTime = c(0, 12), followUpTime = 12)
# B: the same with typeOfComputation = "Freedman"
# C: hazardRatio = 0.7, lambda2 = log(2)/12, accrualTime = c(0, 12), followUpTime = 12, dropoutRate1 = 0.05,
#    dropoutRate2 = 0.05, dropoutTime = 12, allocationRatioPlanned = 2
# D: piecewiseSurvivalTime = c(0, 6), lambda2 = c(0.05, 0.02), hazardRatio = 0.6, accrualTime = c(0, 12),
#    followUpTime = 12
# F: d2 <- getDesignGroupSequential(kMax = 1, alpha = 0.025, beta = 0.1, sided = 1); hazardRatio = 0.5,
#    lambda2 = 0.03, accrualTime = c(0, 24), followUpTime = 6, allocationRatioPlanned = 0.5, dropoutRate1 = 0.02,
#    dropoutRate2 = 0.04, dropoutTime = 12
# values printed with sprintf("%.10f"): maxNumberOfEvents, maxNumberOfSubjects, analysisTime
RPACT_SIZES = {
    "A": (120.3157043775, 218.8415475426, 24.0),
    "B": (125.5820757496, 228.4205203539, 24.0),
    "C": (277.6354926158, 517.5414961485, 24.0),
    "D": (120.3157043775, 347.7448820611, 24.0),
    "F": (98.4142099367, 291.1995895743, 30.0),
}


def _rpact_case(name):
    median = Exponential.from_median(12.0)
    if name in ("A", "B"):
        return dict(
            hazard_ratio=0.6,
            control=median,
            treatment=Exponential(median.rate * 0.6),
            accrual=Accrual.uniform(12.0),
            follow_up=12.0,
            method="schoenfeld" if name == "A" else "freedman",
        )
    if name == "C":
        eta = dropout_hazard(0.05, 12.0)
        return dict(
            hazard_ratio=0.7,
            control=median,
            treatment=Exponential(median.rate * 0.7),
            accrual=Accrual.uniform(12.0),
            follow_up=12.0,
            allocation=2.0,
            dropouts=(eta, eta),
        )
    if name == "D":
        return dict(
            hazard_ratio=0.6,
            control=PiecewiseExponential((0.0, 6.0), (0.05, 0.02)),
            treatment=PiecewiseExponential((0.0, 6.0), (0.03, 0.012)),
            accrual=Accrual.uniform(12.0),
            follow_up=12.0,
        )
    return dict(
        hazard_ratio=0.5,
        control=Exponential(0.03),
        treatment=Exponential(0.015),
        accrual=Accrual.uniform(24.0),
        follow_up=6.0,
        beta=0.1,
        allocation=0.5,
        dropouts=(dropout_hazard(0.02, 12.0), dropout_hazard(0.04, 12.0)),
    )


@pytest.mark.parametrize("name", list(RPACT_SIZES))
def test_events_subjects_and_analysis_time_equal_rpact(name):
    events, subjects, time = RPACT_SIZES[name]
    size = size_survival(**_rpact_case(name))
    assert abs(size.events - events) < 1e-6
    assert abs(size.subjects - subjects) < 1e-3
    assert abs(size.analysis_time - time) < 1e-3


def test_the_analysis_time_of_piecewise_accrual_equals_rpact():
    """R: getSampleSizeSurvival(d, hazardRatio = 0.65, lambda2 = log(2)/18, accrualTime = c(0, 6, 12),
    accrualIntensity = c(20, 40), dropoutRate1 = 0.1, dropoutRate2 = 0.1, dropoutTime = 12): 360 subjects,
    maxNumberOfEvents 169.1806628999, analysisTime 30.2145251079 (follow-up 18.2145251079)."""
    control = Exponential.from_median(18.0)
    eta = dropout_hazard(0.1, 12.0)
    events = events_schoenfeld(0.65, 0.025, 0.2)
    assert abs(events - 169.1806628999) < 1e-6
    t = time_for_events(
        events,
        360.0,
        (Exponential(control.rate * 0.65), control),
        Accrual((0.0, 6.0, 12.0), (20.0, 40.0)),
        1.0,
        (eta, eta),
    )
    assert abs(t - 30.2145251079) < 1e-3


def test_schoenfeld_and_freedman_closed_forms():
    z = special.ndtri(0.975) + special.ndtri(0.8)
    assert events_schoenfeld(0.6, 0.025, 0.2) == pytest.approx(4 * z**2 / math.log(0.6) ** 2, rel=1e-14)
    assert events_freedman(0.6, 0.025, 0.2) == pytest.approx(z**2 * 1.6**2 / 0.4**2, rel=1e-14)
    assert power_schoenfeld(events_schoenfeld(0.6, 0.025, 0.2), 0.6, 0.025) == pytest.approx(0.8, abs=1e-12)


# ---- the simulated log-rank test ------------------------------------------------------------------------


def _design(**changes):
    spec = {
        "name": "durability",
        "arms": {"kind": "randomized", "n": 220},
        "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "events": 121},
        "analysis": {"rule": "logrank"},
        "scenarios": [
            {"name": "null", "treatment": 12.0, "control": 12.0},
            {"name": "hr 0.6", "treatment": 20.0, "control": 12.0},
        ],
    }
    spec.update(changes)
    return parse_design(spec)


def test_the_logrank_statistic_equals_scipys():
    """logrank_z on censored two-arm data (some participants not yet entered, negative follow-up) against
    scipy.stats.logrank, an independent implementation, on 40 simulated data sets; benefit (HR < 1) positive."""
    rng = np.random.default_rng(8)
    for _ in range(40):
        n1, n2 = 30, 25
        follow = rng.exponential(10.0, n1 + n2)
        follow[:n1] *= 1.6  # treatment lives longer
        event = rng.random(n1 + n2) < 0.7
        outside = rng.random(n1 + n2) < 0.1  # not entered by the analysis: no follow-up, no event
        follow[outside], event[outside] = -1.0, False
        treated = np.arange(n1 + n2) < n1
        ours = logrank_z(follow[None, :], event[None, :], treated)[0]
        keep = follow > 0
        t, c = keep & treated, keep & ~treated
        res = stats.logrank(
            stats.CensoredData(uncensored=follow[t & event], right=follow[t & ~event]),
            stats.CensoredData(uncensored=follow[c & event], right=follow[c & ~event]),
        )
        assert ours == pytest.approx(-res.statistic, rel=1e-9, abs=1e-12)


def test_simulated_power_and_analysis_time_agree_with_rpacts_simulation():
    """R: getSimulationSurvival(getDesignGroupSequential(kMax = 1, alpha = 0.025, sided = 1), hazardRatio = hr,
    lambda2 = log(2)/12, accrualTime = c(0, 12), plannedEvents = 121, maxNumberOfSubjects = 220,
    maxNumberOfIterations = 1e5, seed = 1, directionUpper = FALSE): hr = 1: overallReject 0.02510,
    analysisTime 20.15585; hr = 0.6: 0.79847, 23.98498 (10^5 trials each: MC SE of a rejection rate
    sqrt(p (1 - p) / 10^5)). The planner's 10^5 trials: within 4 combined MC SEs."""
    d = _design(
        endpoint={"kind": "time-to-event", "accrual_time": 12.0, "events": 121, "entry": "evenly-spaced"}
    )
    trials = 100_000
    for scenario, (p_rpact, time_rpact) in zip(
        d.scenarios, [(0.02510, 20.15585), (0.79847, 23.98498)], strict=True
    ):
        sample = simulate_survival_design(d, scenario, BlockStreams(5, 0), trials)
        p = float((sample.z >= special.ndtri(0.975)).mean())
        se = math.sqrt((p * (1 - p) + p_rpact * (1 - p_rpact)) / trials)
        assert abs(p - p_rpact) <= 4 * se
        assert abs(sample.time.mean() - time_rpact) <= 4 * math.sqrt(2) * sample.time.std() / math.sqrt(
            trials
        )
        assert np.all(sample.events == 121)


def test_allocation_and_dropout_agree_with_rpacts_simulation():
    """R: getSimulationSurvival(d, hazardRatio = 0.7, lambda2 = log(2)/12, accrualTime = c(0, 12),
    plannedEvents = 150, maxNumberOfSubjects = 300, maxNumberOfIterations = 1e5, seed = 2, directionUpper = FALSE,
    allocation1 = 2, allocation2 = 1, dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12):
    overallReject 0.56700, analysisTime 22.12787."""
    d = parse_design(
        {
            "name": "2:1 with dropout",
            "arms": {"kind": "randomized", "n": 300, "allocation": [2.0, 1.0]},
            "endpoint": {
                "kind": "time-to-event",
                "accrual_time": 12.0,
                "events": 150,
                "dropout_probability": 0.05,
                "dropout_time": 12.0,
                "entry": "evenly-spaced",
            },
            "analysis": {"rule": "logrank"},
            "scenarios": [{"name": "hr 0.7", "treatment": 12.0 / 0.7, "control": 12.0}],
        }
    )
    trials = 100_000
    sample = simulate_survival_design(d, d.scenarios[0], BlockStreams(6, 0), trials)
    p = float((sample.z >= special.ndtri(0.975)).mean())
    assert abs(p - 0.56700) <= 4 * math.sqrt(2 * 0.567 * 0.433 / trials)
    assert abs(sample.time.mean() - 22.12787) <= 4 * math.sqrt(2) * sample.time.std() / math.sqrt(trials)


def test_fixed_follow_up_power_is_near_schoenfeld_at_the_expected_events():
    """A fixed analysis (12 months after the last entry): the simulated power against Schoenfeld's formula at
    the simulated mean number of events (an approximation: within 0.02), and the mean number of events
    against Lachin-Foulkes' expected events (within 4 MC SEs)."""
    d = _design(endpoint={"kind": "time-to-event", "accrual_time": 12.0, "follow_up": 12.0})
    result = evaluate(d, n_sims=40_000, seed=3)
    sample = simulate_survival_design(d, d.scenarios[1], BlockStreams(3, 0), 40_000)
    size = size_survival(
        0.6, Exponential.from_median(12.0), Exponential.from_median(20.0), Accrual.uniform(12.0), 12.0
    )
    expected_events = 220 * sum(size.expected_event_fraction) / 2
    assert abs(sample.events.mean() - expected_events) <= 4 * sample.events.std() / math.sqrt(
        sample.events.size
    )
    power = result["hr 0.6"].success.value
    assert abs(power - power_schoenfeld(sample.events.mean(), 0.6, 0.025)) < 0.02


@pytest.mark.slow
def test_logrank_type_one_error_on_a_million_null_trials():
    """10^6 null trials (equal medians, event-driven at 121 events): the rejection rate within alpha +- 3 MC SE."""
    d = _design()
    result = evaluate(d, n_sims=1_000_000, seed=11, type_one_error=False)["null"]
    assert abs(result.success.value - 0.025) <= 3 * result.success.mcse


def test_same_numbers_whatever_the_chunk_size():
    d = _design(
        endpoint={"kind": "time-to-event", "accrual_time": 12.0, "follow_up": 6.0, "dropout_probability": 0.1}
    )
    a = evaluate(d, n_sims=6_000, chunk_size=500, type_one_error=False)
    b = evaluate(d, n_sims=6_000, chunk_size=6_000, type_one_error=False)
    assert [r.to_dict() for r in a.results] == [r.to_dict() for r in b.results]


def test_the_type_one_error_guard_checks_equal_medians():
    check = evaluate(_design(), n_sims=20_000).type_one_error
    assert check is not None and not check.exceeds
    assert check.at.treatment == check.at.control == 12.0


# ---- bad input ------------------------------------------------------------------------------------------

BAD = [
    ({"scenarios": [{"name": "s", "treatment": -3.0, "control": 12.0}]}, "scenarios[0].treatment", "-3.0"),
    (
        {"scenarios": [{"name": "s", "treatment": 20.0, "control": 12.0, "durable": [1.2, 0.0]}]},
        "scenarios[0].durable",
        "1.2",
    ),
    (
        {"endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "follow_up": -1.0}},
        "endpoint.follow_up",
        "-1.0",
    ),
    ({"endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "events": 500}}, "endpoint.events", "500"),
    (
        {
            "endpoint": {
                "kind": "time-to-event",
                "accrual_time": 12.0,
                "events": 100,
                "model": "piecewise-exponential",
                "cuts": [0.0, 6.0, 3.0],
                "relative_hazards": [1.0, 0.5, 0.2],
            }
        },
        "endpoint.cuts",
        "[0.0, 6.0, 3.0]",
    ),
    ({"endpoint": {"kind": "time-to-event", "accrual_time": 12.0}}, "endpoint", "follow_up"),
    (
        {"endpoint": {"kind": "time-to-event", "accrual_time": -2.0, "events": 100}},
        "endpoint.accrual_time",
        "-2",
    ),
]


@pytest.mark.parametrize(("changes", "field", "value"), BAD)
def test_bad_time_to_event_input_names_the_field_and_value(changes, field, value):
    spec = {
        "name": "durability",
        "arms": {"kind": "randomized", "n": 220},
        "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "events": 121},
        "analysis": {"rule": "logrank"},
        "scenarios": [{"name": "s", "treatment": 20.0, "control": 12.0}],
        **changes,
    }
    with pytest.raises(DesignError) as err:
        parse_design(spec)
    text = str(err.value)
    assert field in text and value in text, text


TOML = """name = "durability, randomized"
[arms]
kind = "randomized"
n = 220
[endpoint]
kind = "time-to-event"
label = "loss of insulin independence"
accrual_time = 12.0
events = 121
[analysis]
rule = "logrank"
[[scenarios]]
name = "null"
treatment = 12.0
control = 12.0
[[scenarios]]
name = "hr 0.6"
treatment = 20.0
control = 12.0
[simulation]
n_sims = 20000
"""


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (None, None, None),
        ("treatment = 20.0", "treatment = -20.0", "scenarios[1].treatment"),
        ("events = 121", "events = 500", "endpoint.events"),
        ("events = 121", "events = 100\nfollow_up = 6.0", "exactly one of follow_up"),
        ("accrual_time = 12.0", 'accrual_time = "12"', "endpoint.accrual_time"),
    ],
)
def test_the_cli_evaluates_time_to_event_designs_and_names_bad_fields(old, new, words, tmp_path):
    from typer.testing import CliRunner

    from planner.cli import app

    path = tmp_path / "durability.toml"
    path.write_text(TOML if old is None else TOML.replace(old, new))
    result = CliRunner().invoke(app, ["evaluate", str(path), "--json"])
    if old is None:
        assert result.exit_code == 0, result.output
        import json

        row = json.loads(result.output)["scenarios"][1]
        assert abs(row["p_success"] - power_schoenfeld(121, 0.6, 0.025)) < 4 * row["mcse"] + 0.01
        assert row["survival"]["expected_events"] == 121.0
        table = CliRunner().invoke(app, ["evaluate", str(path)])
        assert "E[events]" in table.output and "E[analysis time], months" in table.output
        return
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_the_app_shows_a_pasted_time_to_event_design_with_the_apis_numbers():
    """Pasting a time-to-event design: no exception, its scenarios and the API's power shown (the power curve
    only at N >= the design's events)."""
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP, results

    at = AppTest.from_file(APP, default_timeout=180).run()
    at.text_area(key="pasted").set_value(TOML).run()
    at.button(key="load_pasted").click().run()
    assert not at.exception
    shown = results(at).set_index("scenario")["P(success)"]
    expected = evaluate(parse_design_toml(TOML))
    assert shown["hr 0.6"] == f"{expected['hr 0.6'].success.value:.4f}"


def test_the_report_of_a_time_to_event_design_states_its_estimand(tmp_path):
    from planner.report import build_report

    build_report(parse_design_toml(TOML), tmp_path / "report", n_sims=2_000, pdf=False)
    text = (tmp_path / "report" / "report.html").read_text()
    assert "hazard ratio, treatment over control" in text
    assert "censored at dropout" in text
    assert (tmp_path / "report" / "sensitivity_dropout.csv").exists()


def parse_design_toml(text):
    import tomllib

    return parse_design(tomllib.loads(text))


# ---- event-driven group sequential designs -----------------------------------------------------------------
# R: d <- getDesignGroupSequential(kMax = 3, alpha = 0.025, beta = 0.2, sided = 1, typeOfDesign = td,
#        informationRates = c(0.5, 0.75, 1))
#    x <- getSampleSizeSurvival(d, hazardRatio = 0.6, lambda2 = log(2)/12, accrualTime = c(0, 12), followUpTime = 12)
#    x$maxNumberOfEvents, x$expectedEventsH1, x$expectedEventsH0, x$maxNumberOfSubjects, x$analysisTime[, 1],
#    x$rejectPerStage[, 1]   (sprintf("%.10f") / "%.8f")
RPACT_GSD = {
    "obrien-fleming": (
        122.6778023378,
        100.9650263678,
        122.3350819446,
        223.1379540321,
        (13.31560879, 17.98601284, 24.0),
        (0.16797044, 0.37202015, 0.26000941),
    ),
    "pocock": (
        140.7497207900,
        99.8522936326,
        139.4758447166,
        256.0088632921,
        (13.31560879, 17.98601284, 24.0),
        (0.49427611, 0.17372154, 0.13200234),
    ),
}


@pytest.mark.parametrize("spending", list(RPACT_GSD))
def test_group_sequential_events_subjects_and_look_times_equal_rpact(spending):
    from planner.sequential import efficacy_boundaries
    from planner.time_to_event.sizing import size_survival_sequential

    max_events, eh1, eh0, subjects, times, stops = RPACT_GSD[spending]
    control = Exponential.from_median(12.0)
    size = size_survival_sequential(
        efficacy_boundaries((0.5, 0.75, 1.0), 0.025, spending),
        0.6,
        control,
        Exponential(control.rate * 0.6),
        Accrual.uniform(12.0),
        12.0,
    )
    assert size.events[-1] == pytest.approx(max_events, rel=1e-6)
    assert size.expected_events_h1 == pytest.approx(eh1, rel=1e-6)
    assert size.expected_events_h0 == pytest.approx(eh0, rel=1e-6)
    assert size.subjects == pytest.approx(subjects, abs=1e-3)
    assert size.analysis_times == pytest.approx(times, abs=1e-3)
    assert size.efficacy_stops_h1 == pytest.approx(stops, abs=1e-6)


def _gsd(spending="obrien-fleming", **endpoint):
    return parse_design(
        {
            "name": "durability, 3 looks",
            "arms": {"kind": "randomized", "n": 240},
            "endpoint": {
                "kind": "time-to-event",
                "accrual_time": 12.0,
                "events": 130,
                "entry": "evenly-spaced",
                **endpoint,
            },
            "analysis": {"rule": "logrank"},
            "interim": {"fractions": [0.5, 0.75, 1.0], "spending": spending},
            "scenarios": [
                {"name": "null", "treatment": 12.0, "control": 12.0},
                {"name": "hr 0.6", "treatment": 20.0, "control": 12.0},
            ],
        }
    )


# R: getSimulationSurvival(d, hazardRatio = c(1, 0.6), lambda2 = log(2)/12, accrualTime = c(0, 12),
#    plannedEvents = c(65, 98, 130), maxNumberOfSubjects = 240, directionUpper = FALSE,
#    maxNumberOfIterations = 1e5, seed = 3): overallReject, expectedNumberOfEvents, rejectPerStage[, 2]
RPACT_GSD_SIM = {
    "obrien-fleming": ((0.02459, 0.81818), (129.6485, 106.2031), (0.17386, 0.39050, 0.25382)),
    "pocock": ((0.02445, 0.76153), (128.8760, 95.0924), (0.45030, 0.17619, 0.13504)),
}


@pytest.mark.parametrize("spending", list(RPACT_GSD_SIM))
def test_simulated_group_sequential_design_agrees_with_rpacts_simulation(spending):
    """Looks at 65, 98 and 130 events: the rejection rate, the expected number of events and the stopping
    probabilities per look within 4 combined MC SEs of rpact's 10^5 simulated trials (rpact's SE of the
    expected events taken equal to the planner's)."""
    d = _gsd(spending)
    assert d.look_events == (65, 98, 130)
    result = evaluate(d, n_sims=100_000, seed=2, type_one_error=False)
    reject, events, stops = RPACT_GSD_SIM[spending]
    n = 100_000
    for r, p_rpact, e_rpact in zip(result.results, reject, events, strict=True):
        p = r.success.value
        assert abs(p - p_rpact) <= 4 * math.sqrt((p * (1 - p) + p_rpact * (1 - p_rpact)) / n)
        assert abs(r.survival.expected_events - e_rpact) <= 4 * math.sqrt(2) * r.survival.expected_events_mcse
    for ours, theirs in zip(result.results[1].stages.efficacy_stop, stops, strict=True):
        assert abs(ours.value - theirs) <= 4 * math.sqrt(2 * theirs * (1 - theirs) / n)


@pytest.mark.slow
def test_three_look_logrank_type_one_error_on_a_million_null_trials():
    result = evaluate(_gsd("pocock"), n_sims=1_000_000, seed=12, type_one_error=False)["null"]
    assert abs(result.success.value - 0.025) <= 3 * result.success.mcse


def test_group_sequential_survival_is_the_same_whatever_the_chunk_size():
    d = _gsd(entry="random", dropout_probability=0.1)
    a = evaluate(d, n_sims=5_000, chunk_size=333, type_one_error=False)
    b = evaluate(d, n_sims=5_000, chunk_size=5_000, type_one_error=False)
    assert [r.to_dict() for r in a.results] == [r.to_dict() for r in b.results]
    assert a.results[1].survival.expected_time < a.results[0].survival.expected_time  # H1 stops earlier


def test_a_one_look_event_driven_design_equals_the_fixed_design():
    """The one core: the log-rank design with a single look at all its events, through the sequential loop
    (boundary z_{1-alpha} at information 1), decides every simulated trial as the fixed design."""
    from planner.group_sequential import BoundaryLooks
    from planner.rules import rule_for
    from planner.sequential import efficacy_boundaries

    d = _design()
    sample = simulate_survival_design(d, d.scenarios[1], BlockStreams(9, 0), 20_000)
    rule = rule_for(d)
    look = BoundaryLooks(d, rule, efficacy_boundaries((1.0,), 0.025, "obrien-fleming"))
    assert np.array_equal(look(0, True, None, sample)[0], rule.decide(sample))


# ---- single-arm tests: one-sample log-rank and the Kaplan-Meier landmark -----------------------------------


def _single_arm(analysis, n=60, **endpoint):
    return parse_design(
        {
            "name": "durability, single arm",
            "arms": {"kind": "single-arm", "n": n},
            "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "follow_up": 24.0, **endpoint},
            "analysis": analysis,
            "scenarios": [
                {"name": "null", "treatment": 15.0},  # Edmonton: median duration 15 months
                {"name": "median 30", "treatment": 30.0},
                {"name": "durable 0.3", "treatment": 15.0, "durable": [0.3]},
            ],
        }
    )


ONE_SAMPLE = {"rule": "one-sample-logrank", "performance_goal": 15.0}
LANDMARK = {"rule": "km-landmark", "performance_goal": 0.5, "landmark": 12.0}


def _reference_trials(median, durable, trials, seed, n=60):
    """Independent per-participant data, one trial at a time: uniform entry over 12 months, exponential event
    times (a durable fraction never has the event), analysis 24 months after the last entry."""
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        entry = rng.uniform(0.0, 12.0, n)
        time = rng.exponential(median / math.log(2.0), n)
        time[rng.random(n) < durable] = np.inf
        window = 36.0 - entry
        yield np.minimum(time, window), time <= window


def _reference_one_sample_z(follow, event, goal_median):
    observed = int(event.sum())
    expected = float(sum(f * math.log(2.0) / goal_median for f in follow))
    return (expected - observed) / math.sqrt(expected)


def _reference_landmark_z(follow, event, landmark, goal):
    s, greenwood = 1.0, 0.0
    at_risk = len(follow)
    for i in np.argsort(follow):
        if follow[i] > landmark:
            break
        if event[i]:
            s *= 1.0 - 1.0 / at_risk
            greenwood += 1.0 / (at_risk * (at_risk - 1.0))
        at_risk -= 1
    if s == 1.0:
        return math.inf
    return (math.log(-math.log(goal)) - math.log(-math.log(s))) / (math.sqrt(greenwood) / abs(math.log(s)))


def test_single_arm_statistics_equal_a_participant_level_computation():
    """The vectorized one-sample log-rank and landmark statistics against the loops above on the same data."""
    from planner.endpoints.time_to_event import landmark_z, one_sample_logrank_z

    one = one_sample_logrank_z(Exponential.from_median(15.0))
    mark = landmark_z(12.0, 0.5)
    for follow, event in _reference_trials(20.0, 0.2, 300, seed=1):
        f, e = follow[None, :], event[None, :]
        assert one(f.copy(), e, np.zeros(60, bool))[0] == pytest.approx(
            _reference_one_sample_z(follow, event, 15.0)
        )
        ref = _reference_landmark_z(follow, event, 12.0, 0.5)
        assert mark(f.copy(), e, np.zeros(60, bool))[0] == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize(("analysis", "reference"), [(ONE_SAMPLE, "one"), (LANDMARK, "landmark")])
def test_single_arm_power_agrees_with_a_participant_level_simulation(analysis, reference):
    """Rejection rates of the planner (10^5 trials) and of the independent per-participant simulation (4,000
    trials, loops) within 4 combined MC SEs, under the median-30 and durable-fraction scenarios and the null."""
    d = _single_arm(analysis)
    result = evaluate(d, n_sims=100_000, seed=4, type_one_error=False)
    crit = special.ndtri(0.975)
    trials = 4_000
    for r, (median, durable) in zip(result.results, [(15.0, 0.0), (30.0, 0.0), (15.0, 0.3)], strict=True):
        zs = [
            _reference_one_sample_z(f, e, 15.0)
            if reference == "one"
            else _reference_landmark_z(f, e, 12.0, 0.5)
            for f, e in _reference_trials(median, durable, trials, seed=int(median * 10 + durable * 100))
        ]
        q = float(np.mean(np.array(zs) >= crit))
        p = r.success.value
        se = math.sqrt(p * (1 - p) / 100_000 + max(q * (1 - q), 1e-4) / trials)
        assert abs(p - q) <= 4 * se, (r.scenario.name, p, q)


@pytest.mark.slow
@pytest.mark.parametrize("analysis", [ONE_SAMPLE, LANDMARK], ids=["one-sample-logrank", "km-landmark"])
def test_single_arm_type_one_error_on_a_million_null_trials(analysis):
    """At the null (the reference median 15 months; for the landmark test the median whose survival at 12
    months is the goal 0.5), 10^6 trials: at most alpha + 3 MC SEs (both tests are conservative at N = 60,
    the one-sample log-rank as reported in the literature), and the guard agrees."""
    d = _single_arm(analysis)
    result = evaluate(d, n_sims=1_000_000, seed=13)
    check = result.type_one_error
    assert check.value <= 0.025 + 3 * check.mcse
    assert not check.exceeds
    if analysis is LANDMARK:
        assert check.at.treatment == pytest.approx(12.0, rel=1e-9)  # S(12) = 0.5 at median 12 (exponential)


def test_single_arm_estimands_and_null():
    d = _single_arm(LANDMARK)
    null, better, durable = (d.estimand_truth(s) for s in d.scenarios)
    assert null[0] == pytest.approx(2 ** (-12 / 15))  # S(12) at median 15
    assert durable[0] == pytest.approx(0.3 + 0.7 * 2 ** (-12 / 15))
    assert d.null_boundary() == pytest.approx(12.0, rel=1e-12)
    one = _single_arm(ONE_SAMPLE)
    assert one.is_null(one.scenarios[0]) and not one.is_null(one.scenarios[2])
    assert one.estimand_truth(one.scenarios[2])[0] > 15.0  # the durable fraction lengthens the median


@pytest.mark.parametrize(
    ("analysis", "words"),
    [
        ({"rule": "km-landmark", "performance_goal": 0.5}, "analysis.landmark"),
        ({"rule": "km-landmark", "performance_goal": 1.5, "landmark": 12.0}, "analysis.performance_goal"),
        ({"rule": "one-sample-logrank", "performance_goal": -15.0}, "analysis.performance_goal"),
        ({"rule": "one-sample-logrank", "performance_goal": 15.0, "landmark": 12.0}, "analysis.landmark"),
        ({"rule": "logrank"}, "analysis.rule"),
    ],
)
def test_bad_single_arm_analyses_are_named(analysis, words):
    with pytest.raises(DesignError, match=words.replace(".", r"\.")):
        _single_arm(analysis)


def test_the_numerical_event_probability_equals_the_closed_form():
    """F_obs for models without a closed form (one integral of S) against exponential closed forms: a Weibull
    of shape 1 is exponential, and a durable fraction pi scales the susceptibles' probability by 1 - pi."""
    from planner.time_to_event.sizing import observed_event_probability

    e = Exponential(0.05)
    for eta in (0.0, 0.01):
        exact = 0.05 / (0.05 + eta) * -math.expm1(-(0.05 + eta) * 30.0)
        assert observed_event_probability(e, 30.0, eta) == pytest.approx(exact, rel=1e-13)
        assert observed_event_probability(Weibull(1.0, 20.0), 30.0, eta) == pytest.approx(exact, rel=1e-10)
        assert observed_event_probability(Cured(0.3, e), 30.0, eta) == pytest.approx(0.7 * exact, rel=1e-10)


# ---- the Cox hazard ratio ---------------------------------------------------------------------------------


def _reference_cox(follow, event, treated):
    """The Cox partial log-likelihood of one data set maximized by scipy (bounded scalar search), and its
    observed information by a central second difference: an independent route to beta and se."""
    order = np.argsort(follow)
    t, d, x = follow[order], event[order], treated[order].astype(float)
    keep = t >= 0
    t, d, x = t[keep], d[keep], x[keep]

    def loglik(beta):
        total = 0.0
        for i in np.flatnonzero(d):
            risk = t >= t[i]
            total += beta * x[i] - np.log(np.sum(np.exp(beta * x[risk])))
        return total

    beta = optimize.minimize_scalar(
        lambda b: -loglik(b), bounds=(-5, 5), method="bounded", options={"xatol": 1e-10}
    ).x
    h = 1e-4
    info = -(loglik(beta + h) - 2 * loglik(beta) + loglik(beta - h)) / h**2
    return beta, 1.0 / math.sqrt(info)


def test_the_cox_estimate_equals_a_direct_maximization_of_the_partial_likelihood():
    from planner.endpoints.time_to_event import cox_log_hazard_ratio, cox_wald_z

    rng = np.random.default_rng(21)
    for _ in range(25):
        n1, n2 = 35, 30
        follow = rng.exponential(10.0, n1 + n2)
        follow[:n1] *= 1.5
        event = rng.random(n1 + n2) < 0.75
        outside = rng.random(n1 + n2) < 0.1
        follow[outside], event[outside] = -1.0, False
        treated = np.arange(n1 + n2) < n1
        beta, se = cox_log_hazard_ratio(follow[None, :], event[None, :], treated)
        ref_beta, ref_se = _reference_cox(follow, event, treated)
        assert beta[0] == pytest.approx(ref_beta, abs=1e-7)
        assert se[0] == pytest.approx(ref_se, rel=1e-4)
        assert cox_wald_z(follow[None, :], event[None, :], treated)[0] == pytest.approx(-beta[0] / se[0])
    # monotone likelihood: no treated events -> -inf (benefit: z = +inf); no events at all -> z = 0
    follow = np.array([[1.0, 2.0, 3.0, 4.0]])
    treated = np.array([True, True, False, False])
    event = np.array([[False, False, True, True]])
    beta, _ = cox_log_hazard_ratio(follow, event, treated)
    assert beta[0] == -np.inf and cox_wald_z(follow, event, treated)[0] == np.inf
    assert cox_wald_z(follow, np.zeros_like(event), treated)[0] == 0.0


def test_cox_power_agrees_with_rpact_and_the_logrank_test():
    """The Cox Wald test on the rpact design of the log-rank test above (121 events, HR 0.6): its power is
    within MC error of the log-rank test's on the same trials (both estimate the same score test to first
    order), and its size at HR 1 within alpha + 3 MC SEs."""
    d = _design(analysis={"rule": "cox"})
    cox = evaluate(d, n_sims=100_000, seed=1, type_one_error=False)
    logrank = evaluate(_design(), n_sims=100_000, seed=1, type_one_error=False)
    for a, b in zip(cox.results, logrank.results, strict=True):
        assert abs(a.success.value - b.success.value) <= 0.01, (a.success.value, b.success.value)
    assert cox.results[0].success.value <= 0.025 + 3 * cox.results[0].success.mcse
    assert cox.results[1].success.value == pytest.approx(0.79847, abs=4 * math.sqrt(2 * 0.8 * 0.2 / 100_000))


@pytest.mark.slow
def test_cox_type_one_error_on_a_million_null_trials():
    d = _design(analysis={"rule": "cox"})
    check = evaluate(d, n_sims=1_000_000, seed=17).type_one_error
    assert check.value <= 0.025 + 3 * check.mcse and not check.exceeds


def test_cox_group_sequential_holds_alpha_and_follows_the_logrank_design():
    """Two looks (at 61 and 121 events, O'Brien-Fleming): the Cox Wald test's stopping boundaries are the
    log-rank design's; 10^5 trials at HR 1 within alpha + 3 MC SEs and power within 0.01 of the log-rank's."""
    looks = {"fractions": [0.5, 1.0], "spending": "obrien-fleming"}
    cox = evaluate(
        _design(analysis={"rule": "cox"}, interim=looks), n_sims=100_000, seed=5, type_one_error=False
    )
    logrank = evaluate(_design(interim=looks), n_sims=100_000, seed=5, type_one_error=False)
    assert cox.results[0].success.value <= 0.025 + 3 * cox.results[0].success.mcse
    assert abs(cox.results[1].success.value - logrank.results[1].success.value) <= 0.01


# ---- one-sample log-rank sizing (Wu 2015) -------------------------------------------------------------------

# Wu J. Sample size calculation for the one-sample log-rank test. Pharm Stat 2015;14:26-33, example: reference
# Weibull with median m0 = 9 years and shape k = 1.22, hazard ratio delta = 1/1.75, uniform accrual over 5 years,
# 3 years of follow-up, one-sided alpha 0.05, power 0.8: n = 88, and power 0.803 at n = 88 -- the values of the
# example as reproduced by the R package logRank1s (XiaomengYuan9709/logRank1s, SampleSize.R and power.R:
# SampleSize(alpha = 0.05, power = 0.8, ta = 5, tf = 3, m0 = 9, delta = 1/1.75, k = 1.22) gives 88;
# power(alpha = 0.05, n = 88, ...) gives 0.803).
WU_REFERENCE = Weibull.from_median(9.0, 1.22)
WU_TRUTH = Weibull.from_median(9.0 * 1.75 ** (1 / 1.22), 1.22)  # S = S0^delta: the median times delta^(-1/k)


def test_one_sample_logrank_size_equals_wus_published_example():
    from planner.time_to_event.sizing import one_sample_logrank_power, size_one_sample_logrank

    size = size_one_sample_logrank(WU_REFERENCE, WU_TRUTH, Accrual.uniform(5.0), 3.0, alpha=0.05, beta=0.2)
    assert math.ceil(size.n) == 88
    assert round(size.power, 3) == 0.803
    assert one_sample_logrank_power(88, WU_REFERENCE, WU_TRUTH, Accrual.uniform(5.0), 3.0, 0.05) == size.power
    # proportional hazards: P(event observed) = delta x E[Lambda_0(X)], and E[Delta Lambda_0] = delta p00
    assert size.p1 == pytest.approx(size.p0 / 1.75, rel=1e-9)
    assert size.p01 == pytest.approx(size.p00 / 1.75, rel=1e-9)


def test_one_sample_logrank_moments_equal_monte_carlo_per_participant():
    """p0, p1, p00 and p01 (with dropout and piecewise accrual) against 2 x 10^6 simulated participants:
    entry from the accrual, Weibull event time, exponential dropout, censoring at accrual end + follow-up."""
    from planner.time_to_event.sizing import _one_sample_moments

    accrual = Accrual((0.0, 2.0, 5.0), (10.0, 30.0))
    eta = 0.05
    p0, p1, p00, p01 = _one_sample_moments(WU_REFERENCE, WU_TRUTH, accrual, 3.0, eta)
    rng = np.random.default_rng(8)
    m = 2_000_000
    entry = accrual.entry_quantile(rng.random(m))
    t = WU_TRUTH.quantile_of_survival(1.0 - rng.random(m))
    c = np.minimum(rng.exponential(1 / eta, m), 8.0 - entry)
    x = np.minimum(t, c)
    delta = (t <= c).astype(float)
    lam = WU_REFERENCE.cumulative_hazard(x)
    for ours, draws in ((p0, lam), (p1, delta), (p00, lam**2 / 2), (p01, delta * lam)):
        assert abs(ours - draws.mean()) <= 4 * draws.std() / math.sqrt(m), (ours, draws.mean())


@pytest.mark.slow
def test_one_sample_logrank_power_formula_against_simulation():
    """Wu's power at n = 88 (0.803) against the planner's simulated one-sample log-rank test on the same
    design (10^5 trials): Wu's normal approximation is within 0.01 of the simulated power."""
    d = parse_design(
        {
            "name": "Wu 2015 example",
            "arms": {"kind": "single-arm", "n": 88},
            "endpoint": {
                "kind": "time-to-event",
                "model": "weibull",
                "shape": 1.22,
                "accrual_time": 5.0,
                "follow_up": 3.0,
                "time_unit": "years",
            },
            "analysis": {"rule": "one-sample-logrank", "performance_goal": 9.0, "alpha": 0.05},
            "scenarios": [{"name": "delta 1/1.75", "treatment": 9.0 * 1.75 ** (1 / 1.22)}],
        }
    )
    r = evaluate(d, n_sims=100_000, seed=3, type_one_error=False).results[0].success
    assert abs(r.value - 0.803) <= 0.01 + 3 * r.mcse, r
