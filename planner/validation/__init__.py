"""Validation: every published or peer-computed reference value the planner is checked against, in one place.

The reference files (``*.toml`` beside this module, shipped with the package) hold, per value, the method, its
inputs, the expected value with its tolerance (absolute), and where it comes from (``source`` for the file,
``call`` -- the R call or the table -- for the value). The tests read these files (tests/test_validation.py and
the tests of each method), and ``planner validate`` runs them all and writes a document a regulated user can
file: per method, each reference, its source, the planner's value, the tolerance, pass or fail, the
environment and the date (:func:`write_report`, HTML and PDF).
"""

from __future__ import annotations

import datetime as _dt
import html
import platform
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from planner.errors import DesignError

__all__ = [
    "Reference",
    "Outcome",
    "METHODS",
    "decision2s_design",
    "load_references",
    "run",
    "write_report",
    "references_dir",
]


def references_dir() -> Path:
    return Path(__file__).resolve().parent


@dataclass(frozen=True)
class Reference:
    file: str
    source: str
    id: str
    method: str
    description: str
    inputs: dict[str, Any]
    expected: float
    tolerance: float
    call: str


@dataclass(frozen=True)
class Outcome:
    reference: Reference
    value: float | None
    passed: bool
    error: str = ""


def load_references(directory: str | Path | None = None) -> list[Reference]:
    """Every reference value of the ``*.toml`` files in ``directory`` (default: the shipped ones)."""
    folder = Path(directory) if directory is not None else references_dir()
    out = []
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        for v in data.get("values", []):
            out.append(
                Reference(
                    path.name,
                    str(data.get("source", "")),
                    str(v["id"]),
                    str(v["method"]),
                    str(v.get("description", "")),
                    dict(v.get("inputs", {})),
                    float(v["expected"]),
                    float(v["tolerance"]),
                    str(v.get("call", "")),
                )
            )
    if not out:
        raise DesignError(f"references: no reference values in {folder}")
    return out


# --- how the planner computes each method's value -------------------------------------------------------------
def _gs_boundaries(i: dict[str, Any]) -> Any:
    from planner.sequential import efficacy_boundaries

    k = int(i["looks"])
    gamma = float(i["gamma"]) if i["spending"] == "hsd" else None
    return efficacy_boundaries(np.arange(1, k + 1) / k, 0.025, str(i["spending"]), gamma=gamma)


def _gs_critical(i: dict[str, Any]) -> float:
    return float(_gs_boundaries(i).efficacy[int(i["look"]) - 1])


def _gs_inflation(i: dict[str, Any]) -> float:
    from planner.sequential import inflation_factor

    return float(inflation_factor(_gs_boundaries(i), 0.8))


def _fm_sample_size(i: dict[str, Any]) -> float:
    from planner.analytic import n_farrington_manning

    n = n_farrington_manning(
        float(i["p1"]),
        float(i["p2"]),
        float(i["margin"]),
        alpha=0.025,
        power=0.8,
        allocation=float(i["allocation"]),
    )
    return float(n[int(i["arm"])])


def _interval(kind: str) -> Callable[[dict[str, Any]], float]:
    def compute(i: dict[str, Any]) -> float:
        from planner.precision import clopper_pearson, wilson

        limits = (clopper_pearson if kind == "clopper-pearson" else wilson)(int(i["x"]), int(i["n"]))
        return float(limits[int(i["side"])])

    return compute


def decision2s_design(n_treatment: int, n_control: int, a: float, b: float) -> Any:
    """The randomized posterior-probability design of RBesT's decision2S examples: a uniform treatment prior, a
    Beta(a, b) control prior, success when P(p_t - p_c > 0 | data) > 0.975."""
    from planner.design import parse_design

    return parse_design(
        {
            "name": "decision2S",
            "arms": {
                "kind": "randomized",
                "n": n_treatment + n_control,
                "allocation": [n_treatment, n_control],
            },
            "endpoint": {"kind": "binary"},
            "analysis": {
                "rule": "posterior-probability",
                "threshold": 0.975,
                "prior": {"family": "beta", "components": [{"weight": 1.0, "a": 1.0, "b": 1.0}]},
                "control_prior": {"family": "beta", "components": [{"weight": 1.0, "a": a, "b": b}]},
            },
            "scenarios": [{"name": "a", "treatment": 0.5, "control": 0.5}],
        }
    )


def _decision2s(i: dict[str, Any]) -> float:
    """Percent: the exact P(success) of :func:`decision2s_design` at the control rate and difference."""
    from planner.exact import exact_power
    from planner.rules import rule_for

    design = decision2s_design(int(i["n_treatment"]), int(i["n_control"]), float(i["a"]), float(i["b"]))
    pc = float(i["control"])
    return 100.0 * float(exact_power(design, rule_for(design), pc + float(i["delta"]), pc)[0])


def _simon(index: int) -> Callable[[dict[str, Any]], float]:
    def compute(i: dict[str, Any]) -> float:
        from planner.simon import simon_oc

        return float(simon_oc(int(i["r1"]), int(i["n1"]), int(i["r"]), int(i["n"]), float(i["p0"]))[index])

    return compute


def _r_stats(name: str) -> Callable[[dict[str, Any]], float]:
    def compute(i: dict[str, Any]) -> float:
        from planner import analytic

        if name == "power-t-two-sample":
            n = int(i["n"])
            return float(analytic.power_t_two_sample(i["delta"], i["sd"], n, n, i["alpha"]))
        if name == "power-t-one-sample":
            return float(analytic.power_t_one_sample(i["delta"], i["sd"], int(i["n"]), i["alpha"]))
        if name == "n-t-two-sample":
            return float(analytic.n_t_two_sample(i["delta"], i["sd"], i["alpha"], i["power"]))
        if name == "n-t-one-sample":
            return float(analytic.n_t_one_sample(i["delta"], i["sd"], i["alpha"], i["power"]))
        if name == "power-prop":
            return float(analytic.power_two_proportions(i["p1"], i["p2"], int(i["n"]), i["alpha"]))
        return float(analytic.n_two_proportions(i["p1"], i["p2"], i["alpha"], i["power"]))

    return compute


METHODS: dict[str, Callable[[dict[str, Any]], float]] = {
    "simon.pet": _simon(1),
    "simon.expected-n": _simon(2),
    **{
        f"r.{name}": _r_stats(name)
        for name in (
            "power-t-two-sample",
            "power-t-one-sample",
            "n-t-two-sample",
            "n-t-one-sample",
            "power-prop",
            "n-prop",
        )
    },
    "group-sequential.critical": _gs_critical,
    "group-sequential.inflation": _gs_inflation,
    "farrington-manning.sample-size": _fm_sample_size,
    "interval.clopper-pearson": _interval("clopper-pearson"),
    "interval.wilson": _interval("wilson"),
    "decision2S.binary": _decision2s,
}


def run(references: list[Reference]) -> list[Outcome]:
    """The planner's value for every reference and whether it is within the tolerance."""
    out = []
    for ref in references:
        compute = METHODS.get(ref.method)
        if compute is None:
            out.append(Outcome(ref, None, False, f"unknown method {ref.method!r}"))
            continue
        try:
            value = compute(ref.inputs)
        except Exception as err:  # a reference that cannot be computed is a failure, with its reason
            out.append(Outcome(ref, None, False, f"{type(err).__name__}: {err}"))
            continue
        out.append(Outcome(ref, value, bool(abs(value - ref.expected) <= ref.tolerance), ""))
    return out


def _environment() -> list[tuple[str, str]]:
    from planner.results import package_versions

    return [
        ("date (UTC)", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M")),
        ("platform", platform.platform()),
        ("python", platform.python_version()),
        *((name, version) for name, version in package_versions().items()),
    ]


def write_report(outcomes: list[Outcome], out_dir: str | Path, *, pdf: bool = True) -> Path:
    """The validation document (HTML, and PDF with Chromium): per method, each reference, its source, the
    planner's value, the tolerance and pass or fail; the environment and the date."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    failed = [o for o in outcomes if not o.passed]
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Validation report</title>",
        "<style>body{font-family:sans-serif;margin:2em;font-size:12px}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:3px 5px;text-align:left;vertical-align:top}.fail{background:#fdd}"
        ".pass{background:#efe}h2{margin-top:1.5em}</style></head><body>",
        "<h1>Validation report: the zimislecel phase 3 planner</h1>",
        f"<p class='{'fail' if failed else 'pass'}'><b>{len(outcomes) - len(failed)} of {len(outcomes)} reference "
        f"values pass; {len(failed)} fail.</b></p>",
        "<table><caption>Environment</caption>"
        + "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in _environment())
        + "</table>",
    ]
    by_file: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_file.setdefault(o.reference.file, []).append(o)
    for name, items in by_file.items():
        parts.append(f"<h2>{esc(name)}</h2><p>Source: {esc(items[0].reference.source)}</p>")
        parts.append(
            "<table><tr><th>reference</th><th>method</th><th>source (call or table)</th><th>expected</th>"
            "<th>planner</th><th>tolerance</th><th>result</th></tr>"
        )
        for o in items:
            r = o.reference
            value = "" if o.value is None else f"{o.value:.10g}"
            verdict = "pass" if o.passed else ("fail: " + esc(o.error) if o.error else "fail")
            parts.append(
                f"<tr class='{'pass' if o.passed else 'fail'}'><td>{esc(r.id)}<br>{esc(r.description)}</td>"
                f"<td>{esc(r.method)}</td><td>{esc(r.call)}</td><td>{r.expected:.10g}</td><td>{value}</td>"
                f"<td>{r.tolerance:g}</td><td>{verdict}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    path = out / "validation.html"
    path.write_text("\n".join(parts))
    if pdf:
        from planner.report import _print_pdf

        _print_pdf(path)
    return path
