"""A corpus of bad command lines and bad files: every one exits with code 2, one line per problem naming the
option or field the user wrote, and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "examples" / "zimislecel_single_arm.toml").read_text()
BAYES = (ROOT / "examples" / "zimislecel_single_arm_bayes.toml").read_text()
runner = CliRunner()


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (name, design file text, expected words in the error)
BAD_DESIGNS = [
    ("negative N", replaced(EXAMPLE, "n = 50", "n = -5"), "arms.n"),
    ("zero N", replaced(EXAMPLE, "n = 50", "n = 0"), "arms.n"),
    ("huge N", replaced(EXAMPLE, "n = 50", "n = 1000000000"), "arms.n"),
    ("N as a string", replaced(EXAMPLE, "n = 50", 'n = "50"'), "arms.n"),
    ("N as a float", replaced(EXAMPLE, "n = 50", "n = 50.5"), "arms.n"),
    ("probability 1.3", replaced(EXAMPLE, "treatment = 0.44", "treatment = 1.3"), "scenarios[1].treatment"),
    (
        "negative probability",
        replaced(EXAMPLE, "treatment = 0.44", "treatment = -0.1"),
        "scenarios[1].treatment",
    ),
    (
        "goal above 1",
        replaced(EXAMPLE, "performance_goal = 0.5", "performance_goal = 1.2"),
        "performance_goal",
    ),
    ("goal missing", replaced(EXAMPLE, "performance_goal = 0.5", ""), "performance_goal"),
    ("alpha 0", replaced(EXAMPLE, "alpha = 0.025", "alpha = 0.0"), "analysis.alpha"),
    ("alpha 0.7", replaced(EXAMPLE, "alpha = 0.025", "alpha = 0.7"), "analysis.alpha"),
    ("alpha as text", replaced(EXAMPLE, "alpha = 0.025", 'alpha = "0.025"'), "analysis.alpha"),
    ("dropout 1", replaced(EXAMPLE, "rate = 0.08", "rate = 1.0"), "dropout.rate"),
    ("dropout negative", replaced(EXAMPLE, "rate = 0.08", "rate = -0.2"), "dropout.rate"),
    (
        "unknown strategy",
        replaced(EXAMPLE, 'strategy = "failure"', 'strategy = "ignore"'),
        "dropout.strategy",
    ),
    ("unknown rule", replaced(EXAMPLE, 'rule = "exact-binomial"', 'rule = "magic"'), "analysis.rule"),
    (
        "rule for another endpoint",
        replaced(EXAMPLE, 'rule = "exact-binomial"', 'rule = "t-pooled"'),
        "analysis.rule",
    ),
    (
        "threshold on a frequentist rule",
        replaced(EXAMPLE, "performance_goal = 0.5", "performance_goal = 0.5\nthreshold = 0.9"),
        "analysis.threshold",
    ),
    ("misspelt field", replaced(EXAMPLE, "alpha = 0.025", "alpha = 0.025\nalpah = 0.05"), "analysis.alpah"),
    ("unknown section", EXAMPLE + "\n[extras]\nx = 1\n", "extras"),
    ("no scenarios", EXAMPLE.split("[[scenarios]]")[0], "scenarios"),
    (
        "duplicate scenario names",
        EXAMPLE + '\n[[scenarios]]\nname = "CIT-07"\ntreatment = 0.8\n',
        "scenarios",
    ),
    (
        "control in a single-arm design",
        replaced(EXAMPLE, "treatment = 0.44", "treatment = 0.44\ncontrol = 0.3"),
        "scenarios[1].control",
    ),
    ("zero simulations", replaced(EXAMPLE, "n_sims = 100000", "n_sims = 0"), "simulation.n_sims"),
    (
        "absurd simulations",
        replaced(EXAMPLE, "n_sims = 100000", "n_sims = 1000000000000"),
        "simulation.n_sims",
    ),
    ("negative seed", replaced(EXAMPLE, "seed = 20261123", "seed = -3"), "simulation.seed"),
    (
        "unknown fitted prior",
        replaced(EXAMPLE, 'name = "insulin_independence"', 'name = "nothing"'),
        "design_prior.treatment.name",
    ),
    ("a0 above 1", replaced(EXAMPLE, "a0 = 0.5 }", "a0 = 1.5 }"), "design_prior.treatment.a0"),
    ("wrong type of a table", replaced(EXAMPLE, 'kind = "single-arm"', "kind = 3"), "arms.kind"),
    ("not TOML", "name = 'x\n", "not valid TOML"),
    ("empty file", "", "name"),
    (
        "interim fractions not ending at 1",
        replaced(EXAMPLE, "[simulation]", "[interim]\nfractions = [0.5, 0.8]\n\n[simulation]"),
        "interim.fractions",
    ),
    (
        "futility counts without the counts",
        replaced(
            EXAMPLE, "[simulation]", '[interim]\nfractions = [0.5, 1.0]\nfutility = "counts"\n\n[simulation]'
        ),
        "interim.futility_counts",
    ),
    (
        "futility counts above efficacy counts",
        replaced(
            EXAMPLE,
            "[simulation]",
            '[interim]\nfractions = [0.5, 1.0]\nfutility = "counts"\nfutility_counts = [20]\n'
            "efficacy_counts = [19, 33]\n\n[simulation]",
        ),
        "interim.futility_counts[0]",
    ),
    (
        "gamma without hsd",
        replaced(EXAMPLE, "[simulation]", "[interim]\nfractions = [0.5, 1.0]\ngamma = -4.0\n\n[simulation]"),
        "interim.gamma",
    ),
    (
        "wang-tsiatis without delta",
        replaced(
            EXAMPLE,
            "[simulation]",
            '[interim]\nfractions = [0.5, 1.0]\nspending = "wang-tsiatis"\n\n[simulation]',
        ),
        "interim.delta",
    ),
    (
        "beta-spending without an alternative",
        replaced(
            EXAMPLE,
            "[simulation]",
            '[interim]\nfractions = [0.5, 1.0]\nfutility = "beta-spending"\n\n[simulation]',
        ),
        "interim.beta_alternative",
    ),
    (
        "Bayesian threshold 1.2",
        replaced(BAYES, "threshold = 0.9882", "threshold = 1.2"),
        "analysis.threshold",
    ),
    ("Bayesian without a threshold", replaced(BAYES, "threshold = 0.9882", ""), "analysis.threshold"),
    (
        "variance on a binary endpoint",
        replaced(BAYES, "threshold = 0.9882", 'threshold = 0.9882\nvariance = "unknown"'),
        "analysis.variance",
    ),
]


@pytest.mark.parametrize(("name", "text", "words"), BAD_DESIGNS, ids=[b[0] for b in BAD_DESIGNS])
def test_bad_design_files(name, text, words, tmp_path):
    path = tmp_path / "design.toml"
    path.write_text(text)
    for command in (["evaluate", str(path)], ["report", str(path), "-o", str(tmp_path / "r"), "--no-pdf"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, (name, result.output)
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output and words in result.output, (name, result.output)


def good(tmp_path: Path) -> str:
    path = tmp_path / "good.toml"
    path.write_text(EXAMPLE)
    return str(path)


# (name, arguments with {good} and {tmp}, expected words)
BAD_COMMANDS = [
    ("missing file", ["evaluate", "{tmp}/none.toml"], "no such design file"),
    ("a folder as the design", ["evaluate", "{tmp}"], "cannot read the design file"),
    ("--sims 0", ["evaluate", "{good}", "--sims", "0"], "--sims"),
    ("--sims 10^12", ["evaluate", "{good}", "--sims", "1000000000000"], "--sims"),
    ("--sims text", ["evaluate", "{good}", "--sims", "many"], "--sims"),
    ("--seed negative", ["evaluate", "{good}", "--seed", "-1"], "--seed"),
    ("--method unknown", ["evaluate", "{good}", "--method", "guess"], "--method"),
    ("unknown option", ["evaluate", "{good}", "--fast"], "--fast"),
    ("size without a target", ["size", "{good}"], "--target-power / --target-assurance"),
    (
        "size with both targets",
        ["size", "{good}", "--target-power", "0.9", "--target-assurance", "0.8"],
        "--target-power / --target-assurance",
    ),
    ("size target 1.2", ["size", "{good}", "--target-power", "1.2"], "target"),
    ("size unknown scenario", ["size", "{good}", "--target-power", "0.9", "--scenario", "nope"], "scenario"),
    (
        "size n_min above n_max",
        ["size", "{good}", "--target-power", "0.9", "--n-min", "80", "--n-max", "40"],
        "n_min, n_max",
    ),
    ("size --sims 3", ["size", "{good}", "--target-power", "0.9", "--sims", "3"], "--sims"),
    ("report into a file", ["report", "{good}", "-o", "{good}", "--no-pdf"], "--output"),
    ("report into an impossible folder", ["report", "{good}", "-o", "/proc/none/x", "--no-pdf"], "--output"),
    ("report --sims 3", ["report", "{good}", "-o", "{tmp}/r", "--sims", "3"], "--sims"),
    ("report --seed negative", ["report", "{good}", "-o", "{tmp}/r", "--seed", "-5"], "--seed"),
    ("calibrate a frequentist design", ["calibrate", "{good}"], "calibration needs a Bayesian rule"),
    ("calibrate into a folder", ["calibrate", "{good}", "-o", "{tmp}"], "--output"),
    ("calibrate into a missing folder", ["calibrate", "{good}", "-o", "{tmp}/no/x.toml"], "--output"),
    ("calibrate --sims 1", ["calibrate", "{good}", "--sims", "1"], "--sims"),
    ("simon p0 1.3", ["simon", "--p0", "1.3", "--p1", "0.5"], "p0"),
    ("simon p1 below p0", ["simon", "--p0", "0.5", "--p1", "0.3"], "p1"),
    ("simon alpha 0", ["simon", "--p0", "0.2", "--p1", "0.4", "--alpha", "0"], "alpha"),
    ("simon no design", ["simon", "--p0", "0.2", "--p1", "0.3", "--n-max", "10"], "n_max"),
    ("simon n_max huge", ["simon", "--p0", "0.2", "--p1", "0.4", "--n-max", "100000"], "n_max"),
    ("simon bad choice", ["simon", "--p0", "0.2", "--p1", "0.4", "--design", "best"], "--design"),
    ("sweep missing file", ["sweep", "{tmp}/none.toml"], "no such sweep file"),
    ("sweep into a folder", ["sweep", "{sweep}", "-o", "{tmp}"], "--output"),
    ("sweep into a missing folder", ["sweep", "{sweep}", "-o", "{tmp}/no/x.csv"], "--output"),
    ("sweep --workers -1", ["sweep", "{sweep}", "--workers", "-1"], "--workers"),
    ("sweep n_sims 0 names the sweep file", ["sweep", "{sweep0}"], "n_sims"),
    ("sweep dead scheduler", ["sweep", "{sweep}", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler"),
    ("no command", [], "Usage"),
    ("unknown command", ["evalute"], "evalute"),
]


@pytest.mark.parametrize(("name", "args", "words"), BAD_COMMANDS, ids=[b[0] for b in BAD_COMMANDS])
def test_bad_command_lines(name, args, words, tmp_path):
    g = good(tmp_path)
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'design = "{g}"\nn_sims = 1000\n[grid]\n"arms.n" = [40, 50]\n')
    sweep0 = tmp_path / "sweep0.toml"
    sweep0.write_text(f'design = "{g}"\nn_sims = 0\n[grid]\n"arms.n" = [40, 50]\n')
    filled = [a.format(good=g, tmp=tmp_path, sweep=sweep, sweep0=sweep0) for a in args]
    result = runner.invoke(app, filled)
    assert result.exit_code == 2, (name, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        name,
        repr(result.exception),
    )
    assert "Traceback" not in result.output and words in result.output, (name, result.output)
    if name == "sweep n_sims 0 names the sweep file":
        assert "sweep0.toml: n_sims" in result.output and "--sims" not in result.output


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.encode())
    result = runner.invoke(app, ["evaluate", str(path), "--json"])
    assert result.exit_code == 0, result.output


def test_version_and_plain_help():
    from importlib import metadata

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and metadata.version("zimislecel-planner") in result.stdout
    helptext = runner.invoke(app, ["evaluate", "--help"]).stdout
    assert "[multiple]" in helptext and "<bool>" not in helptext


def test_corpus_size():
    assert len(BAD_DESIGNS) * 2 + len(BAD_COMMANDS) >= 60
