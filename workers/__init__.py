"""Celery adapters: every task is a thin wrapper over one ``detector`` function."""
