"""Request and response bodies of hosted inference."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: A tensor as nested JSON lists (its dtype is the signature's).
JsonTensor = list[Any]


class EncodedTensor(BaseModel):
    """A tensor as base64 of its raw little-endian bytes, with dtype and shape."""

    model_config = ConfigDict(extra="forbid")

    b64: Annotated[str, StringConstraints(max_length=64 * 1024**2)]
    dtype: Annotated[str, StringConstraints(max_length=16)]
    shape: list[Annotated[int, Field(ge=0)]] = Field(max_length=8)


class ListTensor(BaseModel):
    """A tensor as nested lists, with the dtype and shape the client expects (checked)."""

    model_config = ConfigDict(extra="forbid")

    data: JsonTensor
    dtype: Annotated[str, StringConstraints(max_length=16)] | None = None
    shape: list[Annotated[int, Field(ge=0)]] | None = Field(default=None, max_length=8)


TensorIn = EncodedTensor | ListTensor | JsonTensor
Inputs = dict[Annotated[str, StringConstraints(max_length=256)], TensorIn]


class InferRequest(BaseModel):
    """``POST …/infer``: one set of inputs, or a batch of them (``instances``)."""

    model_config = ConfigDict(extra="forbid")

    inputs: Inputs | None = None
    instances: list[Inputs] | None = Field(default=None, min_length=1, max_length=256)
    #: How outputs come back: nested lists, or base64 with dtype and shape.
    output_format: Literal["json", "b64"] = "json"
    #: Asynchronous calls only: where the signed completion webhook is POSTed.
    callback_url: Annotated[str, StringConstraints(max_length=2048)] | None = None


class InferResult(BaseModel):
    """Outputs of one instance, by output name."""

    outputs: dict[str, Any]


class InferResponse(BaseModel):
    """The answer of a sync call: ``outputs`` (single) or ``results`` (batch)."""

    model: str
    version: str
    request_id: str
    cached: bool
    outputs: dict[str, Any] | None = None
    results: list[InferResult] | None = None
