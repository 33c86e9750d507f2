"""The ``train bugs`` and ``ml detect`` commands.

Heavy imports (numpy, ONNX Runtime, PyTorch) happen inside the commands, so ``pyforge --help``
stays fast. ``ml detect`` exits 0, or 2 with one line on stderr for bad input, as ``analyze``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

EXIT_USAGE = 2

train_app = typer.Typer(help="Train PyForge's models (needs the `train` extra).",
                        no_args_is_help=True)  # fmt: skip
ml_app = typer.Typer(help="Learned checks: the bug detector.", no_args_is_help=True)


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"pyforge: error: {message}\n")
    raise typer.Exit(EXIT_USAGE)


@train_app.command("quality")
def train_quality(
    out_dir: Annotated[
        Path | None, typer.Option(help="Where quality.json and its card go (default: the package).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of file sampling and bug injection.")] = 0,
    per_package: Annotated[int, typer.Option(help="Files per package at most.")] = 30,
) -> None:
    """Fit the quality model on held-out packages and measure it on others (AUC, ECE)."""
    try:
        from pyforge.ml import quality_train
    except ImportError as exc:
        _fail(f"training needs the `train` extra (pip install 'pyforge[train]'): {exc}")
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:
        _fail(f"training needs the `train` extra (pip install 'pyforge[train]'): {exc}")
    from pyforge.ml.modelinfo import MODEL_DIR

    meta = quality_train.train(seed=seed, per_package=per_package, out_dir=out_dir or MODEL_DIR)
    sys.stdout.write(json.dumps(meta["test"], indent=1) + "\n")


@train_app.command("bugs")
def train_bugs(
    stage: Annotated[
        list[str] | None,
        typer.Option("--stage", help="data, baseline, neural, card (repeatable; default all)."),
    ] = None,
    work_dir: Annotated[Path, typer.Option(help="Where data and checkpoints go.")] = Path(
        ".ml-data"
    ),
    out_dir: Annotated[
        Path | None, typer.Option(help="Where the model and cards go (default: the package).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    epochs: Annotated[int, typer.Option(help="Training epochs of the neural model.")] = 6,
    budget_minutes: Annotated[
        float, typer.Option(help="Stop neural training after the epoch that passes this.")
    ] = 40.0,
    resume: Annotated[
        bool, typer.Option(help="Continue from the work directory's neural.pt.")
    ] = False,
    lr: Annotated[float, typer.Option(help="Peak learning rate of the neural model.")] = 2e-3,
) -> None:
    """Build the synthetic data set, train baseline and neural detector, write the cards."""
    try:
        from pyforge.ml import pipeline
    except ImportError as exc:  # torch/sklearn missing
        _fail(f"training needs the `train` extra (pip install 'pyforge[train]'): {exc}")
    stages = stage or list(pipeline.STAGES)
    unknown = [s for s in stages if s not in pipeline.STAGES]
    if unknown:
        _fail(f"unknown stage {unknown[0]!r}; choose from {', '.join(pipeline.STAGES)}")
    pipeline.run(
        stages, work=work_dir, out_dir=out_dir or pipeline.MODEL_DIR, seed=seed,
        epochs=epochs, budget_s=budget_minutes * 60, resume=resume, lr=lr,
    )  # fmt: skip


def _python_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            _fail(f"path does not exist: {raw}")
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*.py")
                if not any(part.startswith(".") or part == "__pycache__"
                           for part in p.relative_to(path).parts[:-1])
            )  # fmt: skip
        else:
            files.append(path)
    return files


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        _fail(f"{path}: not valid UTF-8")
    except OSError as exc:
        _fail(f"{path}: {exc.strerror or exc}")


@ml_app.command("detect")
def detect(
    paths: Annotated[list[str], typer.Argument(help="Files or directories to check.")],
    fmt: Annotated[
        str, typer.Option("--format", help="table, json or sarif.", case_sensitive=False)
    ] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write here, not stdout.")] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Report at or above this probability (default: the model card's; "
            "0 lists every function's best candidate)."
        ),
    ] = None,
) -> None:
    """Find likely bugs (variable misuse, wrong operator or literal, ...) with the learned model."""
    from pyforge.ml.detector import default_detector
    from pyforge.ml.report import render

    fmt = fmt.lower()
    if fmt not in ("table", "json", "sarif"):
        _fail(f"unknown format {fmt!r}; choose table, json or sarif")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        _fail("--threshold must lie between 0 and 1")
    files = _python_files(paths)
    detector = default_detector()
    cutoff = detector.info.threshold if threshold is None else threshold
    detections = []
    for path in files:
        source = _read(path)
        try:
            detections += detector.detect_source(source, str(path), cutoff)
        except SyntaxError as exc:
            _fail(f"{path}:{exc.lineno or 0}: syntax error: {exc.msg}")
        except (ValueError, RecursionError) as exc:
            _fail(f"{path}: cannot parse: {exc}")
    detections.sort(key=lambda d: (-d.probability, d.path, d.line, d.column))
    text = render(fmt, detector.info, detections)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``ml`` to the ``pyforge`` app."""
    app.add_typer(train_app, name="train")
    app.add_typer(ml_app, name="ml")
