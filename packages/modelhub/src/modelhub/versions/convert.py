"""Conversion of TorchScript and scikit-learn files to ONNX, in an isolated subprocess only.

Loading either format runs code chosen by the uploader, so this process never does it: it
starts ``sys.executable -I -B sandbox_child.py`` (isolated mode: no user site, no ``PYTHON*``
variables, no current directory on the path) in a fresh temporary directory, with

* **no network**: a new, empty network namespace (``unshare --net``, as a user namespace when
  not root) when this system allows one — probed once — and always an audit hook in the child
  that refuses sockets and new processes, and an environment without proxies or secrets;
* **limits** set by ``resource.setrlimit`` in ``preexec_fn``: CPU seconds, address space,
  largest file written, no core dumps; plus a wall-clock deadline after which the child's
  process group is killed;
* **output only through files** in its directory: the ONNX model and a small JSON outcome.
  The ONNX file is parsed here as protobuf (no code runs) and checked with ``onnx.checker``.

The conversion libraries (torch, skl2onnx) are optional (``pip install 'modelhub[convert]'``);
without them the child reports the model unsupported for hosted inference, with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelhub.versions.formats import Detected, check_onnx

CHILD = Path(__file__).with_name("sandbox_child.py")
#: The outcome file is JSON of a few hundred bytes; anything longer is not read.
_RESULT_MAX = 64 * 1024
_STDERR_TAIL = 2000
#: Formats the sandbox converts (what :func:`modelhub.versions.formats.detect` calls them).
CONVERTIBLE = {"torchscript": "torchscript", "pickle": "sklearn"}


@dataclass(frozen=True)
class Limits:
    """What one conversion may use."""

    cpu_s: int = 60
    wall_s: float = 120.0
    memory_bytes: int = 4 * 1024**3
    #: Largest file the child may write (the ONNX model).
    output_bytes: int = 2 * 1024**3
    #: Modules the child treats as not installed (switch a converter off; tests).
    unavailable: Sequence[str] = ()


@dataclass
class Outcome:
    """``succeeded`` (with the checked ONNX file), ``failed`` or ``unsupported`` (reason)."""

    status: str
    reason: str | None = None
    onnx: Path | None = None
    detected: Detected | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _apply_limits(limits: Limits) -> None:
    # Runs in the child between fork and exec: only async-signal-safe calls (plain syscalls).
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@functools.cache
def network_isolation() -> list[str]:
    """The command prefix putting the child in an empty network namespace, or ``[]`` where
    the system refuses one (then only the child's audit hook and the environment hold)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    prefix = [unshare, "--net"] if os.geteuid() == 0 else [unshare, "--user", "--map-root-user",
                                                             "--net"]  # fmt: skip
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return []
    return [*prefix, "--"] if probe.returncode == 0 else []


def _environment(workdir: Path) -> dict[str, str]:
    # Nothing inherited: no proxies, credentials or database URLs reach the model's code.
    return {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir),
            "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1"}  # fmt: skip


def _killed_reason(returncode: int, limits: Limits, timed_out: bool) -> str:
    if timed_out:
        return f"the conversion exceeded its wall-time limit ({limits.wall_s:g} s) and was killed"
    if returncode == -signal.SIGXCPU:
        return f"the conversion exceeded its CPU-time limit ({limits.cpu_s} s) and was killed"
    if returncode == -signal.SIGKILL:
        return "the conversion was killed (CPU-time or memory limit)"
    if returncode == -signal.SIGXFSZ:
        return "the converted model exceeds the size limit"
    return f"the conversion process ended with status {returncode}"


def _read_result(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as fh:
            raw = fh.read(_RESULT_MAX + 1)
        value = json.loads(raw) if len(raw) <= _RESULT_MAX else None
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _stderr_tail(path: Path) -> str:
    with contextlib.suppress(OSError), path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - _STDERR_TAIL))
        return fh.read().decode("utf-8", "replace").strip()
    return ""


async def _run_child(argv: list[str], workdir: Path, limits: Limits) -> tuple[int, bool]:
    preexec: Callable[[], None] = functools.partial(_apply_limits, limits)
    with (workdir / "stderr.txt").open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=workdir, env=_environment(workdir), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=err, preexec_fn=preexec, start_new_session=True,
        )  # fmt: skip
        try:
            return await asyncio.wait_for(proc.wait(), limits.wall_s), False
        except TimeoutError:
            _kill(proc.pid)
            return await proc.wait(), True
        except asyncio.CancelledError:
            _kill(proc.pid)  # a cancelled job must not leave the model's code running
            raise


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


async def convert(
    kind: str, source: Path, workdir: Path, limits: Limits, input_shape: list[int] | None = None
) -> Outcome:
    """Convert ``source`` (``torchscript`` or ``sklearn``) to ONNX in the sandbox, working in
    ``workdir`` (empty, removed by the caller). Never raises for a bad model: the outcome
    says what happened."""
    workdir = await asyncio.to_thread(workdir.resolve)
    source = await asyncio.to_thread(source.resolve)
    spec = {"kind": kind, "input": str(source), "output": str(workdir / "model.onnx"),
            "result": str(workdir / "result.json"), "workdir": str(workdir),
            "input_shape": input_shape, "unavailable": list(limits.unavailable)}  # fmt: skip
    (workdir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    isolation = await asyncio.to_thread(network_isolation)
    argv = [*isolation, sys.executable, "-I", "-B", str(CHILD), str(workdir / "spec.json")]
    returncode, timed_out = await _run_child(argv, workdir, limits)
    result = _read_result(workdir / "result.json")
    if returncode != 0 or timed_out or result is None:
        reason = _killed_reason(returncode, limits, timed_out)
        tail = _stderr_tail(workdir / "stderr.txt").splitlines()[-1:]
        return Outcome("failed", f"{reason}{': ' + tail[0][:300] if tail else ''}")
    if result.get("status") != "succeeded":
        status = "unsupported" if result.get("status") == "unsupported" else "failed"
        return Outcome(status, str(result.get("reason") or "unknown error")[:1000])
    return await _checked(workdir / "model.onnx")


async def _checked(path: Path) -> Outcome:
    if not await asyncio.to_thread(path.is_file):
        return Outcome("failed", "the converter wrote no ONNX model")
    # Protobuf parsing and onnx.checker: no code of the model runs here.
    found = await asyncio.to_thread(check_onnx, path)
    if found is None or found.note is not None:
        note = found.note if found is not None else "not an ONNX model"
        return Outcome("failed", f"the converted model is invalid: {note}")
    return Outcome("succeeded", None, path, found)
