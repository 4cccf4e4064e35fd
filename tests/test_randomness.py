"""The random streams: block-addressable, and the binomial sampler by inversion of the tabulated CDF."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from planner.randomness import BlockStreams, binomial_draws


@pytest.mark.parametrize(("n", "p"), [(50, 0.75), (100, 0.3), (7, 0.5), (150, 0.02)])
def test_binomial_draws_follow_the_binomial_distribution(n, p):
    """Frequencies of 10^6 draws against scipy's pmf: a chi-square goodness-of-fit test (cells with an
    expected count of at least 5 pooled at the tails), and the mean and variance within 5 MC SEs."""
    size = 1_000_000
    x = binomial_draws(np.random.default_rng(11), n, p, size)
    assert x.min() >= 0 and x.max() <= n
    expected = stats.binom.pmf(np.arange(n + 1), n, p) * size
    observed = np.bincount(x, minlength=n + 1).astype(float)
    keep = expected >= 5
    lo, hi = np.flatnonzero(keep)[[0, -1]]
    e = np.concatenate([[expected[: lo + 1].sum()], expected[lo + 1 : hi], [expected[hi:].sum()]])
    o = np.concatenate([[observed[: lo + 1].sum()], observed[lo + 1 : hi], [observed[hi:].sum()]])
    chi2 = float(((o - e) ** 2 / e).sum())
    assert stats.chi2.sf(chi2, e.size - 1) > 1e-4
    assert abs(x.mean() - n * p) <= 5 * np.sqrt(n * p * (1 - p) / size)


def test_binomial_draws_at_the_edges_and_per_trial_parameters():
    gen = np.random.default_rng(3)
    assert (binomial_draws(gen, 20, 0.0, 1000) == 0).all()
    assert (binomial_draws(gen, 20, 1.0, 1000) == 20).all()
    n = np.array([5, 10, 0, 3])  # per-trial n: numpy's sampler
    assert (binomial_draws(gen, n, 0.5, 4) <= n).all()


def test_binomial_draws_do_not_depend_on_the_chunking():
    whole = binomial_draws(BlockStreams(5, 2)("x"), 60, 0.4, 10_000)
    streams = BlockStreams(5, 2)
    parts = np.concatenate([binomial_draws(streams("x"), 60, 0.4, k) for k in (1, 999, 4000, 5000)])
    assert np.array_equal(whole, parts)
