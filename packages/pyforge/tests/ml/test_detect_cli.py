"""``pyforge ml detect`` over the shipped model: formats, positions, threshold, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pyforge.ml.cli import register
from pyforge.ml.modelinfo import model_info

CLEAN = """\
def count_positive(values):
    total = 0
    for value in values:
        if value > 0:
            total += 1
    return total


class Stack:
    def __init__(self):
        self.items = []

    def push(self, item, limit):
        if len(self.items) >= limit:
            raise OverflowError(limit)
        self.items.append(item)
"""


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def run(*args: str):
    return CliRunner().invoke(_app(), ["ml", "detect", *args])


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "code.py"
    path.write_text(CLEAN)
    return path


def test_json_lists_every_function_at_threshold_zero(source: Path) -> None:
    result = run(str(source), "--format", "json", "--threshold", "0")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    info = model_info()
    assert doc["model"] == {"name": info.name, "version": info.version}
    detections = doc["detections"]
    # One best candidate per function that has any; __init__ has none (nothing to swap for).
    assert sorted(d["function"] for d in detections) == ["Stack.push", "count_positive"]
    probs = [d["probability"] for d in detections]
    assert probs == sorted(probs, reverse=True)
    lines = CLEAN.splitlines()
    for d in detections:
        assert set(d) == {
            "path",
            "function",
            "line",
            "column",
            "end_line",
            "end_column",
            "kind",
            "probability",
            "repair",
            "message",
        }
        assert 0.0 <= d["probability"] <= 1.0
        # 1-based line and column: the reported text is where the detection says it is.
        if d["repair"].startswith("replace `"):
            current = d["repair"].split("`")[1]
            line = lines[d["line"] - 1]
            assert line[d["column"] - 1 :].startswith(current.split(" ")[0]), d


def test_default_threshold_comes_from_the_model_card(source: Path) -> None:
    everything = json.loads(run(str(source), "--format", "json", "--threshold", "0").stdout)
    default = json.loads(run(str(source), "--format", "json").stdout)
    cutoff = model_info().threshold
    expected = [d for d in everything["detections"] if d["probability"] >= cutoff]
    assert default["detections"] == expected


def test_sarif_and_output_file(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    result = run(str(source), "--format", "sarif", "--threshold", "0", "--output", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    detections = json.loads(run(str(source), "--format", "json", "--threshold", "0").stdout)
    assert len(results) == len(detections["detections"])
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_table_format(source: Path) -> None:
    result = run(str(source), "--threshold", "0")
    assert result.exit_code == 0
    assert result.stdout.startswith(model_info().name)
    assert "code.py:" in result.stdout


def test_directory_is_searched(source: Path) -> None:
    result = run(str(source.parent), "--format", "json", "--threshold", "0")
    assert json.loads(result.stdout)["detections"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"def f(:\n    pass\n", "syntax error"), (b"x = '\xe9\xff'\n", "not valid UTF-8")],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    result = run(str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_missing_path_and_bad_options(tmp_path: Path, source: Path) -> None:
    result = run(str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert "path does not exist" in result.stderr
    assert run(str(source), "--format", "xml").exit_code == 2
    assert run(str(source), "--threshold", "1.5").exit_code == 2
