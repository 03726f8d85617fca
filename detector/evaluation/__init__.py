"""Offline evaluation of the detection paths on labelled JSONL (``detector eval``, issue #7).

``paths`` runs one path on a fresh temporary store and returns per-record flags and scores;
``metrics`` turns them into precision, recall, F1, per-author figures and PR-curve points (pure);
``report`` writes the PR curve (PNG, when matplotlib is installed) and a Markdown report.
"""
