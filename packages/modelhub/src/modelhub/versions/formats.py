"""What an uploaded model file is, decided by its content, never by its name or by running it.

ONNX files are parsed (protobuf, no code runs) and checked with ``onnx.checker``; their input
and output signature is read from the graph. A pickle (scikit-learn, joblib) or a TorchScript
archive can run arbitrary code when loaded, so it is recognised by its bytes and never loaded
here: it is stored and handed to the conversion sandbox (:mod:`modelhub.versions.convert`),
which alone loads it, in a separate, limited process without network.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: ONNX tensor element types by their enum value (the ones a signature shows).
_ELEM_TYPES = {1: "float32", 2: "uint8", 3: "int8", 5: "int16", 6: "int32", 7: "int64",
               8: "string", 9: "bool", 10: "float16", 11: "float64", 16: "bfloat16"}  # fmt: skip


@dataclass
class Detected:
    """The recognised format, the reason it cannot be served (if any) and the signature."""

    format: str
    note: str | None = None
    signature: dict[str, Any] = field(default_factory=dict)


def _is_pickle(head: bytes) -> bool:
    # Protocol 2+ pickles start with PROTO (0x80) and the protocol number.
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _tensors(values: Any) -> list[dict[str, Any]]:
    out = []
    for value in values:
        tensor = value.type.tensor_type
        dims = [d.dim_param or (d.dim_value if d.HasField("dim_value") else None)
                for d in tensor.shape.dim]  # fmt: skip
        out.append({"name": value.name, "dtype": _ELEM_TYPES.get(tensor.elem_type, "unknown"),
                    "shape": dims})  # fmt: skip
    return out


def check_onnx(path: Path) -> Detected | None:
    """The ONNX model at ``path`` checked, with its signature; None when it is no ONNX."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError):
        return None
    if not model.graph.node and not model.graph.output:
        return None  # any bytes may decode as an empty protobuf message
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        return Detected("onnx", f"invalid ONNX model: {str(exc).splitlines()[0][:300]}")
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    return Detected("onnx", None, {
        "inputs": _tensors(inputs), "outputs": _tensors(model.graph.output),
        "opset": max((o.version for o in model.opset_import), default=None),
    })  # fmt: skip


def detect(path: Path) -> Detected:
    """Recognise the model file at ``path`` (blocking: run it in a thread)."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if _is_pickle(head):
        return Detected(
            "pickle",
            "a pickle can run arbitrary code when loaded: it is never loaded by the API, only "
            "converted to ONNX in an isolated sandbox",
        )
    if head.startswith(b"PK") and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(n.endswith(("constants.pkl", "data.pkl")) for n in names):
            return Detected(
                "torchscript",
                "TorchScript archives hold pickles: never loaded by the API, only converted "
                "to ONNX in an isolated sandbox",
            )
        return Detected("zip", "unsupported for hosted inference")
    found = check_onnx(path)
    return found or Detected("unknown", "unsupported for hosted inference")
