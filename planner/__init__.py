"""Phase 3 trial planner: designs, exact and simulated operating characteristics.

Public API::

    from planner import load_design, evaluate
    design = load_design("examples/zimislecel_single_arm.toml")
    result = evaluate(design)
    result["Expected (phase 1/2)"].success.value
"""

from planner.design import Design, Scenario, design_to_toml, load_design, parse_design, parse_design_text
from planner.engine import count_successes, evaluate
from planner.errors import DesignError
from planner.results import Estimate, Evaluation, ScenarioResult

__all__ = [
    "Design", "Scenario", "DesignError", "Estimate", "Evaluation", "ScenarioResult",
    "load_design", "parse_design", "parse_design_text", "design_to_toml", "evaluate", "count_successes",
]
__version__ = "0.1.0"
