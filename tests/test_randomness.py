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


@pytest.mark.parametrize(
    ("n", "p"), [(1, 0.5), (50, 0.3), (150, 0.02), (400, 0.999), (2000, 0.5), (30000, 0.1)]
)
def test_the_guide_table_inverts_exactly_as_binary_search(n, p):
    """The guide-table lookup equals a plain binary search of the CDF (the smallest k with U < P(X <= k)) for
    random uniforms and for the hardest ones: the cell edges j / bins and the CDF values themselves and their
    floating-point neighbours."""
    from planner.randomness import _inversion_table

    table = _inversion_table(n, p)
    finite = table.cdf[np.isfinite(table.cdf) & (table.cdf < 1.0)]
    hard = np.concatenate(
        [
            np.arange(table.bins) / table.bins,
            finite,
            np.nextafter(finite, 0.0),
            np.nextafter(finite, 1.0),
            np.random.default_rng(0).random(200_000),
        ]
    )
    hard = hard[(hard >= 0.0) & (hard < 1.0)]

    class Replay:  # a generator that hands out the chosen uniforms
        def random(self, size):
            assert size == hard.size
            return hard.copy()

    got = binomial_draws(Replay(), n, p, hard.size)
    assert np.array_equal(got, np.searchsorted(table.cdf, hard, side="right"))
