"""ONNX exports of the shop's models, served by :mod:`forgekit.inference`.

scikit-learn models go through skl2onnx; the ALS scorer has no converter, so its graph is
written directly: ``scores = user · itemsᵀ + penalty`` and ``TopK``. The penalty input lets
the caller exclude items (already bought, out of stock) with a large negative number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def recs_graph(item_factors: np.ndarray, k: int) -> bytes:
    """The scorer: inputs ``user`` (N, f) and ``penalty`` (N, P); outputs ``scores`` and
    ``items`` (N, k), best first."""
    n_items, f = item_factors.shape
    k = min(k, n_items)
    items_t = numpy_helper.from_array(np.ascontiguousarray(item_factors.T, np.float32), "items_t")
    k_init = numpy_helper.from_array(np.array([k], np.int64), "k")
    nodes = [
        helper.make_node("MatMul", ["user", "items_t"], ["affinity"]),
        helper.make_node("Add", ["affinity", "penalty"], ["all_scores"]),
        helper.make_node("TopK", ["all_scores", "k"], ["scores", "items"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "shop_recs",
        [helper.make_tensor_value_info("user", TensorProto.FLOAT, ["n", f]),
         helper.make_tensor_value_info("penalty", TensorProto.FLOAT, ["n", n_items])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["n", k]),
         helper.make_tensor_value_info("items", TensorProto.INT64, ["n", k])],
        initializer=[items_t, k_init],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def sklearn_to_onnx(
    model: Any, input_name: str, n_features: int | None, *, text: bool = False
) -> bytes:
    """Convert a fitted scikit-learn estimator or pipeline (float rows, or one string column)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    initial = (
        [(input_name, StringTensorType([None, 1]))] if text
        else [(input_name, FloatTensorType([None, n_features]))]
    )  # fmt: skip
    options: dict[int, dict[str, Any]] = {}
    if hasattr(model, "predict_proba"):
        options[_final(model)] = {"zipmap": False}  # probabilities as a plain tensor
    for vectorizer in _vectorizers(model):
        # ONNX Runtime lowercases through a C++ locale; C.UTF-8 exists on every Linux image,
        # en_US.UTF-8 (skl2onnx's default) often does not.
        options[id(vectorizer)] = {"locale": "C.UTF-8"}
    # ai.onnx.ml 3: the newest domain version skl2onnx writes for tree ensembles.
    opsets = {"": OPSET, "ai.onnx.ml": 3}
    onx = convert_sklearn(
        model, initial_types=initial, target_opset=opsets, options=options or None
    )
    return bytes(onx.SerializeToString())


def _final(model: Any) -> int:
    """Id of the estimator that produces the output (the last step of a pipeline)."""
    steps = getattr(model, "steps", None)
    return id(steps[-1][1]) if steps else id(model)


def _vectorizers(model: Any) -> list[Any]:
    """Every text vectorizer inside a pipeline or feature union."""
    from sklearn.feature_extraction.text import CountVectorizer

    if isinstance(model, CountVectorizer):
        return [model]
    children = [s for _, s in getattr(model, "steps", [])]
    children += [t for _, t in getattr(model, "transformer_list", [])]
    return [v for child in children for v in _vectorizers(child)]
