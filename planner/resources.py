"""Where the data shipped with the planner lives: the evidence and the fitted priors, the example designs.

In a checkout they are the project's `priors/` and `examples/` folders. A wheel carries copies of them inside
the package, as `planner/_shipped/priors` and `planner/_shipped/examples` (mapped by `package-dir` in
pyproject.toml), so an installed planner finds them from any directory. `$PLANNER_PRIORS_DIR` points the
planner at another priors folder (a refit, a test).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shipped", "priors_dir", "examples_dir"]

_PACKAGE = Path(__file__).resolve().parent


def shipped(folder: str) -> Path:
    """The shipped data folder ``folder`` ("priors" or "examples"): the installed copy, else the checkout's."""
    installed = _PACKAGE / "_shipped" / folder
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / folder
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"the planner's {folder}/ folder is missing from {installed} and {checkout}: "
        "reinstall the planner (its wheel ships it as package data)"
    )


def priors_dir() -> Path:
    """The evidence and fitted priors: $PLANNER_PRIORS_DIR, or the shipped priors/."""
    env = os.environ.get("PLANNER_PRIORS_DIR")
    return Path(env) if env else shipped("priors")


def examples_dir() -> Path:
    """The shipped example designs."""
    return shipped("examples")
