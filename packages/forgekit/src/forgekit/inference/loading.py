"""Model files from the kit's storage, verified, and ONNX Runtime sessions loaded once."""

from __future__ import annotations

import hashlib
import threading

import onnxruntime as ort

from forgekit.inference.errors import ModelIntegrityError
from forgekit.inference.settings import InferenceSettings
from forgekit.storage import ObjectStorage

_lock = threading.Lock()
# sha256 and thread counts → session: a process holds one session per model file however
# many apps, batchers or CLI calls ask for it (a session holds the weights and its arenas).
_sessions: dict[tuple[str, int, int], ort.InferenceSession] = {}


def verify(data: bytes, sha256: str) -> None:
    """Raise :class:`ModelIntegrityError` unless ``data`` hashes to ``sha256``."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256.lower():
        raise ModelIntegrityError(f"model file sha256 {actual} is not the expected {sha256}")


async def read_model(storage: ObjectStorage, key: str, sha256: str | None = None) -> bytes:
    """A model file from storage, checked against ``sha256`` (by default its key, which is
    the content's sha256 in the kit's content-addressed storage)."""
    data = await storage.read(key)
    verify(data, sha256 or key)
    return data


def session_options(settings: InferenceSettings) -> ort.SessionOptions:
    """Session options with the configured thread counts."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = settings.intra_op_threads
    opts.inter_op_num_threads = settings.inter_op_threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return opts


def providers(settings: InferenceSettings) -> list[str]:
    """Execution providers in order of preference: CUDA first when wanted and installed."""
    available = ort.get_available_providers()
    if settings.use_cuda and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def get_session(
    data: bytes, settings: InferenceSettings, sha256: str | None = None
) -> ort.InferenceSession:
    """The process's session of a model file (created on first use, verified if ``sha256``)."""
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256.lower():
        raise ModelIntegrityError(f"model file sha256 {digest} is not the expected {sha256}")
    key = (digest, settings.intra_op_threads, settings.inter_op_threads)
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = ort.InferenceSession(
                data, sess_options=session_options(settings), providers=providers(settings)
            )
            _sessions[key] = session
        return session


def release_session(sha256: str) -> int:
    """Forget the process's sessions of a model file (an evicted model); how many were held.

    Whoever still holds a reference keeps a working session; the memory goes with the last.
    """
    with _lock:
        keys = [k for k in _sessions if k[0] == sha256.lower()]
        for key in keys:
            del _sessions[key]
        return len(keys)


def loaded_sessions() -> int:
    """How many sessions this process holds (for tests and diagnostics)."""
    with _lock:
        return len(_sessions)
