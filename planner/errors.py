"""The one exception users see, and its one-line message.

Every boundary (design loading, the Python API, the CLI, the app) turns bad
input into a :class:`DesignError` whose message names the field and the value,
e.g. ``analysis.alpha: must be at most 0.5, got 1.3``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = ["DesignError", "from_validation_error"]


class DesignError(ValueError):
    """Bad input: a field of a design, an option, or a file.

    ``str(error)`` is one line per problem, each ``field: what is wrong, got value``.
    """

    def __init__(self, message: str, *, problems: tuple[str, ...] | None = None):
        self.problems = problems or (message,)
        super().__init__(message)


_UNION_TAGS = {"binary", "continuous", "count", "time-to-event", "beta", "normal", "gamma", "fitted", "point"}


def _location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item not in _UNION_TAGS:  # pydantic names the branch of a tagged union; users never wrote it
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: ErrorDetails) -> list[str]:
    loc = _location(tuple(error.get("loc", ())))
    kind = error.get("type", "")
    msg = str(error.get("msg", "invalid"))
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        # Our own cross-field checks: one problem per line, each naming its field.
        lines = msg.removeprefix("Value error, ").split("\n")
        return [line if not loc else f"{loc}: {line}" for line in lines]
    if kind == "missing":
        return [f"{loc}: required field is missing"]
    if kind == "extra_forbidden":
        return [f"{loc}: unknown field (got {_shown(error.get('input'))}); check its spelling"]
    if kind == "union_tag_invalid":
        field = f"{loc}.{ctx.get('discriminator', 'kind')}".strip(".").replace("'", "")
        return [f"{field}: unknown value {ctx.get('tag')!r}; choose one of {ctx.get('expected_tags')}"]
    if kind == "union_tag_not_found":
        field = f"{loc}.{ctx.get('discriminator', 'kind')}".strip(".").replace("'", "")
        return [f"{field}: required field is missing"]
    msg = msg[0].lower() + msg[1:] if msg else msg
    got = _shown(error.get("input"))
    return [f"{loc}: {msg}, got {got}" if loc else f"{msg}, got {got}"]


def from_validation_error(error: ValidationError, *, prefix: str = "") -> DesignError:
    """Convert pydantic's error into a DesignError with one line per problem."""
    problems = tuple(
        (f"{prefix}{p}" if prefix and not p.startswith(prefix) else p)
        for lines in (_describe(e) for e in error.errors())
        for p in lines
    )
    return DesignError("; ".join(problems), problems=problems)
