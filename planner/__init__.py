"""Phase 3 trial planner: designs, exact and simulated operating characteristics.

Public API::

    from planner import load_design, evaluate
    design = load_design("examples/zimislecel_single_arm.toml")
    result = evaluate(design)
    result["Expected (phase 1/2)"].success.value

The names are imported on first use (PEP 562), so `import planner` and `planner --help` stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.decisions import decision_zones
    from planner.design import Design, Scenario, design_to_toml, load_design, parse_design, parse_design_text
    from planner.engine import count_successes, evaluate
    from planner.errors import DesignError
    from planner.results import Estimate, Evaluation, ScenarioResult

_PUBLIC = {
    "Design": "planner.design",
    "Scenario": "planner.design",
    "design_to_toml": "planner.design",
    "load_design": "planner.design",
    "parse_design": "planner.design",
    "parse_design_text": "planner.design",
    "count_successes": "planner.engine",
    "decision_zones": "planner.decisions",
    "evaluate": "planner.engine",
    "DesignError": "planner.errors",
    "Estimate": "planner.results",
    "Evaluation": "planner.results",
    "ScenarioResult": "planner.results",
}
__all__ = [
    "Design",
    "Scenario",
    "DesignError",
    "Estimate",
    "Evaluation",
    "ScenarioResult",
    "load_design",
    "parse_design",
    "parse_design_text",
    "design_to_toml",
    "evaluate",
    "count_successes",
    "decision_zones",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'planner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
