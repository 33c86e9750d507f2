"""Tensors in and out of JSON, checked against a version's ONNX signature.

Every input the signature names must be given, and nothing else; its rank and fixed
dimensions must match, symbolic dimensions (``batch``) may be any size; JSON numbers are cast
to the signature's dtype only when that is lossless (integers into floats, not floats into
integers); base64 tensors must state the signature's dtype and a shape that matches their
bytes. Anything else is a 422 problem naming the input, never a failure inside the model.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from forgekit.errors import Unprocessable
from modelhub.inference.schemas import EncodedTensor, ListTensor, TensorIn

Array = npt.NDArray[Any]

#: Signature dtypes hosted inference accepts (others, e.g. strings, are refused up front).
DTYPES = {"float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "bool"}


class TensorError(Unprocessable):
    """An input does not fit the signature (422 with the input's name)."""

    slug = "invalid-tensor"

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"Input {name!r}: {message}", input=name)


def _signature_inputs(signature: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(t["name"]): t for t in signature.get("inputs", [])}


def _from_list(name: str, value: ListTensor | list[Any], dtype: str) -> Array:
    data = value.data if isinstance(value, ListTensor) else value
    if isinstance(value, ListTensor) and value.dtype not in (None, dtype):
        raise TensorError(name, f"dtype {value.dtype} given, the model takes {dtype}")
    try:
        raw = np.asarray(data)
    except ValueError:
        raise TensorError(name, "nested lists of unequal lengths (a ragged tensor)") from None
    if raw.dtype == object or raw.dtype.kind in "USV":
        raise TensorError(name, "values must be numbers (or booleans) in lists of equal length")
    if not np.can_cast(raw.dtype, np.dtype(dtype), casting="same_kind") and raw.size:
        raise TensorError(name, f"{raw.dtype} values cannot be read as {dtype} without loss")
    array = raw.astype(dtype)
    if (
        isinstance(value, ListTensor)
        and value.shape is not None
        and list(array.shape) != value.shape
    ):
        raise TensorError(name, f"shape {list(array.shape)} is not the stated {value.shape}")
    return array


def _from_b64(name: str, value: EncodedTensor, dtype: str) -> Array:
    if value.dtype != dtype:
        raise TensorError(name, f"dtype {value.dtype} given, the model takes {dtype}")
    try:
        raw = base64.b64decode(value.b64, validate=True)
    except (binascii.Error, ValueError):
        raise TensorError(name, "b64 is not valid base64") from None
    expected = int(np.prod(value.shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if len(raw) != expected:
        raise TensorError(name, f"{len(raw)} bytes do not hold shape {value.shape} of {dtype}")
    return (
        np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
        .astype(dtype)
        .reshape(value.shape)
    )


def _check_shape(name: str, array: Array, dims: list[Any]) -> None:
    if array.ndim != len(dims):
        raise TensorError(name, f"rank {array.ndim}, the model takes rank {len(dims)} {dims}")
    if array.ndim == 0 or array.shape[0] < 1:
        raise TensorError(name, "needs at least one row on its first axis")
    for axis, (size, dim) in enumerate(zip(array.shape, dims, strict=True)):
        if isinstance(dim, int) and size != dim:
            raise TensorError(name, f"axis {axis} has size {size}, the model takes {dim}")


def decode_inputs(
    inputs: Mapping[str, TensorIn], signature: Mapping[str, Any], max_elements: int
) -> dict[str, Array]:
    """The request's inputs as arrays, checked against ``signature`` (422 on any mismatch)."""
    wanted = _signature_inputs(signature)
    unknown = sorted(set(inputs) - set(wanted))
    missing = sorted(set(wanted) - set(inputs))
    if unknown or missing:
        raise Unprocessable(
            f"The model takes inputs {sorted(wanted)}; missing {missing}, unknown {unknown}.",
            missing=missing, unknown=unknown,
        )  # fmt: skip
    arrays: dict[str, Array] = {}
    total = 0
    for name, spec in wanted.items():
        dtype = str(spec.get("dtype"))
        if dtype not in DTYPES:
            raise TensorError(name, f"the model's dtype {dtype} is not served")
        value = inputs[name]
        array = (_from_b64(name, value, dtype) if isinstance(value, EncodedTensor)
                 else _from_list(name, value, dtype))  # fmt: skip
        _check_shape(name, array, list(spec.get("shape", [])))
        total += array.size
        if total > max_elements:
            raise Unprocessable(f"Inputs hold more than {max_elements} values.")
        arrays[name] = array
    rows = {a.shape[0] for a in arrays.values()}
    if len(rows) > 1:
        raise Unprocessable(f"Inputs must share their first axis (rows); got {sorted(rows)}.")
    return arrays


def encode_outputs(outputs: Mapping[str, Array], fmt: str) -> dict[str, Any]:
    """Outputs as nested lists, or as base64 of little-endian bytes with dtype and shape."""
    if fmt == "json":
        return {k: np.asarray(v).tolist() for k, v in outputs.items()}
    encoded: dict[str, Any] = {}
    for k, v in outputs.items():
        arr = np.ascontiguousarray(v)
        little = arr.astype(arr.dtype.newbyteorder("<"))
        encoded[k] = {"b64": base64.b64encode(little.tobytes()).decode(),
                      "dtype": str(arr.dtype), "shape": list(arr.shape)}  # fmt: skip
    return encoded


def inputs_digest(batch: list[dict[str, Array]]) -> str:
    """A sha256 over every input's name, dtype, shape and bytes (the response-cache key and
    the idempotency check of a retried request)."""
    digest = hashlib.sha256()
    for inputs in batch:
        for name in sorted(inputs):
            arr = np.ascontiguousarray(inputs[name])
            digest.update(f"{name}|{arr.dtype}|{arr.shape}|".encode())
            digest.update(arr.tobytes())
        digest.update(b"\x00")
    return digest.hexdigest()
