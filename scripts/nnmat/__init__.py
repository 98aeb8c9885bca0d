"""nnmat: the importable library behind the reproduction pipeline.

Pure functions that take arrays/tensors and return arrays/DataFrames, one module per paper topic.
File I/O lives in :mod:`nnmat.io` only; the CLI scripts in ``scripts/`` are thin wrappers.
"""

__all__ = ["claims", "cli", "expnet", "io", "plotting", "provenance", "seeding", "sscore"]
