"""Speed check: ``python -m detector.normalize.bench PATH [--repeat N]``.

PATH is a JSONL file with a ``text`` field per line (e.g. the KISA 2022-08-14 export). Prints one
JSON object: ``{"n": ..., "seconds": ..., "changed_share": ...}`` where ``seconds`` is the best
wall-clock time of ``--repeat`` runs normalizing every text once (one process, one core),
``cpu_seconds`` the process CPU time of that run (less sensitive to a busy machine), and
``changed_share`` the share of texts whose normalized form differs from the input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import NORMALIZER_VERSION, normalize


def _load(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [str(json.loads(line).get("text") or "") for line in fh if line.strip()]


def run(texts: list[str], repeat: int = 1) -> dict[str, object]:
    best, best_cpu, out = float("inf"), float("inf"), texts
    for _ in range(max(1, repeat)):
        start, cpu = time.perf_counter(), time.process_time()
        out = [normalize(t) for t in texts]
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    changed = sum(a != b for a, b in zip(texts, out))
    return {
        "n": len(texts),
        "seconds": round(best, 3),
        "cpu_seconds": round(best_cpu, 3),
        "changed_share": round(changed / len(texts), 4) if texts else 0.0,
        "us_per_text": round(1e6 * best / len(texts), 1) if texts else 0.0,
        "version": NORMALIZER_VERSION,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m detector.normalize.bench", description=__doc__)
    parser.add_argument("path", type=Path, help="JSONL file with a 'text' field per line")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the fastest is reported")
    args = parser.parse_args(argv)
    print(json.dumps(run(_load(args.path), args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
