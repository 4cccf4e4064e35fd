"""Sample-size re-estimation with the weighted inverse-normal combination test (issue 15, item 3): the
integrated operating characteristics against simulation and closed forms, the level on 10^6 null trials, the
naive test's inflation against an independent simulation of it, the rules' conditional power, the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import special
from typer.testing import CliRunner

from planner.adaptive import (
    Reestimation,
    conditional_power,
    naive_type_one_error,
    operating_characteristics,
    plan_of,
    simulate,
)
from planner.cli import app
from planner.errors import DesignError

# Mehta and Pocock's (2011) schizophrenia trial: sd 7.5, 442 participants planned (221 per arm), the interim
# after 208 (104 per arm), at most 884 (stage 2 up to 338 per arm), promising zone from CP 0.365 to 0.8.
MP = Reestimation(n1=104, n2=117, n2_max=338, sd=7.5)
CP_RULE = Reestimation(n1=104, n2=117, n2_max=338, sd=7.5, rule="conditional-power")


@pytest.mark.parametrize("design", [MP, CP_RULE], ids=["promising-zone", "conditional-power"])
@pytest.mark.parametrize("delta", [0.0, 1.6, 2.0])
def test_integration_equals_simulation(design, delta):
    exact = operating_characteristics(design, delta)
    sim = simulate(design, delta, 200_000, seed=3)
    assert abs(exact.power - sim.power) <= 4 * sim.power_mcse
    assert abs(exact.expected_n - sim.expected_n) <= 4 * sim.expected_n_mcse
    assert abs(exact.p_increase - sim.p_increase) <= 4 * max(sim.p_increase_mcse, 1e-4)
    assert sum(exact.n_distribution.values()) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("design", [MP, CP_RULE], ids=["promising-zone", "conditional-power"])
def test_the_combination_test_keeps_alpha(design):
    """By integration to 1e-9, and on 10^6 simulated null trials within alpha + 3 MCSE."""
    assert operating_characteristics(design, 0.0).power == pytest.approx(0.025, abs=1e-9)
    sim = simulate(design, 0.0, 1_000_000, seed=11)
    assert sim.power <= 0.025 + 3 * sim.power_mcse


def test_without_room_to_increase_it_is_the_fixed_design():
    """n2_max = n2: the combination test is the z test on 2 x 221 participants, power Phi(delta sqrt(221 / 2) /
    sd - z_{0.975}) exactly; N is always 442."""
    fixed = Reestimation(n1=104, n2=117, n2_max=117, sd=7.5)
    oc = operating_characteristics(fixed, 2.0)
    assert oc.power == pytest.approx(
        float(special.ndtr(2.0 * math.sqrt(221 / 2) / 7.5 - special.ndtri(0.975))), abs=1e-9
    )
    assert oc.n_distribution == {442: pytest.approx(1.0, abs=1e-12)} and oc.p_increase == 0.0


def test_the_naive_test_inflates_under_the_conditional_power_rule():
    """The naive z on all data, simulated directly per trial (2 x 10^6 null trials), equals the integral:
    0.0302 under the conditional-power rule; Mehta and Pocock's zone keeps it below alpha here."""
    rng = np.random.default_rng(7)
    z1 = rng.standard_normal(2_000_000)
    m = CP_RULE.stage_two_size(z1)
    z2 = rng.standard_normal(z1.size)
    naive = (math.sqrt(104) * z1 + np.sqrt(m) * z2) / np.sqrt(104 + m)
    p = float(np.mean(naive >= special.ndtri(0.975)))
    assert abs(naive_type_one_error(CP_RULE) - p) <= 4 * math.sqrt(p * (1 - p) / z1.size)
    assert naive_type_one_error(CP_RULE) > 0.03
    assert naive_type_one_error(MP) < 0.025


def test_the_rules_reach_the_target_conditional_power_when_they_can():
    z1 = np.linspace(-3.0, 4.0, 2_001)
    for design in (MP, CP_RULE):
        m = design.stage_two_size(z1)
        assert np.all((m >= design.n2) & (m <= design.n2_max))
        cp = conditional_power(design, z1, m)
        moved = (m > design.n2) & (m < design.n2_max)
        assert np.all(cp[moved] >= 0.8 - 1e-12)  # enough ...
        assert np.all(conditional_power(design, z1[moved], m[moved] - 1) < 0.8)  # ... and not one more
    planned = conditional_power(MP, z1, MP.n2)
    outside = (planned < 0.365) | (planned >= 0.8)
    assert np.all(MP.stage_two_size(z1)[outside] == MP.n2)  # favourable or unfavourable: as planned
    assert np.any(MP.stage_two_size(z1) > MP.n2)


def test_same_seed_same_numbers():
    a, b = simulate(MP, 1.6, 70_000, seed=5), simulate(MP, 1.6, 70_000, seed=5)
    assert a == b


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"n1": 0}, "n1"),
        ({"n2_max": 50}, "n2_max"),
        ({"sd": -1.0}, "sd"),
        ({"rule": "foo"}, "rule"),
        ({"target_power": 1.3}, "target_power"),
        ({"cp_min": 0.9}, "cp_min"),
        ({"n1": 2.5}, "n1"),
    ],
)
def test_bad_designs_are_named(kwargs, words):
    args = {"n1": 104, "n2": 117, "n2_max": 338, "sd": 7.5} | kwargs
    with pytest.raises(DesignError, match=words):
        Reestimation(**args)


def test_cli_prints_json_and_names_bad_options():
    runner = CliRunner()
    base = ["ssr", "--n1", "104", "--n2", "117", "--sd", "7.5", "--delta", "2"]
    ok = runner.invoke(app, [*base, "--n2-max", "338", "--json"])
    assert ok.exit_code == 0
    payload = json.loads(ok.stdout)
    assert payload["results"][0]["power"] == pytest.approx(operating_characteristics(MP, 2.0).power)
    assert payload["combination_test_type_one_error"] == pytest.approx(0.025, abs=1e-9)
    bad = runner.invoke(app, [*base, "--n2-max", "50"])
    assert bad.exit_code == 2 and "--n2-max" in bad.stderr and "Traceback" not in bad.output
    huge = runner.invoke(app, [*base, "--n2-max", "338", "--sims", "0"])
    assert huge.exit_code == 2 and "--sims" in huge.stderr


# rpact 3.3.4 (Debian r-cran-rpact), 2 x 10^5 simulated trials per effect:
#   d <- getDesignInverseNormal(kMax = 2, alpha = 0.025, sided = 1, informationRates = c(104 / 221, 1),
#                               typeOfDesign = "noEarlyEfficacy")
#   getSimulationMeans(d, groups = 2, normalApproximation = TRUE, alternative = c(0, 1.6, 2), stDev = 7.5,
#     plannedSubjects = c(208, 442), minNumberOfSubjectsPerStage = c(NA, 234),
#     maxNumberOfSubjectsPerStage = c(NA, 676), conditionalPower = 0.8, maxNumberOfIterations = 200000,
#     seed = 1)                                  # rpact's own conditional-power rule (observed effect)
#   ... the same with calcSubjectsFunction = pz, where pz returns 234 unless
#     pnorm(thetaH1 / stDevH1 * sqrt(234 / 4) - conditionalCriticalValue) is in [0.365, conditionalPower),
#     and rpact's conditional-power size otherwise (Mehta and Pocock's zone)
# $overallReject and $expectedNumberOfSubjects:
RPACT_SSR = {
    "conditional-power": ((0.02460, 0.79719, 0.92794), (852.660, 653.209, 587.442)),
    "promising-zone": ((0.02460, 0.65723, 0.83459), (463.819, 495.024, 488.282)),
}


@pytest.mark.parametrize("design", [MP, CP_RULE], ids=["promising-zone", "conditional-power"])
def test_power_and_expected_n_equal_rpacts_simulation(design):
    """Within 4 of rpact's Monte Carlo SEs; E[N] also within the rounding up to whole participants per arm (the
    planner's sizes are whole, rpact's are not: at most 2 more in N when increased)."""
    powers, sizes = RPACT_SSR[design.rule]
    for delta, p, n in zip((0.0, 1.6, 2.0), powers, sizes, strict=True):
        oc = operating_characteristics(design, delta)
        assert abs(oc.power - p) <= 4 * math.sqrt(p * (1 - p) / 200_000), (delta, oc.power, p)
        sd_n = math.sqrt(sum(q * (v - oc.expected_n) ** 2 for v, q in oc.n_distribution.items()))
        assert abs(oc.expected_n - n) <= 4 * sd_n / math.sqrt(200_000) + 2 * oc.p_increase, (
            delta,
            oc.expected_n,
            n,
        )


# --- re-estimation inside a design file: evaluate, the CLI, the report and the app -----------------------------
def _mp_design(**changes):
    from planner import parse_design

    spec = {
        "name": "Mehta and Pocock's sizes",
        "arms": {"kind": "randomized", "n": 442},
        "endpoint": {"kind": "continuous", "sd": 7.5},
        "analysis": {"rule": "t-pooled"},
        "reestimation": {"fraction": 104 / 221, "max_n": 884, "rule": "promising-zone"},
        "scenarios": [
            {"name": "null", "treatment": 0.0, "control": 0.0},
            {"name": "delta 1.6", "treatment": 1.6, "control": 0.0},
            {"name": "delta 2", "treatment": 2.0, "control": 0.0},
        ],
    }
    for key, value in changes.items():
        *path, last = key.split(".")
        target = spec
        for part in path:
            target = target[part]
        target[last] = value
    return parse_design(spec)


def test_a_design_with_reestimation_evaluates_to_the_combination_test():
    from planner import evaluate

    design = _mp_design()
    assert plan_of(design) == MP
    result = evaluate(design)
    for r, delta in zip(result.results, (0.0, 1.6, 2.0), strict=True):
        want = operating_characteristics(MP, delta)
        assert r.success.exact and r.success.value == want.power
        assert r.expected_n == want.expected_n and r.reestimation.n_distribution == want.n_distribution
    check = result.type_one_error
    assert check.exact and check.value == pytest.approx(0.025, abs=1e-9) and not check.exceeds
    # lower is better: the same effects, negated, give the same numbers
    lower = _mp_design(
        **{"endpoint.better": "lower"},
        scenarios=[
            {"name": "null", "treatment": 0.0, "control": 0.0},
            {"name": "delta 1.6", "treatment": -1.6, "control": 0.0},
            {"name": "delta 2", "treatment": -2.0, "control": 0.0},
        ],
    )
    assert [r.success.value for r in evaluate(lower).results] == [r.success.value for r in result.results]
    # simulated on request, with MCSEs, within 4 of them
    sim = evaluate(design, method="simulate", n_sims=100_000, seed=5)
    for r, s in zip(result.results, sim.results, strict=True):
        assert not s.success.exact and abs(s.success.value - r.success.value) <= 4 * s.success.mcse


def test_with_n_keeps_equal_arms_and_the_caps_ratio():
    d = _mp_design().with_n(301)
    assert d.arms.n == 302 and d.arms.sizes == (151, 151) and d.reestimation.max_n == 604


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"reestimation.max_n": 400},
            "reestimation.max_n: the cap must be at least the planned N = 442, got 400",
        ),
        ({"arms.allocation": [2, 1]}, "arms.allocation: sample-size re-estimation needs equal arms"),
        (
            {"dropout": {"rate": 0.1, "strategy": "missing"}},
            "dropout.rate: not available with [reestimation]",
        ),
        ({"analysis.rule": "welch"}, "set analysis.rule = 't-pooled', got 'welch'"),
        ({"reestimation.cp_min": 0.9}, "reestimation.cp_min: must be below target_power = 0.8, got 0.9"),
        ({"reestimation.fraction": 1.2}, "reestimation.fraction"),
    ],
)
def test_bad_reestimation_sections_are_named(changes, message):
    with pytest.raises(DesignError) as err:
        _mp_design(**changes)
    assert message in str(err.value)


def test_a_binary_design_with_reestimation_is_refused():
    from planner import parse_design

    with pytest.raises(
        DesignError, match="reestimation: sample-size re-estimation is available for randomized continuous"
    ):
        parse_design(
            {
                "name": "b",
                "arms": {"kind": "randomized", "n": 100},
                "endpoint": {"kind": "binary"},
                "analysis": {"rule": "fisher"},
                "reestimation": {"max_n": 200},
                "scenarios": [{"name": "a", "treatment": 0.5, "control": 0.3}],
            }
        )


def test_the_cli_report_and_app_show_the_apis_reestimation(tmp_path):
    import pandas as pd
    from streamlit.testing.v1 import AppTest

    from planner import evaluate
    from planner.adaptive import naive_finding
    from planner.design import design_to_toml
    from planner.report import build_report
    from tests.test_app import APP, load_text

    design = _mp_design(**{"reestimation.rule": "conditional-power"})
    result = evaluate(design)
    path = tmp_path / "ssr.toml"
    path.write_text(design_to_toml(design))
    payload = json.loads(CliRunner().invoke(app, ["ssr", str(path), "--json"]).stdout)
    assert [r["power"] for r in payload["results"]] == [r.success.value for r in result.results]
    finding = naive_finding(plan_of(design))
    naive = naive_type_one_error(plan_of(design))  # the conditional-power rule inflates it: 0.0302
    assert "ABOVE ALPHA" in finding and f"type I error {naive:.4f}" in finding and naive > 0.03
    out = build_report(design, tmp_path / "report", pdf=False)
    text = out.html.read_text()
    assert finding in text and "Sample-size re-estimation" in text
    assert "inverse-normal combination test, conditional-power re-estimation up to N = 884" in text
    csv = pd.read_csv(tmp_path / "report" / "reestimation.csv")
    assert list(csv["E[N]"]) == pytest.approx([r.expected_n for r in result.results], abs=1e-9)
    at = load_text(AppTest.from_file(APP, default_timeout=120).run(), design_to_toml(design))
    assert not at.exception
    table = next(t.value for t in at.table if "P(increase)" in t.value.columns)
    assert list(table["E[N]"]) == [f"{r.expected_n:.1f}" for r in result.results]
    assert finding in [e.value for e in at.error]


# --- early stopping at the interim ---------------------------------------------------------------------------
# rpact 3.3.4, 2 x 10^5 simulated trials per effect:
#   d <- getDesignInverseNormal(kMax = 2, alpha = 0.025, sided = 1, informationRates = c(104 / 221, 1),
#                               typeOfDesign = "asOF", futilityBounds = 0, bindingFutility = FALSE)
#   d$criticalValues                               # 3.065788 1.966162
#   getSimulationMeans(d, groups = 2, normalApproximation = TRUE, alternative = c(0, 1.6, 2), stDev = 7.5,
#     plannedSubjects = c(208, 442), minNumberOfSubjectsPerStage = c(NA, 234),
#     maxNumberOfSubjectsPerStage = c(NA, 676), conditionalPower = 0.8, maxNumberOfIterations = 200000,
#     seed = 1)
# $overallReject, $expectedNumberOfSubjects:
RPACT_GS_SSR = ((0.024180, 0.772465, 0.910080), (514.7232, 598.2036, 540.3373))
GS = Reestimation(
    n1=104,
    n2=117,
    n2_max=338,
    sd=7.5,
    rule="conditional-power",
    efficacy_spending="obrien-fleming",
    futility_z=0.0,
)


def test_early_stopping_bounds_power_and_expected_n_equal_rpact():
    assert GS.bounds == pytest.approx((3.065788, 1.966162), abs=5e-6)
    powers, sizes = RPACT_GS_SSR
    for delta, p, n in zip((0.0, 1.6, 2.0), powers, sizes, strict=True):
        oc = operating_characteristics(GS, delta)
        assert abs(oc.power - p) <= 4 * math.sqrt(p * (1 - p) / 200_000), (delta, oc.power, p)
        sd_n = math.sqrt(sum(q * (v - oc.expected_n) ** 2 for v, q in oc.n_distribution.items()))
        assert abs(oc.expected_n - n) <= 4 * sd_n / math.sqrt(200_000) + 2 * oc.p_increase, (
            delta,
            oc.expected_n,
            n,
        )
        assert oc.n_distribution.get(208, 0.0) > 0.0  # some trials stop at the interim (208 participants)


def test_early_stopping_integration_equals_simulation_and_keeps_alpha():
    for delta in (0.0, 1.6):
        exact = operating_characteristics(GS, delta)
        sim = simulate(GS, delta, 200_000, seed=4)
        assert abs(exact.power - sim.power) <= 4 * sim.power_mcse
        assert abs(exact.expected_n - sim.expected_n) <= 4 * sim.expected_n_mcse
    # ignoring the (non-binding) futility stop the level is alpha exactly; obeying it, below
    ignoring = Reestimation(**{**GS.__dict__, "futility_z": None})
    assert operating_characteristics(ignoring, 0.0).power == pytest.approx(0.025, abs=1e-9)
    assert operating_characteristics(GS, 0.0).power < 0.025
    with pytest.raises(DesignError, match="efficacy_spending"):
        Reestimation(104, 117, 338, 7.5, efficacy_spending="haybittle")


def test_a_design_with_early_stopping_evaluates_and_reports_it(tmp_path):
    from planner import evaluate
    from planner.report import build_report

    design = _mp_design(
        **{
            "reestimation.rule": "conditional-power",
            "reestimation.efficacy_spending": "obrien-fleming",
            "reestimation.futility_z": 0.0,
        }
    )
    assert plan_of(design) == GS
    result = evaluate(design)
    assert [r.success.value for r in result.results] == [
        operating_characteristics(GS, d).power for d in (0.0, 1.6, 2.0)
    ]
    assert not result.type_one_error.exceeds and result.type_one_error.value < 0.025
    text = build_report(design, tmp_path / "r", pdf=False).html.read_text()
    assert (
        "the trial stops for efficacy when z1 is at least 3.0658 (obrien-fleming spending) and for futility when "
        "z1 is below 0 (non-binding)" in text
    )
    with pytest.raises(DesignError, match="reestimation.futility_z"):
        _mp_design(**{"reestimation.futility_z": 12.0})


# --- stage-wise t tests (the sd estimated) -------------------------------------------------------------------
# rpact 3.3.4, 2 x 10^5 simulated trials per effect, stage-wise t tests, its rule with the planned sd:
#   d <- getDesignInverseNormal(kMax = 2, alpha = 0.025, sided = 1, informationRates = c(104 / 221, 1),
#                               typeOfDesign = "noEarlyEfficacy")
#   getSimulationMeans(d, groups = 2, normalApproximation = FALSE, alternative = c(0, 1.6, 2), stDev = 7.5,
#     plannedSubjects = c(208, 442), minNumberOfSubjectsPerStage = c(NA, 234),
#     maxNumberOfSubjectsPerStage = c(NA, 676), conditionalPower = 0.8, maxNumberOfIterations = 200000,
#     seed = 1)
# $overallReject, $expectedNumberOfSubjects:
RPACT_T_SSR = ((0.024865, 0.794590, 0.924690), (852.2808, 653.7998, 589.0313))
T_RULE = Reestimation(n1=104, n2=117, n2_max=338, sd=7.5, rule="conditional-power", test="t")


def test_stage_wise_t_tests_equal_rpact():
    powers, sizes = RPACT_T_SSR
    for delta, p, n in zip((0.0, 1.6, 2.0), powers, sizes, strict=True):
        sim = simulate(T_RULE, delta, 200_000, seed=8)
        both = math.sqrt(sim.power_mcse**2 + p * (1 - p) / 200_000)
        assert abs(sim.power - p) <= 4 * both, (delta, sim.power, p)
        assert abs(sim.expected_n - n) <= 4 * math.sqrt(2) * sim.expected_n_mcse + 2 * sim.p_increase, (
            delta,
            sim.expected_n,
            n,
        )
    with pytest.raises(DesignError, match="test: the integration is for stage-wise z tests"):
        operating_characteristics(T_RULE, 0.0)


def test_the_interim_sd_rule_keeps_alpha_on_a_million_null_trials():
    design = Reestimation(
        n1=104, n2=117, n2_max=338, sd=7.5, rule="conditional-power", test="t", rule_sd="interim"
    )
    sim = simulate(design, 0.0, 1_000_000, seed=9)
    assert sim.power <= 0.025 + 3 * sim.power_mcse, sim.power


@pytest.mark.slow
def test_the_t_path_equals_a_participant_level_simulation_with_scipy():
    """Small stages (8 + 8 per arm, up to 24 in stage 2) simulated participant by participant: scipy's pooled t
    test per stage, p-values combined with the planned weights; and the naive t test on all the data."""
    from scipy import stats

    design = Reestimation(
        n1=8, n2=8, n2_max=24, sd=1.0, rule="conditional-power", test="t", rule_sd="interim"
    )
    trials, delta = 20_000, 0.8
    rng = np.random.default_rng(10)
    w1, w2 = design.weights
    c = design.critical
    success = naive = 0
    sizes = []
    for _ in range(trials):
        t1, c1 = rng.normal(delta, 1.0, 8), rng.normal(0.0, 1.0, 8)
        res1 = stats.ttest_ind(t1, c1, alternative="greater")
        z1 = stats.norm.isf(res1.pvalue)
        s1 = math.sqrt((t1.var(ddof=1) + c1.var(ddof=1)) / 2)
        m = int(
            design.stage_two_size(np.array([z1]), theta=np.array([t1.mean() - c1.mean()]), sd=np.array([s1]))[
                0
            ]
        )
        t2, c2 = rng.normal(delta, 1.0, m), rng.normal(0.0, 1.0, m)
        z2 = stats.norm.isf(stats.ttest_ind(t2, c2, alternative="greater").pvalue)
        success += w1 * z1 + w2 * z2 >= c
        naive += stats.ttest_ind(np.r_[t1, t2], np.r_[c1, c2], alternative="greater").pvalue <= 0.025
        sizes.append(2 * (8 + m))
    ref, ref_naive = success / trials, naive / trials
    sim = simulate(design, delta, 200_000, seed=11)
    assert abs(sim.power - ref) <= 4 * math.sqrt(sim.power_mcse**2 + ref * (1 - ref) / trials)
    assert abs(sim.expected_n - np.mean(sizes)) <= 4 * math.sqrt(
        sim.expected_n_mcse**2 + np.var(sizes) / trials
    )
    from planner.adaptive import BlockStreams, simulate_trials

    got = np.mean(simulate_trials(design, delta, 100_000, BlockStreams(12, 0))["naive"])
    assert abs(got - ref_naive) <= 4 * math.sqrt(
        got * (1 - got) / 100_000 + ref_naive * (1 - ref_naive) / trials
    )


def test_a_design_with_an_estimated_sd_is_simulated_with_mcses():
    from planner import evaluate

    design = _mp_design(**{"reestimation.sd": "estimated", "reestimation.rule": "conditional-power"})
    plan = plan_of(design)
    assert plan.test == "t" and plan.rule_sd == "interim"
    result = evaluate(design, n_sims=50_000, seed=3)
    assert all(not r.success.exact and r.success.mcse > 0 for r in result.results)
    check = result.type_one_error
    assert not check.exact and check.mcse > 0 and not check.exceeds
