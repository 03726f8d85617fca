"""Synthetic marketplace posts so the demo and the tests run without real user data."""
