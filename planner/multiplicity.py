"""Multiple testing procedures, vectorized over simulated trials.

Each takes one-sided p-values of shape (trials, hypotheses) and returns which hypotheses
are rejected, controlling the family-wise error rate at ``alpha`` in the strong sense.

References
----------
Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat 1979;6:65-70.
Maurer W, Hothorn LA, Lehmacher W. Multiple comparisons in drug clinical trials and preclinical
assays: a-priori ordered hypotheses. In: Vollmar J (ed.), Biometrie in der chemisch-pharmazeutischen
Industrie 6, 1995:3-18 (fixed sequence).
Bretz F, Maurer W, Brannath W, Posch M. A graphical approach to sequentially rejective multiple
test procedures. Statistics in Medicine 2009;28:586-604 (Algorithm 1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["fixed_sequence", "holm", "graphical", "holm_graph", "fixed_sequence_graph", "check_graph"]


def fixed_sequence(p: np.ndarray, alpha: float) -> np.ndarray:
    """Test H1, H2, ... in order at full alpha; stop at the first that is not rejected."""
    p = np.atleast_2d(p)
    return np.cumprod(p <= alpha, axis=1).astype(bool)


def holm(p: np.ndarray, alpha: float) -> np.ndarray:
    """Holm's step-down procedure: the j-th smallest p-value is compared with alpha / (m - j + 1)."""
    p = np.atleast_2d(p)
    m = p.shape[1]
    order = np.argsort(p, axis=1, kind="stable")
    sorted_p = np.take_along_axis(p, order, axis=1)
    ok = np.cumprod(sorted_p <= alpha / (m - np.arange(m)), axis=1).astype(bool)
    out = np.zeros_like(ok)
    np.put_along_axis(out, order, ok, axis=1)
    return out


def check_graph(weights: ArrayLike, transitions: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a graph: weights >= 0 summing to at most 1; transitions >= 0, zero diagonal, rows summing to at most 1."""
    w = np.asarray(weights, dtype=float)
    g = np.asarray(transitions, dtype=float)
    m = w.size
    if w.ndim != 1 or np.any(w < 0) or w.sum() > 1 + 1e-12:
        raise ValueError(f"weights: need non-negative values summing to at most 1, got {w.tolist()}")
    if (
        g.shape != (m, m)
        or np.any(g < 0)
        or np.any(np.abs(np.diag(g)) > 0)
        or np.any(g.sum(axis=1) > 1 + 1e-12)
    ):
        raise ValueError(
            "transitions: need an m x m matrix, non-negative, zero diagonal, rows summing to at most 1"
        )
    return w, g


def graphical(p: np.ndarray, alpha: float, weights: ArrayLike, transitions: ArrayLike) -> np.ndarray:
    """Bretz et al. (2009) graphical procedure, Algorithm 1, for every trial at once.

    Repeatedly reject any hypothesis j with p_j <= w_j alpha, pass its weight on along the
    graph (w_l += w_j g_jl) and update the graph (g_lk = (g_lk + g_lj g_jk) / (1 - g_lj g_jl)).
    The set rejected does not depend on the order in which rejectable hypotheses are taken.
    """
    w0, g0 = check_graph(weights, transitions)
    p = np.atleast_2d(p)
    trials, m = p.shape
    w = np.broadcast_to(w0, (trials, m)).copy()
    g = np.broadcast_to(g0, (trials, m, m)).copy()
    rejected = np.zeros((trials, m), dtype=bool)
    rows = np.arange(trials)
    for _ in range(m):
        can = ~rejected & (p <= w * alpha * (1 + 1e-12))
        any_can = can.any(axis=1)
        if not any_can.any():
            break
        j = np.argmax(can, axis=1)  # the first rejectable hypothesis of each trial
        t = rows[any_can]
        jt = j[any_can]
        rejected[t, jt] = True
        wj = w[t, jt][:, None]
        gj_row = g[t, jt, :]  # g_jl
        gj_col = g[t, :, jt]  # g_lj
        w[t] = w[t] + wj * gj_row
        w[t, jt] = 0.0
        # graph update for the remaining hypotheses
        num = g[t] + gj_col[:, :, None] * gj_row[:, None, :]
        den = 1.0 - gj_col * gj_row  # g_lj g_jl, per l
        new = np.where(den[:, :, None] > 1e-12, num / np.where(den > 1e-12, den, 1.0)[:, :, None], 0.0)
        idx = np.arange(m)
        new[:, idx, idx] = 0.0
        g[t] = new
        g[t, jt, :] = 0.0
        g[t, :, jt] = 0.0
    return rejected


def holm_graph(m: int) -> tuple[np.ndarray, np.ndarray]:
    """The graph that is Holm's procedure: equal weights, weight passed equally to all others."""
    return np.full(m, 1.0 / m), (np.ones((m, m)) - np.eye(m)) / (m - 1)


def fixed_sequence_graph(m: int) -> tuple[np.ndarray, np.ndarray]:
    """The graph that is the fixed sequence: all weight on H1, passed on down the chain."""
    w = np.zeros(m)
    w[0] = 1.0
    return w, np.eye(m, k=1)
