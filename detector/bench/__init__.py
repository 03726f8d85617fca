"""Reproducible performance benchmarks, callable from the CLI (``detector bench ...``) and from tests.

Why in the package rather than a scratch folder: index choices (ef, dtype) are set from these numbers,
so anyone must be able to re-run them on their own machine with one command.
"""
