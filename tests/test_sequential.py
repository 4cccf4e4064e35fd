"""Group sequential boundaries and inflation factors against rpact (recorded values)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from planner.sequential import (
    conditional_power_futility,
    crossing_probabilities,
    efficacy_boundaries,
    inflation_factor,
    spending,
)


# rpact 3.3.4 critical values and inflation factors (equally spaced looks, one-sided alpha 0.025), with the R
# calls: planner/validation/rpact_group_sequential.toml -- the file `planner validate` reads too.
def _rpact_designs():
    from planner.validation import load_references

    designs: dict = {}
    for ref in load_references():
        if ref.file != "rpact_group_sequential.toml":
            continue
        i = ref.inputs
        gamma = float(i["gamma"]) if i["spending"] == "hsd" else None
        entry = designs.setdefault(
            (i["spending"], gamma, int(i["looks"])), {"critical": {}, "inflation": None}
        )
        if ref.method == "group-sequential.critical":
            entry["critical"][int(i["look"])] = ref.expected
        else:
            entry["inflation"] = ref.expected
    return [
        (kind, gamma, k, [e["critical"][look] for look in sorted(e["critical"])], e["inflation"])
        for (kind, gamma, k), e in designs.items()
    ]


RPACT = _rpact_designs()


@pytest.mark.parametrize(("kind", "gamma", "k", "critical", "inflation"), RPACT)
def test_boundaries_and_inflation_equal_rpact(kind, gamma, k, critical, inflation):
    b = efficacy_boundaries(np.arange(1, k + 1) / k, 0.025, kind, gamma=gamma)
    assert np.max(np.abs(np.array(b.efficacy) - critical)) < 1e-4
    assert inflation_factor(b, 0.8) == pytest.approx(inflation, abs=1e-4)


def test_spending_functions_closed_forms():
    t = np.array([0.25, 0.5, 1.0])
    assert spending("obrien-fleming", 0.025, t)[-1] == pytest.approx(0.025)
    assert spending("pocock", 0.025, t)[-1] == pytest.approx(0.025)
    assert spending("hsd", 0.025, t, gamma=0.0) == pytest.approx(0.025 * t)
    assert spending("hsd", 0.025, t, gamma=1.0)[0] == pytest.approx(
        0.025 * (1 - np.exp(-0.25)) / (1 - np.exp(-1))
    )


def test_one_look_is_the_fixed_design():
    b = efficacy_boundaries([1.0], 0.025)
    assert b.efficacy[0] == pytest.approx(special.ndtri(0.975), abs=1e-12)


def test_crossing_probabilities_spend_alpha_under_h0():
    b = efficacy_boundaries([0.3, 0.7, 1.0], 0.025, "hsd", gamma=-2.0)
    up, down = crossing_probabilities(b, 0.0)
    assert np.cumsum(up) == pytest.approx(b.alpha_spent, abs=1e-8)
    assert down.sum() == 0.0


def test_two_looks_against_bivariate_normal():
    """An independent check: P(Z1 < c1, Z2 >= c2) from scipy's bivariate normal CDF."""
    b = efficacy_boundaries([0.5, 1.0], 0.025, "pocock")
    c1, c2 = b.efficacy
    rho = np.sqrt(0.5)
    both_below = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([c1, c2])
    second = stats.norm.cdf(c1) - both_below
    assert second == pytest.approx(b.alpha_spent[1] - b.alpha_spent[0], abs=1e-7)


def test_binding_futility_raises_power_and_keeps_alpha():
    t = [1 / 3, 2 / 3, 1.0]
    nonbinding = efficacy_boundaries(t, 0.025)
    fut = conditional_power_futility(nonbinding, 0.2, drift=2.8)
    binding = efficacy_boundaries(t, 0.025, futility=fut)
    assert binding.efficacy[-1] < nonbinding.efficacy[-1]  # binding futility lets the final bound drop
    up, _ = crossing_probabilities(binding, 0.0)
    assert up.sum() == pytest.approx(0.025, abs=1e-8)
    # non-binding: ignoring futility spends alpha exactly; obeying it spends less
    up_nb, _ = crossing_probabilities(
        nonbinding.__class__(nonbinding.fractions, nonbinding.efficacy, fut, nonbinding.alpha_spent), 0.0
    )
    assert up_nb.sum() < 0.025


def test_conditional_power_bound_gives_the_threshold():
    b = efficacy_boundaries([0.5, 1.0], 0.025)
    z = conditional_power_futility(b, 0.1, drift=2.8)[0]
    cp = 1 - stats.norm.cdf((b.efficacy[-1] - z * np.sqrt(0.5) - 2.8 * 0.5) / np.sqrt(0.5))
    assert cp == pytest.approx(0.1, abs=1e-12)


# --- Wang-Tsiatis boundaries and beta-spending futility, against rpact 3.3.4 -------------------------------
# Generated with R 4.x and rpact 3.3.4 (Debian's r-cran-rpact), e.g.
#   getDesignGroupSequential(kMax = 3, alpha = 0.025, sided = 1, typeOfDesign = "WT", deltaWT = 0.25)$criticalValues
#   x <- getDesignGroupSequential(kMax = 3, alpha = 0.025, beta = 0.2, sided = 1, typeOfDesign = "asOF",
#                                 typeBetaSpending = "bsOF", bindingFutility = FALSE)
#   x$criticalValues; x$futilityBounds; getDesignCharacteristics(x)$inflationFactor
# ("bsHSD" with gammaB = -2; the last row: typeOfDesign "asP", typeBetaSpending "bsP", beta = 0.1,
#  informationRates = c(0.3, 0.6, 1)).
WANG_TSIATIS_RPACT = [
    ((1 / 3, 2 / 3, 1.0), 0.0, (3.4710914447, 2.4544322986, 2.0040355800)),  # = typeOfDesign "OF"
    ((1 / 3, 2 / 3, 1.0), 0.1, (3.1441910508, 2.3828512320, 2.0260978951)),
    ((1 / 3, 2 / 3, 1.0), 0.25, (2.7411366039, 2.3050119439, 2.0828134109)),
    ((1 / 3, 2 / 3, 1.0), 0.4, (2.4395048446, 2.2761385030, 2.1856950033)),
    ((1 / 3, 2 / 3, 1.0), 0.5, (2.2894784565, 2.2894784565, 2.2894784565)),  # = typeOfDesign "P"
    ((0.2, 0.5, 0.7, 1.0), 0.25, (3.1478008053, 2.5033538404, 2.3013900498, 2.1050612705)),
]

BETA_SPENDING_RPACT = [  # (alpha kind, beta kind, gammaB, binding, fractions, beta, critical, futility, inflation)
    (
        "obrien-fleming",
        "obrien-fleming",
        None,
        False,
        (0.5, 1.0),
        0.2,
        (2.9625880427, 1.9685956463),
        (0.5593914957,),
        1.0559984821,
    ),
    (
        "obrien-fleming",
        "obrien-fleming",
        None,
        False,
        (1 / 3, 2 / 3, 1.0),
        0.2,
        (3.7103028733, 2.5114274845, 1.9930474833),
        (-0.2361446099, 1.1703720312),
        1.1043340229,
    ),
    (
        "obrien-fleming",
        "obrien-fleming",
        None,
        True,
        (0.5, 1.0),
        0.2,
        (2.9625880427, 1.9375965372),
        (0.5376964526,),
        1.0336106013,
    ),
    (
        "obrien-fleming",
        "obrien-fleming",
        None,
        True,
        (1 / 3, 2 / 3, 1.0),
        0.2,
        (3.7103028733, 2.5111084357, 1.9309157208),
        (-0.2700055638, 1.1224846072),
        1.0607739314,
    ),
    (
        "obrien-fleming",
        "pocock",
        None,
        False,
        (0.5, 1.0),
        0.2,
        (2.9625880427, 1.9685956463),
        (0.9845383579,),
        1.1665590195,
    ),
    (
        "obrien-fleming",
        "pocock",
        None,
        False,
        (1 / 3, 2 / 3, 1.0),
        0.2,
        (3.7103028733, 2.5114274845, 1.9930474833),
        (0.4659436080, 1.3180055511),
        1.2428256860,
    ),
    (
        "obrien-fleming",
        "pocock",
        None,
        True,
        (0.5, 1.0),
        0.2,
        (2.9625880427, 1.8806174174),
        (0.9230331661,),
        1.1004563443,
    ),
    (
        "obrien-fleming",
        "pocock",
        None,
        True,
        (1 / 3, 2 / 3, 1.0),
        0.2,
        (3.7103028733, 2.5064026341, 1.8637208566),
        (0.3956173678, 1.2185456981),
        1.1477746620,
    ),
    (
        "obrien-fleming",
        "hsd",
        -2.0,
        False,
        (0.5, 1.0),
        0.2,
        (2.9625880427, 1.9685956463),
        (0.4077840154,),
        1.0366196730,
    ),
    (
        "obrien-fleming",
        "hsd",
        -2.0,
        False,
        (1 / 3, 2 / 3, 1.0),
        0.2,
        (3.7103028733, 2.5114274845, 1.9930474833),
        (-0.2162147701, 0.9227145524),
        1.0653219571,
    ),
    (
        "obrien-fleming",
        "hsd",
        -2.0,
        True,
        (0.5, 1.0),
        0.2,
        (2.9625880427, 1.9484379366),
        (0.3936732502,),
        1.0221659582,
    ),
    (
        "obrien-fleming",
        "hsd",
        -2.0,
        True,
        (1 / 3, 2 / 3, 1.0),
        0.2,
        (3.7103028733, 2.5110518262, 1.9584354982),
        (-0.2351597870, 0.8959220876),
        1.0412810455,
    ),
    (
        "pocock",
        "pocock",
        None,
        False,
        (0.3, 0.6, 1.0),
        0.1,
        (2.3118353038, 2.3209672347, 2.2689142749),
        (0.3226366442, 1.2294863635),
        1.3401490902,
    ),
]


@pytest.mark.parametrize(("fractions", "delta", "critical"), WANG_TSIATIS_RPACT)
def test_wang_tsiatis_boundaries_equal_rpact(fractions, delta, critical):
    from planner.sequential import wang_tsiatis_boundaries

    b = wang_tsiatis_boundaries(fractions, 0.025, delta)
    np.testing.assert_allclose(b.efficacy, critical, atol=1e-6)
    assert b.alpha_spent[-1] == pytest.approx(0.025, abs=1e-9)


@pytest.mark.parametrize("row", BETA_SPENDING_RPACT, ids=lambda r: f"{r[0]}-{r[1]}-{r[3]}-{len(r[4])}")
def test_beta_spending_bounds_and_inflation_equal_rpact(row):
    from planner.sequential import beta_spending_boundaries

    kind, beta_kind, gamma_b, binding, fractions, beta, critical, futility, inflation = row
    d = beta_spending_boundaries(fractions, 0.025, beta, kind, beta_kind, gamma_beta=gamma_b, binding=binding)
    np.testing.assert_allclose(d.boundaries.efficacy, critical, atol=1e-5)
    np.testing.assert_allclose(d.boundaries.futility[:-1], futility, atol=1e-5)
    assert d.inflation_factor == pytest.approx(inflation, abs=1e-5)
    # the futility stops under the design's drift spend beta look by look, and the power is 1 - beta
    up, down = crossing_probabilities(d.boundaries, d.drift)
    np.testing.assert_allclose(np.cumsum(down)[:-1], d.beta_spent[:-1], atol=1e-7)
    assert up.sum() == pytest.approx(1 - beta, abs=1e-6)
    # non-binding: the level holds ignoring the futility stops; binding: obeying them
    size = crossing_probabilities(d.boundaries, 0.0, use_futility=binding)[0].sum()
    assert size == pytest.approx(0.025, abs=1e-7)


def test_beta_spending_design_simulated_power_and_futility():
    """A one-sample t design (N = 300) at the effect the bounds were built for: simulated power and futility
    stopping per look within 4 MCSE of 1 - beta and the beta spent (the t statistic is nearly z at this N)."""
    from planner import evaluate
    from planner.looks import beta_spending_inflation, boundaries_for
    from planner.sequential import beta_spending_boundaries
    from tests.conftest import make_design

    interim = {
        "fractions": [1 / 3, 2 / 3, 1.0],
        "futility": "beta-spending",
        "beta": 0.2,
        "beta_spending": "pocock",
    }
    drift = beta_spending_boundaries((1 / 3, 2 / 3, 1.0), 0.025, 0.2, "obrien-fleming", "pocock").drift
    n = 300
    d = make_design(
        {"kind": "single-arm", "n": n},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "one-sample-t", "performance_goal": 0.0},
        [{"name": "alt", "treatment": drift / np.sqrt(n)}, {"name": "null", "treatment": 0.0}],
        n_sims=200_000,
    ).with_changes({"interim": interim})
    assert beta_spending_inflation(d) == pytest.approx(1.2428256860, abs=1e-5)
    assert boundaries_for(d).futility[0] == pytest.approx(0.4659436080, abs=1e-5)
    res = evaluate(d)
    alt = res["alt"]
    assert abs(alt.success.value - 0.8) <= 4 * alt.success.mcse + 2e-3
    beta_spent = beta_spending_boundaries(
        (1 / 3, 2 / 3, 1.0), 0.025, 0.2, "obrien-fleming", "pocock"
    ).beta_spent
    assert (
        abs(alt.stages.futility_stop[0].value - beta_spent[0]) <= 4 * alt.stages.futility_stop[0].mcse + 2e-3
    )
    null = res.type_one_error
    assert null.value <= 0.025 + 3 * null.mcse
