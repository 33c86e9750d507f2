"""The ML service: bug detection, quality prediction and refactoring suggestions over the API,
the model registry, and the ``ml`` consumer that attaches predictions to analyses."""
