"""Effective sample sizes (planner.ess) against RBesT's documented values and closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from planner.ess import ess_elir, ess_moment, ess_morita, prior_information
from planner.mixtures import BetaMixture, GammaMixture, NormalMixture

# RBesT documentation, ?ess, "Examples" section with its printed output (RBesT reference manual, ess.Rd;
# the pkgdown page opensource.nibr.com/RBesT/reference/ess.html):
#   bmix <- mixbeta(rob = c(0.2, 1, 1), inf = c(0.8, 10, 2))
#   ess(bmix, "elir")      #> 7.65152      ess(bmix, "moment")   #> 3.161034   ess(bmix, method = "morita") #> 8.487603
#   nmix <- mixnorm(rob = c(0.5, 0, 2), inf = c(0.5, 3, 4), sigma = 10)
#   ess(nmix, "elir")      #> 10.82796     ess(nmix, "moment")   #> 8.163265
#   sigma(nmix) <- 20; ess(nmix)  #> 43.31185
#   gmix <- mixgamma(rob = c(0.3, 20, 4), inf = c(0.7, 50, 10)); ess(gmix)  #> 7.159378  (Poisson, elir)
#   prior <- mixbeta(c(1, 5, 15)); ess(prior)  #> 20
BMIX = BetaMixture((0.2, 0.8), (1.0, 10.0), (1.0, 2.0))
NMIX = NormalMixture((0.5, 0.5), (0.0, 3.0), (2.0, 4.0))
GMIX = GammaMixture((0.3, 0.7), (20.0, 50.0), (4.0, 10.0))


def test_rbest_documented_beta_mixture():
    assert ess_elir(BMIX) == pytest.approx(7.65152, abs=5e-6)
    assert ess_moment(BMIX) == pytest.approx(3.161034, abs=5e-7)
    assert ess_morita(BMIX, s=100) == pytest.approx(8.487603, abs=5e-6)  # RBesT's epsilon-prior scale s = 100


def test_rbest_documented_normal_mixture():
    assert ess_elir(NMIX, reference_sd=10) == pytest.approx(10.82796, abs=5e-6)
    assert ess_moment(NMIX, reference_sd=10) == pytest.approx(8.163265, abs=5e-7)
    assert ess_elir(NMIX, reference_sd=20) == pytest.approx(43.31185, abs=5e-5)


def test_rbest_documented_gamma_mixture_and_conjugate_beta():
    assert ess_elir(GMIX) == pytest.approx(7.159378, abs=5e-6)
    assert ess_elir(BetaMixture((1.0,), (5.0,), (15.0,))) == pytest.approx(20.0, abs=1e-8)


@pytest.mark.parametrize(("a", "b"), [(11.0, 3.0), (5.0, 15.0), (1.5, 1.5)])
def test_conjugate_closed_forms(a, b):
    beta = BetaMixture((1.0,), (a,), (b,))
    assert ess_morita(beta) == pytest.approx(
        a + b, rel=1e-10
    )  # the limit s -> infinity of Morita's epsilon prior
    t = (a - 1) / (a + b - 2)
    mu = a / (a + b)
    # RBesT's s = 100 lowers it by (1/s)(1/t + 1/(1 - t)) / E[i_1(t)] (Neuenschwander et al. 2020, eq. 9)
    shift = (1 / t + 1 / (1 - t)) / 100 / (mu / t**2 + (1 - mu) / (1 - t) ** 2)
    assert ess_morita(beta, s=100) == pytest.approx(a + b - shift, rel=1e-10)
    assert ess_morita(NormalMixture((1.0,), (0.3,), (0.25,)), reference_sd=1.0) == pytest.approx(16.0)
    assert ess_morita(GammaMixture((1.0,), (a,), (b,))) == pytest.approx(b)
    assert ess_elir(GammaMixture((1.0,), (a,), (b,))) == pytest.approx(b, rel=1e-7)


def test_robust_prior_of_the_bayesian_example():
    """0.5 Beta(11, 3) + 0.5 Beta(1, 1): Morita about 7.7 (not the 14.7 of the information at the mode alone)."""
    robust = BetaMixture((0.5, 0.5), (11.0, 1.0), (3.0, 1.0))
    assert ess_morita(robust) == pytest.approx(7.69, abs=0.01)
    assert ess_moment(robust) < ess_elir(robust) < ess_morita(robust)


def test_prior_information_equals_finite_differences():
    t, h = 0.7, 1e-4
    for mix in (BMIX, BetaMixture((0.5, 0.5), (11.0, 1.0), (3.0, 1.0))):
        logp = np.log(mix.pdf(np.array([t - h, t, t + h])))
        fd = -(logp[0] - 2 * logp[1] + logp[2]) / h**2
        assert prior_information(mix, t) == pytest.approx(fd, rel=1e-5)


def test_undefined_cases_are_nan_not_numbers():
    assert np.isnan(ess_morita(BetaMixture((1.0,), (0.5,), (3.0,))))  # mode at 0
    assert np.isnan(ess_elir(BetaMixture((1.0,), (0.5,), (3.0,))))  # the integral diverges
    assert np.isnan(ess_morita(GammaMixture((1.0,), (0.5,), (9.0,))))  # mode at 0
