"""Embedders: models shipped in PyPI packages behind one small interface, plus a hashing fake."""
