"""The briefing report: every section, numbers equal to the API, a PDF that renders, a script that reproduces."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner import evaluate, load_design
from planner.cli import app
from planner.report import CHROMIUM, build_report

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "examples" / "zimislecel_single_arm.toml"
HAVE_PDF_TOOLS = Path(CHROMIUM).exists() and shutil.which("pdftoppm") is not None
NEED_PDF = pytest.mark.skipif(
    not HAVE_PDF_TOOLS and not os.environ.get("CI"),
    reason="chromium and pdftoppm come from scripts/setup (always present in CI)",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return build_report(
        load_design(DESIGN), out, pdf=HAVE_PDF_TOOLS or bool(os.environ.get("CI")), source=str(DESIGN)
    )


def test_every_section_is_present(report):
    page = report.html.read_text()
    for section in ("design", "rules", "priors", "oc", "curves", "sensitivity", "reproducibility"):
        assert f'id="{section}"' in page
    for words in (
        "composite estimand",
        "exact-binomial",
        "Reichman",
        "R-hat",
        "maximum type I error",
        "Power and assurance over N",
        "discount",
        "performance goal",
        "dropout rate",
        "package versions",
        "reproduce.py",
        "<svg",
    ):
        assert words in page, words


def test_numbers_equal_the_api(report):
    design = load_design(DESIGN)
    api = evaluate(design)
    page = report.html.read_text()
    for r in api.results:
        assert report.numbers[r.scenario.name][0] == r.success.value
        assert f"{r.success.value:.4f}" in page
    assert report.numbers["assurance"][0] == api.assurance.value
    assert f"{api.assurance.value:.4f}" in page
    assert api.design_hash in page and str(design.simulation.seed) in page
    # the type I error finding is the guard's, and its number is the exact value at the null boundary
    check = api.type_one_error
    assert check.value == api["Null boundary"].success.value and not check.exceeds
    assert html.escape(check.finding, quote=False) in page
    assert re.search(rf"maximum type I error over the null is {check.value:.4f} \(exact", page)
    assert report.numbers["max type I error"] == [check.value, 0.0]
    csv = (report.directory / "operating_characteristics.csv").read_text()
    assert "Phase 1/2 estimate" in csv and (report.directory / "design.toml").exists()


def test_reproduction_script_gives_the_same_numbers(report):
    proc = subprocess.run(
        [sys.executable, "reproduce.py"], cwd=report.directory, capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout) == json.loads(json.dumps(report.numbers))


@NEED_PDF
def test_pdf_renders_to_png(report, tmp_path):
    assert report.pdf is not None and report.pdf.stat().st_size > 10_000
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(report.pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 3 and all(p.stat().st_size > 2_000 for p in pages)
    target = os.environ.get("PLANNER_TEST_ARTIFACTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(report.pdf, Path(target) / "report.pdf")
        shutil.copy(pages[0], Path(target) / "report-page1.png")


def test_cli_report_json_and_bad_input(tmp_path):
    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "report",
            str(ROOT / "examples" / "hba1c_randomized.toml"),
            "-o",
            str(tmp_path / "r"),
            "--no-pdf",
            "--sims",
            "2000",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert Path(data["html"]).exists() and data["pdf"] is None
    api = evaluate(load_design(ROOT / "examples" / "hba1c_randomized.toml"), n_sims=2000)
    assert data["numbers"]["Phase 1/2 effect"][0] == api["Phase 1/2 effect"].success.value
    bad = runner.invoke(app, ["report", str(tmp_path / "missing.toml"), "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "no such design file" in bad.output
    bad = runner.invoke(app, ["report", str(DESIGN), "-o", str(tmp_path / "y"), "--sims", "3"])
    assert bad.exit_code == 2 and "--sims" in bad.output


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*.toml")))
def test_report_builds_for_every_shipped_example(example, tmp_path):
    out = build_report(load_design(ROOT / "examples" / example), tmp_path, n_sims=2000, pdf=False)
    page = out.html.read_text()
    assert 'id="reproducibility"' in page and "maximum type I error" in page


def test_comparison_section_equals_the_api(tmp_path):
    from planner import tables

    base = load_design(DESIGN)
    pinned = [(f"N = {n}", evaluate(base.with_changes({"arms.n": n}))) for n in (40, 60)]
    table = tables.comparison_table(pinned)
    out = build_report(base, tmp_path / "r", n_sims=2000, pdf=False, comparison=table)
    page = out.html.read_text()
    assert 'id="comparison"' in page
    saved = (out.directory / "comparison.csv").read_text()
    for label, r in pinned:
        assert label in page and label in saved
        assert f"{r.type_one_error.value:.4f}" in page
        assert f"{r['Phase 1/2 estimate'].success.value:.4f}" in page


def test_each_sensitivity_sentence_agrees_with_its_table(report):
    """Parse every sensitivity sentence of the page and check each parameter value it names against the CSV
    table beside it: 'below' means value + 2 MCSE < 0.8 or exact below, 'at least' the reverse."""
    import pandas as pd

    page = report.html.read_text()
    checked = 0
    for csv in sorted(report.directory.glob("sensitivity_*.csv")):
        frame = pd.read_csv(csv)
        parameter, value = frame.columns[0], frame.columns[1]
        quantity = "Assurance" if value == "assurance" else "Power"
        sentences = re.findall(rf"{quantity} is (.*?)\.(?:\s|<)", page)
        mine = [s for s in sentences if f"{parameter} =" in s]
        assert mine, (parameter, sentences)
        clauses = mine[0].split("; ")
        for clause in clauses:
            kind = (
                "below"
                if clause.startswith("below")
                else "unsure"
                if clause.startswith("within")
                else "above"
            )
            named = re.sub(r".* = ", "", clause).replace(" and ", ", ").split(", ")
            for text in named:
                row = frame.loc[(frame[parameter] - float(text)).abs() < 1e-9].iloc[0]
                y, se = row[value], row["MCSE"]
                if kind == "below":
                    assert y < 0.8 and (se == 0 or y + 2 * se < 0.8), (parameter, text, y, se)
                elif kind == "above":
                    assert y >= 0.8 and (se == 0 or y - 2 * se > 0.8), (parameter, text, y, se)
                else:
                    assert abs(y - 0.8) <= 2 * se
                checked += 1
    assert checked >= 10
    assert "discounted to a0 = 1.0" not in page  # the false sentence of the old report


def test_target_sentence_states_what_the_table_shows():
    import pandas as pd

    from planner.report import target_sentence

    frame = pd.DataFrame({"a0": [0.1, 0.5, 1.0], "assurance": [0.6, 0.79, 0.9], "MCSE": [0.0, 0.0, 0.0]})
    assert target_sentence("Assurance", "a0", frame, "assurance", 0.8) == (
        "Assurance is below 0.8 at a0 = 0.1 and 0.5; at least 0.8 at a0 = 1."
    )
    frame["assurance"] = [0.5, 0.6, 0.7]
    assert (
        target_sentence("Assurance", "a0", frame, "assurance", 0.8)
        == "Assurance is below 0.8 at a0 = 0.1, 0.5 and 1."
    )
    frame["MCSE"] = [0.0, 0.0, 0.06]
    assert "within Monte Carlo error of 0.8 at a0 = 1" in target_sentence(
        "Assurance", "a0", frame, "assurance", 0.8
    )


@NEED_PDF
@pytest.mark.parametrize(
    "example", ["zimislecel_single_arm.toml", "zimislecel_group_sequential.toml", "hba1c_randomized.toml"]
)
def test_briefing_pdf_pages_are_filled_numbered_and_in_plain_words(example, tmp_path):
    """pdftoppm renders every page: none but the last is more than half blank; pdftotext: every page numbered
    'Page k of n', and the text holds no snake_case identifier (file names aside), no JSON and no 'None'."""
    import numpy as np
    from PIL import Image

    out = build_report(load_design(ROOT / "examples" / example), tmp_path / "r", n_sims=5000, pdf=True)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out.pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert 3 <= len(pages) <= 15
    for page in pages[:-1]:
        gray = np.asarray(Image.open(page).convert("L"))
        body = gray[: int(gray.shape[0] * 0.92)]  # above the footer with the page number
        inked = (body < 235).any(axis=1).mean()
        assert inked >= 0.5, (page.name, inked)
    text = subprocess.run(
        ["pdftotext", "-layout", str(out.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for k in range(1, len(pages) + 1):
        assert f"Page {k} of {len(pages)}" in text
    words = re.findall(r"[\w./-]+", text)
    snake = [w for w in words if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", w)]
    assert not snake, snake[:10]
    assert "{" not in text and "None" not in text and "nan" not in text.split()
    assert re.search(r"expected N \d+\.\d\b", text)  # E[N] to one decimal
    if "Type I error" in text:
        assert re.search(r"maximum type I error over the null is 0\.\d{4}", text)
