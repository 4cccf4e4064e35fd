"""A robust meta-analytic-predictive (MAP) prior for a control arm, fitted to historical control data.

The user supplies the historical studies' control responders and sizes (a TOML file with ``[[studies]]``
entries ``name``, ``responders``, ``n`` and, recommended, ``source``; or a CSV file with the columns
``study,responders,n``). The hierarchical binomial model of :func:`planner.fitting._binomial_map` (logit p_i =
mu + tau z_i, mu ~ Normal(0, mu_sd), tau ~ HalfNormal(tau_scale), as RBesT's ``gMAP`` with a half-normal
heterogeneity prior) is sampled with NUTS and checked (R-hat, bulk ESS, divergences); the predictive of a new
study's control rate is approximated by a Beta mixture (EM, the fewest components by AIC) and robustified
with a Beta(1, 1) component of weight ``robust_weight``. The result goes into a design as
``analysis.control_prior`` (and :mod:`planner.borrowing` shows what it does under drift).

References: Neuenschwander B et al. Summarizing historical information on controls in clinical trials.
Clin Trials 2010;7:5-18. Schmidli H et al. Robust meta-analytic-predictive priors in clinical trials with
historical control information. Biometrics 2014;70:1023-32.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import DesignError
from planner.mixtures import BetaMixture

__all__ = ["HistoricalStudy", "ControlMap", "load_studies", "parse_studies", "fit_control_map"]

MAX_STUDIES = 200


@dataclass(frozen=True)
class HistoricalStudy:
    """One historical study's control arm: ``responders`` of ``n``."""

    name: str
    responders: int
    n: int
    source: str = ""


@dataclass(frozen=True)
class ControlMap:
    """The fitted MAP prior (``map_mixture``), its robust version (``prior``) and how it was obtained."""

    studies: tuple[HistoricalStudy, ...]
    map_mixture: BetaMixture
    prior: BetaMixture
    robust_weight: float
    tau_scale: float
    mu_sd: float
    draws_mean: float
    draws_sd: float
    ks_distance: float  # of the mixture to the NUTS draws of the predictive
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def spec(self) -> dict[str, Any]:
        """The robust prior as a design's ``analysis.control_prior``."""
        return {
            "family": "beta",
            "components": [{"weight": w, "a": a, "b": b} for w, a, b in self.prior.components()],
        }

    def to_dict(self) -> dict[str, Any]:
        from planner.priors import ess

        return {
            "studies": [s.__dict__ for s in self.studies],
            "model": {
                "tau_prior": f"HalfNormal({self.tau_scale:g})",
                "mu_prior": f"Normal(0, {self.mu_sd:g})",
            },
            "map": {
                "components": [list(c) for c in self.map_mixture.components()],
                "mean": self.map_mixture.mean(),
                "ess": ess(self.map_mixture),
                "draws_mean": self.draws_mean,
                "draws_sd": self.draws_sd,
                "ks_distance_to_draws": self.ks_distance,
            },
            "robust_weight": self.robust_weight,
            "control_prior": self.spec(),
            "control_prior_ess": ess(self.prior),
            "diagnostics": self.diagnostics,
        }


def _whole(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise DesignError(f"{where}: a whole number, got {value!r}")
    return int(value)


def parse_studies(rows: Any) -> tuple[HistoricalStudy, ...]:
    """Checked studies from a list of mappings with name (or study), responders and n; a message names the
    study's field and its value."""
    if not isinstance(rows, list) or not rows:
        raise DesignError(f"studies: a non-empty list of historical studies, got {rows!r}"[:200])
    if len(rows) > MAX_STUDIES:
        raise DesignError(f"studies: at most {MAX_STUDIES} studies, got {len(rows)}")
    out = []
    for i, row in enumerate(rows):
        where = f"studies[{i}]"
        if not isinstance(row, dict):
            raise DesignError(f"{where}: a table with name, responders and n, got {row!r}"[:200])
        missing = [k for k in ("responders", "n") if k not in row]
        if missing:
            raise DesignError(f"{where}.{missing[0]}: missing")
        n = _whole(f"{where}.n", row["n"])
        r = _whole(f"{where}.responders", row["responders"])
        if n < 1:
            raise DesignError(f"{where}.n: at least 1 participant, got {n}")
        if not 0 <= r <= n:
            raise DesignError(f"{where}.responders: between 0 and n = {n}, got {r}")
        name = str(row.get("name", row.get("study", f"study {i + 1}")))
        out.append(HistoricalStudy(name, r, n, str(row.get("source", ""))))
    if len(out) < 2:
        raise DesignError(
            f"studies: a MAP prior needs at least 2 historical studies (the heterogeneity), got {len(out)}"
        )
    return tuple(out)


def _csv_rows(text: str) -> list[dict[str, Any]]:
    """The CSV's rows with responders and n as numbers (a message names a row's field that is not one)."""
    rows: list[dict[str, Any]] = []
    for i, row in enumerate(csv.DictReader(io.StringIO(text))):
        parsed: dict[str, Any] = dict(row)
        for key in ("responders", "n"):
            try:
                parsed[key] = float(row[key]) if row.get(key) not in (None, "") else None
            except ValueError:
                raise DesignError(f"studies[{i}].{key}: a whole number, got {row[key]!r}") from None
            if parsed[key] is None:
                del parsed[key]
        rows.append(parsed)
    return rows


def load_studies(path: str | Path) -> tuple[HistoricalStudy, ...]:
    """Historical studies from a TOML file (``[[studies]]``) or a CSV file (``study,responders,n``)."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise DesignError(f"studies: cannot read {path.name}: {err}") from None
    from planner.design import MAX_DESIGN_CHARS, read_toml

    if path.suffix.lower() != ".csv":
        return parse_studies(read_toml(text, f"studies: {path.name}").get("studies"))
    if len(text) > MAX_DESIGN_CHARS:
        raise DesignError(f"studies: {path.name} has {len(text):,} characters; at most {MAX_DESIGN_CHARS:,}")
    return parse_studies(_csv_rows(text))


def fit_control_map(
    studies: Any,
    *,
    tau_scale: float = 1.0,
    mu_sd: float = 2.0,
    robust_weight: float = 0.2,
    seed: int = 20250,
    draws: int = 2000,
) -> ControlMap:
    """Fit the MAP prior of a new study's control rate to ``studies`` with PyMC (NUTS, checked) and robustify it
    with Beta(1, 1) at ``robust_weight`` (module docstring)."""
    from planner.fitting import _binomial_map, fit_model, ks_distance
    from planner.mixfit import auto_fit
    from planner.priors import robustify

    if not isinstance(studies, tuple) or not all(isinstance(s, HistoricalStudy) for s in studies):
        studies = parse_studies(studies)
    for name, value, low in (("tau_scale", tau_scale, 0.0), ("mu_sd", mu_sd, 0.0)):
        if not isinstance(value, int | float) or not low < float(value) <= 100.0:
            raise DesignError(f"{name}: a positive scale at most 100, got {value!r}")
    if not isinstance(robust_weight, int | float) or not 0.0 <= robust_weight < 1.0:
        raise DesignError(f"robust_weight: in [0, 1), got {robust_weight!r}")

    def control_map(pm: Any, _ev: Any) -> dict[str, Any]:
        rows = [(s.name, s.responders, s.n) for s in studies]
        variable = _binomial_map(pm, "control_map", rows, float(tau_scale), float(mu_sd))
        return {"control_map": (variable, "beta", "control rate of a new study (MAP predictive)", {})}

    # a small adaptation step: a few studies leave the heterogeneity's funnel, where NUTS diverges otherwise
    idata, specs, diagnostics = fit_model(control_map, None, seed=seed, draws=draws, target_accept=0.99)
    values = idata.posterior[specs["control_map"][0]].values.ravel()
    fit = auto_fit(values, "beta")
    mixture = fit.mixture
    assert isinstance(mixture, BetaMixture)
    robust = robustify(mixture, float(robust_weight))
    assert isinstance(robust, BetaMixture)
    return ControlMap(
        studies,
        mixture,
        robust,
        float(robust_weight),
        float(tau_scale),
        float(mu_sd),
        float(values.mean()),
        float(values.std()),
        ks_distance(mixture, None, values),
        diagnostics,
    )
