"""The program run inside the conversion sandbox: load one model file, export it to ONNX.

Run as ``python -I -B sandbox_child.py <spec.json>`` by :mod:`modelhub.versions.convert`, never
imported by the API. It uses only the standard library until the conversion libraries are
imported, so it runs with nothing of Modelhub on its path. Loading a pickle or a TorchScript
archive runs code chosen by whoever uploaded it; this process is the only place that happens.

Before anything is loaded, an audit hook (:pep:`578`) refuses sockets, new processes and writes
outside the working directory. An audit hook is no boundary against native code (``ctypes``):
the parent adds resource limits (CPU, memory, file size), a fresh empty network namespace where
the system allows one, a minimal environment, and reads back only two files.

The spec (JSON): ``kind`` (``torchscript`` or ``sklearn``), ``input`` (the model file),
``output`` (where the ONNX goes), ``result`` (where the outcome JSON goes), ``workdir``,
``input_shape`` (TorchScript: the example input's shape, or null) and ``unavailable`` (module
names to treat as not installed; lets the tests and operators switch a converter off).
"""

from __future__ import annotations

import importlib.abc
import json
import os
import sys
from pathlib import Path
from typing import Any

#: Audit events that start a process or talk to the network: always refused.
_DENIED_PREFIXES = ("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn",
                    "os.spawn", "os.fork", "os.forkpty", "pty.", "webbrowser.")  # fmt: skip
#: Audit events whose path arguments (positions) must lie inside the working directory.
_PATH_EVENTS = {"os.remove": (0,), "os.rename": (0, 1), "os.rmdir": (0,), "os.mkdir": (0,),
                "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,), "os.link": (0, 1),
                "os.symlink": (1,), "os.truncate": (0,), "shutil.rmtree": (0,),
                "shutil.move": (0, 1), "shutil.copyfile": (1,)}  # fmt: skip
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_OPSET = 17


class Unsupported(Exception):
    """The conversion library is not installed: the model is stored, not served."""


class _Blocked(importlib.abc.MetaPathFinder):
    """Makes ``names`` (and their submodules) look uninstalled."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.split(".", 1)[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def _inside(root: str, path: Any) -> bool:
    if isinstance(path, int):
        return True  # an already open descriptor: opening it was checked
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str | os.PathLike):
        return True
    real = os.path.realpath(os.fspath(path))
    return real == "/dev/null" or real.startswith(root + os.sep)


def _writes(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def install_guard(root: str) -> None:
    """Refuse, from now on, sockets, processes and file changes outside ``root``."""
    root = os.path.realpath(root)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event.startswith(_DENIED_PREFIXES):
            raise PermissionError(f"sandbox: {event} is not allowed")
        writing = event == "open" and len(args) >= 3 and _writes(args[1], args[2])
        if writing and not _inside(root, args[0]):
            raise PermissionError(f"sandbox: writing {args[0]!r} is not allowed")
        for position in _PATH_EVENTS.get(event, ()):
            if len(args) > position and not _inside(root, args[position]):
                raise PermissionError(f"sandbox: {event} on {args[position]!r} is not allowed")

    sys.addaudithook(hook)


def _need(module: str, extra: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        raise Unsupported(
            f"unsupported for hosted inference: converting {extra} needs {exc.name or module}, "
            f"which is not installed on the worker (pip install 'modelhub[convert]')"
        ) from None


def convert_torchscript(spec: dict[str, Any]) -> None:
    """Load a TorchScript archive and export it with ``torch.onnx`` (TorchScript exporter)."""
    torch = _need("torch", "TorchScript")
    module = torch.jit.load(spec["input"], map_location="cpu")
    module.eval()
    shape = spec.get("input_shape") or _guess_shape(module)
    if not shape:
        raise ValueError("cannot tell the model's input shape; give input_shape with the version")
    example = torch.zeros(*shape, dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(
            module, (example,), spec["output"], dynamo=False, opset_version=_OPSET,
            input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        )  # fmt: skip


def _guess_shape(module: Any) -> list[int] | None:
    # The first weight matrix of a linear layer (out, in) tells the feature count.
    for _, param in module.named_parameters():
        if param.dim() == 2:
            return [1, int(param.shape[1])]
        return None
    return None


def convert_sklearn(spec: dict[str, Any]) -> None:
    """Load a scikit-learn estimator (joblib or pickle) and export it with skl2onnx."""
    joblib = _need("joblib", "scikit-learn models")
    skl2onnx = _need("skl2onnx", "scikit-learn models")
    data_types = _need("skl2onnx.common.data_types", "scikit-learn models")
    estimator = joblib.load(spec["input"])
    features = getattr(estimator, "n_features_in_", None)
    if not isinstance(features, int):
        raise ValueError(f"not a fitted scikit-learn estimator ({type(estimator).__name__})")
    onx = skl2onnx.convert_sklearn(
        estimator, initial_types=[("input", data_types.FloatTensorType([None, features]))],
        target_opset={"": _OPSET, "ai.onnx.ml": 3},
        options={id(estimator): {"zipmap": False}} if hasattr(estimator, "predict_proba") else None,
    )  # fmt: skip
    Path(spec["output"]).write_bytes(onx.SerializeToString())


def main(argv: list[str]) -> int:
    """Convert as the spec at ``argv[1]`` says; the outcome goes to the spec's result file."""
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    os.chdir(spec["workdir"])
    sys.meta_path.insert(0, _Blocked(list(spec.get("unavailable") or [])))
    install_guard(spec["workdir"])
    try:
        {"torchscript": convert_torchscript, "sklearn": convert_sklearn}[spec["kind"]](spec)
        outcome = {"status": "succeeded"}
    except Unsupported as exc:
        outcome = {"status": "unsupported", "reason": str(exc)}
    except BaseException as exc:  # whatever the model's code did (even sys.exit), report it
        outcome = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"[:1000]}
    Path(spec["result"]).write_text(json.dumps(outcome), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
