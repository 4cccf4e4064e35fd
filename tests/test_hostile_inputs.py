"""Hostile design files (issue 17, item 5): a corpus of malformed, oversized and malicious inputs through the API,
the CLI and the app's paste box -- a message naming the problem every time, never a traceback or a hang."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from planner import DesignError
from planner.cli import app
from planner.design import parse_design_text

ROOT = Path(__file__).resolve().parent.parent
VALID = (ROOT / "examples" / "zimislecel_single_arm.toml").read_text()
SECONDS = 10.0  # the longest any case may take through the CLI


def _first(field: str, value: str) -> str:
    """The valid design with the first line setting ``field`` set to ``value`` instead."""
    return re.sub(rf"^{field} = .*$", f"{field} = {value}", VALID, count=1, flags=re.M)


CORPUS = {
    # the parser's recursion stops a bomb ("nested too deeply to read") or the shape check does ("nested N
    # levels deep"), depending on the Python build
    "array nesting bomb": ("x = " + "[" * 5000 + "]" * 5000, "nested"),
    "inline table bomb": ("x = " + "{a = " * 3000 + "1" + "}" * 3000, "nested"),
    "nested 30 levels": ("x = " + "[" * 30 + "1" + "]" * 30, "levels deep"),
    "ten million values": ("x = [" + ",".join(["1"] * 10_000_000) + "]", "characters"),
    "three hundred thousand values": ("x = [" + ",".join(["1"] * 300_000) + "]", "values"),
    "a 5 MB string": ('name = "' + "a" * 5_000_000 + '"', "characters"),
    "not TOML": ("this is not = = toml [[[", "not valid TOML"),
    "empty file": ("", "required field is missing"),
    "name of the wrong type": (_first("name", "5"), "name"),
    "negative N": (_first("n", "-50"), "arms.n"),
    "absurd N": (_first("n", "1000000000"), "arms.n"),
    "N as words": (_first("n", '"fifty"'), "arms.n"),
    "probability 1.3": (_first("treatment", "1.3"), "treatment"),
    "absurd simulation count": (_first("n_sims", "1000000000000"), "n_sims"),
    "negative seed": (_first("seed", "-3"), "seed"),
    "nan rate": (_first("treatment", "nan"), "treatment"),
    "infinite rate": (_first("treatment", "inf"), "treatment"),
    "duplicate key": (VALID + '\nname = "again"\n', "not valid TOML"),
    "no scenarios": (VALID.split("[[scenarios]]")[0], "scenarios"),
    "a huge unknown section": (
        "[junk]\n" + "\n".join(f"k{i} = {i}" for i in range(50_000)) + "\n" + VALID,
        "junk",
    ),
    "a 100,000-character key": (f"{'k' * 100_000} = 1\n" + VALID, "unknown field"),
    "ten thousand scenarios": (
        VALID + "".join(f'\n[[scenarios]]\nname = "s{i}"\ntreatment = 0.5\n' for i in range(10_000)),
        "scenarios",
    ),
    "zero allocation": (
        VALID.replace('kind = "single-arm"', 'kind = "randomized"\nallocation = [0.0, 1.0]', 1),
        "arms",
    ),
}


def _case_ids():
    return list(CORPUS)


@pytest.mark.parametrize("name", _case_ids())
def test_the_api_names_the_problem(name):
    text, words = CORPUS[name]
    with pytest.raises(DesignError) as err:
        parse_design_text(text, origin="hostile.toml")
    assert words.lower() in str(err.value).lower(), str(err.value)[:300]


@pytest.mark.parametrize("name", _case_ids())
def test_the_cli_exits_2_without_a_traceback_or_a_hang(name, tmp_path):
    text, words = CORPUS[name]
    path = tmp_path / "hostile.toml"
    path.write_text(text)
    began = time.perf_counter()
    out = CliRunner().invoke(app, ["evaluate", str(path)])
    assert time.perf_counter() - began < SECONDS
    assert out.exit_code == 2, (out.exit_code, out.output[:300])
    assert "Traceback" not in out.output and words.lower() in out.output.lower()


def test_a_non_utf8_file_is_named(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00\x00garbage\x80\x81")
    out = CliRunner().invoke(app, ["evaluate", str(path)])
    assert (
        out.exit_code == 2 and "cannot read the design file" in out.output and "Traceback" not in out.output
    )


@pytest.mark.parametrize("name", [n for n, (text, _) in CORPUS.items() if len(text) < 1_000_000])
def test_the_app_shows_a_message_and_keeps_the_design(name):
    """Every case up to a megabyte through the app's paste box (the upload's parser); the larger ones are
    uploaded in Chromium (tests/test_browser.py), where the app refuses them before decoding."""
    from tests.test_app import load_text, results

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    before = results(at)
    text, words = CORPUS[name]
    at = load_text(at, text)
    assert not at.exception
    assert any(words.lower() in e.value.lower() for e in at.error), [e.value[:200] for e in at.error]
    assert results(at).equals(before)  # the last valid design is kept
