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

# Generated with R 4.2.2 and rpact 3.3.4 (equally spaced looks, one-sided alpha 0.025):
#   d  <- getDesignGroupSequential(kMax = K, alpha = 0.025, sided = 1, typeOfDesign = td)   # td: asOF, asP
#   d  <- getDesignGroupSequential(kMax = K, alpha = 0.025, sided = 1, typeOfDesign = "asHSD", gammaA = g)
#   d$criticalValues; getDesignCharacteristics(d)$inflationFactor   # power 0.8 (rpact's default beta 0.2)
RPACT = [
    ('obrien-fleming', None, 2, [2.96258804272755, 1.96859564632177], 1.00372502996942),
    ('pocock', None, 2, [2.15699921834468, 2.20097697526217], 1.12255022489621),
    ('hsd', -4.0, 2, [2.74996593183522, 1.98113147169352], 1.00952138802822),
    ('hsd', -2.0, 2, [2.47170425063439, 2.02465546876192], 1.0307171867748),
    ('hsd', 1.0, 2, [2.15549695616402, 2.20269659906626], 1.12347217005598),
    ('obrien-fleming', None, 3, [3.7103028732625, 2.51142748445272, 1.9930474832654], 1.01279481267116),
    ('pocock', None, 3, [2.27942823891701, 2.29491113871336, 2.29593958705664], 1.1704193721217),
    ('hsd', -4.0, 3, [3.01073948538569, 2.54653055220842, 1.99922635406256], 1.01654319769625),
    ('hsd', -2.0, 3, [2.67752395343323, 2.38541793078184, 2.06374042481184], 1.04726348986977),
    ('hsd', 1.0, 3, [2.28314135588847, 2.28444125503302, 2.30125536769629], 1.17243568111001),
    ('obrien-fleming', None, 4, [4.33263364604956, 2.96313159912825, 2.35904427617788, 2.01409014314413], 1.01963732917269),
    ('pocock', None, 4, [2.36832770352391, 2.36752428859472, 2.3581683114171, 2.35003597289324], 1.19630537751615),
    ('hsd', -4.0, 4, [3.15537303265962, 2.81834714859724, 2.4391318038106, 2.01364732533693], 1.02160472178962),
    ('hsd', -2.0, 4, [2.80211888038309, 2.58010407537222, 2.34079170972109, 2.09034063667059], 1.05757200252629),
    ('hsd', 1.0, 4, [2.37610252716864, 2.35713227838278, 2.34990119189024, 2.35746853798628], 1.19895846092678),
    ('obrien-fleming', None, 5, [4.87688494879076, 3.35701192170382, 2.68028006702662, 2.28981677442789, 2.03103206306696], 1.02471989146643),
    ('pocock', None, 5, [2.43797668805001, 2.42681386321783, 2.41019413620234, 2.39664929360151, 2.38599970191717], 1.21261309910265),
    ('hsd', -4.0, 5, [3.25266848844068, 2.98604594916105, 2.69165744632483, 2.37366699427366, 2.02532141655684], 1.02538896626431),
    ('hsd', -2.0, 5, [2.89028214011261, 2.70848824828863, 2.51407634466887, 2.3149990811944, 2.10995402187109], 1.06463509092124),
    ('hsd', 1.0, 5, [2.44867724973775, 2.41898470371962, 2.39838170260191, 2.39123406261206, 2.39477340131998], 1.21566132782452),
]


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
    assert spending("hsd", 0.025, t, gamma=1.0)[0] == pytest.approx(0.025 * (1 - np.exp(-0.25)) / (1 - np.exp(-1)))


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
    up_nb, _ = crossing_probabilities(nonbinding.__class__(nonbinding.fractions, nonbinding.efficacy, fut,
                                                           nonbinding.alpha_spent), 0.0)
    assert up_nb.sum() < 0.025


def test_conditional_power_bound_gives_the_threshold():
    b = efficacy_boundaries([0.5, 1.0], 0.025)
    z = conditional_power_futility(b, 0.1, drift=2.8)[0]
    cp = 1 - stats.norm.cdf((b.efficacy[-1] - z * np.sqrt(0.5) - 2.8 * 0.5) / np.sqrt(0.5))
    assert cp == pytest.approx(0.1, abs=1e-12)
