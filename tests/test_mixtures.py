"""Conjugate mixture posteriors against numerical integration and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from planner.mixtures import BetaMixture, NormalMixture, prob_greater

ROBUST = BetaMixture((0.5, 0.5), (11.0, 1.0), (3.0, 1.0))  # evidence.md judgment default


def brute_posterior_sf(mix: BetaMixture, threshold: float, x: int, m: int) -> float:
    """P(p > threshold | x of m) by integrating prior x likelihood numerically."""

    def prior(p):
        return sum(w * stats.beta.pdf(p, a, b) for w, a, b in zip(mix.weights, mix.a, mix.b, strict=True))

    def unnorm(p):
        return prior(p) * p**x * (1 - p) ** (m - x)

    num = integrate.quad(unnorm, threshold, 1, epsabs=0, epsrel=1e-12, limit=200)[0]
    den = integrate.quad(unnorm, 0, 1, epsabs=0, epsrel=1e-12, limit=200, points=[threshold])[0]
    return num / den


@pytest.mark.parametrize(("x", "m", "threshold"), [(10, 12, 0.5), (25, 50, 0.5), (40, 50, 0.6), (0, 20, 0.1)])
def test_beta_mixture_posterior_matches_integration(x, m, threshold):
    assert ROBUST.posterior_sf(threshold, x, m) == pytest.approx(
        brute_posterior_sf(ROBUST, threshold, x, m), rel=1e-8
    )


def test_single_beta_is_conjugate():
    mix = BetaMixture((1.0,), (1.0,), (1.0,))
    # 10 of 12 under Beta(1, 1) is Beta(11, 3)
    assert mix.posterior_sf(0.5, 10, 12) == pytest.approx(stats.beta.sf(0.5, 11, 3), rel=1e-12)


def miller_prob_greater(a_b: int, b_b: int, a_a: int, b_a: int) -> float:
    """P(p_B > p_A) for Beta(a_b, b_b) vs Beta(a_a, b_a), integer a_b (E. Miller's closed form)."""
    total = 0.0
    for i in range(a_b):
        total += math.exp(
            special.betaln(a_a + i, b_a + b_b)
            - math.log(b_b + i)
            - special.betaln(1 + i, b_b)
            - special.betaln(a_a, b_a)
        )
    return total


@pytest.mark.parametrize(("m1", "m2"), [(12, 10), (50, 50), (200, 100)])
def test_prob_greater_matches_closed_form(m1, m2):
    uni = BetaMixture((1.0,), (1.0,), (1.0,))
    table = prob_greater(uni, np.arange(m1 + 1), m1, uni, np.arange(m2 + 1), m2)
    rng = np.random.default_rng(1)
    for x1, x2 in zip(rng.integers(0, m1 + 1, 8), rng.integers(0, m2 + 1, 8), strict=True):
        ref = miller_prob_greater(1 + x1, 1 + m1 - x1, 1 + x2, 1 + m2 - x2)
        assert table[x1, x2] == pytest.approx(ref, abs=1e-9)


def test_prob_greater_with_mixtures_matches_quad():
    m1, m2, x1, x2 = 30, 20, 24, 9
    post_t = lambda p: ROBUST.posterior_pdf(np.array([p]), x1, m1)[0]  # noqa: E731
    cdf_c = lambda p: BetaMixture((1.0,), (0.5,), (0.5,)).posterior_cdf(np.array([p]), x2, m2)[0]  # noqa: E731
    ref = integrate.quad(lambda p: post_t(p) * cdf_c(p), 0, 1, epsabs=1e-13, limit=200)[0]
    got = prob_greater(ROBUST, [x1], m1, BetaMixture((1.0,), (0.5,), (0.5,)), [x2], m2)[0, 0]
    assert got == pytest.approx(ref, abs=1e-9)


def test_normal_mixture_posterior_matches_integration():
    mix = NormalMixture((0.3, 0.7), (-1.8, 0.0), (0.4, 5.0))
    est, se, thr = -1.2, 0.3, -0.5

    def unnorm(t):
        prior = sum(
            w * stats.norm.pdf(t, m, s) for w, m, s in zip(mix.weights, mix.means, mix.sds, strict=True)
        )
        return prior * stats.norm.pdf(est, t, se)

    num = integrate.quad(unnorm, thr, np.inf, epsrel=1e-12)[0]
    den = integrate.quad(unnorm, -np.inf, np.inf, epsrel=1e-12)[0]
    assert mix.posterior_sf(thr, est, se) == pytest.approx(num / den, rel=1e-8)


def test_flat_normal_prior_is_the_likelihood():
    assert NormalMixture().posterior_sf(0.0, 1.96, 1.0) == pytest.approx(stats.norm.cdf(1.96), rel=1e-12)
