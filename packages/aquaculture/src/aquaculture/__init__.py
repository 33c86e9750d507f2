"""Aquaculture: farms, tanks and fish-species observations classified by an ONNX model."""

__version__ = "0.1.0"
