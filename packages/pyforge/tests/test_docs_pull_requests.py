"""The GitHub Actions example in docs/pull-requests.md is valid YAML and runs what it says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

DOC = Path(__file__).resolve().parents[3] / "docs" / "pull-requests.md"


def test_workflow_example_parses_and_uses_the_real_options() -> None:
    text = DOC.read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", text, re.S)
    workflow = yaml.safe_load(block)
    steps = workflow["jobs"]["analyse"]["steps"]
    uses = {s.get("uses", "").split("@")[0] for s in steps}
    assert {"actions/checkout", "github/codeql-action/upload-sarif"} <= uses
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the merge base must be fetched
    assert workflow["permissions"]["security-events"] == "write"
    runs = "\n".join(s.get("run", "") for s in steps)
    for option in ("--diff-base", "--format sarif", "--format markdown", "--branch", "--target",
                   "--pr"):  # fmt: skip
        assert option in runs, option
    # Every option the example uses exists on the commands.
    env = {**os.environ, "COLUMNS": "200"}
    helps = "".join(
        subprocess.run([sys.executable, "-m", "pyforge.cli", cmd, "--help"], capture_output=True,
                       text=True, check=True, env=env, timeout=60).stdout
        for cmd in ("analyze", "push")
    )  # fmt: skip
    for option in ("--diff-base", "--branch", "--target", "--pr", "--format"):
        assert option in helps, option
