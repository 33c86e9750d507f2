"""PyForge ML: a learned bug detector trained on injected bugs, served with ONNX Runtime.

Serving (``detector``, ``cli``, ``analyzer``) needs numpy and onnxruntime only; training
(``pipeline``, ``model``, ``train_neural``, ``baseline``) needs the ``train`` extra.
"""
